"""Waivers and baselines: findings a team has accepted, reported as such, not hidden.

A waiver file (TOML) lists accepted findings, each with a reason, an owner
and an expiry::

    [[waiver]]
    rule = "tier-anomaly/bait-tier"
    document = "1600000000002"          # the document's id
    path = "/price/tiers/3/price"       # optional: without it, any finding of the rule on the document
    reason = "the 10000+ tier is the distributor price (platform ticket 4711)"
    owner = "li.wei@example.com"
    expires = 2023-01-31                # a date (00:00 platform time) or a date-time

A waiver holds while the scan's --as-of is before `expires`; from then on
it no longer waives, and the report lists it under `expired_waivers`. A
rule with `waivable = false` (an EPR block) cannot be waived: a waiver
naming it is an error.

A baseline (`compliance baseline PATH -o baseline.json`) records today's
findings by fingerprint (sha256 of rule, document id and JSON Pointer: not
the file or line, which move), each with a digest of its message; `--baseline`
then marks those findings `"baseline": true`, so that a team adopting the
checker on an existing catalog fails only on new ones. Several findings of a
rule may point at one place (EPR: one per country at /composition/circuit):
a document's findings of one fingerprint are matched to the baseline's by
message first, then one for one (a message whose figures changed), and
those beyond the baseline's number are new. Neither waived nor baselined
findings count for the exit status; both stay in the report.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Iterable, Mapping

import attrs

from .model import Finding
from .values import BadValue, format_time, parse_time


class WaiverError(Exception):
    """A waiver or baseline file that cannot be used; str() names the file and the field."""


@attrs.frozen
class Waiver:
    rule: str
    document: str
    path: str | None
    reason: str
    owner: str
    expires: _dt.datetime
    #: where it was written: "waivers.toml: waiver[3]"
    where: str
    #: the file it was written in (the reports that point at the file: SARIF, GitHub)
    file: str | None = None

    def matches(self, finding: Finding) -> bool:
        return (finding.rule == self.rule and finding.document.id == self.document
                and (self.path is None or self.path == finding.path))

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "document": self.document, "path": self.path, "reason": self.reason,
                "owner": self.owner, "expires": format_time(self.expires), "where": self.where}


@attrs.frozen
class Excuses:
    """The waivers in force and the baseline of one scan, applied to each finding as it is made."""

    active: tuple[Waiver, ...] = ()
    expired: tuple[Waiver, ...] = ()
    #: fingerprint -> the message digests of its findings (read_baseline); None: any number of them (a
    #: baseline of version 1, which kept fingerprints only)
    baseline: Mapping[str, tuple[str, ...] | None] = attrs.field(factory=dict)
    #: rules that may not be waived or baselined
    unwaivable: frozenset[str] = frozenset()
    #: the active waivers by (rule, document), in file order: a finding tries only those that may match it,
    #: not every waiver (with 1,000 waivers: 0.2 us a finding instead of 58)
    targets: dict[tuple[str, str | None], list[Waiver]] = attrs.field(init=False, eq=False, repr=False)

    @targets.default
    def _targets(self) -> dict[tuple[str, str | None], list[Waiver]]:
        targets: dict[tuple[str, str | None], list[Waiver]] = {}
        for waiver in self.active:
            targets.setdefault((waiver.rule, waiver.document), []).append(waiver)
        return targets

    def apply(self, findings: list[Finding]) -> list[Finding]:
        """One document's findings, each marked waived or baselined where it is (the baseline is matched a
        document at a time: whatever the order or the workers of a scan, the same)."""
        out = [self._waived(f) for f in findings]
        if self.baseline:
            baselined = self._baselined(out)
            out = [_marked(f, f.waived, True) if i in baselined else f for i, f in enumerate(out)]
        return out

    def _waived(self, finding: Finding) -> Finding:
        if finding.rule in self.unwaivable:
            return finding
        for waiver in self.targets.get((finding.rule, finding.document.id), ()):
            if waiver.matches(finding):
                waived = {"reason": waiver.reason, "owner": waiver.owner, "expires": format_time(waiver.expires)}
                return _marked(finding, waived, finding.baseline)
        return finding

    def _baselined(self, findings: list[Finding]) -> set[int]:
        """The positions of the findings in the baseline: by fingerprint and message, then by fingerprint
        alone while the baseline has findings of it left; beyond that, new."""
        left: dict[str, list[str] | None] = {}
        waiting: list[tuple[int, str]] = []
        found: set[int] = set()
        for i, f in enumerate(findings):
            if f.rule in self.unwaivable:
                continue
            fingerprint = f.fingerprint()
            if fingerprint not in self.baseline:
                continue
            if fingerprint not in left:
                known = self.baseline[fingerprint]
                left[fingerprint] = None if known is None else list(known)
            messages = left[fingerprint]
            if messages is None:  # a version-1 baseline: every finding of the fingerprint
                found.add(i)
            elif (digest := message_digest(f)) in messages:
                messages.remove(digest)
                found.add(i)
            else:
                waiting.append((i, fingerprint))
        for i, fingerprint in waiting:  # its message changed (a price, a number on file): one for one
            messages = left[fingerprint]
            if messages:
                messages.pop()
                found.add(i)
        return found

    def __bool__(self) -> bool:
        return bool(self.active or self.baseline)


def _marked(f: Finding, waived: dict[str, str] | None, baseline: bool) -> Finding:
    """attrs.evolve(f, waived=waived, baseline=baseline), without evolve's look at every field by name
    (2.4 -> 1.0 us): with a --baseline, most of a scan's findings may be marked."""
    return Finding(f.rule, f.family, f.severity, f.penalty, f.document, f.merchant_id, f.path, f.message,
                       f.remedy, f.product_id, waived, baseline)


