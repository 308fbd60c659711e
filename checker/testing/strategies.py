"""Hypothesis strategies for snapshot documents (SNAPSHOTS.md).

Every document these strategies give is a valid snapshot: it passes the
schemas in `schemas/` (`checker.snapshots.check_document` finds no problem),
whatever options are chosen. Whether it breaks a *rule* is a separate choice,
made explicitly: `tier_tables(valid=True)` gives tables no tier-anomaly rule
of the pack flags, `tier_tables(valid=False)` tables that break at least one.

Money is generated as exact `Decimal` amounts and written in each spelling the
contract allows ("26.90", "26.9", 26.9), so a policy that compares amounts as
binary floats, or as text, shows up in a property test.

Options are keyword-only and checked when the strategy is built, not when it
is drawn from: `money(places=13)` raises `InvalidArgument` at once.

The tier strategies know what RULES.md 3 means, but take its numbers (the
most tiers a table may have, the largest drop from one tier to the next)
from a policy pack, as the checker does: `tier_tables(policies=MY_PACK)`
reads the params of the pack's rules `tier-anomaly/too-many-tiers`
(`max_tiers`) and `tier-anomaly/bait-tier` (`max_drop`). Without
`policies=` they follow the bundled pack, loaded the first time a strategy
needs it (not when it is built, so building strategies at import time
neither compiles nor caches a pack), and once only. Checks that depend on
the pack run when it is read: at once for `policies=`, at first use for the
bundled pack.
"""

from __future__ import annotations

import datetime as _dt
import functools
import string
from decimal import MAX_PREC, ROUND_CEILING, Context, Decimal, Inexact, InvalidOperation
from typing import TYPE_CHECKING, Any, Collection, Iterable, NamedTuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

if TYPE_CHECKING:
    from checker.policy.runtime import CompiledPack

__all__ = [
    "ANOMALIES",
    "SPELLINGS",
    "TierThresholds",
    "amounts",
    "countries",
    "documents",
    "identifiers",
    "merchants",
    "money",
    "orders",
    "products",
    "quantities",
    "signups",
    "spell",
    "spellings",
    "tier_tables",
    "tier_thresholds",
    "times",
]

#: The ways a money value may be written (SNAPSHOTS.md "Common value types").
SPELLINGS = ("fixed", "short", "number")
#: The tier-anomaly rules a table generated with valid=False can break, by rule id suffix
#: (rule "tier-anomaly/<name>"). A table is broken only in ways the pack has a rule for.
ANOMALIES = (
    "too-many-tiers",
    "minimums-not-rising",
    "range-gap",
    "last-tier-closed",
    "price-rises",
    "price-not-positive",
    "bait-tier",
)

# Limits of common.schema.json.
_MONEY_LIMIT = Decimal(10) ** 15  # a money string has at most 15 integer digits
_MAX_PLACES = 12  # ... and at most 12 decimals
_NUMBER_DIGITS = 15  # a float keeps a literal of at most 15 significant digits exactly
_QUANTITY_MAX = 10**12
_TABLE_MAX = 1000  # price.tiers has at most 1000 tiers
_ID_MAX = 200
_TEXT_MAX = 1000

_KINDS = ("product", "order", "merchant", "signup")
_PRICE_MODES = ("tiered", "sku", "range")
_UNITS = ("piece", "pieces", "set", "pair", "box", "carton", "container", "kilogram", "meter", "ton")
_CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY")
_COUNTRIES = ("DE", "FR", "GB", "US", "CN", "ES", "IT", "NL", "PL", "SE", "AT", "BE")
_INDUSTRIES = (
    "building-materials",
    "industrial-machinery",
    "construction-machinery",
    "apparel",
    "consumer-electronics",
)
_COMPOSITION = ("packaging", "circuit", "battery", "furniture", "tyres", "textile", "printed_paper")
_EPR_CATEGORIES = ("packaging", "weee", "battery", "furniture", "tyres", "textile", "paper")
_ACTIVITIES = ("million-dollar-club", "open-account-credit", "first-order", "buyer-carnival")
_MERCHANT_IDS = ("M-1", "M-2", "M-3")


# -- money ------------------------------------------------------------------------------


