"""`--format junit`: the report as JUnit XML, for CI systems that show test results.

The mapping: `<testsuites name="compliance">` holding one
`<testsuite name="compliance">`, whose `<properties>` carry the report's
metadata (tool, version, policy_pack.name, policy_pack.version,
policy_pack.content_hash, as_of, lang: what it takes to reproduce the
audit) and its counts (documents, read, findings, errors, not_evaluated).
Its test cases, in this order:

- one per document with findings, in report order: classname the document
  kind, name "<kind> <id> (<source>)"; each finding is a `<failure>` in it
  (type the rule id, message the finding's message, text the pointer, the
  severity and penalty, and the remedy), so a document with three findings
  is one failed test with three failure elements;
- one passed test case "<N> document(s) without findings" (classname
  "compliance") when N = documents checked - documents with findings is
  above 0: the report does not name the documents that passed;
- one per input error: classname "input", name "<file>[:<line>]
  [<pointer>]", an `<error type="input-error">` with the reason (and the
  other problems of the document, one a line);
- one per rule not evaluated: classname the document kind, name "<rule>:
  <kind> <id> (<source>)", a `<skipped>` with the reason, or, when the rule
  failed on the document (exit status 2), an `<error type="rule-failed">`;
- one per expired waiver (--waivers; the report's `expired_waivers`):
  classname "waiver", name "<where>: <rule> <document> [<path>]", a
  `<skipped>` saying when it expired, with its reason and owner. Skipped,
  not failed: the waiver itself fails nothing, the findings it no longer
  waives are failures of their documents; the test case says why they are
  back.

So the counts (on `<testsuites>` and `<testsuite>` alike) are:
tests = documents with findings + (1 if any document has none) + input
errors + rules not evaluated + expired waivers; failures = documents with
findings (a document whose findings are all waived or in the baseline
passes, with them in its system-out);
errors = input errors + rules that failed; skipped = rules not evaluated
that did not fail + expired waivers. A document is (source, kind, id): two
copies of one document in one JSON array file are one test case. When
anything was waived, baselined or has expired, the properties also carry
summary.waived, summary.baselined and summary.expired_waivers (a scan
without waivers or baseline keeps its XML as it was).

Text that XML 1.0 cannot carry (control characters, lone surrogates) is
written as a backslash escape ("\\x07"); ElementTree escapes the rest.
Pure: the same report gives the same text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ..model import Finding, Report
from ..values import format_time

_WORDS = {
    "en": {
        "clean": "{n} document(s) without findings",
        "path": "path",
        "severity": "severity",
        "penalty": "penalty",
        "fix": "fix",
        "expired": "expired {expires}: no longer waives",
        "why": "reason: {reason}\nowner: {owner}",
    },
    "zh": {
        "clean": "{n}个文档未发现问题",
        "path": "路径",
        "severity": "严重程度",
        "penalty": "处罚",
        "fix": "整改",
        "expired": "已于 {expires} 过期：不再豁免",
        "why": "原因：{reason}\n负责人：{owner}",
    },
}
#: what XML 1.0 cannot hold: C0 controls but tab, LF and CR; surrogates; U+FFFE and U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(report: Report, *, lang: str = "en", color: bool = False, pack: Any = None) -> str:
    words = _WORDS.get(lang, _WORDS["en"])
    cases: list[ET.Element] = []
    counts = {"failures": 0, "errors": 0, "skipped": 0}

    documents: dict[tuple[str, str, str | None], list[Finding]] = {}
    for f in report.findings:
        documents.setdefault((f.document.source, f.document.kind, f.document.id), []).append(f)
    failing = 0
    for (source, kind, doc_id), findings in documents.items():
        case = _case(kind, f"{kind} {doc_id} ({source})")
        accepted = []
        for f in findings:
            text = [f"{words['path']}: {f.path}", f"{words['severity']}: {f.severity}"]
            if f.penalty:
                text.append(f"{words['penalty']}: {f.penalty}")
            text.append(f"{words['fix']}: {f.remedy}")
            if f.waived is not None or f.baseline:  # accepted (--waivers, --baseline): reported, not a failure
                why = (f"waived: {f.waived['reason']} ({f.waived['owner']}, {f.waived['expires']})"
                       if f.waived is not None else "in the baseline")
                accepted.append(f"{f.rule} {f.path}: {f.message}\n{why}")
            else:
                _child(case, "failure", "\n".join(text), type=f.rule, message=f.message)
        if accepted:
            _child(case, "system-out", "\n\n".join(accepted))
        failing += any(f.waived is None and not f.baseline for f in findings)
        cases.append(case)
    counts["failures"] = failing

    clean = report.documents - len(documents)
    if clean > 0:
        cases.append(_case("compliance", words["clean"].format(n=clean)))

    for e in report.errors:
        where = e.file if e.line is None else f"{e.file}:{e.line}"
        case = _case("input", f"{where} {e.pointer}" if e.pointer else where)
        _child(case, "error", "\n".join(e.more), type="input-error", message=e.reason)
        cases.append(case)
        counts["errors"] += 1

    for n in report.not_evaluated:
        doc = n.document
        case = _case(doc.kind, f"{n.rule}: {doc.kind} {doc.id} ({doc.source})")
        if n.failed:
            _child(case, "error", "", type="rule-failed", message=n.reason)
            counts["errors"] += 1
        else:
            _child(case, "skipped", "", message=n.reason)
            counts["skipped"] += 1
        cases.append(case)

    for w in report.expired_waivers:
        case = _case("waiver", f"{w.where}: {w.rule} {w.document}" + (f" {w.path}" if w.path else ""))
        _child(case, "skipped", words["why"].format(reason=w.reason, owner=w.owner),
               message=words["expired"].format(expires=format_time(w.expires)))
        counts["skipped"] += 1
        cases.append(case)

    totals = {"tests": str(len(cases)), **{k: str(v) for k, v in counts.items()}}
    root = ET.Element("testsuites", {"name": "compliance", **totals})
    suite = ET.SubElement(root, "testsuite", {"name": "compliance", **totals})
    properties = ET.SubElement(suite, "properties")
    summary = report.summary()
    facts = _flat(report.metadata)
    excuses = ("waived", "baselined", "expired_waivers")
    for key in ("documents", "read", "findings", "errors", "not_evaluated",
                *(excuses if any(summary[k] for k in excuses) else ())):
        facts[f"summary.{key}"] = summary[key]
    for name, value in facts.items():
        ET.SubElement(properties, "property", {"name": _safe(name), "value": _safe(_str(value))})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(classname: str, name: str) -> ET.Element:
    return ET.Element("testcase", {"classname": _safe(classname), "name": _safe(name)})


def _child(case: ET.Element, tag: str, text: str, **attrs: str) -> None:
    element = ET.SubElement(case, tag, {k: _safe(v) for k, v in attrs.items()})
    if text:
        element.text = _safe(text)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"policy_pack": {"name": ...}} -> {"policy_pack.name": ...}."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            out.update(_flat(item, f"{name}."))
        else:
            out[name] = item
    return out


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)
