"""Property tests: the invariants the platform promises (SNAPSHOTS.md, RULES.md 3),
over documents from the shipped strategies (checker.testing)."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import checker
from checker.snapshots import check_document
from checker.testing import (
    ANOMALIES,
    MAX_TIERS,
    SPELLINGS,
    amounts,
    documents,
    products,
    quantities,
    spell,
    spellings,
    tier_tables,
    times,
)

AS_OF = "2022-12-27T12:00:00-08:00"
CENT = Decimal("0.01")
#: RULES.md 3: a drop of more than 40 % from the tier before is a bait tier.
MAX_DROP = Decimal("0.40")
BAIT = "tier-anomaly/bait-tier"

PROPERTY = settings(max_examples=150, deadline=None)
#: for properties over lists of whole documents, each example a small catalog
CATALOG_PROPERTY = settings(max_examples=100, deadline=None)
#: for properties that write files
FILE_PROPERTY = settings(max_examples=60, deadline=None)


@pytest.fixture(scope="module", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Compiled packs go to a folder of this module's own, never the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.mktemp("pack-cache")))
        yield


class Bundled:
    """The bundled pack; its short repr keeps Hypothesis's failure reports readable."""

    def __init__(self, pack: checker.CompiledPack) -> None:
        self.pack = pack

    def __repr__(self) -> str:
        return "<bundled policies>"


@pytest.fixture(scope="module")
def policies(_private_cache: None) -> Bundled:
    """The bundled pack, loaded once for the module."""
    return Bundled(checker.load_policies())


# -- helpers ----------------------------------------------------------------------------------


def check(docs: list[Any], policies: Bundled) -> checker.Report:
    return checker.check(docs, as_of=AS_OF, policies=policies.pack)


def tier_findings(report: checker.Report) -> list[tuple[str, str]]:
    return sorted((f.rule, f.path) for f in report.findings if f.family == "tier-anomaly")


def finding_keys(report: checker.Report) -> list[tuple[Any, ...]]:
    """The findings as a sorted multiset of (rule, document id, path, message), whatever their source."""
    return sorted(((f.rule, f.document.id, f.path, f.message) for f in report.findings), key=repr)


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def amounts_said(text: str) -> tuple[str, tuple[Decimal, ...]]:
    """A message as its words and the amounts it states: "26.9" and "26.90" state the same amount."""
    return _NUMBER.sub("#", text), tuple(Decimal(n) for n in _NUMBER.findall(text))


