"""The policy expression language: what it means, and what it refuses (no policy runs code)."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import checker
from checker.policy.compiler import compile_pack
from checker.policy.runtime import decimal_context, namespace
from checker.policy.model import Pack, Rule, Text

from .conftest import LINEN, SWEATER, doc

AS_OF = _dt.datetime(2022, 12, 1, tzinfo=_dt.timezone.utc)
T = Text("t", "t")


def make_rule(require: str, *, kind: str = "product", params: dict[str, Any] | None = None, **extra: Any) -> Rule:
    return Rule(id="tier-anomaly/t", family="tier-anomaly", severity="error", penalty=None, kind=kind, title=T,
                description=T, message=T, remedy=T, require=require, path="/", params=params or {},
                file="test.toml", **extra)


def holds(require: str, document: dict[str, Any], **kw: Any) -> bool:
    """True when `require` holds for the document (the rule reports nothing)."""
    compiled = compile_pack(Pack((make_rule(require, **kw),), "test"))
    hits: list[Any] = []
    failed: list[Any] = []
    with decimal_context():  # as the engine runs rules
        compiled.evaluators[kw.get("kind", "product")](document, AS_OF, {}, hits, [], failed)
    assert [] == failed
    return not hits


def refusal(expression: str, **kw: Any) -> str:
    with pytest.raises(checker.PolicyError) as caught:
        compile_pack(Pack((make_rule(expression, **kw),), "test"))
    return str(caught.value)


# -- what a policy cannot do -----------------------------------------------------------

REFUSED = [
    ('__import__("os")', "unknown function '__import__'; the functions are: abs, add_days, add_months, all, any, "
                         "contains_any, count, date, day, exact, first, join, keys, last, max, min, normalize, "
                         "normalize_all, percent, percent_beyond, present, round, round_up, shape, sku_for, sum, "
                         "tier_for, values"),
    ('__import__("os").system("touch /tmp/pwned")', "only the functions of the policy language can be called, by name"),
    ("price.__class__", "'__class__' is not a field; names starting with '_' are not allowed"),
    ("().__class__.__bases__", "'__class__' is not a field; names starting with '_' are not allowed"),
    ("moq.real", "cannot take .real of a number"),
    ("10 ** 10 ** 10", "the operator ** is not allowed; use + - * /"),
    ("moq ** 2 > 0", "the operator ** is not allowed; use + - * /"),
    ("1e999999 > moq", "the number 1e999999 is too large (at most 1,000,000,000,000,000)"),
    ("moq < 10000000000000000", "the number 10000000000000000 is too large (at most 1,000,000,000,000,000)"),
    ('"a" * 100000000 == "a"', "'*' works on numbers, not on text"),
    ("(lambda: 1)() == 1", "only the functions of the policy language can be called, by name"),
    ('getattr(moq, "x")', "unknown function 'getattr'"),
    ('open("/etc/passwd")', "unknown function 'open'"),
    ("[t for t in price.tiers]", "a list comprehension is not allowed in a policy expression"),
    ('{"a": 1}', "a dict is not allowed in a policy expression"),
    ('f"{moq}" == "1"', "an f-string is not allowed in a policy expression"),
    ("(moq := 5) > 1", "an assignment (:=) is not allowed in a policy expression"),
    ("price.tiers[0:2]", "a list can only be indexed by a whole number, e.g. price.tiers[0] or [-1]"),
    ("moq is None", "use == and != (for example x == null), not 'is'"),
    ("price.mode == 5", "cannot compare text with a number; they are never equal"),
    ("price.tierz", "'tierz' is not a field here; the fields are: mode, tiers, skus, range"),
    ("moq > 0 and 1", "'and' combines conditions, not a number"),
    ("moq", "must be a condition (true or false), but this is a number"),
    ("(" * 1001 + "1" + ")" * 1001, "expression longer than 2,000 characters"),
    ("moq if", "not a valid expression: invalid syntax (in 'moq if')"),
    ("moq == = 3", "not a valid expression: invalid syntax (column 8)"),
    ("(moq", "not a valid expression: '(' was never closed (column 1)"),
]


@pytest.mark.parametrize("expression, message", REFUSED, ids=[e[:40] for e, _ in REFUSED])
def test_expression_is_refused_at_load(expression: str, message: str) -> None:
    """Anything outside the whitelist fails when the policy loads, naming file, rule and field."""
    assert refusal(expression).startswith(f"test.toml: rule tier-anomaly/t: require: {message}")


def test_deep_nesting_is_refused_not_crashing() -> None:
    """A policy nesting parentheses beyond the parser's limit is a load error, not a crash."""
    assert "not a valid expression: too many nested parentheses" in refusal("(" * 300 + "1" + ")" * 300 + " > 0")


