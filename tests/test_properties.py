"""Property tests: the invariants the platform promises (SNAPSHOTS.md, RULES.md 3),
over documents from the shipped strategies (checker.testing).

The tier thresholds (RULES.md 3: at most max_tiers tiers, no drop of more than
max_drop) are read from the policy packs under test, never restated here: the
bundled pack, and a copy of its tier-anomaly.toml with other thresholds."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import checker
from checker.snapshots import check_document
from checker.testing import (
    ANOMALIES,
    SPELLINGS,
    TierThresholds,
    amounts,
    documents,
    products,
    quantities,
    spell,
    spellings,
    tier_tables,
    tier_thresholds,
    times,
)

AS_OF = "2022-12-27T12:00:00-08:00"
CENT = Decimal("0.01")
BAIT = "tier-anomaly/bait-tier"
TOO_MANY = "tier-anomaly/too-many-tiers"
BUNDLED_TIER_POLICY = Path(checker.__file__).resolve().parent.parent / "policies" / "tier-anomaly.toml"
#: the thresholds of the custom pack: other than the bundled pack's (checked in its fixture)
CUSTOM_MAX_TIERS, CUSTOM_MAX_DROP = 5, Decimal("0.50")

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


class Policies:
    """A compiled pack and its tier thresholds; its short repr keeps Hypothesis's failure reports readable."""

    def __init__(self, pack: checker.CompiledPack, name: str) -> None:
        self.pack = pack
        self.name = name
        self.thresholds = tier_thresholds(pack)

    def __repr__(self) -> str:
        return f"<{self.name} policies>"


@pytest.fixture(scope="module")
def policies(_private_cache: None) -> Policies:
    """The bundled pack, loaded once for the module."""
    return Policies(checker.load_policies(), "bundled")


def _tier_policy_copy(folder: Path, text: str) -> checker.CompiledPack:
    folder.mkdir()
    (folder / "tier-anomaly.toml").write_text(text, encoding="utf-8")
    return checker.load_policies([folder], bundled=False)


@pytest.fixture(scope="module")
def custom(_private_cache: None, policies: Policies, tmp_path_factory: pytest.TempPathFactory) -> Policies:
    """A user's pack: the bundled tier-anomaly.toml with max_tiers = 5 and max_drop = 0.50."""
    text = BUNDLED_TIER_POLICY.read_text(encoding="utf-8")
    for old, new in (
        ("params = { max_tiers = 4 }", f"params = {{ max_tiers = {CUSTOM_MAX_TIERS} }}"),
        ("params = { max_drop = 0.40 }", f"params = {{ max_drop = {CUSTOM_MAX_DROP} }}"),
    ):
        assert text.count(old) == 1, f"{BUNDLED_TIER_POLICY} no longer says {old!r}"
        text = text.replace(old, new)
    pack = Policies(_tier_policy_copy(tmp_path_factory.mktemp("custom") / "policies", text), "custom")
    assert TierThresholds(CUSTOM_MAX_TIERS, CUSTOM_MAX_DROP) == pack.thresholds
    assert pack.thresholds.max_tiers > policies.thresholds.max_tiers  # type: ignore[operator]
    assert pack.thresholds.max_drop > policies.thresholds.max_drop  # type: ignore[operator]
    return pack


@pytest.fixture(scope="module")
def no_bait(_private_cache: None, tmp_path_factory: pytest.TempPathFactory) -> Policies:
    """A user's pack: the bundled tier-anomaly.toml without its bait-tier rule (its last rule)."""
    text = BUNDLED_TIER_POLICY.read_text(encoding="utf-8")
    start = text.index(f'[[rule]]\nid = "{BAIT}"')
    assert "[[rule]]" not in text[start + 1 :], f"{BAIT} is no longer the last rule of {BUNDLED_TIER_POLICY}"
    pack = Policies(_tier_policy_copy(tmp_path_factory.mktemp("no-bait") / "policies", text[:start]), "no-bait")
    assert pack.pack.pack.rule(BAIT) is None and pack.thresholds.max_drop is None
    return pack


@pytest.fixture(scope="module", params=["bundled", "custom"])
def either(request: pytest.FixtureRequest) -> Policies:
    """The bundled pack, then the custom one."""
    return request.getfixturevalue("policies" if request.param == "bundled" else "custom")


