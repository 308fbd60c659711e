"""The figures in messages are true statements (review of the rules, finding 4).

A message that names a limit ("below 0.04254", "at least 0.633") is checked against the rule itself: a
price at the limit passes and a price a hair below it fails. Sub-cent prices are a seed case (disposable
cups at $0.0284 ~ $0.0709), so a limit rounded to cents would name a price that does not pass, or one that
is not the least that does.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

import pytest

import checker

#: far below any price step a listing uses: "a hair below the limit"
HAIR = Decimal("1e-12")


def _findings(doc: dict[str, Any], rule: str) -> list[Any]:
    return [f for f in checker.check([doc], as_of="2022-12-28").findings if f.rule == rule]


def _product(tiers: list[tuple[int, str]]) -> dict[str, Any]:
    rows = [{"min_qty": q, "price": p} for q, p in tiers]
    for row, nxt in zip(rows, rows[1:]):
        row["max_qty"] = nxt["min_qty"] - 1
    return {"kind": "product", "id": "P-BAIT", "merchant_id": "M-1", "listing_type": "customization",
            "moq": tiers[0][0], "price": {"mode": "tiered", "tiers": rows}}


def _number(pattern: str, text: str) -> Decimal:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return Decimal(found.group(1))


# (tier before, bait tier): the seed's cups, sub-cent; a drop that rounds to 40.0 %; the linen dress
BAIT = [("0.0709", "0.0284"), ("0.0709", "0.0425"), ("18.24", "10.94"), ("18.20", "10.00"),
        ("20.00", "11.99"), ("0.0709", "0.0425399")]


@pytest.mark.parametrize("before, bait", BAIT)
def test_bait_tier_names_the_real_least_price(before: str, bait: str) -> None:
    """'below L, the least price within 40 %': a tier at L passes, a tier a hair below L fails, and the
    remedy's 'at least L' is the same L."""
    found = _findings(_product([(200, before), (10000, bait)]), "tier-anomaly/bait-tier")
    assert 1 == len(found)
    least = _number(r"below ([0-9.]+),", found[0].message)
    assert least == _number(r"at least ([0-9.]+)\)", found[0].remedy)
    assert [] == _findings(_product([(200, before), (10000, str(least))]), "tier-anomaly/bait-tier")
    assert 1 == len(_findings(_product([(200, before), (10000, str(least - HAIR))]), "tier-anomaly/bait-tier"))


@pytest.mark.parametrize("before, bait", BAIT)
def test_bait_tier_drop_is_shown_above_the_limit(before: str, bait: str) -> None:
    """A failing drop is more than max_drop: the message never says '40.0 % lower ... within 40.0 %'
    (18.24 to 10.94 is 40.02 % lower), and the figure shown is the drop, to its last decimal shown."""
    message = _findings(_product([(200, before), (10000, bait)]), "tier-anomaly/bait-tier")[0].message
    drop = _number(r"([0-9.]+) % lower", message)
    limit = _number(r"within ([0-9.]+) %", message)
    assert drop > limit == Decimal(40)
    exact = 100 - 100 * Decimal(bait) / Decimal(before)
    step = Decimal(1).scaleb(drop.as_tuple().exponent)  # type: ignore[arg-type]
    assert abs(drop - exact) <= step, (drop, exact)


def test_bait_tier_figures_of_the_seed_cups() -> None:
    """0.0709 to 0.0425: the least price is 0.0709 x 0.6 = 0.04254, not 0.05 (0.043 passes)."""
    message = _findings(_product([(200, "0.0709"), (10000, "0.0425")]), "tier-anomaly/bait-tier")[0].message
    assert "drops to 0.0425 from 0.0709, 40.1 % lower: below 0.04254, the least price within 40.0 %" in message
    message = _findings(_product([(200, "18.24"), (10000, "10.94")]), "tier-anomaly/bait-tier")[0].message
    assert "40.02 % lower: below 10.944, the least price within 40.0 %" in message


