"""Properties of the whole platform pack (issue 3): member-price promotions and orders keep the
platform's promises in both directions, tier verdicts do not depend on the price level, and a SKU
that violates nothing never hides a finding.

"Rejected" is what `compliance verify` means by it (checker.invariants.verdict): a finding of the
families at or above the default --fail-on ("error"), or an input error; and a case is judged at any
time from 2022-12-01, when member prices start, to years ahead: the platform's rules do not expire."""

from __future__ import annotations

import copy
import datetime as _dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checker
from checker.invariants import order_case, platform, promotion_allowed, promotion_case, verdict
from checker.testing import products
from checker.values import PLATFORM_TZ

PACK = checker.load_policies()
SPEC = platform()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

discounts = st.decimals(min_value=0, max_value=10, places=2)
starts = st.datetimes(
    min_value=_dt.datetime(2022, 11, 29), max_value=_dt.datetime(2022, 12, 3), timezones=st.just(PLATFORM_TZ)
).map(lambda t: t.replace(microsecond=0))


#: when a case is judged: a product at the scan's --as-of, an order at its created_at; from 2022-12-01 00:00
#: (platform time, member prices start, RULES.md 6.4) to the [judged] years_ahead after today
times = st.datetimes(
    min_value=_dt.datetime(2022, 12, 1),
    max_value=_dt.datetime(_dt.date.today().year + SPEC["judged"]["years_ahead"], 12, 31),
    timezones=st.just(PLATFORM_TZ),
).map(lambda t: t.replace(microsecond=0))


@st.composite
def promotions(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(starts)
    # around four calendar months: from three to five months, to the second
    end = start + _dt.timedelta(days=draw(st.integers(90, 155)), seconds=draw(st.integers(-86400, 86400)))
    return dict(
        discount=draw(discounts), start=start, end=end, gold=draw(st.booleans()),
        audience=draw(st.sampled_from(["L2+", "L2+", "all", "new"])), rts=draw(st.booleans()),
        country_pricing=draw(st.booleans()),
    )


@SETTINGS
@given(promotions(), times)
def test_a_member_price_promotion_is_accepted_exactly_when_the_platform_allows_it(
    case: dict[str, Any], as_of: _dt.datetime
) -> None:
    """Accepted promotions have 1-9.5折 (a multiplier in [0.10, 0.95]), last >= 4 months from 2022-12-01 or
    later, for L2+, on a Gold merchant's RTS listing without country pricing; any that breaks one is rejected,
    whenever it is scanned."""
    report = checker.check(promotion_case(**case), as_of=as_of, policies=PACK)
    found = verdict(report, ("discount-floor",), SPEC)
    assert promotion_allowed(SPEC, **case) == (not found.rejected), found.why()


@SETTINGS
@given(st.sampled_from(["L0", "L1", "L2", "L3", "L4"]), st.decimals(min_value="0.01", max_value="7", places=2),
       st.decimals(min_value=1, max_value="9.5", places=1), times)
def test_an_order_accepted_at_member_price_charges_an_l2_plus_buyer_at_least_the_floor(
    level: str, unit_price: Decimal, discount: Decimal, created_at: _dt.datetime
) -> None:
    """An order the pack accepts at member price, placed at any time, is an L2+ buyer's at no less than 1折
    of the page price (6.00)."""
    documents = order_case(level=level, unit_price=unit_price, discount=discount, created_at=created_at)
    report = checker.check(documents, policies=PACK)
    if not verdict(report, ("discount-floor", "fake-price"), SPEC).rejected:
        assert level in SPEC["discount_floor"]["member_levels"]
        assert unit_price >= Decimal("6.00") * Decimal(SPEC["discount_floor"]["min_discount"]) / 10


def tier_verdict(product: dict[str, Any]) -> list[tuple[str, str]]:
    report = checker.check([product], as_of="2022-12-28", policies=PACK)
    return sorted((f.rule, f.path) for f in report.findings if f.family == "tier-anomaly")


@SETTINGS
@given(products(price_mode="tiered"), st.decimals(min_value="0.01", max_value="100", places=2).filter(lambda k: k > 0))
def test_scaling_every_price_by_one_factor_keeps_the_tier_verdict(product: dict[str, Any], factor: Decimal) -> None:
    """Tier anomalies are about the shape of the table: the same table at another price level, same verdict."""
    scaled = copy.deepcopy(product)
    for tier in scaled["price"]["tiers"]:
        tier["price"] = str(Decimal(str(tier["price"])) * factor)
    assert tier_verdict(product) == tier_verdict(scaled)


def findings(product: dict[str, Any]) -> set[tuple[str, str]]:
    report = checker.check([product], as_of="2022-12-28", policies=PACK)
    return {(f.rule, f.path) for f in report.findings}


@SETTINGS
@given(products(price_mode="sku"))
def test_adding_a_sku_that_violates_nothing_never_removes_a_finding(product: dict[str, Any]) -> None:
    """A plain SKU (an allowed-looking attribute, a price within the others') only ever adds to the findings."""
    prices = [Decimal(str(s["price"])) for s in product["price"]["skus"]]
    more = copy.deepcopy(product)
    more["price"]["skus"].append({"attributes": {"Color": "Blue"}, "price": str(min(prices))})
    assert findings(product) <= findings(more)
