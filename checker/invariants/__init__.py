"""Platform invariants checked against a policy pack as loaded (`compliance verify`).

A rule's own examples prove the rule says what its author meant; these
prove the pack, whatever its rules are called, keeps the platform's promises
(checker/invariants/platform.toml, from RULES.md). Each invariant sweeps the
boundaries systematically (every combination of the values on both sides of
each limit) and reports the first counterexample; tests/test_rule_pack_properties.py
runs the same predicates under Hypothesis.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
import sys
from decimal import Decimal
from typing import Any, Callable, Iterator

import attrs

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


# -- discount-floor: promotions ------------------------------------------------------------


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
    import checker

    for case in promotion_cases(spec):
        report = checker.check(promotion_case(**case), as_of="2022-12-28", policies=pack)
        accepted = not [f for f in report.findings if f.family == "discount-floor"] and not report.errors
        if accepted != promotion_allowed(spec, **case):
            shown = ", ".join(f"{k}={v.astimezone(PLATFORM_TZ).isoformat() if isinstance(v, _dt.datetime) else v}"
                              for k, v in case.items())
            verdict = "accepted" if accepted else "rejected"
            return Violation("discount-floor/promotions", f"the pack {verdict} a member-price promotion with {shown}")
    return None


# -- discount-floor: orders at member price ---------------------------------------------------


def order_case(*, level: str, unit_price: Decimal, discount: Decimal) -> list[dict[str, Any]]:
    listing = {"id": "P-INV", "merchant_id": "M-INV", "listing_type": "rts", "moq": 1, "created_at": "2022-10-15",
               "price": {"mode": "tiered", "tiers": [{"min_qty": 1, "price": "6.00"}]},
               "promotions": [{"id": "PR-INV", "type": "member-price", "audience": "L2+", "discount": str(discount),
                               "start": "2022-12-01", "end": "2023-04-01"}]}
    order = {"kind": "order", "id": "O-INV", "type": "order", "merchant_id": "M-INV",
             "buyer": {"id": "B-INV", "level": level}, "created_at": "2022-12-28",
             "items": [{"listing": listing, "quantity": 10, "unit_price": str(unit_price), "member_price": True}]}
    merchant = {"kind": "merchant", "id": "M-INV", "gold": True, "star_level": 1, "primary_industry": "home-goods"}
    return [merchant, order]


def _orders(pack: CompiledPack, spec: dict[str, Any]) -> Violation | None:
    import checker

    floor = spec["discount_floor"]
    page = Decimal("6.00")
    lowest = page * Decimal(floor["min_discount"]) / 10
    prices = sorted({lowest - Decimal("0.01"), lowest, page * Decimal("0.5"), page * Decimal("0.95"), page})
    for level, unit_price, discount in itertools.product(("L0", "L1", "L2", "L4"), prices, (Decimal("9.5"),)):
        report = checker.check(order_case(level=level, unit_price=unit_price, discount=discount), policies=pack)
        accepted = not [f for f in report.findings if f.family in ("discount-floor", "fake-price")] and not report.errors
        if accepted and (level not in floor["member_levels"] or unit_price < lowest):
            return Violation(
                "discount-floor/member-orders",
                f"the pack accepted an order at member price from an {level} buyer at {unit_price} "
                f"(page price {page}, floor {lowest})",
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
              "or later, for L2+, on a Gold merchant's RTS listing without country pricing (RULES.md 6.1-6.5)",
              _promotions, ("discount-floor",)),
    Invariant("discount-floor/member-orders",
              "an order accepted at member price is an L2+ buyer's, at no less than 1折 of the page price (RULES.md 6.6)",
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
