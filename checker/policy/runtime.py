"""What compiled policies run on: the helpers generated code calls, and linking.

This is all a cache hit needs (see cache.py): no TOML, no expression
parser, no jsonschema. Generated code sees exactly `namespace()`: these
helpers, the vocabulary's functions as `fn_<name>`, its hoisted constants and
four builtins (len, range, enumerate, and Exception to catch a failing rule).
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

import attrs

from ..values import PLATFORM_TZ, BadValue, format_time, to_decimal, to_number, to_time
from ..model import KINDS
from .model import Pack

#: Decimal digits for policy arithmetic: amounts have at most 27 (15 + 12, schemas/common.schema.json),
#: so sums and products of two amounts are exact; only division rounds, at this many digits.
PRECISION = 60


def decimal_context() -> Any:
    """The arithmetic rules run in (a local context: a caller's own Decimal settings are untouched)."""
    import decimal

    return decimal.localcontext(prec=PRECISION, Emax=999_999, Emin=-999_999)


# -- helpers named by generated code ---------------------------------------

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
    """Items in a list, or items a `for ... if` expression gives (whatever their values)."""
    if seq is None:
        return 0
    if isinstance(seq, list):
        return len(seq)
    return sum(1 for _ in seq)


def fn_present(value: Any) -> bool:
    return value is not None


def fn_first(seq: Any) -> Any:
    if seq is None:
        return None
    if isinstance(seq, (list, tuple)):
        return seq[0] if seq else None
    return next(iter(seq), None)


def fn_last(seq: Any) -> Any:
    if seq is None:
        return None
    if not isinstance(seq, (list, tuple)):
        seq = list(seq)
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


def fn_round_up(value: Any, digits: int) -> Any:
    """Rounded up (towards +infinity) to `digits` decimals: the least price that is not below `value`."""
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_CEILING)


def fn_percent(ratio: Any) -> Any:
    if ratio is None:
        return None
    return fn_round(Decimal(ratio) * 100, 1)


#: decimals `exact` and `percent_beyond` show at most: 1 / 3 has no end
_MOST_PLACES = 8


def fn_exact(value: Any, places: int) -> Any:
    """The number itself, written with at least `places` decimals: a limit stated in a message that is
    true of sub-cent prices (0.0709 x 0.6 is 0.04254, where round_up(…, 2) said 0.05, a price that is not
    the least to pass). A number with more than 8 decimals is rounded up at the 8th (the safe side of an
    "at least")."""
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite():
        return value
    least = Decimal(1).scaleb(-places)
    exponent = value.as_tuple().exponent
    if exponent >= -places:  # type: ignore[operator]
        return value.quantize(least) if abs(value.adjusted()) < 30 else value
    shown = value.normalize()
    if shown.as_tuple().exponent < -_MOST_PLACES:  # type: ignore[operator]
        return value.quantize(Decimal(1).scaleb(-_MOST_PLACES), rounding=ROUND_CEILING)
    return shown.quantize(least) if shown.as_tuple().exponent > -places else shown  # type: ignore[operator]


def fn_percent_beyond(ratio: Any, limit: Any) -> Any:
    """A ratio as a percentage, on its side of `limit` (a ratio too): one decimal, or as many more as it
    takes not to show it at or across the limit (18.24 to 10.94 is 40.02 % lower, beyond a limit of 40 %,
    where percent said 40.0); at the 8th decimal, rounded away from the limit."""
    if ratio is None:
        return None
    if limit is None:
        return fn_percent(ratio)
    shown, line = Decimal(ratio) * 100, Decimal(limit) * 100
    if shown == line:  # the limit itself, exactly
        return shown if shown.as_tuple().exponent < 0 else shown.quantize(Decimal("0.1"))  # type: ignore[operator]
    above = shown > line
    for places in range(1, _MOST_PLACES + 1):
        rounded = fn_round(shown, places)
        if (rounded > line) if above else (rounded < line):
            return rounded
    return shown.quantize(Decimal(1).scaleb(-_MOST_PLACES), rounding=ROUND_CEILING if above else ROUND_FLOOR)