def as_amount(value: Any) -> Decimal:
    """Money as the contract reads it, independently of the checker: a float through its shortest repr."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def product_with(tiers: list[dict[str, Any]], moq: int | None = None) -> dict[str, Any]:
    return {
        "kind": "product",
        "id": "P-PROPERTY",
        "merchant_id": "M-1",
        "listing_type": "rts",
        "moq": tiers[0]["min_qty"] if moq is None else moq,
        "price": {"mode": "tiered", "tiers": tiers},
    }


def respelled(product: dict[str, Any], choose: Any) -> dict[str, Any]:
    """`product` with every tier price written as choose(amount) returns (the same amount)."""
    out = copy.deepcopy(product)
    for tier in out["price"]["tiers"]:
        tier["price"] = choose(as_amount(tier["price"]))
    return out


def _reorder(value: Any, rnd: Any) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {key: _reorder(value[key], rnd) for key in keys}
    if isinstance(value, list):
        return [_reorder(item, rnd) for item in value]
    return value


@st.composite
def reordered(draw: Any, value: Any) -> Any:
    """`value` with the keys of every object, at every depth, in a shuffled order."""
    return _reorder(value, draw(st.randoms(use_true_random=False)))


@st.composite
def catalog_layout(draw: Any, docs: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """The documents in a random order, spread over a JSON Lines file, a JSON array file and
    single-document files, named so that the folder walk meets the files in a random order."""
    docs = draw(st.permutations(docs))
    first = draw(st.integers(0, len(docs)))
    second = draw(st.integers(first, len(docs)))
    files: list[tuple[str, Any]] = []
    if first:
        files.append(("jsonl", docs[:first]))
    if second > first:
        files.append(("array", docs[first:second]))
    files += [("single", doc) for doc in docs[second:]]
    names = draw(st.permutations(range(len(files))))
    return [(f"{name:03d}-{shape}", shape, content) for name, (shape, content) in zip(names, files)]


def write_layout(folder: Path, layout: list[tuple[str, str, Any]]) -> None:
    for stem, shape, content in layout:
        if shape == "jsonl":
            text = "".join(json.dumps(doc) + "\n" for doc in content)
            (folder / f"{stem}.jsonl").write_text(text, encoding="utf-8")
        else:
            (folder / f"{stem}.json").write_text(json.dumps(content, indent=1), encoding="utf-8")


# -- the strategies give valid snapshots --------------------------------------------------------


@PROPERTY
@given(doc=documents())
def test_generated_documents_are_valid_snapshots(doc: dict[str, Any]) -> None:
    """Every document the shipped strategies give passes the snapshot schemas."""
    assert (doc["kind"], []) == check_document(doc)


@PROPERTY
@given(tiers=tier_tables(), moq=quantities())
def test_generated_tier_tables_are_valid_snapshots(tiers: list[dict[str, Any]], moq: int) -> None:
    """Every tier table, clean or broken, is a schema-valid `price.tiers` with any MOQ."""
    assert ("product", []) == check_document(product_with(tiers, moq))


@PROPERTY
@given(amount=amounts(min_value="-999999999999999.999999999999", max_value="999999999999999.999999999999", places=12))
def test_every_spelling_is_the_same_valid_amount(amount: Decimal) -> None:
    """Each spelling money() may give is schema-valid money and reads back as exactly the amount."""
    for value in spellings(amount, places=12):
        tiers = [{"min_qty": 1, "price": value}]
        assert ("product", []) == check_document(product_with(tiers))
        assert amount == as_amount(value)


@PROPERTY
@given(doc=documents())
def test_valid_documents_are_all_evaluated(doc: dict[str, Any], policies: Bundled) -> None:
    """A document that passes the schemas is evaluated: it is counted and never an input error."""
    report = check([doc], policies)
    assert ([], 1) == ([str(e) for e in report.errors], report.documents)


@settings(max_examples=20, deadline=None)
@given(stamp=times().filter(lambda t: t.endswith(("Z", "z"))))
def test_an_order_created_at_a_lowercase_z_time_is_evaluated(stamp: str, policies: Bundled) -> None:
    """An order whose created_at ends in "z" (UTC, valid per the schema) is evaluated like one ending in "Z"."""
    order = {
        "kind": "order",
        "id": "O-1",
        "type": "order",
        "merchant_id": "M-1",
        "created_at": stamp[:-1] + "z",
        "items": [{"listing": product_with([{"min_qty": 1, "price": "1.00"}]), "quantity": 1}],
    }
    assert ("order", []) == check_document(order)
    report = check([order], policies)
    assert ([], 1) == ([str(e) for e in report.errors], report.documents)


# -- evaluation does not depend on how the input is presented -------------------------------------


@CATALOG_PROPERTY
@given(docs=st.lists(documents(), max_size=4))
def test_checking_twice_gives_identical_reports(docs: list[dict[str, Any]], policies: Bundled) -> None:
    """Checking the same documents twice at the same as_of gives the same report."""
    assert check(docs, policies).to_dict() == check(docs, policies).to_dict()


@CATALOG_PROPERTY
@given(docs=st.lists(documents(), max_size=4))
def test_checking_never_changes_the_documents(docs: list[dict[str, Any]], policies: Bundled) -> None:
    """Checking leaves the caller's documents exactly as they were."""
    before = copy.deepcopy(docs)
    check(docs, policies)
    assert before == docs


@CATALOG_PROPERTY
@given(data=st.data(), docs=st.lists(documents(), max_size=4))
def test_key_order_inside_documents_does_not_matter(
    data: st.DataObject, docs: list[dict[str, Any]], policies: Bundled
) -> None:
    """Documents with their keys in another order, at every depth, give the same report."""
    shuffled = data.draw(reordered(docs))
    assert docs == shuffled
    assert check(docs, policies).to_dict() == check(shuffled, policies).to_dict()