def test_generated_code_sees_no_builtins() -> None:
    """Compiled policies see only the runtime, the vocabulary, constants, and four harmless builtins."""
    names = namespace({})
    assert {"len", "range", "enumerate", "Exception"} == set(names["__builtins__"])
    assert not {"__import__", "open", "eval", "exec", "getattr"} & set(names)


def test_an_injection_in_a_policy_file_never_runs(tmp_path: Path) -> None:
    """Loading a policy pack that tries to run a command fails with the file and rule, and runs nothing."""
    marker = tmp_path / "pwned"
    text = (Path(__file__).parent.parent / "docs" / "policies.md").read_text("utf-8")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    block = block.replace(
        'require = "count(price.tiers) <= max_tiers"',
        f"require = '__import__(\"os\").system(\"touch {marker}\") == 0'",
    )
    (tmp_path / "evil.toml").write_text(block, "utf-8")
    with pytest.raises(checker.PolicyError) as caught:
        checker.load_policies([tmp_path], bundled=False)
    assert str(caught.value).startswith(f"{tmp_path}/evil.toml: rule tier-anomaly/too-many-tiers: require: "
                                        "only the functions of the policy language can be called, by name")
    assert not marker.exists()


# -- what expressions mean ------------------------------------------------------------


def test_money_is_compared_exactly() -> None:
    """"26.9", "26.90" and 26.9 are one amount; 0.1 + 0.2 is exactly 0.3."""
    for spelling in ("26.9", "26.90", 26.9, Decimal("26.900")):
        product = doc(SWEATER, price={"mode": "range", "range": {"min": spelling, "max": "30"}})
        assert holds("price.range.min == 26.9", product)
        assert holds("price.range.min == 26.90", product)
    assert holds("0.1 + 0.2 == 0.3", SWEATER)


def test_exact_boundary_arithmetic() -> None:
    """20.00 x (1 - 0.40) is exactly 12.00: the bait boundary never depends on floats."""
    assert holds("12.00 >= 20.00 * (1 - max_drop)", SWEATER, params={"max_drop": Decimal("0.40")})
    assert not holds("11.99 >= 20.00 * (1 - max_drop)", SWEATER, params={"max_drop": Decimal("0.40")})


def test_missing_values() -> None:
    """A comparison with a missing value is false, except == null; arithmetic with it is missing."""
    assert holds("sample == null", SWEATER)
    assert not holds("sample != null", SWEATER)
    assert not holds("sample.price > 0", SWEATER)
    assert not holds("sample.price <= 0", SWEATER)
    assert not holds("sample.price == 0", SWEATER)
    assert not holds("sample.price != 0", SWEATER)
    assert holds("sample.price + 1 == null", SWEATER)
    assert not holds("sample.available", SWEATER)
    assert holds("not sample.available", SWEATER)
    assert holds("price.tiers[7] == null", SWEATER)
    assert holds("price.tiers[-1].min_qty == 10000", SWEATER)


def test_membership_choice_and_chains() -> None:
    """in / not in, if-else and chained comparisons read as written."""
    assert holds('price.mode in ["tiered", "sku"]', SWEATER)
    assert holds('price.mode not in ["range"]', SWEATER)
    assert not holds('currency in ["USD"]', SWEATER)  # missing is in no list
    assert holds("(1 if moq > 50 else 2) == 1", SWEATER)
    assert holds("1 <= 9.5 <= 9.5", SWEATER)
    assert not holds("1 <= 9.6 <= 9.5", SWEATER)