def fn_add_days(when: Any, days: Any) -> Any:
    """Calendar days in platform time: 14 days from 10:00 is 10:00, across DST too. Missing when
    the result is beyond the calendar (year 9999)."""
    if when is None or days is None or abs(days) > _MAX_DAYS:  # beyond the calendar, before int() makes a
        return None  # whole number of each of its digits (1 / 1e-300 from a document: 300 digits; far more)
    key = (when, days)
    if key in _added_days:  # a window's start, `add_days(as_of, -180)`, is the same for every order of a scan
        return _added_days[key]
    local = when.astimezone(PLATFORM_TZ)
    try:
        found = (local.replace(tzinfo=None) + _dt.timedelta(days=int(days))).replace(tzinfo=PLATFORM_TZ)
    except (OverflowError, ValueError):
        found = None
    if len(_added_days) > 4096:
        _added_days.clear()
    _added_days[key] = found
    return found


_added_days: dict[tuple[Any, Any], Any] = {}
#: more days than the calendar has (years 1 to 9999: ~3.65 million)
_MAX_DAYS = 4_000_000


def fn_add_months(when: Any, months: Any) -> Any:
    """Calendar months in platform time (Jan 31 + 1 month is the end of February); missing beyond year 9999."""
    if when is None or months is None or abs(months) > _MAX_DAYS // 28:  # beyond the calendar (see add_days)
        return None
    import calendar

    local = when.astimezone(PLATFORM_TZ)
    index = local.month - 1 + int(months)
    year, month = local.year + index // 12, index % 12 + 1
    if not 1 <= year <= 9999:
        return None
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


_normalized: dict[str, str] = {}


def fn_normalize(text: Any) -> Any:
    """Text as keywords are compared: full-width to half-width (NFKC), case folded, spaces collapsed."""
    if text is None:
        return None
    found = _normalized.get(text)
    if found is None:
        import unicodedata

        found = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        if len(text) <= 200:
            if len(_normalized) > 50_000:
                _normalized.clear()
            _normalized[text] = found
    return found


def _remembering(build: Callable[[Any], Callable[[str], bool]]) -> Callable[[str, Any], bool]:
    """`test(text, values)` for a test built once per list of values (`build(values)`, a policy's constant:
    a handful per pack, found by id and kept so that the id stays theirs), its answers remembered per text:
    a catalog repeats its texts (sale attributes "Red", "XL"; a merchant's registration numbers), and a
    known text costs ~0.15 us instead of ~1.3 us normalized and searched. Memory stays bounded."""
    tests: dict[int, tuple[Any, Callable[[str], bool], dict[str, bool]]] = {}

    def test(text: str, values: Any) -> bool:
        entry = tests.get(id(values))
        if entry is None or entry[0] is not values:
            if len(tests) > 256:
                tests.clear()
            entry = tests[id(values)] = (values, build(values), {})
        answers = entry[2]
        found = answers.get(text)
        if found is None:
            found = entry[1](text)
            if len(text) <= 200:
                if len(answers) > 50_000:
                    answers.clear()
                answers[text] = found
        return found

    return test


def _keyword_search(words: Any) -> Callable[[str], bool]:
    import re

    normalized = {keyword_text(w) for w in words if w is not None}
    if not normalized:
        return lambda _: False
    search = re.compile(keyword_pattern(normalized)).search
    return lambda text: search(keyword_text(text)) is not None


def keyword_text(text: str) -> str:
    """A text (or a keyword) as contains_any compares it: normalized (fn_normalize), with hyphens and
    underscores as spaces ("Shipping-Fee", "shipping_fee": "shipping fee"), and no space between two
    Chinese characters ("运 费": "运费")."""
    found = fn_normalize(text)
    if "-" in found or "_" in found:
        found = " ".join(found.replace("-", " ").replace("_", " ").split())
    if " " in found and not found.isascii():
        found = _without_han_spaces(found)
    return found


def _latin(ch: str) -> bool:
    """A letter or digit of a Latin-script word (after casefold): a keyword does not match inside one."""
    return ch.isalnum() and ch < "\u0250"


