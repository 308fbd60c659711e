"""Evaluation context: merchants resolved within a scan, rules in force by time, the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import checker
from checker.examples import run_examples

from .conftest import ROOT, SWEATER, compliance, doc, write_json, write_jsonl

PACK = """\
[[rule]]
id = "discount-floor/gold-only"
family = "discount-floor"
severity = "error"
penalty = "none"
kind = "product"
title = { en = "Gold only", zh = "仅限金品" }
description = { en = "RULES.md 6.1", zh = "RULES.md 6.1" }
when = 'any(p.type == "member-price" for p in promotions)'
require = "merchant.gold"
path = "/promotions"
message = { en = "Merchant {merchant.id} is not Gold.", zh = "商家{merchant.id}不是金品。" }
remedy = { en = "Remove the member price.", zh = "取消会员价。" }
[[rule.example]]
name = "gold"
expect = "pass"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } }, promotions = [ { id = "x", type = "member-price", audience = "L2+", discount = "9.5", start = "2022-12-01", end = "2023-04-01" } ] }
merchant = { kind = "merchant", id = "M", gold = true }
[[rule.example]]
name = "not gold"
expect = "fail"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } }, promotions = [ { id = "x", type = "member-price", audience = "L2+", discount = "9.5", start = "2022-12-01", end = "2023-04-01" } ] }
merchant = { kind = "merchant", id = "M", gold = false }

[[rule]]
id = "epr/order-blocked"
family = "epr"
severity = "error"
penalty = "none"
kind = "order"
title = { en = "Blocked", zh = "打断" }
description = { en = "RULES.md 5.3", zh = "RULES.md 5.3" }
effective_from = 2022-12-27
when = 'ship_to in ["DE", "FR"]'
require = "false"
path = "/ship_to"
message = { en = "Judged at {as_of}.", zh = "判定时间{as_of}。" }
remedy = { en = "Register.", zh = "注册。" }
[[rule.example]]
name = "on the day"
expect = "fail"
document = { kind = "order", id = "O", type = "order", merchant_id = "M", ship_to = "DE", created_at = "2022-12-27", items = [ { quantity = 1, listing = { id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } } } } ] }
[[rule.example]]
name = "the day before"
expect = "pass"
document = { kind = "order", id = "O", type = "order", merchant_id = "M", ship_to = "DE", created_at = "2022-12-26T23:59:59", items = [ { quantity = 1, listing = { id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } } } } ] }