def test_for_expressions() -> None:
    """count/any/all/min/max/sum over items, with and without a condition."""
    assert holds("count(t for t in price.tiers if t.price < 26) == 2", SWEATER)
    assert holds("all(t.price > 0 for t in price.tiers)", SWEATER)
    assert holds("any(t.price == 24.90 for t in price.tiers)", SWEATER)
    assert holds("min(t.price for t in price.tiers) == 24.9", SWEATER)
    assert holds("max(t.min_qty for t in price.tiers) == 10000", SWEATER)
    assert holds("sum(t.price for t in price.tiers) == 77.70", SWEATER)
    assert holds("min(s.price for s in price.skus) == null", SWEATER)  # no SKUs: no minimum
    assert holds("count(price.skus) == 0", SWEATER)


def test_functions_on_time_and_rounding() -> None:
    """Dates are platform time; months are calendar months; rounding is half-up."""
    assert holds('date("2022-12-27") == date("2022-12-27T08:00:00Z")', SWEATER)
    assert holds('add_months(date("2023-01-31"), 1) == date("2023-02-28")', SWEATER)
    assert holds('add_days(date("2022-11-01"), 14) == date("2022-11-15")', SWEATER)  # across the DST change
    assert holds("round(0.125, 2) == 0.13", SWEATER)
    assert holds("round(5.7, 2) == 5.70", SWEATER)
    assert holds("percent(1 - 10.00 / 18.20) == 45.1", LINEN)
    assert holds('as_of == date("2022-11-30T16:00:00")', SWEATER)


def test_a_time_moved_beyond_the_calendar_is_missing_not_a_failed_rule() -> None:
    """add_days and add_months return missing past year 9999 (a schema-valid promotion of 9999-10-01, a
    moq of 10^12 days): a comparison with it is false, as with any missing value; it was typed never
    missing, so the comparison ran on None and the rule failed (exit 2)."""
    far = doc(SWEATER, moq=10**12, created_at="2022-12-01T10:00:00")
    assert not holds("add_days(created_at, moq) > created_at", far)
    assert holds("not (add_days(created_at, moq) > created_at)", far)
    assert holds("add_days(created_at, 1) > created_at", far)
    assert not holds('add_months(date("9999-10-01"), 4) <= date("9999-12-31")', SWEATER)
    assert holds('not present(add_months(date("9999-10-01"), 4))', SWEATER)


def test_map_lookup_on_order_skus() -> None:
    """A SKU's attributes are looked up by name; a missing name is missing."""
    order = {"kind": "order", "id": "O", "type": "order", "merchant_id": "M", "created_at": "2022-12-01",
             "items": [{"listing": doc(SWEATER, kind=None), "quantity": 1, "sku": {"Color": "Red"}}]}
    del order["items"][0]["listing"]["kind"]
    assert holds('items[0].sku["Color"] == "Red"', order, kind="order")
    assert holds('items[0].sku["Size"] == null', order, kind="order")


@pytest.mark.parametrize(
    "expression, message",
    [
        ("count(moq) > 0", "count() takes a list, not a number"),
        ("round(moq, moq) > 0", "the second argument of round() is a whole number of decimals from 0 to 12"),
        ('date(price.mode) == as_of', 'date() takes a fixed text, e.g. date("2022-12-27")'),
        ('date("2022-13-01") == as_of', "'2022-13-01' is not a time (RFC 3339 or YYYY-MM-DD)"),
        ("any(moq for t in price.tiers)", "any() takes a list of bool, not a list of numbers"),
        ("present(moq, moq)", "present() takes 1 argument(s), got 2"),
        ("unknown_name > 1", "unknown name 'unknown_name'; known names here: as_of, category, composition,"),
        ("moq < price.mode", "'<' compares two numbers, two times or two texts, not a number with text"),
        ("price.mode in moq", "'in' looks for a value in a list, and this is a number"),
    ],
)
def test_type_errors_name_the_problem(expression: str, message: str) -> None:
    """Type mistakes are load errors in words an analyst can act on."""
    assert f"require: {message}" in refusal(expression)


