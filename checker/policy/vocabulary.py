"""The functions a policy expression may call, and the runtime they compile to.

Adding a kind of check to the language means adding one function here: its
name, the types it takes, the type it gives, the Python that runs it, and a
line of documentation with an example (docs/policies.md lists them all and a
test checks that every one is documented). Nothing else is callable from a
policy.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Callable

import attrs

from ..values import BadValue, PLATFORM_TZ, to_decimal, to_number, to_time
from .types import BOOL, NUMBER, TIME, Type

# -- runtime helpers named by generated code ---------------------------------------

EMPTY: Any = MappingProxyType({})


def at(seq: Any, index: int) -> Any:
    """seq[index], or None when the list is missing or too short."""
    if seq is None:
        return None
    try:
        return seq[index]
    except IndexError:
        return None


def div(a: Any, b: Any) -> Any:
    """a / b exactly; None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return Decimal(a) / Decimal(b)


def fn_count(seq: Any) -> int:
    if seq is None:
        return 0
    if isinstance(seq, list):
        return len(seq)
    return sum(1 for x in seq if x)


def fn_present(value: Any) -> bool:
    return value is not None


def fn_first(seq: Any) -> Any:
    return seq[0] if seq else None


def fn_last(seq: Any) -> Any:
    return seq[-1] if seq else None


def fn_min(seq: Any) -> Any:
    values = [v for v in seq if v is not None] if seq is not None else []
    return min(values) if values else None


def fn_max(seq: Any) -> Any:
    values = [v for v in seq if v is not None] if seq is not None else []
    return max(values) if values else None


def fn_sum(seq: Any) -> Any:
    if seq is None:
        return 0
    return sum((v for v in seq if v is not None), 0)


def fn_any(seq: Any) -> bool:
    return seq is not None and any(seq)


def fn_all(seq: Any) -> bool:
    return seq is None or all(seq)


def fn_abs(value: Any) -> Any:
    return None if value is None else abs(value)


def fn_round(value: Any, digits: int) -> Any:
    """Half-up rounding to `digits` decimals (RULES.md 6.6), exact."""
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def fn_percent(ratio: Any) -> Any:
    if ratio is None:
        return None
    return fn_round(Decimal(ratio) * 100, 1)


def fn_add_days(when: Any, days: Any) -> Any:
    if when is None or days is None:
        return None
    # Calendar days in platform time: 14 days from 10:00 is 10:00, across DST too.
    local = when.astimezone(PLATFORM_TZ)
    return (local.replace(tzinfo=None) + _dt.timedelta(days=int(days))).replace(tzinfo=PLATFORM_TZ)


def fn_add_months(when: Any, months: Any) -> Any:
    if when is None or months is None:
        return None
    local = when.astimezone(PLATFORM_TZ)
    index = local.month - 1 + int(months)
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


RUNTIME: dict[str, Any] = {
    "_E": EMPTY,
    "_at": at,
    "_div": div,
    "_money": to_decimal,
    "_num": to_number,
    "_time": to_time,
    "_BadValue": BadValue,
    "Decimal": Decimal,
}

# -- the vocabulary --------------------------------------------------------------------


def _elem_of(args: list[Type]) -> Type:
    elem = args[0].elem
    return (elem or Type("null")).null()


def _same(args: list[Type]) -> Type:
    return args[0]


@attrs.frozen
class Function:
    name: str
    #: what each argument must be: a type name, "list", "list-of-number", "constant-number", "constant-text", "any"
    params: tuple[str, ...]
    returns: Callable[[list[Type]], Type]
    runtime: Callable[..., Any]
    doc: str
    example: str
    #: may take `X for x in LIST if COND` as its argument
    generator: bool = False


def _fixed(t: Type) -> Callable[[list[Type]], Type]:
    return lambda args: t


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("count", ("list",), _fixed(NUMBER), fn_count,
                 "How many items a list has (0 when it is missing); with `for`, how many satisfy a condition.",
                 "count(price.tiers) <= 4", generator=True),
        Function("present", ("any",), _fixed(BOOL), fn_present,
                 "True when the value is given (not missing, not null).",
                 "present(sample.price)"),
        Function("first", ("list",), _elem_of, fn_first,
                 "The first item of a list, or null when it is empty.",
                 "first(price.tiers).min_qty == moq"),
        Function("last", ("list",), _elem_of, fn_last,
                 "The last item of a list, or null when it is empty.",
                 "last(price.tiers).max_qty == null"),
        Function("min", ("list-of-ordered",), _elem_of, fn_min,
                 "The smallest of a list of numbers or times (null when empty).",
                 "min(s.price for s in price.skus) > 0", generator=True),
        Function("max", ("list-of-ordered",), _elem_of, fn_max,
                 "The largest of a list of numbers or times (null when empty).",
                 "max(s.price for s in price.skus) <= 5 * min(s.price for s in price.skus)", generator=True),
        Function("sum", ("list-of-number",), _fixed(NUMBER), fn_sum,
                 "The exact sum of a list of numbers (0 when empty).",
                 "sum(i.quantity for i in items) >= 1", generator=True),
        Function("any", ("list-of-bool",), _fixed(BOOL), fn_any,
                 "True when at least one item satisfies the condition.",
                 "any(c.moq > moq for c in customizations)", generator=True),
        Function("all", ("list-of-bool",), _fixed(BOOL), fn_all,
                 "True when every item satisfies the condition (also when there are none).",
                 "all(t.price > 0 for t in price.tiers)", generator=True),
        Function("abs", ("number",), _same, fn_abs,
                 "The absolute value of a number.",
                 "abs(price.range.max - price.range.min) >= 0"),
        Function("round", ("number", "constant-number"), _same, fn_round,
                 "A number rounded half-up (0.005 -> 0.01) to the given decimals, exactly.",
                 'round(6.00 * 0.95, 2) == 5.70'),
        Function("percent", ("number",), _same, fn_percent,
                 "A ratio as a percentage rounded half-up to one decimal: percent(0.4505) is 45.1.",
                 "percent(1 - 10.00 / 18.20) == 45.1"),
        Function("add_days", ("time", "number"), _fixed(TIME), fn_add_days,
                 "A time moved by whole calendar days in platform time.",
                 'add_days(created_at, 14) > created_at'),
        Function("add_months", ("time", "number"), _fixed(TIME), fn_add_months,
                 "A time moved by calendar months in platform time (Jan 31 + 1 month is Feb 28 or 29).",
                 'add_months(date("2022-12-01"), 4) == date("2023-04-01")'),
        Function("date", ("constant-text",), _fixed(TIME), to_time,
                 "A fixed time written as text: a date is 00:00 platform time (America/Los_Angeles).",
                 'date("2022-12-27") == date("2022-12-27T00:00:00-08:00")'),
    ]
}