[[rule]]
id = "quality/new-listings"
family = "quality"
severity = "advice"
penalty = "none"
kind = "product"
title = { en = "Since 2022-11-02", zh = "自2022-11-02" }
description = { en = "RULES.md 8", zh = "RULES.md 8" }
effective_from = 2022-11-02
when = "created_at != null"
require = 'created_at < date("2000-01-01")'
path = "/created_at"
message = { en = "Created {created_at}.", zh = "创建于{created_at}。" }
remedy = { en = "None.", zh = "无。" }
[[rule.example]]
name = "always fails when in force"
expect = "fail"
as_of = 2022-11-02
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } }, created_at = "2022-11-10" }
[[rule.example]]
name = "not yet in force"
expect = "pass"
as_of = 2022-11-01T23:59:59
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } }, created_at = "2022-11-10" }
"""

PROMO = [{"id": "x", "type": "member-price", "audience": "L2+", "discount": "9.5", "start": "2022-12-01",
          "end": "2023-04-01"}]
PRODUCT = doc(SWEATER, id="P-PROMO", merchant_id="M-1", promotions=PROMO)
GOLD = {"kind": "merchant", "id": "M-1", "gold": True}
NOT_GOLD = {"kind": "merchant", "id": "M-1", "gold": False}


def order(created_at: str, ship_to: str = "DE") -> dict[str, Any]:
    listing = {k: v for k, v in SWEATER.items() if k != "kind"}
    return {"kind": "order", "id": f"O-{created_at}", "type": "order", "merchant_id": "M-1", "ship_to": ship_to,
            "created_at": created_at, "items": [{"quantity": 100, "listing": listing}]}


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("pack")
    (folder / "test.toml").write_text(PACK, "utf-8")
    return folder


@pytest.fixture(scope="module")
def policies(pack: Path) -> checker.CompiledPack:
    return checker.load_policies([pack], bundled=False)


def rules(report: checker.Report) -> list[tuple[str, str | None]]:
    return [(f.rule, f.document.id) for f in report.findings]


def test_the_test_pack_verifies(policies: checker.CompiledPack) -> None:
    """The pack these tests use holds its own examples."""
    assert [] == [str(r) for r in run_examples(policies) if not r.ok]


def test_merchant_resolved_even_when_it_comes_after_the_product(tmp_path: Path, policies: Any) -> None:
    """A merchant in a later file of the scan is found for an earlier product."""
    write_json(tmp_path / "a-products.json", PRODUCT)
    write_jsonl(tmp_path / "z-merchants.jsonl", [NOT_GOLD])
    report = checker.scan([tmp_path], as_of="2022-12-28", policies=policies)
    assert [("discount-floor/gold-only", "P-PROMO")] == rules(report)
    assert "Merchant M-1 is not Gold." == report.findings[0].message
    write_jsonl(tmp_path / "z-merchants.jsonl", [GOLD])
    assert [] == rules(checker.scan([tmp_path], as_of="2022-12-28", policies=policies))


def test_missing_merchant_is_not_evaluated_never_a_silent_pass(tmp_path: Path, policies: Any) -> None:
    """Without the merchant the rule goes to not_evaluated with the reason; exit 0, or 2 with --strict."""
    write_json(tmp_path / "p.json", PRODUCT)
    report = checker.scan([tmp_path], as_of="2022-12-28", policies=policies)
    assert [] == rules(report)
    assert [("discount-floor/gold-only", "P-PROMO",
             "merchant M-1 is not in the scan (no valid merchant document of this id); the rule needs the "
             "merchant's data")] == [
        (n.rule, n.document.id, n.reason) for n in report.not_evaluated
    ]
    assert 0 == report.exit_code()
    assert 2 == report.exit_code(strict=True)


def test_an_invalid_merchant_is_reported_and_not_used(tmp_path: Path, policies: Any) -> None:
    """A merchant document that is not valid is an error entry, and rules needing it are not evaluated."""
    write_jsonl(tmp_path / "all.jsonl", [PRODUCT, {"kind": "merchant", "id": "M-1", "gold": "yes"}])
    report = checker.scan([tmp_path], as_of="2022-12-28", policies=policies)
    assert ["/gold: \"yes\" is not true or false"] == [f"{e.pointer}: {e.reason}" for e in report.errors]
    assert ["discount-floor/gold-only"] == [n.rule for n in report.not_evaluated]


def test_merchant_on_stdin_after_the_product(pack: Path) -> None:
    """stdin is read twice when merchants must be found first; the findings still say <stdin>:line."""
    text = "".join(json.dumps(d) + "\n" for d in [PRODUCT, NOT_GOLD]).encode()
    result = compliance("scan", "-", "--no-bundled", "--policies", str(pack), "--format", "json",
                        "--as-of", "2022-12-28", stdin=text)
    report = json.loads(result.stdout)
    assert 1 == result.returncode
    assert [("discount-floor/gold-only", "<stdin>:1")] == [
        (f["rule"], f["document"]["source"]) for f in report["findings"]
    ]


@pytest.mark.parametrize(
    "created_at, blocked",
    [
        ("2022-12-26T23:59:59-08:00", False),
        ("2022-12-27T00:00:00-08:00", True),
        ("2022-12-27T07:59:59Z", False),
        ("2022-12-27T08:00:00Z", True),
        ("2022-12-26T23:59:59", False),  # no offset: platform time
        ("2022-12-27", True),  # a bare date: 00:00 platform time
    ],
)
def test_orders_are_judged_at_their_created_at(created_at: str, blocked: bool, policies: Any) -> None:
    """EPR blocking from 2022-12-27 00:00 Pacific applies by the order's time, whatever --as-of says."""
    for as_of in ("2022-01-01", "2030-01-01"):
        report = checker.check([order(created_at)], as_of=as_of, policies=policies)
        assert blocked == bool(report.findings), (created_at, as_of)


