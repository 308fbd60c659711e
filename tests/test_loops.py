"""What the compiler does for speed changes no answer and no word.

The compiler turns `any(...)`, `all(...)`, `count(...)`, `first(...)`, `last(...)`, `min(...)`, `max(...)`
and `sum(...)` of a `for` expression into a module-level loop function instead of a generator handed to
the runtime's function (expressions.LOOPS), computes the parts of messages that read only the rule's
parameters once, when it compiles (compiler._RuleCode._folded), and reads the fields of a policy's own
list once, when it compiles, for the rules whose `each` goes over it (compiler.CONSTANT_ROWS), and makes
a call that a document's (or an item's) tests or a message make again on the same values once
(compiler.MEMO). These tests compile the same pack both ways (with LOOPS emptied, folding, CONSTANT_ROWS
and MEMO off, the compiler falls back to generators, to formatting every part for every finding, to
reading the fields in the loop and to making every call where it is written) and compare every hit,
every rule failure and every message and remedy.
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.engine import collect_context
from checker.policy import compiler, expressions
from checker.policy.compiler import compile_pack
from checker.policy.loader import load_pack
from checker.policy.model import Pack, Rule, Text
from checker.policy.runtime import EMPTY, CompiledPack, decimal_context
from checker.resources import policies_dir
from checker.testing import orders, products
from checker.values import parse_time

from .conftest import SWEATER, doc

ROOT = Path(__file__).resolve().parent.parent
AS_OF = parse_time("2022-12-28")


def _both(pack: Pack, monkeypatch: pytest.MonkeyPatch) -> tuple[CompiledPack, CompiledPack]:
    looped = compile_pack(pack)
    with monkeypatch.context() as m:
        m.setattr(expressions, "LOOPS", {})
        m.setattr(compiler._RuleCode, "_folded", lambda *_: None)
        m.setattr(compiler, "CONSTANT_ROWS", False)
        m.setattr(compiler, "MEMO", False)
        generators = compile_pack(pack)
    assert "def _q0(" in looped.source and "def _q0(" not in generators.source
    assert "in enumerate(_k" not in generators.source and " = _U" not in generators.source
    return looped, generators


def _outcome(compiled: CompiledPack, document: dict, merchants: dict, totals: Any = EMPTY) -> Any:
    """What the pack says about a document: hits, rules not evaluated, failures, and each hit's words."""
    hits: list[Any] = []
    missing: list[Any] = []
    failed: list[Any] = []
    kind = document["kind"]
    with decimal_context():
        try:
            if kind == "merchant":
                compiled.evaluators[kind](document, AS_OF, merchants, hits, missing, failed, totals)
            else:
                compiled.evaluators[kind](document, AS_OF, merchants, hits, missing, failed)
        except Exception as e:  # noqa: BLE001 - a bad value: both must raise the same
            return ("raised", type(e).__name__, str(e))
        merchant = merchants.get(document.get("merchant_id"))
        words = [
            compiled.render(rule, document, AS_OF, merchant, item, lang, totals)
            for rule, item in hits for lang in ("en", "zh")
        ]
    return hits, missing, [(rule, type(e).__name__, str(e)) for rule, e in failed], words


@pytest.fixture(scope="module")
def bundled() -> Pack:
    return load_pack([policies_dir()])


def test_the_bundled_pack_says_the_same_on_a_generated_catalog(bundled: Pack, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """Every document of the benchmark's seeded catalog (every kind, ~10 % violating each family)."""
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = corpus
    spec.loader.exec_module(corpus)
    path = tmp_path / "catalog.jsonl"
    corpus.generate(str(path), 3000, seed=5)
    from checker.reading import Reader

    items = list(Reader().read([str(path)]))
    looped, generators = _both(bundled, monkeypatch)
    assert "_fmt(_k" not in looped.source and "_fmt(_k" in generators.source  # no parameter left to format
    assert "in enumerate(_k" in looped.source  # the EPR rules' registrations read once (compiler.CONSTANT_ROWS)
    assert "(_m1 := fn_tier_for(" in looped.source  # an order item's tier found once (compiler.MEMO)
    context = collect_context(items, looped.validators, looped, AS_OF)
    found = 0
    for document, *_ in items:
        totals = context.totals.get(document.get("id"), EMPTY) if document["kind"] == "merchant" else EMPTY
        mine = _outcome(looped, document, context.merchants, totals)
        assert mine == _outcome(generators, document, context.merchants, totals), document.get("id")
        found += len(mine[0])
    assert found > 500  # the catalog does break the rules, so the messages were compared too


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=st.one_of(products(), orders()))
def test_the_bundled_pack_says_the_same_on_any_snapshot(bundled: Pack, document: dict) -> None:
    """Products and orders of the property strategies, merchant or not in the scan."""
    with pytest.MonkeyPatch.context() as m:
        looped, generators = _both(bundled, m)
    for merchants in ({}, {document.get("merchant_id"): {"kind": "merchant", "id": document.get("merchant_id"),
                                                          "gold": True, "epr": []}}):
        assert _outcome(looped, document, merchants) == _outcome(generators, document, merchants)


