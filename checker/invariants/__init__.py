"""Platform invariants checked against a policy pack as loaded (`compliance verify`).

A rule's own examples prove the rule says what its author meant; these
prove the pack, whatever its rules are called, keeps the platform's promises
(checker/invariants/platform.toml, from RULES.md). Each invariant sweeps the
boundaries systematically (every combination of the values on both sides of
each limit) and reports the first counterexample; tests/test_rule_pack_properties.py
runs the same predicates under Hypothesis.

A case is judged as a CI scan judges it (platform.toml [judged]): it is
rejected when the scan fails on it, with a finding of the invariant's families
at or above the severity `--fail-on` fails on by default ("error"), or an input
error. A rule kept but lowered to "warning" or "advice" reports what it finds
and lets it through. And the platform's rules do not expire: each case is judged
at several times, from when the platform's rule starts to apply to years ahead,
so a rule a pack limits in time (effective_from, effective_until) is caught too.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import os
import sys
from decimal import Decimal
from typing import Any, Callable, Iterator

import attrs

from ..model import SEVERITIES, Report
from ..policy.runtime import CompiledPack, fn_add_months
from ..values import PLATFORM_TZ, parse_time

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def platform() -> dict[str, Any]:
    with open(os.path.join(os.path.dirname(__file__), "platform.toml"), "rb") as f:
        return tomllib.load(f)


@attrs.frozen
class Violation:
    invariant: str
    counterexample: str

    def __str__(self) -> str:
        return f"FAIL invariant {self.invariant}: {self.counterexample}"


@attrs.frozen
class Invariant:
    name: str
    text: str
    check: Callable[[CompiledPack, dict[str, Any]], Violation | None]
    #: the families whose rules the invariant is about: without any of them in the pack, it does not apply
    families: tuple[str, ...]
    #: about the penalty ladder (policies/penalties.toml): applies when the pack has one
    needs_ladder: bool = False


# -- how a case is judged: when, and what counts as rejected -------------------------------


def judging_times(
    spec: dict[str, Any], since: _dt.datetime, own: _dt.datetime, today: _dt.datetime | None = None
) -> list[_dt.datetime]:
    """The times a case is judged at, in order: `since`, when the platform's rule starts to apply; the
    case's own date (not before `since`); today (default now, to the second, as a --as-of would be
    written); and [judged] years_ahead years from today. A pack's rule that ends (effective_until =
    2023-01-01: not today) or starts late (effective_from = 2022-12-02: not on 2022-12-01) misses one."""
    if today is None:
        today = _dt.datetime.now(PLATFORM_TZ).replace(microsecond=0)
    ahead = fn_add_months(today, 12 * spec["judged"]["years_ahead"])
    return sorted({since, max(own, since), today, ahead})


@attrs.frozen
class Verdict:
    """What a scan of one case makes of it, for the invariant's families: `rejecting`, what fails the scan
    (findings at or above [judged] rejected_severity, the default --fail-on, and input errors); `lower`,
    the families' findings below it, as (rule, severity): reported, but the scan passes."""

    families: tuple[str, ...]
    threshold: str
    rejecting: tuple[str, ...]
    lower: tuple[tuple[str, str], ...]

    @property
    def rejected(self) -> bool:
        return bool(self.rejecting)

    def why(self) -> str:
        """Why the case is rejected or accepted, for a counterexample."""
        if self.rejecting:
            return "rejected by " + ", ".join(self.rejecting)
        families = " or ".join(self.families)
        if not self.lower:
            return f"no {families} finding"
        one = len(self.lower) == 1
        rules = ", ".join(rule for rule, _ in self.lower)
        levels = " and ".join(sorted({level for _, level in self.lower}, key=SEVERITIES.index))
        failing = " or ".join(reversed(SEVERITIES[SEVERITIES.index(self.threshold):]))
        return (f"its {families} finding{'' if one else 's'} ({rules}) {'is' if one else 'are'} of severity {levels}, "
                f"and only {failing} fails a scan (--fail-on {self.threshold}, the default)")


def verdict(report: Report, families: tuple[str, ...], spec: dict[str, Any]) -> Verdict:
    """The verdict of a scan (`report`) on one case (tests/test_rule_pack_properties.py uses it too)."""
    threshold = spec["judged"]["rejected_severity"]
    floor = SEVERITIES.index(threshold)
    mine = [f for f in report.findings if f.family in families]
    rejecting = [f.rule for f in mine if SEVERITIES.index(f.severity) >= floor]
    rejecting += [f"an input error at {e.pointer or '/'} ({e.reason})" for e in report.errors]
    lower = [(f.rule, f.severity) for f in mine if SEVERITIES.index(f.severity) < floor]
    return Verdict(families, threshold, tuple(dict.fromkeys(rejecting)), tuple(dict.fromkeys(lower)))