def test_nested_for_expressions_are_refused() -> None:
    """A `for` inside a `for` could take quadratic time on 10,000 SKUs: refused at load."""
    message = refusal("count(a for a in price.skus if count(b for b in price.skus if b.price >= a.price) > 0) >= 0")
    assert ("require: a 'for' expression inside another over a document's list is not allowed: its work grows with"
            " the square of the list (over a parameter's list it may hold one)") in message


def test_a_for_over_a_choice_with_null_tests_compiles() -> None:
    """`for` over an expression that needs null tests (Python forbids := there) is compiled another way."""
    linen = doc(LINEN, sample={"available": True, "price": "50.00"})
    assert holds("count(t for t in (price.tiers if sample.price > 1 else price.tiers)) == 4", linen)
    assert holds("count(t for t in (price.tiers if -sample.price < 1 else price.skus)) == 4", linen)


def test_count_with_if_counts_matching_items_whatever_their_value() -> None:
    """count(x for x in L if cond) counts the items that satisfy cond, also when the item is 0 or ""."""
    product = doc(SWEATER, category=["", "Apparel"], price={"mode": "tiered", "tiers": [
        {"min_qty": 100, "price": "0"}, {"min_qty": 200, "price": "0"}, {"min_qty": 300, "price": "2"}]})
    assert holds('count(c for c in category if c == "") == 1', product)
    assert holds("count(t.price for t in price.tiers if t.price == 0) == 2", product)


@pytest.mark.parametrize("value, message", [
    (Decimal("NaN"), "params.max_drop: NaN is not a number a policy can use (finite, at most 1,000,000,000,000,000)"),
    (Decimal("Infinity"), "params.max_drop: Infinity is not a number a policy can use"),
    (10**16, "params.max_drop: 10000000000000000 is not a number a policy can use (finite, at most 1,000,000,000,000,000)"),
])
def test_parameters_are_checked_like_literals(value: Any, message: str) -> None:
    """A parameter of nan, inf or beyond 1e15 is a load error, not a rule silently disabled."""
    assert message in refusal("moq > 0", params={"max_drop": value})


