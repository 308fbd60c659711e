"""Exact values: money as Decimal, time as timezone-aware datetime.

SNAPSHOTS.md "Common value types": money is a decimal string or a JSON
number, compared exactly; a time without an offset, or a bare date, is
platform time (America/Los_Angeles).
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

PLATFORM_TZ = ZoneInfo("America/Los_Angeles")
#: the shapes of time SNAPSHOTS.md allows (as schemas/common.schema.json#/$defs/time says)
_TIME_SHAPE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)


class BadValue(ValueError):
    """A value that passed the snapshot schema but cannot be used (e.g. 2022-02-30)."""

    def __init__(self, value: object, expected: str) -> None:
        super().__init__(f"{value!r} is not {expected}")
        self.value = value
        self.expected = expected


_decimals: dict[str, Decimal] = {}


def to_decimal(value: object) -> Decimal | None:
    """Money or a number as an exact Decimal; None stays None.

    A JSON number arrives from the parser as int or float. A float is
    converted through its shortest repr, which is the literal the sender
    wrote whenever it had at most 15 significant digits; the reader sends
    longer literals through an exact parser instead (see reading.py).
    """
    cls = value.__class__
    if cls is Decimal or value is None:
        return value  # type: ignore[return-value]
    if cls is str:
        # Catalogs repeat amounts ("12.50"): Decimals are immutable, so one per text is shared.
        found = _decimals.get(value)  # type: ignore[call-overload]
        if found is None:
            try:
                found = Decimal(value)  # type: ignore[arg-type]
            except InvalidOperation:
                raise BadValue(value, "a decimal amount") from None
            if len(_decimals) > 65536:
                _decimals.clear()
            _decimals[value] = found  # type: ignore[index]
        return found
    if cls is int:
        return Decimal(value)  # type: ignore[arg-type]
    if cls is float:
        return Decimal(repr(value))
    raise BadValue(value, "a decimal amount")


def to_number(value: object) -> int | Decimal | None:
    """An integer field stays int; a float (e.g. 100.0) becomes an exact Decimal."""
    cls = value.__class__
    if cls is int or value is None or cls is Decimal:
        return value  # type: ignore[return-value]
    if cls is float:
        return Decimal(repr(value))
    raise BadValue(value, "a number")


def parse_time(value: object) -> _dt.datetime:
    """An RFC 3339 time, a local date-time or a bare date, as an aware datetime.

    Without an offset the value is platform time (America/Los_Angeles); a
    bare date is 00:00 platform time on that day.
    """
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=PLATFORM_TZ)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=PLATFORM_TZ)
    if not isinstance(value, str):
        raise BadValue(value, "a time (RFC 3339 or YYYY-MM-DD)")
    text = value.strip()
    if _TIME_SHAPE.fullmatch(text) is None:
        raise BadValue(value, "a time (RFC 3339 or YYYY-MM-DD)")
    if text.endswith("z"):  # RFC 3339 allows a lower-case z; fromisoformat does not
        text = text[:-1] + "Z"
    try:
        if len(text) == 10:
            d = _dt.date.fromisoformat(text)
            return _dt.datetime(d.year, d.month, d.day, tzinfo=PLATFORM_TZ)
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadValue(value, "a time (RFC 3339 or YYYY-MM-DD)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PLATFORM_TZ)
    return parsed


_time_cache: dict[str, _dt.datetime] = {}


def to_time(value: object) -> _dt.datetime | None:
    """parse_time for document fields, memoised: catalogs repeat the same timestamps."""
    if value is None:
        return None
    hit = _time_cache.get(value)  # type: ignore[arg-type]
    if hit is None:
        hit = parse_time(value)
        if len(_time_cache) > 4096:
            _time_cache.clear()
        _time_cache[value] = hit  # type: ignore[index]
    return hit


def format_time(value: _dt.datetime) -> str:
    """A time for people and machine outputs: RFC 3339 in platform time."""
    return value.astimezone(PLATFORM_TZ).isoformat()
