"""`compliance explain RULE`: what a rule checks, why, an example, the remedy.

Written like ruff's rule pages, in English and Chinese, from the rule's own
policy entry; the examples shown are run, not quoted.
"""

from __future__ import annotations

import difflib

from .policy.runtime import CompiledPack, fmt
from .policy.model import Pack
from .values import format_time
from .examples import run_example

_WORDS = {
    "en": {
        "what": "What it checks, and why",
        "params": "Parameters",
        "fails": "Example that fails",
        "passes": "Example that passes",
        "remedy": "What to do instead",
        "finding": "finding",
        "always": "always",
        "from": "from",
        "until": "until",
        "in_force": "In force",
        "applies": "applies to",
        "penalty": "penalty",
        "none": "none",
    },
    "zh": {
        "what": "检查内容及原因",
        "params": "参数",
        "fails": "违规示例",
        "passes": "合规示例",
        "remedy": "整改方案",
        "finding": "问题",
        "always": "一直有效",
        "from": "自",
        "until": "至",
        "in_force": "生效时间",
        "applies": "适用于",
        "penalty": "处罚类型",
        "none": "无",
    },
}


def explain_rule(compiled: CompiledPack, rule_id: str, langs: tuple[str, ...] = ("en", "zh")) -> str:
    pack = compiled.pack
    index = next(i for i, r in enumerate(pack.rules) if r.id == rule_id)
    rule = pack.rules[index]
    out: list[str] = []
    for lang in langs:
        w = _WORDS[lang]
        if out:
            out += ["", "-" * 60, ""]
        out.append(f"{rule.id} — {rule.title.get(lang)}")
        out.append(
            f"{rule.family} · {rule.severity} · {w['penalty']} {rule.penalty or w['none']} · "
            f"{w['applies']} {rule.kind} · {rule.source or ''} · {rule.file}"
        )
        window = []
        if rule.effective_from:
            window.append(f"{w['from']} {format_time(rule.effective_from)}")
        if rule.effective_until:
            window.append(f"{w['until']} {format_time(rule.effective_until)}")
        out.append(f"{w['in_force']}: {' '.join(window) or w['always']}")
        out += ["", w["what"], "  " + rule.description.get(lang)]
        if rule.params:
            out += ["", w["params"]]
            out += [f"  {name} = {fmt(value)}" for name, value in rule.params.items()]
        remedies: tuple[str, ...] = ()
        for expect, heading in (("fail", "fails"), ("pass", "passes")):
            example = next((e for e in rule.examples if e.expect == expect), None)
            if example is None:
                continue
            result = run_example(compiled, index, example, lang)
            out += ["", f"{w[heading]}: {example.name}"]
            out += [f"  → {message}" for message in result.messages]
            remedies = remedies or result.remedies
        # the remedy as the failing example renders it, filled from its evidence
        out += ["", w["remedy"]] + [f"  {remedy}" for remedy in remedies[:1]]
    return "\n".join(out)


def unknown_rule(pack: Pack, rule_id: str) -> str:
    ids = [r.id for r in pack.rules]
    close = difflib.get_close_matches(rule_id, ids, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; list them with: compliance policies"
    return f"compliance: no rule {rule_id!r}{hint}"