def test_rules_of_different_groups_sharing_a_list_each_get_their_bindings(tmp_path: Path) -> None:
    """Two rules over the same list, one needing the merchant: each loop binds `next` and `previous`."""
    policy = '''
[[rule]]
id = "tier-anomaly/gold-tiers"
family = "tier-anomaly"
severity = "advice"
penalty = "none"
kind = "product"
title = { en = "t", zh = "t" }
description = { en = "t", zh = "t" }
when = 'price.mode == "tiered"'
each = "price.tiers"
require = "merchant.gold or item.price > 0"
path = "/price/tiers/{index}"
message = { en = "m", zh = "m" }
remedy = { en = "r", zh = "r" }
[[rule.example]]
name = "positive"
expect = "pass"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "tiered", tiers = [ { min_qty = 1, price = "2" } ] } }
merchant = { kind = "merchant", id = "M", gold = false }
[[rule.example]]
name = "zero"
expect = "fail"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "tiered", tiers = [ { min_qty = 1, price = "0" } ] } }
merchant = { kind = "merchant", id = "M", gold = false }

[[rule]]
id = "tier-anomaly/uses-next"
family = "tier-anomaly"
severity = "advice"
penalty = "none"
kind = "product"
title = { en = "t", zh = "t" }
description = { en = "t", zh = "t" }
when = 'price.mode == "tiered"'
each = "price.tiers"
where = "next != null"
require = "next.min_qty > item.min_qty"
path = "/price/tiers/{index}"
message = { en = "m", zh = "m" }
remedy = { en = "r", zh = "r" }
[[rule.example]]
name = "rising"
expect = "pass"
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "tiered", tiers = [ { min_qty = 1, price = "2" }, { min_qty = 5, price = "1" } ] } }
[[rule.example]]
name = "falling"
expect = "fail"
paths = ["/price/tiers/0"]
document = { kind = "product", id = "P", merchant_id = "M", listing_type = "rts", moq = 1, price = { mode = "tiered", tiers = [ { min_qty = 5, price = "2" }, { min_qty = 1, price = "1" } ] } }
'''
    (tmp_path / "g.toml").write_text(policy, "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False)
    assert [] == [str(f) for f in checker.verify(pack)]


def test_products_of_large_amounts_are_exact() -> None:
    """Beyond Decimal's default 28 digits: a 15+12 digit amount times a factor decides exactly."""
    product = doc(SWEATER, price={"mode": "range", "range": {
        "min": "130000000000000.000000000011", "max": "200000000000000.000000000017"}})
    # 200000000000000.000000000017 x 0.65 = 130000000000000.00000000001105 > min
    assert not holds("price.range.min >= price.range.max * (1 - 0.35)", product)
    assert holds("price.range.min < price.range.max * (1 - 0.35)", product)


def test_policy_data_tables_and_computed_field_names() -> None:
    """Lists of tables are records with fields; tables map names to values; composition[name] reads a flag."""
    registrations = [{"country": "DE", "component": "packaging", "shapes": ["DE9999999999999"]},
                     {"country": "FR", "component": "battery", "shapes": ["FR999999_99XXXX"]}]
    product = doc(SWEATER, composition={"packaging": True, "battery": False}, category=["Home", "Cups"])
    assert holds("count(r for r in registrations if composition[r.component] == true) == 1", product,
                 params={"registrations": registrations})
    assert holds('shape("FR423803_01UNWS", first(r.shapes for r in registrations if r.country == "FR"))', product,
                 params={"registrations": registrations})
    assert holds('floors[last(category)] == 0.01 and floors["Plates"] == null', product,
                 params={"floors": {"Cups": Decimal("0.01")}})
    assert holds('all(any(t.min_qty == q for t in price.tiers) for q in wanted)', product,
                 params={"wanted": [100, 1000]})
    assert "params.mixed: a list or table of policy data holds values of one kind" in refusal(
        "true", params={"mixed": [1, "a"]})
    assert "require: only an object whose fields are all of one type can be looked up by a computed name" in refusal(
        "sample[price.mode] == true")
    assert "require: write .mode to read a field, not ['mode']" in refusal('price["mode"] == "tiered"')


def test_text_matching_ignores_width_case_and_spaces() -> None:
    """Keywords match full-width, upper-case and spaced spellings; shapes match registration numbers."""
    product = doc(SWEATER, title="ＳＨＩＰＰＩＮＧ   Fee 运费 link")
    assert holds('contains_any(title, ["shipping fee"]) and contains_any(title, ["运费"])', product)
    assert not holds('contains_any(title, ["deposit", "定金"])', product)
    assert holds('shape("DE2755553072093", ["DE9999999999999"]) and not shape("DE275555307209", ["DE9999999999999"])',
                 product)


# keywords from a small alphabet, so that they share prefixes, extend one another, hold regex characters,
# end in an English plural and mix Latin and Chinese
_ALPHABET = "ab1é.*\\ -_s运费"
_KEYWORD = st.text(alphabet=_ALPHABET, min_size=0, max_size=5)


def _found_as_a_word(text: str, words: set[str]) -> bool:
    """contains_any said plainly: a keyword occurs where no Latin letter or digit touches its Latin ends
    (but for an "s" or "es" after it)."""
    from checker.policy.runtime import _latin, keyword_text

    text = keyword_text(text)
    for word in map(keyword_text, words):
        if not word:
            return True
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            before = at == 0 or not _latin(word[0]) or not _latin(text[at - 1])
            after = not _latin(word[-1]) or any(
                text.startswith(plural, end) and (end + len(plural) == len(text) or not _latin(text[end + len(plural)]))
                for plural in ("", "s", "es"))
            if before and after:
                return True
            at = text.find(word, at + 1)
    return False


@settings(max_examples=400, deadline=None)
@given(words=st.sets(_KEYWORD, min_size=1, max_size=12), texts=st.lists(st.text(alphabet=_ALPHABET + "xE", max_size=15),
                                                                         max_size=5))
def test_the_keyword_trie_finds_words_as_said_plainly(words: set[str], texts: list[str]) -> None:
    """contains_any searches one trie-shaped pattern (runtime.keyword_pattern): it finds a keyword in
    exactly the texts where the plain search of each keyword, word ends checked, does."""
    from checker.policy.runtime import fn_contains_any, keyword_pattern, keyword_text

    listed = tuple(words)
    for text in [*texts, *words, "".join(words), " ".join(words)]:
        assert fn_contains_any(text, listed) == _found_as_a_word(text, words), (
            words, text, keyword_pattern({keyword_text(w) for w in words}))


@pytest.mark.parametrize("text, found", [
    ("Shipping-Fee", True), ("shipping_fee", True), ("SHIPPING  FEE", True), ("运 费", True), ("补运费", True),
    ("Deposits", True), ("Price-Difference", True), ("定制logo", True), ("Logo定制", True), ("main unit", True),
    ("Freightliner Cascadia", False), ("Maintenance-free", False), ("depositor", False), ("Remaining", False),
    ("counterparts", False), ("domain", False), ("shipping feed", False),
])
def test_keywords_match_as_words(text: str, found: bool) -> None:
    """A review's cases: hyphens and underscores are spaces, Chinese ignores spaces, and a Latin keyword is a
    word of its own (plural allowed): "freight" is not in "Freightliner" (a SKU flagged non-physical)."""
    from checker.policy.runtime import fn_contains_any

    keywords = ("shipping fee", "deposit", "freight", "price difference", "运费", "main", "parts", "logo")
    assert found == fn_contains_any(text, keywords)


def test_a_list_of_ten_thousand_keywords_is_searched_as_a_trie() -> None:
    """A policy's long list (prohibited words) becomes one branch per character: 10,000 keywords, each
    found in a title and none in a title of other words; a keyword over the trie's length still counts."""
    from checker.policy.runtime import fn_contains_any, keyword_pattern, word_ends

    words = [f"w{i:05d}z" for i in range(10_000)] + ["q" * 150]
    pattern = keyword_pattern(words)
    assert pattern.startswith("(?:w" + word_ends()[0] + "0(?:0") and "q" * 149 in pattern  # shared prefixes, once
    assert len(pattern) < sum(map(len, words))
    listed = tuple(words)
    assert all(fn_contains_any(f"Linen dress W{i:05d}Z summer", listed) for i in range(0, 10_000, 97))
    assert fn_contains_any("x " + "Q" * 150 + "s", listed) and not fn_contains_any("x" + "Q" * 150, listed)
    assert not fn_contains_any("Linen dress w0000 w10000z q summer", listed)


_AMOUNT = st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), allow_nan=False, allow_infinity=False,
                      places=None).filter(lambda d: d.adjusted() > -12)