T = Text("t", "t")


def _value(expression: str, tiers: list[dict], monkeypatch: pytest.MonkeyPatch,
           params: dict[str, Any] | None = None) -> tuple[str, str]:
    """The value of an expression over `price.tiers`, as a message shows it, compiled both ways."""
    rule = Rule(id="tier-anomaly/t", family="tier-anomaly", severity="error", penalty=None, kind="product",
                title=T, description=T, message=Text("{" + expression + "}", "-"), remedy=T, require="false",
                path="/", params=params or {}, file="test.toml")
    looped, generators = _both(Pack((rule,), "test"), monkeypatch)
    product = doc(SWEATER, price={"mode": "tiered", "tiers": tiers})
    with decimal_context():
        return tuple(c.render(0, product, AS_OF, None, None, "en")[1] for c in (looped, generators))  # type: ignore


TIERS = [
    {"min_qty": 1, "max_qty": 1, "price": "5.00"},
    {"min_qty": 2, "price": "9"},
    {"min_qty": 3, "max_qty": 3, "price": "5.0"},
    {"min_qty": 4, "max_qty": 4, "price": "7"},
    {"min_qty": 5, "price": "9.000"},
    {"min_qty": 6, "max_qty": 9, "price": "2.50"},
]


@pytest.mark.parametrize("expression, shown", [
    ("min(t.price for t in price.tiers if t.min_qty < 6)", "5.00"),  # the first of equal amounts, as written
    ("max(t.price for t in price.tiers)", "9"),
    ("sum(t.max_qty for t in price.tiers)", "17"),  # missing values are skipped
    ("sum(t.price for t in price.tiers if t.min_qty > 100)", "0"),
    ("first(t.max_qty for t in price.tiers if t.min_qty > 1)", "(missing)"),  # the first element, even a null one
    ("last(t.price for t in price.tiers if t.min_qty < 5)", "7"),
    ("count(t.max_qty for t in price.tiers if t.min_qty > 1)", "5"),  # null elements count
    ("any(t.price > 8 for t in price.tiers)", "true"),
    ("any(t.price > 9 for t in price.tiers)", "false"),
    ("all(t.max_qty > 0 for t in price.tiers)", "false"),  # a missing value compares false
    ("all(t.max_qty > 0 for t in price.tiers if t.max_qty != null)", "true"),
    ("min(t.price for t in price.tiers if t.min_qty > 100)", "(missing)"),
])
def test_each_aggregation_keeps_its_meaning(expression: str, shown: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _value(expression, TIERS, monkeypatch) == (shown, shown)


def test_nested_loops_see_the_outer_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop inside another's element reads the outer loop's variable, passed as an argument."""
    expression = "count(c for c in limits if any(t.price > c for t in price.tiers))"
    looped, generators = _value(expression, TIERS, monkeypatch, params={"limits": [1, 6, Decimal("9.00"), 10]})
    assert looped == generators == "2"  # a price above 1 and one above 6; none above 9.00 or 10


def test_parameter_only_parts_are_written_once() -> None:
    """`{max_drop}` and `{percent(1 - max_drop)}` are texts in the generated code, as the runtime writes them."""
    rule = Rule(id="tier-anomaly/t", family="tier-anomaly", severity="error", penalty=None, kind="product",
                title=T, description=T, message=Text("at most {max_drop} off, {percent(1 - max_drop)} % kept; "
                                                      "{count(price.tiers)} tiers", "-"),
                remedy=T, require="false", path="/", params={"max_drop": Decimal("0.40")}, file="test.toml")
    compiled = compile_pack(Pack((rule,), "test"))
    assert "'at most 0.40 off, 60.0 % kept; ' + _fmt(" in compiled.source
    with decimal_context():
        product = doc(SWEATER, price={"mode": "tiered", "tiers": TIERS})
        assert compiled.render(0, product, AS_OF, None, None, "en")[1] == "at most 0.40 off, 60.0 % kept; 6 tiers"
