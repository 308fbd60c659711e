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

A baseline (`compliance baseline PATH -o baseline.json`) records the
fingerprints of today's findings (sha256 of rule, document id and JSON
Pointer: not the file or line, which move); `--baseline` then marks those
findings `"baseline": true`, so that a team adopting the checker on an
existing catalog fails only on new ones. Neither waived nor baselined
findings count for the exit status; both stay in the report.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Iterable

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
    baseline: frozenset[str] = frozenset()
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

    def apply(self, finding: Finding) -> Finding:
        if finding.rule in self.unwaivable:
            return finding
        for waiver in self.targets.get((finding.rule, finding.document.id), ()):
            if waiver.matches(finding):
                waived = {"reason": waiver.reason, "owner": waiver.owner, "expires": format_time(waiver.expires)}
                return _marked(finding, waived, finding.baseline)
        if self.baseline and finding.fingerprint() in self.baseline:
            return _marked(finding, finding.waived, True)
        return finding

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
    prints: frozenset[str] = frozenset()
    if baseline is not None:
        prints = read_baseline(baseline)
    return Excuses(tuple(active), tuple(expired), prints, unwaivable)


def read_waivers(path: str) -> list[Waiver]:
    from .policy.loader import _jsonish, parse_toml, schema_error
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
        raise WaiverError(f"{path}: {where or 'waivers'}: {error.message}")
    out = []
    for i, raw in enumerate(plain.get("waiver", [])):
        where = f"{path}: waiver[{i + 1}]"
        try:
            expires = parse_time(raw["expires"])
        except BadValue:
            raise WaiverError(f"{where}: expires: {raw['expires']!r} is not a date or time") from None
        out.append(Waiver(raw["rule"], raw["document"], raw.get("path"), raw["reason"], raw["owner"], expires, where))
    return out


def read_baseline(path: str) -> frozenset[str]:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except OSError as e:
        raise WaiverError(f"{path}: cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise WaiverError(f"{path}: not a baseline (not JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("baseline") != 1:
        raise WaiverError(f"{path}: not a baseline written by compliance baseline")
    prints = doc.get("fingerprints")
    if not isinstance(prints, list) or not all(isinstance(p, str) and len(p) == 64 for p in prints):
        raise WaiverError(f"{path}: fingerprints: a list of sha256 hex digests is expected")
    return frozenset(prints)


def baseline_document(findings: Iterable[Finding], metadata: dict[str, Any]) -> dict[str, Any]:
    """What `compliance baseline` writes: the fingerprints of the findings, and what made them."""
    return {"baseline": 1, "metadata": metadata, "fingerprints": sorted({f.fingerprint() for f in findings})}
