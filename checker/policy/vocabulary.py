"""The functions a policy expression may call, and the runtime they compile to.

Adding a kind of check to the language means adding one function here: its
name, the types it takes, the type it gives, the Python that runs it (in
runtime.py), and a
line of documentation with an example (docs/policies.md lists them all and a
test checks that every one is documented). Nothing else is callable from a
policy.
"""

from __future__ import annotations

from typing import Callable

import attrs

from .runtime import FUNCTIONS_RUNTIME
from .types import BOOL, NUMBER, TEXT, TIME, Type

# -- the vocabulary --------------------------------------------------------------------


def _elem_of(args: list[Type]) -> Type:
    elem = args[0].elem
    return (elem or Type("null")).null()


def _values(args: list[Type]) -> Type:
    return Type("list", elem=(args[0].elem or Type("null", nullable=True)).null(False))


def _elem_with(field: str) -> Callable[[list[Type]], Type]:
    def returns(args: list[Type]) -> Type:
        elem = args[0].elem
        if elem is None or elem.field(field) is None:
            from .expressions import ExpressionError

            raise ExpressionError(f"this function takes a list of items that have a {field!r} field")
        return elem.null()

    return returns


def _same(args: list[Type]) -> Type:
    return args[0]


@attrs.frozen
class Function:
    name: str
    #: what each argument must be: a type name, "list", "list-of-number", "constant-number", "constant-text", "any"
    params: tuple[str, ...]
    returns: Callable[[list[Type]], Type]
    doc: str
    example: str
    #: may take `X for x in LIST if COND` as its argument
    generator: bool = False