@FILE_PROPERTY
@given(data=st.data(), docs=st.lists(documents(), max_size=6, unique_by=lambda d: (d["kind"], d["id"])))
def test_file_order_does_not_matter(
    data: st.DataObject, docs: list[dict[str, Any]], policies: Bundled
) -> None:
    """Scanning the same documents in other files, in another order, finds the same, as check() does."""
    reports = []
    for _ in range(2):
        layout = data.draw(catalog_layout(docs))
        with tempfile.TemporaryDirectory() as folder:
            write_layout(Path(folder), layout)
            reports.append(checker.scan([folder], as_of=AS_OF, policies=policies.pack))
    direct = check(docs, policies)
    counts = [(r.documents, len(r.errors), len(r.not_evaluated)) for r in (*reports, direct)]
    assert [counts[-1]] * 3 == counts
    assert finding_keys(direct) == finding_keys(reports[0])
    assert finding_keys(direct) == finding_keys(reports[1])


# -- money is exact --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prices",
    [("26.90", "26.9", 26.9), ("26.9", 26.9, "26.90"), (26.9, "26.90", "26.9")],
    ids=["string-short-number", "short-number-string", "number-string-short"],
)
def test_one_amount_in_three_spellings_is_one_price(prices: tuple[Any, ...], policies: Bundled) -> None:
    """"26.90", "26.9" and 26.9 are one price: equal tiers, no rise, no drop."""
    tiers = [{"min_qty": 100 * 10**i, "price": price} for i, price in enumerate(prices)]
    assert [] == tier_findings(check([product_with(tiers)], policies))


@PROPERTY
@given(data=st.data(), product=products(price_mode="tiered"))
def test_money_spelling_does_not_change_findings(
    data: st.DataObject, product: dict[str, Any], policies: Bundled
) -> None:
    """Any tier table gives the same findings, stating the same amounts, whichever spelling its prices use."""
    variants = [respelled(product, lambda a, s=s: spell(a, s, places=2)) for s in SPELLINGS]
    variants.append(respelled(product, lambda a: data.draw(st.sampled_from(spellings(a)))))

    def said(report: checker.Report) -> list[tuple[Any, ...]]:
        return sorted(
            ((f.rule, f.path, f.severity, amounts_said(f.message), amounts_said(f.remedy)) for f in report.findings),
            key=repr,
        )

    expected = said(check([product], policies))
    for variant in variants:
        assert expected == said(check([variant], policies))


def _boundary_table(draw: Any, previous: Decimal, price: Decimal) -> list[dict[str, Any]]:
    """Two tiers, `previous` then `price`, each written in any spelling, at random minimums."""
    first = draw(quantities(max_value=10_000))
    second = first + draw(quantities(max_value=100_000))
    head: dict[str, Any] = {"min_qty": first}
    if draw(st.booleans()):
        head["max_qty"] = second - 1
    head["price"] = draw(st.sampled_from(spellings(previous, places=2)))
    tail = {"min_qty": second, "price": draw(st.sampled_from(spellings(price, places=2)))}
    return [head, tail]


#: prices at 2 decimal places whose 60 % is a whole number of cents: multiples of 0.05
_NICKELS = st.integers(1, 200_000).map(lambda k: Decimal(5 * k).scaleb(-2))


@PROPERTY
@given(data=st.data(), previous=_NICKELS)
def test_a_drop_of_exactly_40_percent_is_not_bait(
    data: st.DataObject, previous: Decimal, policies: Bundled
) -> None:
    """A tier exactly 40 % below the tier before never counts as a bait tier."""
    price = previous * (1 - MAX_DROP)
    assert price == price.quantize(CENT)
    report = check([product_with(_boundary_table(data.draw, previous, price))], policies)
    assert [] == [path for rule, path in tier_findings(report) if rule == BAIT]


@PROPERTY
@given(data=st.data(), previous=_NICKELS)
def test_a_drop_of_40_percent_and_one_cent_is_bait(
    data: st.DataObject, previous: Decimal, policies: Bundled
) -> None:
    """A tier one cent more than 40 % below the tier before is always a bait tier."""
    price = previous * (1 - MAX_DROP) - CENT
    report = check([product_with(_boundary_table(data.draw, previous, price))], policies)
    assert ["/price/tiers/1/price"] == [path for rule, path in tier_findings(report) if rule == BAIT]


