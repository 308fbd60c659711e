"""A policy pack is data: loading or running a third-party pack never runs its text as code, never hangs
on its expressions, and a pack that goes too far is a PolicyError naming the file, the rule and the key.

Each test below is an attempt a hostile or careless pack could make. The first ones are holes that were
open (each fails without its fix); the last ones pin defences that already held."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import checker
from checker.policy.compiler import compile_pack
from checker.policy.expressions import Constants, ExpressionCompiler
from checker.policy.model import Pack, Rule, Text
from checker.policy.runtime import decimal_context
from checker.policy.types import of_kind

from .test_policy_loading import VALID

AS_OF = _dt.datetime(2022, 12, 1, tzinfo=_dt.timezone.utc)
T = Text("t", "t")
RULE = "p.toml: rule tier-anomaly/range-max-above-min"
REQUIRE = 'require = "price.range.max >= price.range.min"'
REMEDY = 'remedy = { en = "Swap them.", zh = "交换。" }'
MESSAGE = 'message = { en = "Max'


def pack_of(*changes: str) -> str:
    """VALID with each (old, new) pair of `changes` replaced once."""
    text = VALID
    for old, new in zip(changes[::2], changes[1::2]):
        assert old in text
        text = text.replace(old, new, 1)
    return text


def refused(tmp_path: Path, text: str, extra: dict[str, str] | None = None) -> str:
    """The PolicyError message for a folder holding p.toml = `text` (and the `extra` files)."""
    (tmp_path / "p.toml").write_text(text, "utf-8")
    for name, body in (extra or {}).items():
        (tmp_path / name).write_text(body, "utf-8")
    with pytest.raises(checker.PolicyError) as caught:
        checker.load_policies([tmp_path], bundled=False)
    return str(caught.value).replace(str(tmp_path) + "/", "")


def loaded(tmp_path: Path, text: str) -> Any:
    (tmp_path / "p.toml").write_text(text, "utf-8")
    return checker.load_policies([tmp_path], bundled=False)


def rule(require: str, params: dict[str, Any] | None = None, **texts: str) -> Rule:
    message = Text(texts.get("en", "t"), texts.get("zh", "t"))
    return Rule(id="tier-anomaly/t", family="tier-anomaly", severity="error", penalty=None, kind="product", title=T,
                description=T, message=message, remedy=T, require=require, path=texts.get("path", "/"),
                params=params or {}, file="test.toml")


def refusal(require: str, **kw: Any) -> str:
    with pytest.raises(checker.PolicyError) as caught:
        compile_pack(Pack((rule(require, **kw),), "test"))
    return str(caught.value)


def findings(compiled: Any, document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(path, message, remedy) in English of each finding of `compiled` on a product."""
    hits: list[Any] = []
    failed: list[Any] = []
    with decimal_context():
        compiled.evaluators["product"](document, AS_OF, {}, hits, [], failed)
        assert [] == failed
        return [compiled.render(i, document, AS_OF, None, item, "en") for i, item in hits]


PRODUCT = {"kind": "product", "id": "P-1", "merchant_id": "M-1", "listing_type": "rts", "moq": 5,
           "price": {"mode": "range", "range": {"min": "1.00", "max": "2.00"}}}


# -- holes that were open --------------------------------------------------------------


def test_a_chain_of_comparisons_nested_in_another_does_not_double_the_code() -> None:
    """The middle of `a == B == c` is used by both comparisons. Its code was written twice, so a chain
    nested in the middle of a chain doubled at each level: 80 characters of `true == (...) == true` nested
    20 deep took 110 s to load (the code: 2^20 copies), 30 deep would never have loaded. The middle is
    now computed once, into a temporary, and the code grows with the text."""
    source = "true"
    for _ in range(12):
        source = f"true == ({source}) == true"
    compiled = ExpressionCompiler({}, of_kind("product"), Constants()).compile(source, "bool")
    assert len(compiled.code) < 30 * len(source)
    # and the chain still means what it says, its middle read once
    product = dict(PRODUCT, moq=5)
    for require, holds in [("1 <= moq <= 5", True), ("1 <= moq + 1 <= 5", False), ("1 < moq * 2 < 11", True),
                           ("0 < price.range.min < price.range.max <= 2", True),
                           ("0 < price.range.min + price.range.max < 3", False), (source, True)]:
        assert (findings(compile_pack(Pack((rule(require),), "test")), product) == []) is holds, require


