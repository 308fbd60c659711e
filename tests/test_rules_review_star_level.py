"""star-level messages say only what applies to the merchant (review of the rules, findings 5 and 6).

The seed's bonus table (机械本地售后商品交易额, RULES.md 10) has trade-power stars 3, 2, 1 and 0, and
the bonus is for industrial machinery and construction machinery only (工业机械、工程及建筑机械): a
building-materials merchant counts 180 days too, but has no after-sales bonus to be told about.
"""

from __future__ import annotations

from typing import Any

import pytest

import checker


def _merchant(mid: str, star: int, industry: str) -> dict[str, Any]:
    return {"kind": "merchant", "id": mid, "name": mid, "gold": True, "star_level": star,
            "primary_industry": industry}


def _after_sales_order(mid: str, amount: str) -> dict[str, Any]:
    listing = {"id": "P-SVC", "merchant_id": mid, "listing_type": "customization", "moq": 1,
               "category": ["Machinery", "After-sales Service"],
               "price": {"mode": "range", "range": {"min": "1", "max": "300000"}}}
    return {"kind": "order", "id": f"O-{mid}", "type": "order", "merchant_id": mid,
            "buyer": {"id": "B", "level": "L2", "country": "US"}, "ship_to": "US",
            "created_at": "2022-12-20", "items": [{"quantity": 1, "unit_price": amount, "listing": listing}]}


def _messages(docs: list[dict[str, Any]], lang: str = "en") -> dict[tuple[str, str], str]:
    report = checker.check(docs, as_of="2022-12-28", lang=lang)
    return {(f.document.id, f.rule): f.message for f in report.findings if f.family == "star-level"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_building_materials_are_not_told_of_the_machinery_bonus(lang: str) -> None:
    """M-STAR-TILE (building materials) gets the 180-day window, without the after-sales bonus; a machinery
    merchant is told that the bonus follows the window."""
    messages = _messages([_merchant("M-TILE", 1, "building-materials"),
                          _merchant("M-PRESS", 1, "industrial-machinery"),
                          _merchant("M-CRANE", 1, "construction-machinery")], lang)
    tile = messages[("M-TILE", "star-level/180-day-window")]
    assert "180" in tile
    for word in ("after-sales", "bonus", "售后", "加分", "US$", "美金"):
        assert word not in tile, tile
    for mid in ("M-PRESS", "M-CRANE"):
        machinery = messages[(mid, "star-level/180-day-window")]
        assert ("after-sales GMV bonus" if lang == "en" else "机械本地售后商品交易额加分") in machinery


@pytest.mark.parametrize("star", [0, 1, 2, 3, 4, 5])
def test_no_star_level_message_has_a_missing_value(star: int) -> None:
    """Every star of SNAPSHOTS.md (0-5), with after-sales orders: no '(missing)' in a message."""
    docs = [_merchant("M-S", star, "industrial-machinery"), _after_sales_order("M-S", "250000.00")]
    for lang in ("en", "zh"):
        report = checker.check(docs, as_of="2022-12-28", lang=lang)
        texts = [f.message + f.remedy for f in report.findings if f.family == "star-level"]
        assert texts
        assert all("(missing)" not in t for t in texts), texts


@pytest.mark.parametrize("star, points", [(0, 3), (1, 3), (2, 3), (3, 1)])
def test_after_sales_bonus_at_each_star_of_the_table(star: int, points: int) -> None:
    """US$250,000 of after-sales orders clears every threshold of the table: its points for that star."""
    messages = _messages([_merchant("M-S", star, "industrial-machinery"), _after_sales_order("M-S", "250000.00")])
    assert messages[("M-S", "star-level/after-sales-bonus")].endswith(f": {points} bonus point(s).")


@pytest.mark.parametrize("star", [4, 5])
def test_after_sales_bonus_says_nothing_above_the_table(star: int) -> None:
    """The seed gives no after-sales threshold for stars 4 and 5: no bonus finding (the window still is)."""
    messages = _messages([_merchant("M-S", star, "industrial-machinery"), _after_sales_order("M-S", "250000.00")])
    assert ("M-S", "star-level/after-sales-bonus") not in messages
    assert ("M-S", "star-level/180-day-window") in messages