# -- helpers ----------------------------------------------------------------------------------


def check(docs: list[Any], policies: Policies) -> checker.Report:
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
def test_valid_documents_are_all_evaluated(doc: dict[str, Any], policies: Policies) -> None:
    """A document that passes the schemas is evaluated: it is counted and never an input error."""
    report = check([doc], policies)
    assert ([], 1) == ([str(e) for e in report.errors], report.documents)


@settings(max_examples=20, deadline=None)
@given(stamp=times().filter(lambda t: t.endswith(("Z", "z"))))
def test_an_order_created_at_a_lowercase_z_time_is_evaluated(stamp: str, policies: Policies) -> None:
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
def test_checking_twice_gives_identical_reports(docs: list[dict[str, Any]], policies: Policies) -> None:
    """Checking the same documents twice at the same as_of gives the same report."""
    assert check(docs, policies).to_dict() == check(docs, policies).to_dict()


@CATALOG_PROPERTY
@given(docs=st.lists(documents(), max_size=4))
def test_checking_never_changes_the_documents(docs: list[dict[str, Any]], policies: Policies) -> None:
    """Checking leaves the caller's documents exactly as they were."""
    before = copy.deepcopy(docs)
    check(docs, policies)
    assert before == docs


@CATALOG_PROPERTY
@given(data=st.data(), docs=st.lists(documents(), max_size=4))
def test_key_order_inside_documents_does_not_matter(
    data: st.DataObject, docs: list[dict[str, Any]], policies: Policies
) -> None:
    """Documents with their keys in another order, at every depth, give the same report."""
    shuffled = data.draw(reordered(docs))
    assert docs == shuffled
    assert check(docs, policies).to_dict() == check(shuffled, policies).to_dict()


@FILE_PROPERTY
@given(data=st.data(), docs=st.lists(documents(), min_size=1, max_size=6, unique_by=lambda d: (d["kind"], d["id"])))
def test_file_order_does_not_matter(
    data: st.DataObject, docs: list[dict[str, Any]], policies: Policies
) -> None:
    """Scanning the same documents in other files, in another order, finds the same, as check() does (a
    folder with no document is an error of the scan: test_reading)."""
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
def test_one_amount_in_three_spellings_is_one_price(prices: tuple[Any, ...], policies: Policies) -> None:
    """"26.90", "26.9" and 26.9 are one price: equal tiers, no rise, no drop."""
    tiers = [{"min_qty": 100 * 10**i, "price": price} for i, price in enumerate(prices)]
    assert [] == tier_findings(check([product_with(tiers)], policies))


