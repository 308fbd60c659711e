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


INVARIANTS = [
    Invariant("discount-floor/promotions",
              "a member-price promotion is accepted exactly when it is 1-9.5折, lasts 4 months from 2022-12-01 "
              "or later, for L2+, on a Gold merchant's RTS listing without country pricing (RULES.md 6.1-6.5)",
              _promotions, ("discount-floor",)),
    Invariant("discount-floor/member-orders",
              "an order accepted at member price is an L2+ buyer's, at no less than 1折 of the page price (RULES.md 6.6)",
              _orders, ("discount-floor",)),
]


def check_invariants(pack: CompiledPack) -> list[tuple[Invariant, Violation | None]]:
    """Each invariant that applies to the pack (it has rules of the invariant's families), with its
    first counterexample or None."""
    spec = platform()
    families = {rule.family for rule in pack.pack.rules}
    return [(inv, inv.check(pack, spec)) for inv in INVARIANTS if families & set(inv.families)]