def _fixed(t: Type) -> Callable[[list[Type]], Type]:
    return lambda args: t


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("count", ("list",), _fixed(NUMBER),
                 "How many items a list has (0 when it is missing); with `for ... if`, how many satisfy the condition.",
                 "count(price.tiers) <= 4", generator=True),
        Function("present", ("any",), _fixed(BOOL),
                 "True when the value is given (not missing, not null).",
                 "present(sample.price)"),
        Function("first", ("list",), _elem_of,
                 "The first item of a list (with `for ... if`: the first that satisfies the condition), or null.",
                 "first(price.tiers).min_qty == moq", generator=True),
        Function("last", ("list",), _elem_of,
                 "The last item of a list (with `for ... if`: the last that satisfies the condition), or null.",
                 "last(price.tiers).max_qty == null", generator=True),
        Function("min", ("list-of-ordered",), _elem_of,
                 "The smallest of a list of numbers or times (null when empty).",
                 "min(s.price for s in price.skus) > 0", generator=True),
        Function("max", ("list-of-ordered",), _elem_of,
                 "The largest of a list of numbers or times (null when empty).",
                 "max(s.price for s in price.skus) <= 5 * min(s.price for s in price.skus)", generator=True),
        Function("sum", ("list-of-number",), _fixed(NUMBER),
                 "The exact sum of a list of numbers (0 when empty).",
                 "sum(t.price for t in price.tiers) > 0", generator=True),
        Function("any", ("list-of-bool",), _fixed(BOOL),
                 "True when at least one item satisfies the condition.",
                 "any(c.moq > moq for c in customizations)", generator=True),
        Function("all", ("list-of-bool",), _fixed(BOOL),
                 "True when every item satisfies the condition (also when there are none).",
                 "all(t.price > 0 for t in price.tiers)", generator=True),
        Function("abs", ("number",), _same,
                 "The absolute value of a number.",
                 "abs(price.range.max - price.range.min) >= 0"),
        Function("round", ("number", "constant-number"), _same,
                 "A number rounded half-up (0.005 -> 0.01) to the given decimals, exactly.",
                 'round(6.00 * 0.95, 2) == 5.70'),
        Function("round_up", ("number", "constant-number"), _same,
                 "A number rounded up (towards more) to the given decimals: the least price not below it.",
                 "round_up(18.24 * 0.6, 2) == 10.95"),
        Function("percent", ("number",), _same,
                 "A ratio as a percentage rounded half-up to one decimal: percent(0.4505) is 45.1.",
                 "percent(1 - 10.00 / 18.20) == 45.1"),
        Function("exact", ("number", "constant-number"), _same,
                 "A number as it is, written with at least the given decimals (a limit in a message, true of "
                 "sub-cent prices too); over 8 decimals, rounded up at the 8th.",
                 "exact(0.0709 * 0.6, 2) == 0.04254 and exact(20.00 * 0.6, 2) == 12.00"),
        Function("percent_beyond", ("number", "number"), _same,
                 "A ratio as a percentage on its side of a limit (a ratio): one decimal, or as many more as "
                 "it takes not to show it at the limit: percent_beyond(1 - 10.94 / 18.24, 0.4) is 40.02.",
                 "percent_beyond(1 - 10.94 / 18.24, 0.40) == 40.02"),
        Function("normalize", ("text",), _fixed(TEXT.null()),
                 "Text as keywords compare: full-width characters made half-width, case and extra spaces ignored.",
                 'normalize("Ｓｈｉｐｐｉｎｇ  FEE") == "shipping fee"'),
        Function("contains_any", ("text", "list-of-text"), _fixed(BOOL),
                 "True when one of the words occurs in the text as a word (see normalize; hyphens and underscores "
                 "are spaces): 'freight' is not in 'Freightliner', 'deposit' is in 'deposits'.",
                 'contains_any("Customized Logo", ["logo", "定制"])'),
        Function("normalize_all", ("list-of-text",), _fixed(Type("list", elem=TEXT)),
                 "Each text of a list normalized (see normalize): compare names whatever their spelling.",
                 'normalize("customized LOGO") in normalize_all(["Customized logo"])'),
        Function("join", ("list-of-text", "text"), _fixed(TEXT),
                 "The texts of a list one after the other, with the separator between them.",
                 'contains_any(join(values(price.skus[0].attributes), " "), ["m"])'),
        Function("values", ("map",), _values,
                 "The values of a table of names to values, such as a SKU's sale attributes, in the order "
                 "of their names (a JSON object has no order of its own).",
                 'count(values(price.skus[0].attributes)) == 1'),
        Function("keys", ("map",), _fixed(Type("list", elem=TEXT)),
                 "The names of a table of names to values, such as a SKU's attribute names, sorted.",
                 '"Size" in keys(price.skus[0].attributes)'),
        Function("tier_for", ("list-of-object", "number"), _elem_with("min_qty"),
                 "The price tier a quantity falls in: the one with the largest min_qty not above it.",
                 "tier_for(price.tiers, 1500).price == 25.90"),
        Function("sku_for", ("list-of-object", "map"), _elem_with("attributes"),
                 "The SKU whose sale attributes are exactly the given ones.",
                 "sku_for(price.skus, price.skus[1].attributes).price == 27.90"),
        Function("day", ("time",), _fixed(NUMBER.null()),
                 "The day of the month of a time, in platform time.",
                 'day(date("2022-12-07T07:59:59Z")) == 6'),
        Function("shape", ("text", "list-of-text"), _fixed(BOOL),
                 "True when the text has one of the shapes: 9 a digit, A a letter, X a letter or digit, "
                 "anything else itself.",
                 'shape("DE 23691322", ["DE99999999", "DE 99999999"])'),
        Function("add_days", ("time", "number"), _fixed(TIME.null()),
                 "A time moved by whole calendar days in platform time; missing beyond the calendar (year 9999).",
                 'add_days(created_at, 14) > created_at'),
        Function("add_months", ("time", "number"), _fixed(TIME.null()),
                 "A time moved by calendar months in platform time (Jan 31 + 1 month is Feb 28 or 29); missing "
                 "beyond the calendar.",
                 'add_months(date("2022-12-01"), 4) == date("2023-04-01")'),
        Function("date", ("constant-text",), _fixed(TIME),
                 "A fixed time written as text: a date is 00:00 platform time (America/Los_Angeles).",
                 'date("2022-12-27") == date("2022-12-27T00:00:00-08:00")'),
    ]
}

# every function has its Python in runtime.py (fn_<name>), and nothing else is callable
if set(FUNCTIONS) != set(FUNCTIONS_RUNTIME):  # pragma: no cover - a defect caught by any test run
    raise ImportError(f"vocabulary and runtime differ: {sorted(set(FUNCTIONS) ^ set(FUNCTIONS_RUNTIME))}")