def spell(amount: Decimal, spelling: str, *, places: int | None = None) -> str | int | float:
    """`amount` written as JSON money in one `spelling` of SPELLINGS.

    "fixed" is a string with exactly `places` decimals ("26.90"; default: the
    decimals `amount` carries), "short" the shortest equal string ("26.9",
    "27"), "number" a JSON number: an int for a whole amount, else the float
    whose shortest repr is the amount (26.9). Raises ValueError when the
    amount cannot be written that way exactly: more decimals than `places`,
    or more than 15 significant digits for a number.
    """
    amount = _decimal(amount, "amount")
    if spelling == "fixed":
        fixed = amount
        if places is not None:
            fixed = amount.quantize(Decimal(1).scaleb(-places))
            if fixed != amount:
                raise ValueError(f"{amount} has more than {places} decimals")
        return format(fixed.copy_abs() if fixed == 0 else fixed, "f")
    if spelling == "short":
        text = format(amount.copy_abs() if amount == 0 else amount, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if spelling == "number":
        if amount == 0:
            return 0
        digits = amount.normalize().as_tuple().digits
        if len(digits) > _NUMBER_DIGITS:
            raise ValueError(f"{amount} has more than {_NUMBER_DIGITS} significant digits; a JSON number would round it")
        if amount == amount.to_integral_value():
            return int(amount)
        number = float(amount)
        if Decimal(repr(number)) != amount:  # pragma: no cover - guaranteed for <= 15 digits
            raise ValueError(f"{amount} is not exactly representable as a JSON number")
        return number
    raise ValueError(f"spelling must be one of {', '.join(SPELLINGS)} (got {spelling!r})")


def spellings(amount: Decimal, *, places: int | None = None) -> tuple[str | int | float, ...]:
    """Every distinct way to write `amount` as JSON money: fixed string, short string, number.

    The number is left out when it would not be exact (more than 15
    significant digits); a spelling equal to an earlier one is left out.
    """
    out: list[str | int | float] = []
    for spelling in SPELLINGS:
        try:
            value = spell(amount, spelling, places=places)
        except ValueError:
            continue
        if not any(type(v) is type(value) and v == value for v in out):
            out.append(value)
    return tuple(out)


def amounts(
    *,
    min_value: Decimal | int | str = Decimal("0.01"),
    max_value: Decimal | int | str = Decimal("10000"),
    places: int = 2,
) -> st.SearchStrategy[Decimal]:
    """Exact Decimal amounts from min_value to max_value with exactly `places` decimals.

    Shrinks towards the amount nearest zero in range. `places` is 0 to 12 and
    both bounds lie strictly within +-10**15 (common.schema.json money).
    """
    low, high = _units_range(min_value, max_value, places)
    return st.integers(low, high).map(lambda units: _amount(units, places))


def money(
    *,
    min_value: Decimal | int | str = Decimal("0.01"),
    max_value: Decimal | int | str = Decimal("10000"),
    places: int = 2,
) -> st.SearchStrategy[str | int | float]:
    """JSON money values: an amount of `amounts(...)` in any of its spellings.

    "26.90" (a string with `places` decimals), "26.9" (a shorter equal
    string) or 26.9 (a JSON number, only where that is exact).
    """
    return amounts(min_value=min_value, max_value=max_value, places=places).flatmap(
        lambda amount: st.sampled_from(spellings(amount, places=places))
    )


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidArgument(f"{name} must be a Decimal, int or decimal string (got {value!r})")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise InvalidArgument(f"{name} must be a decimal amount (got {value!r})") from None
    if not result.is_finite():
        raise InvalidArgument(f"{name} must be finite (got {value!r})")
    return result


def _check_places(places: object) -> int:
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= _MAX_PLACES:
        raise InvalidArgument(f"places must be an integer from 0 to {_MAX_PLACES} (got {places!r})")
    return places


def _units_range(min_value: object, max_value: object, places: object) -> tuple[int, int]:
    """The bounds as whole multiples of 10**-places, checked against the money schema."""
    places = _check_places(places)
    low, high = _decimal(min_value, "min_value"), _decimal(max_value, "max_value")
    for name, value in (("min_value", low), ("max_value", high)):
        if not -_MONEY_LIMIT < value < _MONEY_LIMIT:
            raise InvalidArgument(f"{name} must lie strictly between -10**15 and 10**15 (got {value})")
    if low > high:
        raise InvalidArgument(f"min_value must be at most max_value (got {low} > {high})")
    scale = Decimal(10) ** places
    first = int(-((-low * scale) // 1))  # ceiling
    last = int((high * scale) // 1)  # floor
    if first > last:
        raise InvalidArgument(f"no amount with {places} decimals lies between {low} and {high}")
    return first, last


def _amount(units: int, places: int) -> Decimal:
    return Decimal(units).scaleb(-places)


# -- small values ------------------------------------------------------------------------


def identifiers() -> st.SearchStrategy[str]:
    """Document ids: readable ones ("P-1042") and any other text of 1 to 24 characters."""
    return st.one_of(
        st.from_regex(r"\A[A-Z]{1,3}-[0-9]{1,6}\Z"),
        st.text(min_size=1, max_size=24),
    )


def quantities(*, min_value: int = 1, max_value: int = _QUANTITY_MAX) -> st.SearchStrategy[int]:
    """Quantities (MOQ, min_qty, items[].quantity): whole numbers from 1 to 10**12."""
    if not 1 <= min_value <= max_value <= _QUANTITY_MAX:
        raise InvalidArgument(
            f"quantities need 1 <= min_value <= max_value <= 10**12 (got {min_value}, {max_value})"
        )
    return st.integers(min_value, max_value)


def countries() -> st.SearchStrategy[str]:
    """ISO 3166-1 alpha-2 shaped codes, upper case: common ones and any two capitals."""
    return st.one_of(
        st.sampled_from(_COUNTRIES),
        st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2),
    )


def times(
    *,
    min_value: _dt.datetime = _dt.datetime(2020, 1, 1),
    max_value: _dt.datetime = _dt.datetime(2026, 12, 31, 23, 59, 59),
) -> st.SearchStrategy[str]:
    """Times in every form the contract allows, on real calendar days.

    A bare date ("2022-12-01"), a date-time with "T" or a space, with or
    without seconds and 1 to 9 decimals of a second, and with "Z", "z", an
    offset ("+05:30") or nothing (platform time).
    """
    if min_value.tzinfo is not None or max_value.tzinfo is not None or min_value > max_value:
        raise InvalidArgument("times needs naive min_value <= max_value")
    return _times(min_value, max_value)


_offsets = st.builds(
    lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
    st.sampled_from("+-"),
    st.integers(0, 23),
    st.integers(0, 59),
)


@st.composite
def _times(draw: Any, min_value: _dt.datetime, max_value: _dt.datetime) -> str:
    moment = draw(st.datetimes(min_value=min_value, max_value=max_value))
    date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    form = draw(st.sampled_from(("date", "minutes", "seconds", "fraction")))
    if form == "date":
        return date
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    if form != "minutes":
        clock += f":{moment.second:02d}"
    if form == "fraction":
        digits = draw(st.integers(1, 9))
        clock += "." + f"{moment.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits]
    zone = draw(st.one_of(st.just(""), st.sampled_from(("Z", "z")), _offsets))
    return f"{date}{draw(st.sampled_from('T '))}{clock}{zone}"


def _texts(*, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(max_size=min(max_size, _TEXT_MAX))


def _extra_values() -> st.SearchStrategy[Any]:
    """Values of fields the contract does not know: allowed, and ignored (SNAPSHOTS.md)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False),
        _texts(max_size=12),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(_texts(max_size=8), inner, max_size=3),
        ),
        max_leaves=6,
    )


def _with_extras(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A fixed dictionary whose optional fields are each present or absent, plus sometimes an unknown field."""
    return st.fixed_dictionaries(required, optional={**optional, "x_vendor_note": _extra_values()})


# -- tier tables ---------------------------------------------------------------------------

_LIMIT_RULE, _LIMIT_PARAM = "tier-anomaly/too-many-tiers", "max_tiers"
_DROP_RULE, _DROP_PARAM = "tier-anomaly/bait-tier", "max_drop"
#: by default a generated table has at most the pack's tier limit plus this many tiers,
#: so that a too-many-tiers table has one or two tiers too many
_SIZE_OVER_LIMIT = 2
#: by default a generated table has at most this many tiers when the pack sets no tier
#: limit: a choice of the generator, not a policy number
_SIZE_WITHOUT_LIMIT = 6
#: exact Decimal arithmetic: any result that would need rounding raises Inexact
_EXACT = Context(prec=MAX_PREC, rounding=ROUND_CEILING, traps=[Inexact])


class TierThresholds(NamedTuple):
    """The numbers of RULES.md 3 that a policy pack sets; None where it has no such rule."""

    #: param max_tiers of rule tier-anomaly/too-many-tiers: the most tiers a table may have
    max_tiers: int | None
    #: param max_drop of rule tier-anomaly/bait-tier: the largest fraction by which a price
    #: may drop from the tier before (a drop of exactly max_drop passes)
    max_drop: Decimal | None


def tier_thresholds(policies: CompiledPack | None = None) -> TierThresholds:
    """The tier thresholds `policies` sets (default: the bundled pack), read from the params
    of its rules tier-anomaly/too-many-tiers and tier-anomaly/bait-tier."""
    return _read_pack(_bundled_pack() if policies is None else _check_pack(policies))[0]


@functools.lru_cache(maxsize=None)
def _bundled_pack() -> CompiledPack:
    """The bundled pack, loaded the first time a strategy needs it, and only once."""
    import checker

    return checker.load_policies()


def _check_pack(policies: object) -> CompiledPack:
    import checker

    if not isinstance(policies, checker.CompiledPack):
        raise InvalidArgument(
            f"policies must be a checker.CompiledPack, as checker.load_policies(...) returns (got {policies!r})"
        )
    return policies


def _read_pack(policies: CompiledPack) -> tuple[TierThresholds, frozenset[str]]:
    """The pack's tier thresholds, and the anomalies (of ANOMALIES) it has a rule for."""
    rules = {rule.id: rule for rule in policies.pack.rules}
    ruled = frozenset(a for a in ANOMALIES if f"tier-anomaly/{a}" in rules)
    limit = drop = None
    if _LIMIT_RULE in rules:
        limit = _check_limit(_param(rules[_LIMIT_RULE], _LIMIT_PARAM), f"param {_LIMIT_PARAM} of rule {_LIMIT_RULE}")
    if _DROP_RULE in rules:
        drop = _check_drop(_param(rules[_DROP_RULE], _DROP_PARAM), f"param {_DROP_PARAM} of rule {_DROP_RULE}")
    return TierThresholds(limit, drop), ruled


def _param(rule: Any, name: str) -> Any:
    if name not in rule.params:
        where = f" ({rule.file})" if rule.file else ""
        raise InvalidArgument(f"rule {rule.id}{where} has no param {name}: the strategies cannot tell what it allows")
    return rule.params[name]


def _check_limit(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{name} must be a whole number of tiers, at least 0 (got {value!r})")
    return value


def _check_drop(value: object, name: str) -> Decimal:
    drop = _decimal(value, name)
    if not 0 <= drop <= 1:
        raise InvalidArgument(f"{name} must be a fraction from 0 to 1, such as 0.40 for 40 % (got {value!r})")
    return drop


def _lowest_kept(units: int, max_drop: Decimal) -> int:
    """The lowest whole number of units not more than `max_drop` below `units`: the ceiling
    of units * (1 - max_drop), in exact Decimal arithmetic (a rounded step would raise)."""
    return int(_EXACT.to_integral_value(_EXACT.multiply(Decimal(units), _EXACT.subtract(Decimal(1), max_drop))))


def tier_tables(
    *,
    min_tiers: int = 1,
    max_tiers: int | None = None,
    valid: bool | None = None,
    anomalies: Collection[str] | None = None,
    places: int = 2,
    max_price: Decimal | int | str = Decimal("10000"),
    policies: CompiledPack | None = None,
    tier_limit: int | None = None,
    max_drop: Decimal | int | str | None = None,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """`price.tiers` lists: schema-valid tier tables, clean or broken under RULES.md 3
    with the thresholds of a policy pack.

    The pack is `policies` (a `checker.CompiledPack` from
    `checker.load_policies(...)`; default: the bundled pack, loaded at first
    use). Its thresholds are the param `max_tiers` of rule
    tier-anomaly/too-many-tiers and `max_drop` of tier-anomaly/bait-tier;
    `tier_limit` and `max_drop` given here replace them. A pack without one
    of these rules (and no replacement given) sets no such limit: with no
    bait rule, a price may drop any amount.

    With valid=True a table no tier-anomaly rule flags once the listing's
    MOQ is its first minimum: min_tiers to max_tiers tiers, and no more than
    the pack's tier limit, minimums strictly rising, each given upper bound
    exactly the next minimum minus one, the last tier open-ended, prices
    above zero that never rise and never drop by more than max_drop from the
    tier before (exactly max_drop does occur). With valid=False such a table
    broken in one way of `anomalies` (default: any of ANOMALIES) that the
    size allows and the pack has a rule for, so that rule flags it.
    valid=None gives either. `max_tiers` bounds the size of every table
    (default: the pack's tier limit plus 2, or 6 when it has none). Prices
    have `places` decimals, are at most `max_price`, and are written in any
    money spelling; max_qty is absent, null or a number.
    """
    if isinstance(min_tiers, bool) or not isinstance(min_tiers, int) or not 1 <= min_tiers <= _TABLE_MAX:
        raise InvalidArgument(f"min_tiers must be an integer from 1 to {_TABLE_MAX} (got {min_tiers!r})")
    if max_tiers is not None:
        if isinstance(max_tiers, bool) or not isinstance(max_tiers, int) or max_tiers < min_tiers:
            raise InvalidArgument(
                f"max_tiers must be None or an integer of at least min_tiers={min_tiers} (got {max_tiers!r})"
            )
        if max_tiers > _TABLE_MAX:
            raise InvalidArgument(f"max_tiers must be at most {_TABLE_MAX}, the schema's limit (got {max_tiers})")
    if valid not in (True, False, None):
        raise InvalidArgument(f"valid must be True, False or None (got {valid!r})")
    _check_places(places)
    _, max_units = _units_range(Decimal(1).scaleb(-places), max_price, places)
    if max_units * 2 >= _MONEY_LIMIT * 10**places:
        raise InvalidArgument(f"max_price must be below 5 * 10**14 (got {max_price})")
    chosen = tuple(ANOMALIES if anomalies is None else anomalies)
    unknown = [a for a in chosen if a not in ANOMALIES]
    if unknown or not chosen:
        raise InvalidArgument(f"anomalies must be a non-empty selection of {', '.join(ANOMALIES)} (got {anomalies!r})")
    limit = None if tier_limit is None else _check_limit(tier_limit, "tier_limit")
    drop = None if max_drop is None else _check_drop(max_drop, "max_drop")
    build = functools.partial(
        _tier_tables_for,
        min_tiers=min_tiers,
        max_tiers=max_tiers,
        valid=valid,
        chosen=chosen,
        places=places,
        max_units=max_units,
        tier_limit=limit,
        max_drop=drop,
    )
    if policies is not None:
        return build(_check_pack(policies))

    def tier_tables_of_the_bundled_pack() -> st.SearchStrategy[list[dict[str, Any]]]:
        return build(_bundled_pack())

    return st.deferred(tier_tables_of_the_bundled_pack)


def _tier_tables_for(
    policies: CompiledPack,
    *,
    min_tiers: int,
    max_tiers: int | None,
    valid: bool | None,
    chosen: tuple[str, ...],
    places: int,
    max_units: int,
    tier_limit: int | None,
    max_drop: Decimal | None,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """tier_tables(...) once the pack is known: its thresholds, unless given, and the checks they allow."""
    thresholds, ruled = _read_pack(policies)
    limit = thresholds.max_tiers if tier_limit is None else tier_limit
    drop = thresholds.max_drop if max_drop is None else max_drop
    ruled |= {a for a, given in (("too-many-tiers", tier_limit), ("bait-tier", max_drop)) if given is not None}
    if max_tiers is None:
        default = _SIZE_WITHOUT_LIMIT if limit is None else limit + _SIZE_OVER_LIMIT
        max_tiers = min(max(default, min_tiers), _TABLE_MAX)
    can_be_valid = limit is None or min_tiers <= limit
    reasons = {a: _cannot_break(a, ruled, min_tiers, max_tiers, limit) for a in chosen}
    possible = tuple(a for a in chosen if reasons[a] is None)
    not_valid = f"a valid table has at most {limit} tiers under rule {_LIMIT_RULE} (got min_tiers={min_tiers})"
    not_broken = "no table can be broken in the ways asked: " + "; ".join(f"{a}: {reasons[a]}" for a in chosen)
    if valid is True and not can_be_valid:
        raise InvalidArgument(not_valid)
    if valid is False and not possible:
        raise InvalidArgument(not_broken)
    if valid is None and not can_be_valid and not possible:
        raise InvalidArgument(f"{not_valid}; and {not_broken}")
    options = []
    if valid is not False and can_be_valid:
        options.append(True)
    if valid is not True and possible:
        options.append(False)
    return _tier_tables(min_tiers, max_tiers, tuple(options), possible, places, max_units, limit, drop)


def _tier_range(anomaly: str, min_tiers: int, max_tiers: int, limit: int | None) -> tuple[int, int] | None:
    """How many tiers a table broken by `anomaly` can have, or None when it cannot be built."""
    if anomaly == "too-many-tiers":
        if limit is None:
            return None
        need = limit + 1
    else:
        need = {"minimums-not-rising": 2, "range-gap": 2, "price-rises": 2, "bait-tier": 2}.get(anomaly, 1)
    low = max(min_tiers, need)
    return (low, max_tiers) if low <= max_tiers else None


def _cannot_break(anomaly: str, ruled: frozenset[str], min_tiers: int, max_tiers: int, limit: int | None) -> str | None:
    """Why no table can be broken by `anomaly` here, or None when one can."""
    if anomaly not in ruled:
        return f"the pack has no rule tier-anomaly/{anomaly}"
    if _tier_range(anomaly, min_tiers, max_tiers, limit) is None:
        if anomaly == "too-many-tiers":
            return f"it takes more than {limit} tiers, and max_tiers={max_tiers}"
        return f"it takes at least 2 tiers, and max_tiers={max_tiers}"
    return None


@st.composite
def _tier_tables(
    draw: Any,
    min_tiers: int,
    max_tiers: int,
    options: tuple[bool, ...],
    anomalies: tuple[str, ...],
    places: int,
    max_units: int,
    limit: int | None,
    max_drop: Decimal | None,
) -> list[dict[str, Any]]:
    valid = draw(st.sampled_from(options))
    if valid:
        size = draw(st.integers(min_tiers, max_tiers if limit is None else min(max_tiers, limit)))
        tiers = draw(_clean_tiers(size, max_units, max_drop))
    else:
        anomaly = draw(st.sampled_from(anomalies))
        low, high = _tier_range(anomaly, min_tiers, max_tiers, limit)  # type: ignore[misc]
        tiers = draw(_clean_tiers(draw(st.integers(low, high)), max_units, max_drop))
        _break(draw, tiers, anomaly, max_units, max_drop)
    return [_written(draw, tier, places) for tier in tiers]


@st.composite
def _clean_tiers(draw: Any, size: int, max_units: int, max_drop: Decimal | None) -> list[dict[str, Any]]:
    """A clean table in working form: prices as whole units, max_qty as "absent", None or a number.

    Each price is from the lowest within max_drop of the one before (no bound
    without a bait rule) up to the one before, and above zero."""
    minimums = [draw(st.integers(1, 10_000))]
    for _ in range(size - 1):
        minimums.append(minimums[-1] + draw(st.integers(1, 100_000)))
    prices = [draw(st.integers(1, max_units))]
    for _ in range(size - 1):
        lowest = 1 if max_drop is None else max(1, _lowest_kept(prices[-1], max_drop))
        prices.append(draw(st.integers(lowest, prices[-1])))
    tiers = []
    for i, (least, units) in enumerate(zip(minimums, prices)):
        if i + 1 < size:
            bound = draw(st.sampled_from(("absent", None, minimums[i + 1] - 1)))
        else:
            bound = draw(st.sampled_from(("absent", None)))
        tiers.append({"min_qty": least, "max_qty": bound, "price": units})
    return tiers


def _break(
    draw: Any, tiers: list[dict[str, Any]], anomaly: str, max_units: int, max_drop: Decimal | None
) -> None:
    """Break a clean working table in the one way `anomaly` names (a fresh list; nobody else holds it)."""
    last = len(tiers) - 1
    if anomaly == "too-many-tiers":
        return  # the size alone breaks it
    if anomaly == "last-tier-closed":
        least = tiers[last]["min_qty"]
        tiers[last]["max_qty"] = draw(st.one_of(st.integers(least, least + 100_000), quantities()))
        return
    if anomaly == "price-not-positive":
        i = draw(st.integers(0, last))
        tiers[i]["price"] = draw(st.one_of(st.just(0), st.integers(-max_units, -1)))
        return
    i = draw(st.integers(1, last))
    before = tiers[i - 1]
    if anomaly == "minimums-not-rising":
        tiers[i]["min_qty"] = draw(st.integers(1, before["min_qty"]))
    elif anomaly == "range-gap":
        meet = tiers[i]["min_qty"] - 1
        before["max_qty"] = draw(
            st.one_of(st.integers(max(1, meet - 3), meet + 3), quantities()).filter(lambda q: q != meet)
        )
    elif anomaly == "price-rises":
        tiers[i]["price"] = before["price"] + draw(st.integers(1, before["price"]))
    elif anomaly == "bait-tier":
        assert max_drop is not None  # only possible when the pack has a drop limit
        # one unit below the lowest price within max_drop: 0 (or -1 for max_drop = 1) when nothing above zero is
        below = _lowest_kept(before["price"], max_drop) - 1
        tiers[i]["price"] = draw(st.integers(1, below)) if below >= 1 else below
    else:  # pragma: no cover - checked in tier_tables
        raise AssertionError(anomaly)


def _written(draw: Any, tier: dict[str, Any], places: int) -> dict[str, Any]:
    """A working tier as a snapshot writes it."""
    out: dict[str, Any] = {"min_qty": tier["min_qty"]}
    if tier["max_qty"] != "absent":
        out["max_qty"] = tier["max_qty"]
    out["price"] = draw(st.sampled_from(spellings(_amount(tier["price"], places), places=places)))
    return out


# -- documents ---------------------------------------------------------------------------------


def products(
    *,
    price_mode: str | None = None,
    tiers: st.SearchStrategy[list[dict[str, Any]]] | None = None,
    moqs: st.SearchStrategy[int] | None = None,
    merchant_ids: st.SearchStrategy[str] | None = None,
    places: int = 2,
    policies: CompiledPack | None = None,
    tier_limit: int | None = None,
    max_drop: Decimal | int | str | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `kind: "product"` documents.

    `price_mode` "tiered", "sku" or "range" (None: any). A tiered listing
    takes its table from `tiers` (default `tier_tables(policies=policies,
    tier_limit=tier_limit, max_drop=max_drop)`, clean or broken under that
    pack) and its MOQ from `moqs`, by default the first tier's minimum, so
    that only the table decides the tier-anomaly rules. SKU and range
    listings sometimes carry a stray `tiers` list too, which no tier rule
    may read. Optional fields (title, category, sample, shipping,
    promotions, times, an unknown vendor field ...) are each sometimes
    present. Amounts have `places` decimals. `policies`, `tier_limit` and
    `max_drop` only shape the default tables: with `tiers` given, pass them
    to the `tier_tables(...)` you give instead.
    """
    if tiers is not None and any(x is not None for x in (policies, tier_limit, max_drop)):
        raise InvalidArgument(
            "products(tiers=...) takes its tables as given: pass policies, tier_limit and max_drop "
            "to the tier_tables(...) given as tiers, not to products"
        )
    if tiers is None:
        _check_places(places)
        tiers = tier_tables(places=places, policies=policies, tier_limit=tier_limit, max_drop=max_drop)
    return _listings(
        with_kind=True,
        price_mode=price_mode,
        tiers=tiers,
        moqs=moqs,
        merchant_ids=merchant_ids,
        places=places,
    )


def _listings(
    *,
    with_kind: bool | None,
    price_mode: str | None,
    tiers: st.SearchStrategy[list[dict[str, Any]]] | None,
    moqs: st.SearchStrategy[int] | None,
    merchant_ids: st.SearchStrategy[str] | None,
    places: int,
) -> st.SearchStrategy[dict[str, Any]]:
    if price_mode is not None and price_mode not in _PRICE_MODES:
        raise InvalidArgument(f"price_mode must be one of {', '.join(_PRICE_MODES)} or None (got {price_mode!r})")
    _check_places(places)
    return _listing(
        with_kind,
        _PRICE_MODES if price_mode is None else (price_mode,),
        tiers if tiers is not None else tier_tables(places=places),
        moqs,
        merchant_ids if merchant_ids is not None else _merchant_ids(),
        places,
    )


def _merchant_ids() -> st.SearchStrategy[str]:
    """A few shared ids, so that references resolve within a generated scan, and any others."""
    return st.one_of(st.sampled_from(_MERCHANT_IDS), identifiers())


@st.composite
def _listing(
    draw: Any,
    with_kind: bool | None,
    modes: tuple[str, ...],
    tiers: st.SearchStrategy[list[dict[str, Any]]],
    moqs: st.SearchStrategy[int] | None,
    merchant_ids: st.SearchStrategy[str],
    places: int,
) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if with_kind is True or (with_kind is None and draw(st.booleans())):
        doc["kind"] = "product"
    doc["id"] = draw(identifiers())
    doc["merchant_id"] = draw(merchant_ids)
    doc["listing_type"] = draw(st.sampled_from(("rts", "customization")))
    mode = draw(st.sampled_from(modes))
    if mode == "tiered":
        table = draw(tiers)
        price: dict[str, Any] = {"mode": "tiered", "tiers": table}
        moq = draw(moqs) if moqs is not None else table[0]["min_qty"]
    else:
        if mode == "sku":
            skus = st.fixed_dictionaries(
                {
                    "attributes": st.dictionaries(_texts(max_size=12), _texts(max_size=12), max_size=3),
                    "price": money(places=places),
                }
            )
            price = {"mode": "sku", "skus": draw(st.lists(skus, min_size=1, max_size=4))}
        else:
            low, high = sorted(draw(st.lists(amounts(places=places), min_size=2, max_size=2)))
            price = {
                "mode": "range",
                "range": {
                    "min": draw(st.sampled_from(spellings(low, places=places))),
                    "max": draw(st.sampled_from(spellings(high, places=places))),
                },
            }
        if draw(st.booleans()):
            price["tiers"] = draw(tiers)
        moq = draw(moqs if moqs is not None else quantities(max_value=100_000))
    doc["moq"] = moq
    doc["price"] = price
    doc.update(draw(_with_extras({}, _listing_fields(places))))
    return doc


def _listing_fields(places: int) -> dict[str, st.SearchStrategy[Any]]:
    booleans = st.booleans()
    return {
        "title": _texts(),
        "category": st.lists(_texts(max_size=30), max_size=4),
        "unit": st.one_of(st.sampled_from(_UNITS), _texts(max_size=12)),
        "currency": st.one_of(
            st.sampled_from(_CURRENCIES), st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3)
        ),
        "country_pricing": booleans,
        "sample": st.fixed_dictionaries(
            {"available": booleans},
            optional={
                "price": money(places=places),
                "moq": quantities(max_value=1000),
                "determinate": booleans,
            },
        ),
        "customizations": st.lists(
            st.fixed_dictionaries({"name": _texts(max_size=30), "moq": quantities(max_value=100_000)}),
            max_size=3,
        ),
        "shipping": st.lists(
            st.fixed_dictionaries(
                {"country": countries(), "computable": booleans, "guaranteed": booleans},
                optional={"fee": money(min_value=0, max_value=5000, places=places)},
            ),
            max_size=3,
        ),
        "composition": st.fixed_dictionaries({}, optional={name: booleans for name in _COMPOSITION}),
        "promotions": st.lists(
            st.fixed_dictionaries(
                {
                    "id": identifiers(),
                    "type": st.sampled_from(("member-price", "new-buyer")),
                    "audience": st.sampled_from(("L2+", "new", "all")),
                    # in 折: "9.5" means the buyer pays 95 %
                    "discount": money(min_value="0.1", max_value="9.9", places=1),
                    "start": times(),
                    "end": times(),
                },
                optional={"stock": st.integers(0, 10**6)},
            ),
            max_size=2,
        ),
        "created_at": times(),
        "updated_at": times(),
    }


def orders(
    *,
    merchant_ids: st.SearchStrategy[str] | None = None,
    listings: st.SearchStrategy[dict[str, Any]] | None = None,
    max_items: int = 3,
    places: int = 2,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `kind: "order"` documents: orders, sample orders and quotes.

    1 to `max_items` items, each embedding the listing as the buyer saw it
    (from `listings`, default a product of any price mode, with or without
    its `kind`), a quantity, and sometimes the SKU (one of the listing's
    when it is priced by SKU), a unit price (money or null), member price,
    customizations, the seller's minimum and refusal. Buyer, destination and
    shipping fee are sometimes present.
    """
    if isinstance(max_items, bool) or not isinstance(max_items, int) or not 1 <= max_items <= 10_000:
        raise InvalidArgument(f"max_items must be an integer from 1 to 10000 (got {max_items!r})")
    _check_places(places)
    merchant_ids = merchant_ids if merchant_ids is not None else _merchant_ids()
    if listings is None:
        listings = _listings(
            with_kind=None, price_mode=None, tiers=None, moqs=None, merchant_ids=merchant_ids, places=places
        )
    return _orders(merchant_ids, listings, max_items, places)


@st.composite
def _orders(
    draw: Any,
    merchant_ids: st.SearchStrategy[str],
    listings: st.SearchStrategy[dict[str, Any]],
    max_items: int,
    places: int,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "order",
        "id": draw(identifiers()),
        "type": draw(st.sampled_from(("order", "sample", "quote"))),
        "merchant_id": draw(merchant_ids),
        "created_at": draw(times()),
        "items": [draw(_order_items(draw(listings), places)) for _ in range(draw(st.integers(1, max_items)))],
    }
    buyer = st.fixed_dictionaries(
        {"id": identifiers(), "level": st.sampled_from(("L0", "L1", "L2", "L3", "L4"))},  # SNAPSHOTS: {id, level, country?}
        optional={"country": countries()},
    )
    doc.update(
        draw(
            _with_extras(
                {},
                {
                    "buyer": buyer,
                    "ship_to": countries(),
                    "shipping_fee": money(min_value=0, max_value=5000, places=places),
                },
            )
        )
    )
    return doc


def _order_items(listing: dict[str, Any], places: int) -> st.SearchStrategy[dict[str, Any]]:
    price = listing["price"]
    if price["mode"] == "sku":
        skus: st.SearchStrategy[Any] = st.sampled_from([s["attributes"] for s in price["skus"]])
    else:
        skus = st.dictionaries(_texts(max_size=12), _texts(max_size=12), max_size=2)
    names = [c["name"] for c in listing.get("customizations", ())]
    wanted = st.lists(st.sampled_from(names), max_size=2) if names else st.lists(_texts(max_size=20), max_size=2)
    return st.fixed_dictionaries(
        {"listing": st.just(listing), "quantity": quantities(max_value=1_000_000)},
        optional={
            "sku": skus,
            "unit_price": st.one_of(st.none(), money(places=places)),
            "member_price": st.booleans(),
            "customizations": wanted,
            "seller_min_qty": quantities(max_value=1_000_000),
            "refused": st.booleans(),
        },
    )


def merchants(*, ids: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `kind: "merchant"` documents: id from `ids`, and sometimes name, Gold
    membership, star level 0-5, primary industry and EPR registrations."""
    epr = st.fixed_dictionaries(
        {
            "country": countries(),
            "category": st.sampled_from(_EPR_CATEGORIES),
            "number": _texts(max_size=20),
            "verified": st.booleans(),
        }
    )
    return _with_extras(
        {
            "kind": st.just("merchant"),
            "id": ids if ids is not None else _merchant_ids(),
        },
        {
            "name": _texts(),
            "gold": st.booleans(),
            "star_level": st.integers(0, 5),
            "primary_industry": st.one_of(st.sampled_from(_INDUSTRIES), _texts(max_size=20)),
            "epr": st.lists(epr, max_size=3),
        },
    )


def signups(*, merchant_ids: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `kind: "signup"` documents: a merchant's sign-up for a platform activity."""
    return _with_extras(
        {
            "kind": st.just("signup"),
            "id": identifiers(),
            "merchant_id": merchant_ids if merchant_ids is not None else _merchant_ids(),
            "activity": st.sampled_from(_ACTIVITIES),
            "signed_up_at": times(),
        },
        {},
    )


def documents(*, kinds: Iterable[str] = _KINDS, places: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Valid documents of the given kinds (default every kind), each kind from its strategy above."""
    chosen = tuple(kinds)
    unknown = [k for k in chosen if k not in _KINDS]
    if unknown or not chosen:
        raise InvalidArgument(f"kinds must be a non-empty selection of {', '.join(_KINDS)} (got {chosen!r})")
    makers = {
        "product": lambda: products(places=places),
        "order": lambda: orders(places=places),
        "merchant": merchants,
        "signup": signups,
    }
    return st.one_of([makers[k]() for k in chosen])