def test_nested_for_over_parameter_lists_is_bounded(tmp_path: Path) -> None:
    """A `for` over a parameter's list may hold another (its size is fixed), but the sizes multiply: three
    `count(...)` nested over a list of 300 numbers are 27 million turns, for each document, and also at load
    when a message folds them (a list of 10,000, which the schema allows, never finishes). Nested, the lists'
    sizes may multiply to at most 10,000."""
    big = "[" + ", ".join(str(i) for i in range(300)) + "]"
    nested = "count(1 for a in big if count(1 for b in big if count(1 for c in big if c < a + b) > 0) > 0)"
    text = pack_of(REMEDY, f"{REMEDY}\nparams = {{ big = {big} }}", MESSAGE, f'message = {{ en = "{{{nested}}} Max')
    assert refused(tmp_path, text) == (
        f"{RULE}: message.en: a 'for' over a parameter's list inside another goes over their items multiplied: "
        f"here 300 x 300 = 90,000, and at most 10,000 are allowed (in '{nested}')")
    # two nested over lists of 100 are 10,000: allowed, at load and in a rule
    params = {"small": list(range(100))}
    assert findings(compile_pack(Pack((rule("count(1 for a in small if any(b == a for b in small)) == 100",
                                            params),), "test")), PRODUCT) == []


def test_each_over_a_parameter_list_counts_in_the_bound() -> None:
    """`each` over a parameter's list runs the rule's tests and messages once per item, so a `for` over
    another parameter's list inside them multiplies with it (10,000 x 10,000 turns a document were allowed)."""
    import attrs

    params = {"big": list(range(200)), "other": list(range(100))}
    require = "count(1 for b in other if b > item) >= 0"
    too_many = attrs.evolve(rule(require, params), each="big")
    with pytest.raises(checker.PolicyError) as caught:
        compile_pack(Pack((too_many,), "test"))
    assert str(caught.value).endswith(
        f"require: a 'for' over a parameter's list inside another goes over their items multiplied: here 200 x "
        f"100 = 20,000, and at most 10,000 are allowed (in '{require}')")
    in_a_message = attrs.evolve(rule("true", params, en="{count(1 for b in other if b > item)}"), each="big")
    with pytest.raises(checker.PolicyError, match="message.en: .* here 200 x 100 = 20,000"):
        compile_pack(Pack((in_a_message,), "test"))
    fewer = attrs.evolve(too_many, params={"big": list(range(50)), "other": list(range(100))})
    assert compile_pack(Pack((fewer,), "test")).evaluators


def test_a_number_after_leading_spaces_keeps_its_value(tmp_path: Path) -> None:
    """An expression is stripped before it is parsed, and its numbers were then read from the text not
    stripped, at the same columns: `require = ' moq >= 10'` ran as `moq >= 1` (the literal " 1"), with
    no error. The threshold of an indented multi-line TOML expression moved the same way."""
    text = pack_of(REQUIRE, "require = ' moq >= 10'",
                   'name = "ordered"', 'name = "ordered"\npatch.moq = 10',
                   'patch.price.range = { min = "2.00", max = "1.00" }', "patch.moq = 5")
    assert [] == checker.verify(loaded(tmp_path, text))
    indented = pack_of(REQUIRE, "require = '''\n    (moq >= 10 and\n    price.range.max >= 1.5)'''",
                       'name = "ordered"', 'name = "ordered"\npatch.moq = 10',
                       'patch.price.range = { min = "2.00", max = "1.00" }', "patch.moq = 5")
    assert [] == checker.verify(loaded(tmp_path, indented))


