"""Rule examples (`compliance verify`): every rule's own examples, run against the pack as loaded.

A team that edits a policy pack runs this in CI: an edit that makes a
rule's failing example pass (or a passing one fail) is caught, named by rule
and example. Examples run through the same compiled evaluators as a scan.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from .policy.runtime import CompiledPack, decimal_context
from .policy.model import Example, Rule
from .snapshots import check_document
from .values import BadValue


@attrs.frozen
class ExampleResult:
    rule: str
    example: str
    expect: str
    ok: bool
    #: what happened, in words: the findings' paths and first message, or the problem
    detail: str
    messages: tuple[str, ...] = ()
    remedies: tuple[str, ...] = ()

    def __str__(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        return f"{status} {self.rule}: example {self.example!r} (expect {self.expect}): {self.detail}"


def run_example(compiled: CompiledPack, rule_index: int, example: Example, lang: str = "en") -> ExampleResult:
    with decimal_context():
        return _run_example(compiled, rule_index, example, lang)


def _run_example(compiled: CompiledPack, rule_index: int, example: Example, lang: str) -> ExampleResult:
    rule: Rule = compiled.pack.rules[rule_index]

    def result(ok: bool, detail: str, messages: tuple[str, ...] = (), remedies: tuple[str, ...] = ()) -> ExampleResult:
        return ExampleResult(rule.id, example.name, example.expect, ok, detail, messages, remedies)

    doc: Any = example.document
    kind, problems = check_document(doc)
    if problems:
        where, reason = problems[0]
        return result(False, f"the example is not a valid {rule.kind} document: {where}: {reason}")
    if kind != rule.kind:
        return result(False, f"the example is a {kind} document, the rule checks {rule.kind} documents")
    merchants: dict[str, Any] = {}
    if example.merchant is not None:
        _, problems = check_document(example.merchant)
        if problems:
            where, reason = problems[0]
            return result(False, f"the example's merchant is not a valid merchant document: {where}: {reason}")
        merchants[example.merchant["id"]] = example.merchant
    as_of = example.as_of or _dt.datetime.now(_dt.timezone.utc)
    for number, order in enumerate(example.orders):
        _, problems = check_document(order)
        if problems:
            where, reason = problems[0]
            return result(False, f"the example's order {number + 1} is not a valid order document: {where}: {reason}")
    totals: Any = {}
    if example.orders:
        from .engine import collect_context

        items = [(o, "<example>", None, None) for o in example.orders]
        totals = collect_context(items, compiled.validators, compiled, as_of).totals.get(doc.get("id"), {})
    hits: list[tuple[int, Any]] = []
    missing: list[int] = []
    failed: list[tuple[int, Exception]] = []
    try:
        compiled.evaluators[kind](doc, as_of, merchants, hits, missing, failed, totals)
    except BadValue as e:
        return result(False, f"the example is not a valid {rule.kind} document: {e}")
    errors = [e for r, e in failed if r == rule_index]
    if errors:
        return result(False, f"the rule failed on the example: {type(errors[0]).__name__}: {errors[0]}")
    mine = [index for r, index in hits if r == rule_index]
    merchant = merchants.get(doc.get("merchant_id"))
    rendered = [compiled.render(rule_index, doc, as_of, merchant, i, lang, totals) for i in mine]
    paths = sorted(p for p, _, _ in rendered)
    messages = tuple(m for _, m, _ in rendered)
    remedies = tuple(r for _, _, r in rendered)
    got = "not-evaluated" if rule_index in missing else "fail" if mine else "pass"
    said = f"findings at {', '.join(paths)}: {messages[0]}" if mine else ("not evaluated" if got == "not-evaluated" else "no finding")
    if got != example.expect:
        return result(False, f"expected {example.expect}, got {said}", messages)
    if example.paths is not None and sorted(example.paths) != paths:
        return result(False, f"expected findings at {', '.join(sorted(example.paths))}, got {said}", messages)
    return result(True, said, messages, remedies)


def run_examples(compiled: CompiledPack) -> list[ExampleResult]:
    return [
        run_example(compiled, index, example)
        for index, rule in enumerate(compiled.pack.rules)
        for example in rule.examples
    ]