def load_excuses(waivers: str | None, baseline: str | None, rules: Iterable[Any], as_of: _dt.datetime) -> Excuses:
    """The waivers of `waivers` split at `as_of` into active and expired, and the baseline's fingerprints."""
    rules = list(rules)
    known = {r.id: r for r in rules}
    unwaivable = frozenset(r.id for r in rules if not getattr(r, "waivable", True))
    active: list[Waiver] = []
    expired: list[Waiver] = []
    if waivers is not None:
        for waiver in read_waivers(waivers):
            rule = known.get(waiver.rule)
            if rule is None:
                raise WaiverError(f"{waiver.where}: rule: there is no rule {waiver.rule} in the policy pack")
            if waiver.rule in unwaivable:
                raise WaiverError(f"{waiver.where}: rule: {waiver.rule} cannot be waived (the rule says "
                                  "waivable = false)")
            (active if as_of < waiver.expires else expired).append(waiver)
    prints: Mapping[str, tuple[str, ...] | None] = {}
    if baseline is not None:
        prints = read_baseline(baseline)
    return Excuses(tuple(active), tuple(expired), prints, unwaivable)


def read_waivers(path: str) -> list[Waiver]:
    from .policy.loader import _jsonish, _schema_message, parse_toml, schema_error
    from .policy.model import PolicyError

    try:
        with open(path, "rb") as f:
            doc = parse_toml(path, f.read())
    except OSError as e:
        raise WaiverError(f"{path}: cannot read: {e.strerror or e}") from None
    except PolicyError as e:
        raise WaiverError(str(e)) from None
    plain = _jsonish(doc)
    error = schema_error("waivers.schema.json", plain)
    if error is not None:
        where = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise WaiverError(f"{path}: {where or 'waivers'}: {_schema_message(error)}")
    out = []
    for i, raw in enumerate(plain.get("waiver", [])):
        where = f"{path}: waiver[{i + 1}]"
        try:
            expires = parse_time(raw["expires"])
        except BadValue:
            raise WaiverError(f"{where}: expires: {raw['expires']!r} is not a date or time") from None
        out.append(Waiver(raw["rule"], raw["document"], raw.get("path"), raw["reason"], raw["owner"], expires, where,
                          path))
    return out


def read_baseline(path: str) -> dict[str, tuple[str, ...] | None]:
    """Fingerprint -> the message digests of its findings (None for a version-1 baseline: any number)."""
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except OSError as e:
        raise WaiverError(f"{path}: cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise WaiverError(f"{path}: not a baseline (not JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("baseline") not in (1, 2):
        raise WaiverError(f"{path}: not a baseline written by compliance baseline")
    if doc["baseline"] == 1:
        prints = doc.get("fingerprints")
        if not isinstance(prints, list) or not all(_digest(p) for p in prints):
            raise WaiverError(f"{path}: fingerprints: a list of sha256 hex digests is expected")
        return dict.fromkeys(prints)
    findings = doc.get("findings")
    if not isinstance(findings, list) or not all(
        isinstance(f, list) and len(f) == 2 and _digest(f[0]) and _digest(f[1]) for f in findings
    ):
        raise WaiverError(f"{path}: findings: a list of [fingerprint, message digest] (sha256 hex digests) is "
                          "expected")
    out: dict[str, list[str]] = {}
    for fingerprint, message in findings:
        out.setdefault(fingerprint, []).append(message)
    return {fingerprint: tuple(messages) for fingerprint, messages in out.items()}


def _digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64


def message_digest(finding: Finding) -> str:
    import hashlib

    return hashlib.sha256(finding.message.encode()).hexdigest()


def baseline_document(findings: Iterable[Finding], metadata: dict[str, Any]) -> dict[str, Any]:
    """What `compliance baseline` writes: each finding's fingerprint and message digest, and what made them.
    (Version 1 kept the fingerprints alone, so that one finding stood for any number at its place.)"""
    return {"baseline": 2, "metadata": metadata,
            "findings": sorted([f.fingerprint(), message_digest(f)] for f in findings)}