@pytest.mark.parametrize("where", [
    ("patch", 'patch.price.range = { min = "2.00", max = "1.00" }'),
    ("params", REMEDY),
    ("base", 'moq = 1\n'),
])
def test_tables_nested_thousands_deep_by_dotted_keys_are_a_policy_error(tmp_path: Path, where: tuple[str, str]) -> None:
    """Dotted keys (`patch.a.a.a... = 1`) nest tables without any bracket, so the TOML reader takes them,
    and the loader then crashed with a RecursionError ("internal error, please report it")."""
    kind, anchor = where
    deep = ".".join(["a"] * 3000)
    text = pack_of(anchor, f"{anchor}\n{'patch.' if kind == 'patch' else 'params.' if kind == 'params' else ''}{deep} = 1\n")
    assert refused(tmp_path, text) == "p.toml: nested too deeply (more than 32 levels of tables and lists)"


def test_deeply_nested_files_beside_the_rules_are_a_policy_error(tmp_path: Path) -> None:
    deep = ".".join(["a"] * 3000)
    assert refused(tmp_path, f"{deep} = 1\n" + VALID) == "p.toml: nested too deeply (more than 32 levels of tables and lists)"
    assert refused(tmp_path, VALID, {"pack.toml": f'name = "x"\n{deep} = 1\n'}) == (
        "pack.toml: nested too deeply (more than 32 levels of tables and lists)")


def test_an_expression_nested_too_deeply_for_python_is_a_policy_error(tmp_path: Path) -> None:
    """`- - - ... moq` 196 deep fits the limit of parts, and its own code compiled, but in a message the
    renderer wraps it in a few more parentheses, beyond Python's 200: loading crashed with a SyntaxError."""
    deep = "- " * 196 + "moq"
    assert refused(tmp_path, pack_of(MESSAGE, f'message = {{ en = "{{{deep}}} Max')) == (
        f"{RULE}: message.en: expression nested too deeply (more than 50 levels) (in '{deep}')")
    assert refusal("not " * 197 + "true").startswith(
        "test.toml: rule tier-anomaly/t: require: expression nested too deeply (more than 50 levels)")


def test_a_message_of_hundreds_of_placeholders_loads_and_says_each() -> None:
    """The compiler's second look at a renderer (compiler._memoized_render: a call made twice is made once)
    walks its code with `ast`, which recursed too deep on a message of ~200 placeholders (a chain of as many
    `+`): loading crashed with a RecursionError. Such a renderer is now kept as written."""
    message = "{count(price.range.max for x in [1])}" + "{id}," * 300 + "{count(price.range.max for x in [1])}"
    compiled = compile_pack(Pack((rule("false", en=message),), "test"))
    [(_, said, _)] = findings(compiled, PRODUCT)
    assert said == "1" + "P-1," * 300 + "1"


def test_adding_a_huge_number_of_days_or_months_is_missing_at_once() -> None:
    """A document's numbers can make a huge one (`add_days(created_at, 1 / tiny)` where `tiny` is 1e-999990
    in the document): beyond the calendar the result is missing, found before int() would write out every
    digit (a million of them: 25 s)."""
    from checker.policy.runtime import fn_add_days, fn_add_months

    class Huge(Decimal):
        def __int__(self) -> int:
            raise AssertionError("int() of a number beyond the calendar")

    with decimal_context():
        huge = Huge(Decimal(1) / Decimal("1e-999990"))
        assert fn_add_days(AS_OF, huge) is None and fn_add_days(AS_OF, -huge) is None
        assert fn_add_months(AS_OF, huge) is None and fn_add_months(AS_OF, -huge) is None
        assert fn_add_days(AS_OF, 3_000_000) is None  # past year 9999, as before
        assert fn_add_days(AS_OF, Decimal("14.9")) == fn_add_days(AS_OF, 14) is not None
        assert fn_add_months(AS_OF, Decimal("1.5")) == fn_add_months(AS_OF, 1) is not None