@PROPERTY
@given(data=st.data(), product=products(price_mode="tiered"))
def test_money_spelling_does_not_change_findings(
    data: st.DataObject, product: dict[str, Any], policies: Policies
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


def _max_drop(policies: Policies) -> Decimal:
    max_drop = policies.thresholds.max_drop
    assert max_drop is not None, f"{policies!r} has no {BAIT} rule"
    return max_drop


def _whole_cent_step(max_drop: Decimal) -> int:
    """The fewest cents whose every multiple, max_drop lower, is still a whole number of cents:
    the denominator of 1 - max_drop (5 for 0.40: 60 % of 0.05 is 0.03; 2 for 0.50)."""
    return Fraction(1 - max_drop).denominator


@PROPERTY
@given(data=st.data(), step=st.integers(1, 200_000))
def test_a_drop_of_exactly_max_drop_is_not_bait(data: st.DataObject, step: int, either: Policies) -> None:
    """A tier exactly max_drop (the pack's param) below the tier before never counts as a bait tier."""
    max_drop = _max_drop(either)
    previous = Decimal(step * _whole_cent_step(max_drop)).scaleb(-2)
    price = previous * (1 - max_drop)
    assert price == price.quantize(CENT)
    report = check([product_with(_boundary_table(data.draw, previous, price))], either)
    assert [] == [path for rule, path in tier_findings(report) if rule == BAIT]


@PROPERTY
@given(data=st.data(), step=st.integers(1, 200_000))
def test_a_drop_of_max_drop_and_one_cent_is_bait(data: st.DataObject, step: int, either: Policies) -> None:
    """A tier one cent more than max_drop (the pack's param) below the tier before is always a bait tier."""
    max_drop = _max_drop(either)
    previous = Decimal(step * _whole_cent_step(max_drop)).scaleb(-2)
    price = previous * (1 - max_drop) - CENT
    report = check([product_with(_boundary_table(data.draw, previous, price))], either)
    assert ["/price/tiers/1/price"] == [path for rule, path in tier_findings(report) if rule == BAIT]


@PROPERTY
@given(data=st.data(), previous=amounts(max_value="100000"))
def test_the_bait_threshold_is_exact_to_the_cent(data: st.DataObject, previous: Decimal, either: Policies) -> None:
    """For any price the lowest cent price within max_drop passes and one cent below it is bait."""
    lowest = (previous * (1 - _max_drop(either))).quantize(CENT, rounding=ROUND_CEILING)
    ok = check([product_with(_boundary_table(data.draw, previous, lowest))], either)
    bait = check([product_with(_boundary_table(data.draw, previous, lowest - CENT))], either)
    assert [] == [path for rule, path in tier_findings(ok) if rule == BAIT]
    assert ["/price/tiers/1/price"] == [path for rule, path in tier_findings(bait) if rule == BAIT]


# -- the tier rules ----------------------------------------------------------------------------------


@PROPERTY
@given(product=products(price_mode="tiered", tiers=tier_tables(valid=True)))
def test_clean_tier_tables_have_no_tier_anomaly(product: dict[str, Any], policies: Policies) -> None:
    """Non-increasing prices, drops of at most 40 %, contiguous rising tiers from the MOQ: no tier anomaly."""
    assert [] == tier_findings(check([product], policies))


@PROPERTY
@given(product=products(price_mode="tiered", tiers=tier_tables(valid=False)))
def test_broken_tier_tables_have_a_tier_anomaly(product: dict[str, Any], policies: Policies) -> None:
    """A tier table broken in any one way has at least one tier-anomaly finding."""
    assert [] != tier_findings(check([product], policies))


@pytest.mark.parametrize("anomaly", ANOMALIES)
def test_each_anomaly_is_found_by_its_rule(anomaly: str, policies: Policies) -> None:
    """A table broken in one named way is flagged by the rule of that name."""

    @settings(max_examples=40, deadline=None)
    @given(tiers=tier_tables(valid=False, anomalies=[anomaly]))
    def flagged(tiers: list[dict[str, Any]]) -> None:
        rules = {rule for rule, _ in tier_findings(check([product_with(tiers)], policies))}
        assert f"tier-anomaly/{anomaly}" in rules

    flagged()


@PROPERTY
@given(product=products(price_mode="sku") | products(price_mode="range"))
def test_sku_and_range_listings_have_no_tier_anomaly(product: dict[str, Any], policies: Policies) -> None:
    """Tier rules read only tier-priced listings, even when a SKU or range listing carries a stray tier list."""
    assert [] == tier_findings(check([product], policies))


def model_tier_findings(product: dict[str, Any], thresholds: TierThresholds) -> list[tuple[str, str]]:
    """RULES.md 3 written out plainly, with a pack's thresholds: the (rule, path) of every tier
    anomaly in a tiered listing (no tier limit, or no bait tier, where the pack has no such rule)."""
    max_tiers, max_drop = thresholds
    tiers = product["price"]["tiers"]
    prices = [as_amount(t["price"]) for t in tiers]
    out = []
    if max_tiers is not None and len(tiers) > max_tiers:
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
        if max_drop is not None and prices[i - 1] > 0 and prices[i] < prices[i - 1] * (1 - max_drop):
            out.append(("bait-tier", f"/price/tiers/{i}/price"))
    return sorted((f"tier-anomaly/{rule}", path) for rule, path in out)


@PROPERTY
@given(
    product=products(price_mode="tiered"),
    moq=st.none() | quantities(max_value=20_000),
)
def test_tier_rules_agree_with_a_plain_model(
    product: dict[str, Any], moq: int | None, policies: Policies
) -> None:
    """The compiled tier-anomaly rules find exactly what RULES.md 3, written out plainly, finds."""
    if moq is not None:
        product = {**product, "moq": moq}
    assert model_tier_findings(product, policies.thresholds) == tier_findings(check([product], policies))


# -- the strategies follow the pack they are given ------------------------------------------------


@pytest.mark.parametrize("how", ["policies", "thresholds"])
def test_tier_tables_follow_the_pack_given(how: str, custom: Policies, policies: Policies) -> None:
    """Tables made for a pack (policies=, or its thresholds given as tier_limit= and max_drop=):
    valid ones are clean under that pack, broken ones flagged by it, and each pack finds in any
    of them exactly what RULES.md 3 with its own thresholds finds."""
    if how == "policies":
        options: dict[str, Any] = {"policies": custom.pack}
    else:
        options = {"tier_limit": CUSTOM_MAX_TIERS, "max_drop": str(CUSTOM_MAX_DROP)}

    @settings(max_examples=30, deadline=None)
    @given(
        clean=products(price_mode="tiered", tiers=tier_tables(valid=True, **options)),
        broken=products(price_mode="tiered", tiers=tier_tables(valid=False, **options)),
        mixed=products(price_mode="tiered", **options),
    )
    def follows(clean: dict[str, Any], broken: dict[str, Any], mixed: dict[str, Any]) -> None:
        assert [] == tier_findings(check([clean], custom))
        assert [] != tier_findings(check([broken], custom))
        for product in (clean, broken, mixed):
            assert model_tier_findings(product, custom.thresholds) == tier_findings(check([product], custom))
            assert model_tier_findings(product, policies.thresholds) == tier_findings(check([product], policies))

    follows()


def test_a_table_valid_for_the_custom_pack_can_break_the_bundled_one(custom: Policies, policies: Policies) -> None:
    """The custom pack allows 5 tiers and a 50 % drop: tables made valid for it include 5-tier
    tables and deeper drops, which the bundled pack flags; the bundled pack's own valid tables never have them."""
    assert tier_thresholds() == policies.thresholds  # the default is the bundled pack

    @settings(max_examples=30, deadline=None)
    @given(tiers=tier_tables(policies=custom.pack, valid=True, min_tiers=CUSTOM_MAX_TIERS))
    def five_tiers(tiers: list[dict[str, Any]]) -> None:
        assert CUSTOM_MAX_TIERS == len(tiers)
        assert [] == tier_findings(check([product_with(tiers)], custom))
        assert (TOO_MANY, "/price/tiers") in tier_findings(check([product_with(tiers)], policies))

    five_tiers()
    with pytest.raises(InvalidArgument, match=f"at most {policies.thresholds.max_tiers} tiers"):
        tier_tables(valid=True, min_tiers=CUSTOM_MAX_TIERS).validate()

    bundled_drop = _max_drop(policies)

    def drops_deeper(tiers: list[dict[str, Any]]) -> bool:
        prices = [as_amount(t["price"]) for t in tiers]
        return any(b < a * (1 - bundled_drop) for a, b in zip(prices, prices[1:]))

    deep = find(
        tier_tables(policies=custom.pack, valid=True), drops_deeper, settings=settings(database=None, max_examples=500)
    )
    assert [] == tier_findings(check([product_with(deep)], custom))
    assert BAIT in {rule for rule, _ in tier_findings(check([product_with(deep)], policies))}


def test_without_a_bait_rule_any_drop_is_allowed(no_bait: Policies, policies: Policies) -> None:
    """A pack without tier-anomaly/bait-tier sets no drop limit: valid tables may drop any amount,
    and no table can be made to break a rule the pack does not have."""
    with pytest.raises(InvalidArgument, match=f"no rule {BAIT}"):
        tier_tables(policies=no_bait.pack, valid=False, anomalies=["bait-tier"])
    valid = tier_tables(policies=no_bait.pack, valid=True, min_tiers=2)

    @settings(max_examples=30, deadline=None)
    @given(tiers=valid, broken=tier_tables(policies=no_bait.pack, valid=False))
    def clean(tiers: list[dict[str, Any]], broken: list[dict[str, Any]]) -> None:
        assert [] == tier_findings(check([product_with(tiers)], no_bait))
        assert [] != tier_findings(check([product_with(broken)], no_bait))

    clean()

    def drops_by_nine_tenths(tiers: list[dict[str, Any]]) -> bool:
        prices = [as_amount(t["price"]) for t in tiers]
        return any(b * 10 < a for a, b in zip(prices, prices[1:]))

    deep = find(valid, drops_by_nine_tenths, settings=settings(database=None, max_examples=500))
    assert [] == tier_findings(check([product_with(deep)], no_bait))
    assert BAIT in {rule for rule, _ in tier_findings(check([product_with(deep)], policies))}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"policies": "policies/"}, "policies must be a checker.CompiledPack"),
        ({"tier_limit": -1}, "tier_limit must be a whole number"),
        ({"tier_limit": True}, "tier_limit must be a whole number"),
        ({"max_drop": 0.4}, "max_drop must be a Decimal, int or decimal string"),
        ({"max_drop": "forty"}, "max_drop must be a decimal amount"),
        ({"max_drop": "1.5"}, "max_drop must be a fraction from 0 to 1"),
        ({"max_drop": "-0.1"}, "max_drop must be a fraction from 0 to 1"),
        ({"valid": True, "min_tiers": 3, "tier_limit": 2}, "a valid table has at most 2 tiers"),
        ({"valid": False, "anomalies": ["too-many-tiers"], "tier_limit": 3, "max_tiers": 3}, "more than 3 tiers"),
        ({"max_tiers": 0}, "max_tiers must be None or an integer of at least min_tiers=1"),
    ],
)
def test_tier_table_options_are_checked(options: dict[str, Any], message: str) -> None:
    """Bad options raise InvalidArgument with a clear message, at the latest when the strategy is first used."""
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        tier_tables(**options).validate()