def test_order_message_shows_its_own_time(policies: Any) -> None:
    """The `as_of` of an order is its created_at, in platform time."""
    report = checker.check([order("2022-12-27T08:00:00Z")], as_of="2030-01-01", policies=policies)
    assert "Judged at 2022-12-27T00:00:00-08:00." == report.findings[0].message


@pytest.mark.parametrize("as_of, in_force", [("2022-11-01T23:59:59-07:00", False), ("2022-11-02", True),
                                             ("2022-11-02T07:00:00Z", True), ("2022-11-02T06:59:59Z", False)])
def test_listing_rules_are_judged_at_as_of(as_of: str, in_force: bool, policies: Any) -> None:
    """A listing rule in force from 2022-11-02 (platform time) applies by --as-of, on both sides."""
    product = doc(SWEATER, created_at="2022-11-10")
    report = checker.check([product], as_of=as_of, policies=policies)
    assert in_force == ("quality/new-listings" in [f.rule for f in report.findings])


def test_an_impossible_date_is_an_error_entry(policies: Any) -> None:
    """2022-02-30 has the shape of a date but is none: the document is reported with the pointer, not checked.

    Documents given to checker.check are an array: the pointer starts with the document's index.
    """
    report = checker.check([doc(SWEATER, created_at="2022-02-30")], as_of="2022-12-01", policies=policies)
    reason = '"2022-02-30" is not a time (RFC 3339 such as "2022-12-27T08:00:00Z", or a date "2022-12-01")'
    assert (0, [("/0/created_at", reason)]) == (report.documents, [(e.pointer, e.reason) for e in report.errors])


def test_api_check_with_python_values() -> None:
    """checker.check takes dicts; floats and Decimals as money are exact; the report knows its exit code."""
    from decimal import Decimal

    linen = doc(SWEATER, moq=60, price={"mode": "tiered", "tiers": [
        {"min_qty": 60, "max_qty": 99, "price": 20.0},
        {"min_qty": 100, "price": Decimal("12.00")},
    ]})
    report = checker.check([linen], as_of="2022-12-01")
    assert ([], 0) == ([f.rule for f in report.findings], report.exit_code())
    linen["price"]["tiers"][1]["price"] = 11.99
    report = checker.check([linen], as_of="2022-12-01")
    assert (["tier-anomaly/bait-tier"], 1) == ([f.rule for f in report.findings], report.exit_code())
    assert "metadata" in report.to_dict()


def test_public_api_is_sorted_and_complete() -> None:
    """checker exports one sorted __all__, and every name in it exists."""
    assert sorted(checker.__all__) == checker.__all__
    for name in checker.__all__:
        assert hasattr(checker, name), name
    assert callable(checker.verify)


RAISING = """
[[rule]]
id = "fake-price/overflow"
family = "fake-price"
severity = "warning"
penalty = "none"
kind = "product"
title = { en = "Overflow", zh = "溢出" }
description = { en = "t", zh = "t" }
when = 'price.mode == "range"'
require = "round(price.range.max * 1000000000000000 * 1000000000000000 * 1000000000000000, 2) >= 0"
path = "/price/range/max"
message = { en = "m", zh = "m" }
remedy = { en = "r", zh = "r" }
[[rule.example]]
name = "small"
expect = "pass"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } } }
[[rule.example]]
name = "negative"
expect = "fail"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "-2" } } }

[[rule]]
id = "fake-price/range-message-overflows"
family = "fake-price"
severity = "warning"
penalty = "none"
kind = "product"
title = { en = "Range max above 100", zh = "区间最大值超过100" }
description = { en = "t", zh = "t" }
when = 'price.mode == "range"'
require = "price.range.max <= 100"
path = "/price/range/max"
message = { en = "{add_days(as_of, 100000000)} {round(price.range.max * 1000000000000000 * 1000000000000000 * 1000000000000000 * 1000000000000000, 2)}", zh = "m" }
remedy = { en = "r", zh = "r" }
[[rule.example]]
name = "small"
expect = "pass"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "2" } } }
[[rule.example]]
name = "large"
expect = "fail"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "range", range = { min = "1", max = "200" } } }
"""