def test_an_error_naming_a_rule_id_with_a_line_break_is_one_line(tmp_path: Path) -> None:
    """The rule id is the author's text: in an error it is shown as a literal when it holds a line break,
    so a CI log shows one message, not a second line that looks like another."""
    text = pack_of('id = "tier-anomaly/range-max-above-min"', 'id = "tier-anomaly/range-max-above-min\\n"')
    message = refused(tmp_path, text)
    assert "\n" not in message
    assert message.startswith("p.toml: rule 'tier-anomaly/range-max-above-min\\n': id: ")


@pytest.mark.parametrize("name", ["true", "false", "null"])
def test_a_parameter_named_like_a_constant_is_refused(name: str) -> None:
    """`null` in an expression is the constant: a parameter of that name was silently never read."""
    assert refusal("moq >= 1", params={name: 5}).endswith(
        f"params.{name}: the parameter name {name!r} is already a field or name; rename it")


def test_tiny_numbers_are_refused_they_would_make_huge_ones(tmp_path: Path) -> None:
    """1 / 1e-999990 is 10^999990, within the arithmetic's range, and `add_days` turns it into a whole
    number of a million digits: 25 s for each document. A number a policy writes, or a parameter, is 0 or
    at least 10^-15 in size (as it is at most 10^15)."""
    assert refusal("add_days(as_of, 1 / 1e-999990) != as_of") == (
        "test.toml: rule tier-anomaly/t: require: the number 1e-999990 is too small (a number other than 0 "
        "is at least 0.000000000000001) (in 'add_days(as_of, 1 / 1e-999990) != as_of')")
    text = pack_of(REMEDY, f"{REMEDY}\nparams = {{ tiny = 1e-999990 }}", REQUIRE,
                   'require = "add_days(as_of, 1 / tiny) != as_of"')
    assert refused(tmp_path, text) == (
        f"{RULE}: params.tiny: 1E-999990 is too small for a policy (a number other than 0 is at least "
        "0.000000000000001)")
    # the smallest allowed, and 0 written many ways, load
    compile_pack(Pack((rule("moq * 0.000000000000001 >= 0 and moq * 0e-99 == 0", {"z": 0, "e": Decimal("1e-15")}),), "test"))


# -- defences that hold (pinned) ---------------------------------------------------------


def test_template_text_is_only_ever_text() -> None:
    """The literal parts of a message, a remedy and a path are written into the renderer as literals: quotes,
    line breaks and Python in them come out as they went in."""
    hostile = "x'); raise SystemExit('ran'); ('\n\"\"\" \\ {{moq}} }} {moq}"
    compiled = compile_pack(Pack((rule("moq > 9", en=hostile, path="/a'\n/{moq}"),), "test"))
    ((path, message, _),) = findings(compiled, PRODUCT)
    assert message == "x'); raise SystemExit('ran'); ('\n\"\"\" \\ {moq} } 5"
    assert path == "/a'\n/5"


def test_parameter_texts_and_keys_are_only_ever_data() -> None:
    """A parameter's text, a table's keys and the fields of a parameter's records are values in the code,
    never names: quotes and dunder keys are looked up as text, and give nothing."""
    params = {"word": "a'\nraise SystemExit('ran')", "table": {"__class__": "k", "x'\n": "y"},
              "rows": [{"__class__": 1, "ok": 2}]}
    compiled = compile_pack(Pack((rule('word == "b"', params, en="{word}|{table[\"__class__\"]}|"
                                       "{table[\"x'\\n\"]}|{table[word]}|{first(rows).ok}"),), "test"))
    ((_, message, _),) = findings(compiled, PRODUCT)
    assert message == "a'\nraise SystemExit('ran')|k|y|(missing)|2"