def scan_case(pack: CompiledPack, documents: list[dict[str, Any]], when: _dt.datetime) -> Report:
    """checker.check(documents, as_of=when, policies=pack), without its copy of the documents into plain
    JSON values: the cases are built plain, and are not changed by a check. The sweeps check a few
    thousand cases (864 promotions at 3 times), and verify runs in a pre-commit hook: the copy was half
    the time (0.03 s of 0.06 s per 864 cases). tests/test_invariants_review.py checks they agree."""
    from ..engine import check_documents

    return check_documents(pack, documents, when)


def out_of_force(pack: CompiledPack, families: tuple[str, ...], when: _dt.datetime) -> str:
    """The rules of `families` that do not apply at `when` (effective_from, effective_until), as the end
    of a counterexample: why a pack accepts at one time what it rejects at another."""
    notes = []
    for rule in pack.pack.rules:
        if rule.family not in families:
            continue
        if rule.effective_from is not None and when < rule.effective_from:
            notes.append(f"{rule.id} applies only from {_shown(rule.effective_from)}")
        elif rule.effective_until is not None and when >= rule.effective_until:
            notes.append(f"{rule.id} applies only until {_shown(rule.effective_until)}")
    return f"; {', '.join(notes)}, but the platform's rules do not expire" if notes else ""


def _shown(when: _dt.datetime) -> str:
    return when.astimezone(PLATFORM_TZ).isoformat()


# -- discount-floor: promotions ------------------------------------------------------------

#: the families whose findings reject a member-price promotion, and an order at member price (a price above
#: the promised member price is fake-price/member-price-above-discount, RULES.md 6.6)
FLOOR = ("discount-floor",)
MEMBER_ORDERS = ("discount-floor", "fake-price")


def promotion_case(
    *, discount: Decimal, start: _dt.datetime, end: _dt.datetime, gold: bool, audience: str, rts: bool,
    country_pricing: bool,
) -> list[dict[str, Any]]:
    """A merchant and its listing with one member-price promotion (SNAPSHOTS.md fields only)."""
    merchant = {"kind": "merchant", "id": "M-INV", "gold": gold, "star_level": 1, "primary_industry": "home-goods"}
    product = {
        "kind": "product", "id": "P-INV", "merchant_id": "M-INV", "listing_type": "rts" if rts else "customization",
        "moq": 2, "country_pricing": country_pricing, "created_at": "2022-10-15",
        "price": {"mode": "range", "range": {"min": "6.00", "max": "9.00"}},
        "promotions": [{"id": "PR-INV", "type": "member-price", "audience": audience, "discount": str(discount),
                        "start": start.isoformat(), "end": end.isoformat()}],
    }
    return [merchant, product]


def promotion_allowed(spec: dict[str, Any], *, discount: Decimal, start: _dt.datetime, end: _dt.datetime, gold: bool,
                      audience: str, rts: bool, country_pricing: bool) -> bool:
    """RULES.md 6.1-6.5, from platform.toml."""
    floor = spec["discount_floor"]
    earliest = parse_time(floor["earliest_start"])
    return (
        Decimal(floor["min_discount"]) <= discount <= Decimal(floor["max_discount"])
        and fn_add_months(start, floor["min_months"]) <= end
        and start >= earliest
        and gold and audience == "L2+" and rts and not country_pricing
    )