def test_products_with_given_tiers_take_no_thresholds(custom: Policies) -> None:
    """products(tiers=...) uses the tables as given: thresholds belong to the tier_tables(...) passed."""
    with pytest.raises(InvalidArgument, match="tier_tables"):
        products(tiers=tier_tables(), policies=custom.pack)


def _fits_by_hand(text: str, shape: str) -> bool:
    """shape() as docs/policies.md states it, one character at a time."""
    if len(text) != len(shape):
        return False
    for ch, want in zip(text, shape):
        if want == "9" and not ("0" <= ch <= "9"):
            return False
        if want == "A" and not ("A" <= ch <= "Z" or "a" <= ch <= "z"):
            return False
        if want == "X" and not ("0" <= ch <= "9" or "A" <= ch <= "Z" or "a" <= ch <= "z"):
            return False
        if want not in "9AX" and ch != want:
            return False
    return True


_SHAPE_CHARS = st.sampled_from(list("9AX-. /()[]*+?\\^$|DEFR0aé٣\n"))


@given(st.lists(st.text(_SHAPE_CHARS, max_size=6), min_size=1, max_size=3), st.text(_SHAPE_CHARS, max_size=6))
def test_shape_is_what_the_page_says(shapes: list[str], text: str) -> None:
    """shape(text, shapes) (one compiled pattern for the list) agrees with the character-by-character
    reading of docs/policies.md, including shapes holding regular-expression characters."""
    from checker.policy.runtime import fn_shape

    assert fn_shape(text, shapes) == any(_fits_by_hand(text, s) for s in shapes)


def test_a_skus_attributes_in_another_order_give_the_same_message() -> None:
    """The case Hypothesis found: values(item.sku) in a message followed the document's key order."""
    listing = {"id": "P-1", "merchant_id": "M-1", "listing_type": "rts", "moq": 1,
               "price": {"mode": "sku", "skus": [{"attributes": {"Color": "red", "Size": "L"}, "price": "10.00"}]}}
    order = {"kind": "order", "id": "O-1", "type": "quote", "merchant_id": "M-1", "created_at": "2022-12-01",
             "items": [{"listing": listing, "sku": {"Color": "red", "Size": "L"}, "quantity": 1, "unit_price": "12.00"}]}
    swapped = json.loads(json.dumps(order))
    swapped["items"][0]["sku"] = {"Size": "L", "Color": "red"}
    one, two = checker.check([order]), checker.check([swapped])
    assert ["fake-price/sku-price"] == [f.rule for f in one.findings]
    assert one.to_dict()["findings"] == two.to_dict()["findings"]
    assert "SKU red, L" in one.findings[0].message