@settings(max_examples=300, deadline=None)
@given(value=_AMOUNT, places=st.integers(0, 4))
def test_exact_is_the_number_itself_with_at_least_its_places(value: Decimal, places: int) -> None:
    """exact(x, places): x unchanged when it has at most 8 decimals, written with at least `places`;
    else the least number of 8 decimals not below it (the safe side of "at least")."""
    from checker.policy.runtime import fn_exact

    with decimal_context():
        shown = fn_exact(value, places)
        assert -shown.as_tuple().exponent >= places
        if -value.normalize().as_tuple().exponent <= 8:
            assert shown == value
        else:
            assert value <= shown < value + Decimal("1e-8")


@settings(max_examples=300, deadline=None)
@given(ratio=_AMOUNT.map(lambda d: d / 1000), limit=_AMOUNT.map(lambda d: d / 1000))
def test_percent_beyond_is_on_the_side_of_the_limit_its_ratio_is(ratio: Decimal, limit: Decimal) -> None:
    """percent_beyond(ratio, limit) is on ratio's side of limit (x 100), within one unit of its last decimal
    of the true percentage, with one decimal where that is enough."""
    from checker.policy.runtime import fn_percent, fn_percent_beyond

    with decimal_context():
        shown, true, line = fn_percent_beyond(ratio, limit), ratio * 100, limit * 100
        assert (shown > line) == (true > line) and (shown < line) == (true < line)
        assert abs(shown - true) <= Decimal(1).scaleb(shown.as_tuple().exponent)
        one = fn_percent(ratio)
        if (one > line and true > line) or (one < line and true < line):
            assert shown == one