def _latin_class() -> str:
    """The characters of _latin, as the ranges of a class of a regular expression."""
    codes = [c for c in range(0x250) if _latin(chr(c))]
    ranges, first = [], codes[0]
    for previous, code in zip(codes, codes[1:] + [-1]):
        if code != previous + 1:
            ranges.append(chr(first) if first == previous else f"{chr(first)}-{chr(previous)}")
            first = code
    return "[" + "".join(ranges) + "]"


def word_ends() -> tuple[str, str]:
    """The patterns of a Latin keyword's start and end, made when a keyword list is first compiled (not
    on import: `compliance check` imports this module).

    The start is written after a keyword's first character (the character before it is no Latin letter or
    digit), not before it: a pattern that begins with a lookbehind is tried at every position of a text,
    17.6 us a title instead of 2.6 us with 20 keywords. The end is the end of a word, after an optional
    English plural ("fee" in "fees")."""
    global _WORD_ENDS
    if _WORD_ENDS is None:
        latin = _latin_class()
        _WORD_ENDS = (f"(?<!{latin}[\\s\\S])", f"(?:e?s)?(?!{latin})")
    return _WORD_ENDS


_WORD_ENDS: tuple[str, str] | None = None


def _han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _without_han_spaces(text: str) -> str:
    """The text without the spaces between two Chinese characters (a loop over the spaces: the regular
    expression cost 3.7 ms to compile on every `compliance check`)."""
    parts = text.split(" ")
    out = parts[0]
    for part in parts[1:]:
        out += part if out and part and _han(out[-1]) and _han(part[0]) else " " + part
    return out


#: keywords up to this length go into the trie (keyword_pattern), one nested group per branching point
#: at most; longer ones, which no list of words has, are plain alternatives after it
_TRIE_LENGTH = 100


def keyword_pattern(words: Iterable[str]) -> str:
    """A regular expression that finds any of `words` (keyword_text) as words: a keyword that begins with
    a Latin letter or digit does not match after one ("freight" is not in "Freightliner"), one that ends
    with one does not match before one, but for an English plural ("deposit" is in "deposits", not in
    "depositor"); Chinese has no spaces between words, and a Chinese end matches anywhere ("定制logo").

    The keywords are written as a trie, "ab(?:c|d)" for "abc" and "abd": Python's re tries the
    alternatives of "abc|abd|..." one after the other at every position of a text, and a policy's list of
    10,000 keywords cost 1.8 ms per distinct 100-character title (a catalog of 200,000 titles: six
    minutes); in a trie, each position follows one branch: 15 us (20 keywords: 3 us either way). Two
    tries: the keywords with a Latin end, followed once by the word's end, and the others, where a keyword
    ends its branch ("运费" makes "运费险" needless: only whether some keyword occurs counts)."""
    import re

    if "" in words:
        return ""  # the empty keyword is found everywhere
    word_start, word_end = word_ends()
    groups: tuple[list[str], list[str]] = ([], [])
    long: list[str] = []
    for word in words:
        (long if len(word) > _TRIE_LENGTH else groups[_latin(word[-1])]).append(word)

    def branch(node: dict[str, Any], ends: bool) -> str:
        """The pattern of a trie node's keywords; a keyword that `ends` its branch makes longer ones needless."""
        if "" in node and (ends or len(node) == 1):
            return ""
        alternatives = [""] if "" in node else []
        alternatives += [re.escape(ch) + branch(rest, ends) for ch, rest in sorted(node.items()) if ch]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    patterns = []
    for group, ends in zip(groups, (True, False)):
        trie: dict[str, Any] = {}
        for word in group:
            node = trie
            for ch in word:
                node = node.setdefault(ch, {})
            node[""] = True
        if not trie:
            continue
        pattern = "|".join(re.escape(ch) + (word_start if _latin(ch) else "") + branch(rest, ends)
                           for ch, rest in sorted(trie.items()))
        patterns.append(pattern if ends else f"(?:{pattern}){word_end}")
    for word in sorted(long):
        patterns.append(re.escape(word[0]) + (word_start if _latin(word[0]) else "") + re.escape(word[1:])
                        + (word_end if _latin(word[-1]) else ""))
    return "|".join(patterns)