def _member_order(page: str, paid: str) -> list[dict[str, Any]]:
    listing = {"id": "L-SKU", "merchant_id": "M1", "listing_type": "rts", "moq": 2,
               "price": {"mode": "sku", "skus": [{"attributes": {"Model": "x"}, "price": page}]},
               "promotions": [{"id": "PR", "type": "member-price", "audience": "L2+", "discount": "9.5",
                               "start": "2022-12-01", "end": "2023-04-01"}]}
    return [{"kind": "merchant", "id": "M1", "gold": True, "star_level": 1, "primary_industry": "home-goods"},
            {"kind": "order", "id": "O-1", "type": "order", "merchant_id": "M1",
             "buyer": {"id": "B", "level": "L2", "country": "US"}, "ship_to": "US",
             "created_at": "2022-12-12T10:00:00-08:00",
             "items": [{"quantity": 10, "unit_price": paid, "member_price": True, "sku": {"Model": "x"},
                        "listing": listing}]}]


def _floor_findings(page: str, paid: str) -> list[Any]:
    return [f for f in checker.check(_member_order(page, paid)).findings
            if f.rule == "discount-floor/member-price-floor"]


@pytest.mark.parametrize("page, paid", [("6.33", "0.632"), ("6.00", "0.599"), ("6.00", "0.10"),
                                        ("0.0709", "0.007")])
def test_member_price_floor_names_the_real_floor(page: str, paid: str) -> None:
    """'below F: 1折 of the page price': a price at F passes, a hair below fails; the remedy says the same F
    (1折 of 6.33 is 0.633, and 0.634 passes: 'at least 0.64' was false)."""
    found = _floor_findings(page, paid)
    assert 1 == len(found)
    floor = _number(r"below ([0-9.]+):", found[0].message)
    assert floor == Decimal(page) / 10
    assert floor == _number(r"at least ([0-9.]+) per unit", found[0].remedy)
    assert [] == _floor_findings(page, str(floor))
    assert 1 == len(_floor_findings(page, str(floor - HAIR)))


def _skus(*prices: str) -> dict[str, Any]:
    return {"kind": "product", "id": "P-SKU", "merchant_id": "M-1", "listing_type": "rts", "moq": 1,
            "price": {"mode": "sku", "skus": [{"attributes": {"Model": f"M{i}"}, "price": p}
                                              for i, p in enumerate(prices)]}}


@pytest.mark.parametrize("dear, cheap", [("55.00", "3.99"), ("0.0709", "0.0141"), ("0.0709", "0.01"),
                                         ("10.00", "1.9999")])
def test_sku_price_spread_names_the_real_least_price(dear: str, cheap: str) -> None:
    """'would have to cost at least L': a SKU at L passes, a hair below fails (0.0709 / 5 = 0.01418, not
    0.02); the share of the dearest SKU shown is below 100 / max_spread = 20 %."""
    found = _findings(_skus(dear, cheap), "spec-anomaly/sku-price-spread")
    assert 1 == len(found)
    least = _number(r"at least ([0-9.]+)\.$", found[0].message)
    assert _number(r", ([0-9.]+) % of the dearest", found[0].message) < 20
    assert [] == _findings(_skus(dear, str(least)), "spec-anomaly/sku-price-spread")
    assert 1 == len(_findings(_skus(dear, str(least - HAIR)), "spec-anomaly/sku-price-spread"))


def _promotion(discount: str) -> list[dict[str, Any]]:
    return [{"kind": "merchant", "id": "M1", "gold": True, "star_level": 1, "primary_industry": "home-goods"},
            {"kind": "product", "id": "P-MP", "merchant_id": "M1", "listing_type": "rts", "moq": 2,
             "price": {"mode": "range", "range": {"min": "6.00", "max": "9.00"}},
             "promotions": [{"id": "PR", "type": "member-price", "audience": "L2+", "discount": discount,
                             "start": "2022-12-01", "end": "2023-04-01"}]}]


@pytest.mark.parametrize("discount", ["9.5000001", "9.51", "9.6", "10", "0.9999", "0.99", "0.9", "0"])
def test_discount_range_share_is_shown_outside_the_range(discount: str) -> None:
    """'the member pays X % of the price ... (10.0 % to 95.0 % of the price)': X is exact, so a discount
    out of range is never shown inside it (9.5000001折 pays 95.000001 %, not '95.0 %')."""
    found = [f for f in checker.check(_promotion(discount), as_of="2022-12-28").findings
             if f.rule == "discount-floor/discount-range"]
    assert 1 == len(found)
    pays = _number(r"the member pays (-?[0-9.]+) %", found[0].message)
    low = _number(r"\(([0-9.]+) % to", found[0].message)
    high = _number(r"to ([0-9.]+) % of the price\)", found[0].message)
    assert pays == Decimal(discount) * 10
    assert not low <= pays <= high