def test_a_rule_that_raises_is_reported_and_the_other_rules_still_count(tmp_path: Path) -> None:
    """A rule whose arithmetic overflows (Decimal precision) is listed as failed (exit 2) with the rule named;
    the other rules' findings on the same document are kept, and a message that cannot be filled in
    still leaves its finding."""
    (tmp_path / "p.toml").write_text(RAISING, "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False)
    product = doc(SWEATER, price={"mode": "range", "range": {"min": "1", "max": "999999999999999.99"}})
    report = checker.check([product], as_of="2022-12-01", policies=pack)
    assert (1, [], 2) == (report.documents, list(report.errors), report.exit_code())
    assert [("fake-price/overflow", True, "the rule failed on this document: InvalidOperation: "
             "[<class 'decimal.InvalidOperation'>]; please report it")] == [
        (n.rule, n.failed, n.reason) for n in report.not_evaluated
    ]
    assert [("fake-price/range-message-overflows", "",
             "Range max above 100 (the message could not be filled in: InvalidOperation: "
             "[<class 'decimal.InvalidOperation'>])")] == [(f.rule, f.path, f.message) for f in report.findings]


def test_api_reads_mappings_and_tuples_as_json_and_refuses_unknown_languages() -> None:
    """An OrderedDict or a tuple of tiers is checked like JSON; lang="fr" is an error, not English."""
    from collections import OrderedDict

    linen = OrderedDict(doc(SWEATER, moq=60))
    linen["price"] = {"mode": "tiered", "tiers": (
        {"min_qty": 60, "max_qty": 99, "price": "20.00"}, {"min_qty": 100, "price": "10.00"})}
    report = checker.check([linen], as_of="2022-12-01")
    assert ([], ["tier-anomaly/bait-tier"]) == (list(report.errors), [f.rule for f in report.findings])
    with pytest.raises(ValueError) as caught:
        checker.check([SWEATER], lang="fr")
    assert "lang must be one of en, zh (got 'fr')" == str(caught.value)


def test_totals_sum_a_merchants_orders_in_the_window() -> None:
    """star-level/after-sales-bonus sums after-sales order items of the last 180 days before the scan's time:
    an order at exactly 180 days is out, a second later is in; quotes and other categories do not count."""
    merchant = {"kind": "merchant", "id": "M-T", "star_level": 1, "primary_industry": "industrial-machinery"}

    def order(oid: str, created_at: str, amount: str, category: str = "After-sales Service", kind: str = "order"):
        listing = {"id": "P", "merchant_id": "M-T", "listing_type": "customization", "moq": 1,
                   "category": ["Machinery", category], "price": {"mode": "range", "range": {"min": "1", "max": "9"}}}
        return {"kind": "order", "id": oid, "type": kind, "merchant_id": "M-T", "created_at": created_at,
                "items": [{"listing": listing, "quantity": 2, "unit_price": amount}]}

    docs = [merchant,
            order("O-1", "2022-07-01T00:00:00-07:00", "10000"),  # exactly 180 days before: out
            order("O-2", "2022-07-01T00:00:01-07:00", "10000"),  # in: 20,000
            order("O-3", "2022-12-27", "5000", category="Presses"),  # not after-sales
            order("O-4", "2022-12-27", "5000", kind="quote"),  # a quote is no trade
            order("O-5", "2022-12-27", "0.50")]  # in: 1.00
    report = checker.check(docs, as_of="2022-12-28")
    messages = [f.message for f in report.findings if f.rule == "star-level/after-sales-bonus"]
    assert ["After-sales GMV of the last 180 days in the scan: US$20001.00. At trade-power star 1 the bonus "
            "needs US$40000: 0 bonus point(s)."] == messages
    docs.append(order("O-6", "2022-12-01", "10000"))
    messages = [f.message for f in checker.check(docs, as_of="2022-12-28").findings
                if f.rule == "star-level/after-sales-bonus"]
    assert messages[0].endswith("US$40001.00. At trade-power star 1 the bonus needs US$40000: 3 bonus point(s).")


def test_a_finding_on_an_order_item_names_the_listing_of_that_item() -> None:
    """product_id of an order's finding: the id of the listing embedded in the item its path points into
    (/items/N/...), None for a path elsewhere in the order."""
    report = checker.scan([ROOT / "fixtures" / "orders"], as_of="2022-12-28")
    orders = {d["id"]: d for f in (ROOT / "fixtures" / "orders").glob("*.jsonl")
              for d in map(json.loads, f.read_text("utf-8").splitlines()) if d.get("kind") == "order"}
    on_items = 0
    for finding in (f for f in report.findings if f.document.kind == "order"):
        parts = finding.path.split("/")
        if len(parts) > 2 and parts[1] == "items":
            on_items += 1
            expected = orders[finding.document.id]["items"][int(parts[2])]["listing"]["id"]
        else:
            expected = None
        assert expected == finding.product_id, finding
    assert on_items


def test_a_waiver_applies_to_its_rule_and_document_first_in_file_order() -> None:
    """Excuses look a finding's waivers up by rule and document: of those, the first in the file whose path
    matches (or that has none) waives it; a finding of another rule or document, or of no document id, is
    not waived."""
    from checker.model import DocumentRef, Finding
    from checker.values import parse_time
    from checker.waivers import Excuses, Waiver

    def waiver(rule: str, document: str, path: str | None, reason: str) -> Waiver:
        return Waiver(rule, document, path, reason, "o@example.com", parse_time("2023-01-31"), f"w.toml: {reason}")

    def reason(rule: str, document: str | None, path: str) -> str | None:
        finding = Finding(rule, "epr", "error", None, DocumentRef("product", document, "f.json"), None, path, "m", "r")
        waived = excuses.apply([finding])[0].waived
        return waived["reason"] if waived else None

    excuses = Excuses((waiver("r/a", "D1", "/x", "first"), waiver("r/a", "D2", None, "other document"),
                       waiver("r/a", "D1", None, "any path"), waiver("r/a", "D1", "/y", "too late"),
                       waiver("r/b", "D1", "/x", "other rule")))
    assert ["first", "any path", "other document", "other rule", None, None] == [
        reason("r/a", "D1", "/x"), reason("r/a", "D1", "/y"), reason("r/a", "D2", "/z"), reason("r/b", "D1", "/x"),
        reason("r/b", "D1", "/y"), reason("r/a", None, "/x")]
    assert excuses == Excuses(excuses.active)  # the look-up table is no part of what Excuses are


def test_a_waived_or_baselined_finding_is_the_finding_evolved() -> None:
    """The waivers' marking (attrs.evolve's shortcut) makes the Finding attrs.evolve makes."""
    import attrs

    from checker.model import DocumentRef, Finding
    from checker.waivers import _marked

    ref = DocumentRef("order", "O-1", "orders.jsonl:7")
    plain = Finding("r/a", "epr", "error", "none", ref, "M-1", "/items/0/listing", "message", "remedy", "P-1")
    waived = {"reason": "ticket 4711", "owner": "o@example.com", "expires": "2023-01-31T00:00:00-08:00"}
    for marked, evolved in ((_marked(plain, waived, False), attrs.evolve(plain, waived=waived)),
                            (_marked(plain, None, True), attrs.evolve(plain, baseline=True))):
        assert (Finding, evolved, hash(evolved), repr(evolved)) == (type(marked), marked, hash(marked), repr(marked))
        assert (evolved.waived, evolved.to_dict()) == (marked.waived, marked.to_dict())
    assert plain == _marked(plain, waived, False)  # a waiver is no part of a finding's identity
    assert plain != _marked(plain, None, True)