_contains_any = _remembering(_keyword_search)


def fn_contains_any(text: Any, words: Any) -> bool:
    """True when one of `words` occurs in `text` as a word, both as keyword_text makes them."""
    if text is None or not words:
        return False
    return _contains_any(text, words)


def fn_normalize_all(texts: Any) -> list[Any]:
    """Each text normalized (see fn_normalize), e.g. to compare names given in different spellings."""
    return [fn_normalize(t) for t in texts] if texts else []


def fn_join(texts: Any, separator: Any) -> Any:
    """The texts one after the other, with `separator` between them."""
    return separator.join(t for t in texts if t is not None) if texts else ""


def fn_values(table: Any) -> list[Any]:
    """The values in the order of their names: a JSON object has no order, so a report must not either."""
    return [table[k] for k in sorted(table)] if table else []


def fn_keys(table: Any) -> list[Any]:
    """The names, sorted (see fn_values)."""
    return sorted(table) if table else []


def fn_tier_for(tiers: Any, quantity: Any) -> Any:
    """The tier whose range holds `quantity`: the one with the largest min_qty not above it."""
    if not tiers or quantity is None:
        return None
    best, best_min = None, None
    for tier in tiers:
        low = tier.get("min_qty")
        if low is not None and low <= quantity and (best_min is None or low > best_min):
            best, best_min = tier, low
    return best


def fn_sku_for(skus: Any, attributes: Any) -> Any:
    """The SKU whose sale attributes are exactly `attributes`."""
    if not skus or attributes is None:
        return None
    for sku in skus:
        if sku.get("attributes") == attributes:
            return sku
    return None


def fn_day(when: Any) -> Any:
    """The day of the month in platform time."""
    return None if when is None else when.astimezone(PLATFORM_TZ).day


_SHAPE_PIECES = {"9": "[0-9]", "A": "[A-Za-z]", "X": "[0-9A-Za-z]"}


def _shape_match(shapes: Any) -> Callable[[str], bool]:
    import re

    # fixed-length alternatives of character classes and literals: no repetition, nothing to backtrack
    pattern = "|".join("".join(_SHAPE_PIECES.get(ch) or re.escape(ch) for ch in shape) for shape in shapes)
    fullmatch = re.compile(pattern).fullmatch
    return lambda text: fullmatch(text) is not None


_has_shape = _remembering(_shape_match)


def fn_shape(text: Any, shapes: Any) -> bool:
    """True when `text` has one of `shapes`: 9 a digit, A a letter, X a letter or digit, anything
    else itself ("DE 99999999"). A policy writes no regular expression, so it cannot make matching slow;
    the shapes become one here (fixed length, no repetition)."""
    if text is None or not shapes:
        return False
    return _has_shape(text, shapes)


#: the vocabulary's functions as generated code names them (fn_<name>); vocabulary.py types them
FUNCTIONS_RUNTIME: dict[str, Callable[..., Any]] = {
    "count": fn_count,
    "present": fn_present,
    "first": fn_first,
    "last": fn_last,
    "min": fn_min,
    "max": fn_max,
    "sum": fn_sum,
    "any": fn_any,
    "all": fn_all,
    "abs": fn_abs,
    "round": fn_round,
    "round_up": fn_round_up,
    "exact": fn_exact,
    "percent_beyond": fn_percent_beyond,
    "percent": fn_percent,
    "normalize": fn_normalize,
    "contains_any": fn_contains_any,
    "normalize_all": fn_normalize_all,
    "join": fn_join,
    "values": fn_values,
    "keys": fn_keys,
    "tier_for": fn_tier_for,
    "sku_for": fn_sku_for,
    "day": fn_day,
    "shape": fn_shape,
    "add_days": fn_add_days,
    "add_months": fn_add_months,
    "date": to_time,
}