@pytest.mark.parametrize("require, problem", [
    ("first(rows).__class__ == null", "'__class__' is not a field; names starting with '_' are not allowed"),
    ("first(rows).__init__ == null", "'__init__' is not a field; names starting with '_' are not allowed"),
    ("first(rows)._ok == null", "'_ok' is not a field; names starting with '_' are not allowed"),
    ('table.__class__ == null', "'__class__' is not a field; names starting with '_' are not allowed"),
    ("word.upper() == word", "only the functions of the policy language can be called, by name"),
    ("table.get(word) == null", "only the functions of the policy language can be called, by name"),
    ('word[0] == "a"', "cannot index text"),
    ("count(x for x in rows if x.__class__ == null) > 0",
     "'__class__' is not a field; names starting with '_' are not allowed"),
    ('normalize(word).__len__ == null', "'__len__' is not a field; names starting with '_' are not allowed"),
    ("()[0].__class__ == null", "'__class__' is not a field; names starting with '_' are not allowed"),
    ("__builtins__ == null", "unknown name '__builtins__'"),
    ("count(x for __builtins__ in rows) > 0", "'__builtins__' is already a name here; choose another"),
    ('moq == 0x10', "0x10 is not a number a policy can use"),
    ("moq == 1j", "'Constant' is not allowed in a policy expression"),
])
def test_reaching_python_objects_is_refused(require: str, problem: str) -> None:
    params = {"word": "a", "table": {"k": "v"}, "rows": [{"ok": 1}]}
    assert problem in refusal(require, params=params)


#: what the schema says of a rule id or a name that does not have its pattern
NOT_AN_ID = "is not a rule id: family/name, in lower-case letters, digits and -, on one line"
NOT_A_NAME = "is not a name: a lower-case letter, then lower-case letters, digits and _, on one line"


@pytest.mark.parametrize("old, new, problem", [
    ('id = "tier-anomaly/range-max-above-min"', 'id = "tier-anomaly/x\\nimport os"',
     "p.toml: rule 'tier-anomaly/x\\nimport os': id: 'tier-anomaly/x\\nimport os' " + NOT_AN_ID),
    (REMEDY, REMEDY + '\nparams = { "x\\nimport os" = 1 }',
     "p.toml: rule tier-anomaly/range-max-above-min: params: 'x\\nimport os' " + NOT_A_NAME),
    (REMEDY, REMEDY + "\nparams = { __class__ = 1 }",
     "p.toml: rule tier-anomaly/range-max-above-min: params: '__class__' " + NOT_A_NAME),
    (REMEDY, REMEDY + '\nparams = { "ok\\n" = 1 }',
     "p.toml: rule tier-anomaly/range-max-above-min: params: 'ok\\n' " + NOT_A_NAME),
])
def test_names_that_become_code_are_checked_by_the_schema(tmp_path: Path, old: str, new: str, problem: str) -> None:
    """Rule ids go into a comment of the generated code: the schema allows only lower-case letters, digits and
    '-', and no final line break; parameter names (file-level too) only lower-case letters, digits and '_'."""
    assert refused(tmp_path, pack_of(old, new)).startswith(problem)


def test_a_total_name_that_is_not_a_name_is_refused(tmp_path: Path) -> None:
    """A total's name is part of a generated function's name (total_<rule>_<name>)."""
    text = ('[[rule]]\nid = "star-level/t"\nfamily = "star-level"\nseverity = "advice"\npenalty = "none"\n'
            'kind = "merchant"\ntitle = { en = "t", zh = "t" }\ndescription = { en = "t", zh = "t" }\n'
            'require = "true"\npath = "/"\nmessage = { en = "t", zh = "t" }\nremedy = { en = "t", zh = "t" }\n'
            'totals."x\\nimport os" = { over = "order", value = "1" }\n'
            '[[rule.example]]\nname = "a"\nexpect = "pass"\ndocument = {}\n')
    assert refused(tmp_path, text).startswith("p.toml: rule star-level/t: totals: 'x\\nimport os' " + NOT_A_NAME)


def test_a_parameter_named_like_generated_code_is_only_a_name() -> None:
    """Parameters become literals or hoisted constants, never identifiers of their own: one named after the
    generated code's names (doc, hits, fn_count, _k0...) is just a value."""
    params = {"doc": 1, "hits": 2, "fn_count": 3, "failed": 4, "len": 5}
    compiled = compile_pack(Pack((rule("doc + hits + fn_count + failed + len == 15", params),), "test"))
    assert findings(compiled, PRODUCT) == []