@PROPERTY
@given(data=st.data(), previous=amounts(max_value="100000"))
def test_the_bait_threshold_is_exact_to_the_cent(
    data: st.DataObject, previous: Decimal, policies: Bundled
) -> None:
    """For any price the lowest cent price within 40 % passes and one cent below it is bait."""
    lowest = (previous * (1 - MAX_DROP)).quantize(CENT, rounding=ROUND_CEILING)
    ok = check([product_with(_boundary_table(data.draw, previous, lowest))], policies)
    bait = check([product_with(_boundary_table(data.draw, previous, lowest - CENT))], policies)
    assert [] == [path for rule, path in tier_findings(ok) if rule == BAIT]
    assert ["/price/tiers/1/price"] == [path for rule, path in tier_findings(bait) if rule == BAIT]


# -- the tier rules ----------------------------------------------------------------------------------


@PROPERTY
@given(product=products(price_mode="tiered", tiers=tier_tables(valid=True)))
def test_clean_tier_tables_have_no_tier_anomaly(product: dict[str, Any], policies: Bundled) -> None:
    """Non-increasing prices, drops of at most 40 %, contiguous rising tiers from the MOQ: no tier anomaly."""
    assert [] == tier_findings(check([product], policies))


@PROPERTY
@given(product=products(price_mode="tiered", tiers=tier_tables(valid=False)))
def test_broken_tier_tables_have_a_tier_anomaly(product: dict[str, Any], policies: Bundled) -> None:
    """A tier table broken in any one way has at least one tier-anomaly finding."""
    assert [] != tier_findings(check([product], policies))


@pytest.mark.parametrize("anomaly", ANOMALIES)
def test_each_anomaly_is_found_by_its_rule(anomaly: str, policies: Bundled) -> None:
    """A table broken in one named way is flagged by the rule of that name."""

    @settings(max_examples=40, deadline=None)
    @given(tiers=tier_tables(valid=False, anomalies=[anomaly]))
    def flagged(tiers: list[dict[str, Any]]) -> None:
        rules = {rule for rule, _ in tier_findings(check([product_with(tiers)], policies))}
        assert f"tier-anomaly/{anomaly}" in rules

    flagged()


@PROPERTY
@given(product=products(price_mode="sku") | products(price_mode="range"))
def test_sku_and_range_listings_have_no_tier_anomaly(product: dict[str, Any], policies: Bundled) -> None:
    """Tier rules read only tier-priced listings, even when a SKU or range listing carries a stray tier list."""
    assert [] == tier_findings(check([product], policies))


def model_tier_findings(product: dict[str, Any]) -> list[tuple[str, str]]:
    """RULES.md 3 written out plainly: the (rule, path) of every tier anomaly in a tiered listing."""
    tiers = product["price"]["tiers"]
    prices = [as_amount(t["price"]) for t in tiers]
    out = []
    if len(tiers) > MAX_TIERS:
        out.append(("too-many-tiers", "/price/tiers"))
    if tiers[0]["min_qty"] != product["moq"]:
        out.append(("first-tier-not-moq", "/price/tiers/0/min_qty"))
    for i, tier in enumerate(tiers):
        bound = tier.get("max_qty")
        if i + 1 < len(tiers) and bound is not None and bound != tiers[i + 1]["min_qty"] - 1:
            out.append(("range-gap", f"/price/tiers/{i}/max_qty"))
        if i + 1 == len(tiers) and bound is not None:
            out.append(("last-tier-closed", f"/price/tiers/{i}/max_qty"))
        if prices[i] <= 0:
            out.append(("price-not-positive", f"/price/tiers/{i}/price"))
        if i == 0:
            continue
        if tier["min_qty"] <= tiers[i - 1]["min_qty"]:
            out.append(("minimums-not-rising", f"/price/tiers/{i}/min_qty"))
        if prices[i] > prices[i - 1]:
            out.append(("price-rises", f"/price/tiers/{i}/price"))
        if prices[i - 1] > 0 and prices[i] < prices[i - 1] * (1 - MAX_DROP):
            out.append(("bait-tier", f"/price/tiers/{i}/price"))
    return sorted((f"tier-anomaly/{rule}", path) for rule, path in out)


@PROPERTY
@given(
    product=products(price_mode="tiered"),
    moq=st.none() | quantities(max_value=20_000),
)
def test_tier_rules_agree_with_a_plain_model(
    product: dict[str, Any], moq: int | None, policies: Bundled
) -> None:
    """The compiled tier-anomaly rules find exactly what RULES.md 3, written out plainly, finds."""
    if moq is not None:
        product = {**product, "moq": moq}
    assert model_tier_findings(product) == tier_findings(check([product], policies))