def fmt(value: Any) -> str:
    """A value as a message shows it: amounts as written, times in platform time."""
    # texts and whole numbers first, by exact class: with amounts they are most of a message's values
    # (ten a finding), and each check below cost ~0.1 us more to pass
    cls = value.__class__
    if cls is str:
        return value
    if cls is int:
        return str(value)
    if cls is Decimal or isinstance(value, Decimal):
        # as written (10.00); an absurd exponent stays in scientific form rather than a MB of zeros
        return format(value, "f") if value.is_finite() and -40 < value.adjusted() < 40 else str(value)
    if value is None:
        return "(missing)"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        try:
            return format_time(value)
        except OverflowError:  # near year 1 or 9999 platform time cannot show it
            return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return str(value)


def fmt_pointer(value: Any) -> str:
    return fmt(value).replace("~", "~0").replace("/", "~1")


@attrs.frozen
class CompiledPack:
    """A pack ready to run: `evaluators[kind](doc, as_of, merchants, hits, missing, failed, totals=...)`."""

    pack: Pack
    evaluators: Mapping[str, Callable[..., None]]
    #: renderers[i](doc, as_of, merchant, index, lang) -> (path, message, remedy) for rule i
    renderers: tuple[Callable[..., tuple[str, str, str]], ...]
    #: kinds whose rules (their tests or only their messages) look at the merchant: the scan resolves
    #: merchant_id for them
    needs_merchant: frozenset[str]
    #: (rule index, name, kind summed, function) of every total a merchant rule uses
    totals: tuple[tuple[int, str, str, Callable[..., Any]], ...] = attrs.field(repr=False)
    #: the snapshot schemas compiled to Python (validation.py), for start-up-bound use such as `check`
    validators: Mapping[str, Callable[[Any], bool]] = attrs.field(repr=False)
    source: str = attrs.field(repr=False)
    #: the policy folders it was loaded from (for the penalty ladder beside the rules); set on load, not cached
    dirs: tuple[str, ...] = attrs.field(default=(), repr=False)

    def render(
        self, index: int, doc: Any, as_of: Any, merchant: Any, item: Any, lang: str, totals: Any = EMPTY
    ) -> tuple[str, str, str]:
        """(path, message, remedy) of a finding of rule `index`. A template that fails on this
        document (an absurd date, an overflow) never loses the finding: it says so instead."""
        try:
            return self.renderers[index](doc, as_of, merchant, item, lang, totals)
        except Exception as e:  # noqa: BLE001 - the finding stands; only its wording failed
            rule = self.pack.rules[index]
            note = f"{rule.title.get(lang)} (the message could not be filled in: {type(e).__name__}: {e})"
            return "", note, f"compliance explain {rule.id}"


@attrs.frozen
class Generated:
    source: str
    constants: dict[str, Any]
    needs_merchant: frozenset[str]


#: a memoised call not made yet (compiler._memoized)
_UNSET = object()


def namespace(constants: Mapping[str, Any]) -> dict[str, Any]:
    """What generated code can see: the runtime helpers, the vocabulary and the constants; no builtins."""
    names: dict[str, Any] = {
        "__builtins__": {"len": len, "range": range, "enumerate": enumerate, "Exception": Exception}
    }
    names.update(
        {
            "_E": EMPTY,
            "_U": _UNSET,
            "_at": at,
            "_div": div,
            "_money": to_decimal,
            "_num": to_number,
            "_time": to_time,
            "_BadValue": BadValue,
            "Decimal": Decimal,
        }
    )
    names.update({f"fn_{name}": function for name, function in FUNCTIONS_RUNTIME.items()})
    names.update({"_fmt": fmt, "_ptr": fmt_pointer, "_NO_TOTALS": EMPTY})
    names.update(constants)
    return names


def link(
    pack: Pack, generated: Generated, code: Any, validators: Mapping[str, Callable[[Any], bool]] | None = None
) -> CompiledPack:
    """Run the generated module and collect its functions (validators default to this process's own build)."""
    names = namespace(generated.constants)
    exec(code, names)  # noqa: S102 - our own generated source; policies never reach it as code
    if validators is None:
        from ..validation import validators as built

        validators = built()
    return CompiledPack(
        pack=pack,
        evaluators={kind: names[f"evaluate_{kind}"] for kind in KINDS},
        renderers=names["RENDERERS"],
        needs_merchant=generated.needs_merchant,
        totals=names["TOTALS"],
        validators=validators,
        source=generated.source,
    )
