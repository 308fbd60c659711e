"""Rules and policy packs as loaded from TOML (docs/policies.md)."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

import attrs

#: the languages every text of a rule is written in
LANGUAGES = ("en", "zh")


class PolicyError(Exception):
    """A policy that cannot be loaded; str() names the file, the rule and the problem."""

    def __init__(self, file: str, problem: str, rule: str | None = None, field: str | None = None) -> None:
        self.file = file
        self.rule = rule
        self.field = field
        self.problem = problem
        where = file
        if rule:
            where += f": rule {_shown(rule)}"
        if field:
            where += f": {_shown(field)}"
        super().__init__(f"{where}: {problem}")


def _shown(name: str) -> str:
    """A rule id or key as the author wrote it, or as a literal when it holds a line break or another control
    character (which would start a line of its own in a CI log, looking like another message)."""
    return name if name.isprintable() else repr(name)


@attrs.frozen
class Text:
    """The same text in English and Chinese."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@attrs.frozen
class Total:
    """A sum over the merchant's documents of one kind in the scan, for a merchant rule."""

    over: str  # the kind summed ("order")
    value: str  # the amount each document adds
    where: str | None = None  # which documents count


@attrs.frozen
class Example:
    """One of a rule's own examples: a document and what the rule must say of it."""

    name: str
    expect: str  # "pass", "fail" or "not-evaluated"
    document: Mapping[str, Any]
    merchant: Mapping[str, Any] | None
    as_of: _dt.datetime | None
    paths: tuple[str, ...] | None
    #: documents beside the example in its scan (the orders a merchant rule's totals sum)
    orders: tuple[Mapping[str, Any], ...] = ()


@attrs.frozen
class Rule:
    id: str
    family: str
    severity: str
    penalty: str | None
    kind: str
    title: Text
    description: Text
    message: Text
    remedy: Text
    require: str
    path: str
    when: str | None = None
    each: str | None = None
    where: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict)
    effective_from: _dt.datetime | None = None
    effective_until: _dt.datetime | None = None
    source: str | None = None
    #: false: no waiver or baseline excuses its findings (waivers.py)
    waivable: bool = True
    examples: tuple[Example, ...] = ()
    #: merchant rules: sums over the merchant's orders in the scan, by name
    totals: Mapping[str, Total] = attrs.field(factory=dict)
    #: the policy file the rule was read from, as given
    file: str = ""



@attrs.frozen
class Pack:
    """The rules of one or more policy folders, in load order."""

    rules: tuple[Rule, ...]
    #: sha256 over the policy files' paths and contents
    content_hash: str
    name: str = "compliance-platform-rules"
    version: str = "0"
    files: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None