def promotion_cases(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    floor = spec["discount_floor"]
    low, high = Decimal(floor["min_discount"]), Decimal(floor["max_discount"])
    step = Decimal("0.1")
    discounts = sorted({Decimal(0), low - step, low, low + step, high - step, high, high + step, Decimal("9.8"),
                        Decimal(10)})
    earliest = parse_time(floor["earliest_start"])
    starts = [earliest, earliest - _dt.timedelta(seconds=1)]
    for discount, start in itertools.product(discounts, starts):
        full = fn_add_months(start, floor["min_months"])
        for end in (full, full - _dt.timedelta(seconds=1), full + _dt.timedelta(days=30)):
            for gold, audience, rts, country_pricing in itertools.product(
                (True, False), ("L2+", "all"), (True, False), (False, True)
            ):
                yield dict(discount=discount, start=start, end=end, gold=gold, audience=audience, rts=rts,
                           country_pricing=country_pricing)


def _promotions(pack: CompiledPack, spec: dict[str, Any]) -> Violation | None:
    since = parse_time(spec["discount_floor"]["earliest_start"])  # member prices exist from then on (RULES.md 6.4)
    today = _dt.datetime.now(PLATFORM_TZ).replace(microsecond=0)
    for case in promotion_cases(spec):
        allowed = promotion_allowed(spec, **case)
        documents = promotion_case(**case)
        # a product is judged at the scan's --as-of: from the promotion's start (or 2022-12-01) to years ahead
        for when in judging_times(spec, since, case["start"], today):
            found = verdict(scan_case(pack, documents, when), FLOOR, spec)
            if found.rejected == allowed:
                shown = ", ".join(f"{k}={_shown(v) if isinstance(v, _dt.datetime) else v}" for k, v in case.items())
                return Violation(
                    "discount-floor/promotions",
                    f"the pack {'rejected' if allowed else 'accepted'} a member-price promotion with {shown}, "
                    f"as of {_shown(when)}: {found.why()}{'' if allowed else out_of_force(pack, FLOOR, when)}",
                )
    return None


# -- discount-floor: orders at member price ---------------------------------------------------


#: an order's own date: its rules judge it at its created_at (not the scan's --as-of)
ORDER_DATE = _dt.datetime(2022, 12, 28, tzinfo=PLATFORM_TZ)


@functools.cache
def _member_window() -> tuple[_dt.datetime, int]:
    """When member prices may start, and their least months (platform.toml, read once: a case per order)."""
    floor = platform()["discount_floor"]
    return parse_time(floor["earliest_start"]), floor["min_months"]


def order_case(
    *, level: str, unit_price: Decimal, discount: Decimal, created_at: _dt.datetime = ORDER_DATE
) -> list[dict[str, Any]]:
    """A Gold merchant and an order of 10 units at member price, `created_at` (its rules' clock), on a 6.00
    listing whose member price runs from the earliest start for the least months (platform.toml), and on for
    a month after an order placed later: the order is at a member price the page offered when it was placed."""
    start, months = _member_window()
    end = max(fn_add_months(start, months), fn_add_months(created_at, 1))
    listing = {"id": "P-INV", "merchant_id": "M-INV", "listing_type": "rts", "moq": 1, "created_at": "2022-10-15",
               "price": {"mode": "tiered", "tiers": [{"min_qty": 1, "price": "6.00"}]},
               "promotions": [{"id": "PR-INV", "type": "member-price", "audience": "L2+", "discount": str(discount),
                               "start": start.isoformat(), "end": end.isoformat()}]}
    order = {"kind": "order", "id": "O-INV", "type": "order", "merchant_id": "M-INV",
             "buyer": {"id": "B-INV", "level": level}, "created_at": created_at.isoformat(),
             "items": [{"listing": listing, "quantity": 10, "unit_price": str(unit_price), "member_price": True}]}
    merchant = {"kind": "merchant", "id": "M-INV", "gold": True, "star_level": 1, "primary_industry": "home-goods"}
    return [merchant, order]


def _orders(pack: CompiledPack, spec: dict[str, Any]) -> Violation | None:
    floor = spec["discount_floor"]
    page = Decimal("6.00")
    lowest = page * Decimal(floor["min_discount"]) / 10
    prices = sorted({lowest - Decimal("0.01"), lowest, page * Decimal("0.5"), page * Decimal("0.95"), page})
    # an order is judged at its created_at: placed from 2022-12-01 (member prices start) to years ahead
    times = judging_times(spec, parse_time(floor["earliest_start"]), ORDER_DATE)
    for level, unit_price, discount in itertools.product(("L0", "L1", "L2", "L4"), prices, (Decimal("9.5"),)):
        if level in floor["member_levels"] and unit_price >= lowest:
            continue  # allowed: the invariant is only that what is accepted is allowed
        for when in times:
            report = scan_case(pack, order_case(level=level, unit_price=unit_price, discount=discount,
                                                created_at=when), when)
            found = verdict(report, MEMBER_ORDERS, spec)
            if not found.rejected:
                return Violation(
                    "discount-floor/member-orders",
                    f"the pack accepted an order at member price from an {level} buyer at {unit_price} "
                    f"(page price {page}, floor {lowest}), created at {_shown(when)}: {found.why()}"
                    f"{out_of_force(pack, MEMBER_ORDERS, when)}",
                )
    return None


# -- the penalty ladder (RULES.md 7) -----------------------------------------------------------------


def _penalty_classes(pack: CompiledPack, spec: dict[str, Any]) -> Violation | None:
    """Every rule with a penalty names a class of the ladder, and the class covers the rule's family."""
    ladder = _ladder(pack)
    for rule in pack.pack.rules:
        if rule.penalty is None:
            continue
        cls = ladder.classes.get(rule.penalty)
        if cls is None:
            return Violation("radar/penalty-classes",
                             f"rule {rule.id} has penalty {rule.penalty}, a class {ladder.file} does not define")
        if rule.family not in cls.families:
            return Violation("radar/penalty-classes",
                             f"rule {rule.id} has penalty {rule.penalty}, but {ladder.file} puts family {rule.family} "
                             f"in {_class_of(ladder, rule.family) or 'no class'}")
    return None


def _class_of(ladder: Any, family: str) -> str | None:
    return next((name for name, cls in ladder.classes.items() if family in cls.families), None)


def offence_sequences(ladder: Any) -> Iterator[list[_dt.datetime]]:
    """Opening times of a merchant's tasks of one class: every combination of gaps around the look-back
    window (if any) for the last three offences, after enough offences to make a repeat."""
    gaps = {_dt.timedelta(0), _dt.timedelta(seconds=1), _dt.timedelta(days=1), _dt.timedelta(days=30),
            _dt.timedelta(days=400), _dt.timedelta(days=4000)}
    if ladder.window_days is not None:
        window = _dt.timedelta(days=ladder.window_days)
        gaps |= {window - _dt.timedelta(seconds=1), window, window + _dt.timedelta(seconds=1)}
    start = _dt.datetime(2022, 11, 1, tzinfo=PLATFORM_TZ)
    lead = [start + _dt.timedelta(days=i) for i in range(min(ladder.repeat_count, 20))]
    for tail in itertools.product(sorted(gaps), repeat=3):
        times = list(lead)
        for gap in tail:
            times.append(times[-1] + gap)
        yield times


def _escalation(pack: CompiledPack, spec: dict[str, Any]) -> Violation | None:
    """A repeat has everything a first offence has (at least as long, as many points), and no later
    offence of a merchant is lighter than an earlier one of the same class."""
    from ..radar.ladder import heavier_or_equal

    ladder = _ladder(pack)
    for name, cls in ladder.classes.items():
        missing = heavier_or_equal(cls.repeat, cls.first)
        if missing is not None:
            return Violation("radar/escalation",
                             f"in {ladder.file}, a {name} repeat offence lacks what a first offence has: "
                             f"{missing.describe()}")
    for name, cls in ladder.classes.items():
        for times in offence_sequences(ladder):
            levels = [ladder.offence(times[:i], t) for i, t in enumerate(times)]
            for i in range(1, len(levels)):
                if heavier_or_equal(cls.actions(levels[i]), cls.actions(levels[i - 1])) is not None:
                    shown = ", ".join(f"{t:%Y-%m-%d %H:%M:%S} {lv}" for t, lv in zip(times[: i + 1], levels))
                    return Violation("radar/escalation",
                                     f"with {ladder.file}, a merchant's {name} offences opened at {shown}: the "
                                     f"{levels[i]} offence is lighter than the {levels[i - 1]} one before it")
    return None


def _ladder(pack: CompiledPack) -> Any:
    from ..radar.ladder import load_ladder

    return load_ladder(pack.dirs)


def _has_ladder(pack: CompiledPack) -> bool:
    from ..radar.ladder import ladder_file

    return ladder_file(pack.dirs) is not None


INVARIANTS = [
    Invariant("discount-floor/promotions",
              "a member-price promotion is accepted exactly when it is 1-9.5折, lasts 4 months from 2022-12-01 "
              "or later, for L2+, on a Gold merchant's RTS listing without country pricing (RULES.md 6.1-6.5); "
              "rejected is an error finding, scanned at any time from 2022-12-01 on",
              _promotions, ("discount-floor",)),
    Invariant("discount-floor/member-orders",
              "an order accepted at member price is an L2+ buyer's, at no less than 1折 of the page price "
              "(RULES.md 6.6); rejected is an error finding, for an order placed at any time from 2022-12-01 on",
              _orders, ("discount-floor",)),
    Invariant("radar/penalty-classes",
              "every rule with a penalty names a class of the penalty ladder that covers its family (RULES.md 7)",
              _penalty_classes, (), needs_ladder=True),
    Invariant("radar/escalation",
              "a repeat offence has everything a first offence has, and a merchant's later penalty is never "
              "lighter than an earlier one of the same class (RULES.md 7)",
              _escalation, (), needs_ladder=True),
]


def check_invariants(pack: CompiledPack) -> list[tuple[Invariant, Violation | None]]:
    """Each invariant that applies to the pack (it has rules of the invariant's families, or a penalty
    ladder), with its first counterexample or None."""
    spec = platform()
    families = {rule.family for rule in pack.pack.rules}
    ladder = _has_ladder(pack)
    return [
        (inv, inv.check(pack, spec))
        for inv in INVARIANTS
        if (families & set(inv.families)) or (inv.needs_ladder and ladder)
    ]
