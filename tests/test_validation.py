"""The compiled snapshot validators (validation.py) agree with the reference, jsonschema_rs,
on every document: valid ones from the shipped strategies, and the same documents with one
value replaced by anything JSON can hold."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.snapshots import _dates_in_rust, check_document, load_schemas
from checker.snapshots import validators as reference
from checker.testing import documents
from checker.validation import SchemaError, _Generator, validators

COMPILED = validators()
REFERENCE = {kind: v.is_valid for kind, v in reference().items()}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(["DE", "de", "DE\n", "L2", "26.90", "2022-12-01", "rts", "tiered", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            out += paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += paths(child, (*here, index))
    return out


def agree(document: Any) -> None:
    kind = document.get("kind") if isinstance(document, dict) else None
    if isinstance(kind, str) and kind in COMPILED:
        assert REFERENCE[kind](document) == COMPILED[kind](document), document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_valid_documents_are_valid_for_both(document: dict[str, Any]) -> None:
    """Every document the strategies generate is valid for both validators."""
    kind = document["kind"]
    assert (True, True) == (REFERENCE[kind](document), COMPILED[kind](document))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_one_changed_value_gets_the_same_verdict(document: dict[str, Any], data: st.DataObject) -> None:
    """Replacing or deleting any one value: both validators say the same (valid or not)."""
    changed = copy.deepcopy(document)
    path = data.draw(st.sampled_from(paths(changed)[1:]))
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    agree(changed)


@pytest.mark.parametrize(
    "value",
    ["26.90", 26.9, 10**15, 10**15 + 1, -(10**15), Decimal("1E+999999"), Decimal("12.000000000000000001"), "1e5",
     "26.", ".5", "-0.01", True, None, "26.90\n", 1.0e15, 1.5e15],
)
def test_money_edge_values(value: Any) -> None:
    """Amount boundaries and spellings: the same verdict from both validators."""
    product = {"kind": "product", "id": "P", "merchant_id": "M", "listing_type": "rts", "moq": 1,
               "price": {"mode": "range", "range": {"min": value, "max": "2"}}}
    agree(product)


@pytest.mark.parametrize("value", [1, 1.0, Decimal("1"), Decimal("1.0"), 1.5, 0, 10**12, 10**12 + 1, True, "1"])
def test_integer_edge_values(value: Any) -> None:
    """JSON Schema integers (1.0 is one) and their bounds: the same verdict."""
    product = {"kind": "product", "id": "P", "merchant_id": "M", "listing_type": "rts", "moq": value,
               "price": {"mode": "range", "range": {"min": "1", "max": "2"}}}
    agree(product)


def test_an_unsupported_schema_keyword_fails_generation() -> None:
    """A schema edit using a keyword the generator does not know is refused, not ignored."""
    generator = _Generator()
    with pytest.raises(SchemaError) as caught:
        generator.expression({"type": "number", "multipleOf": 0.01}, "common", "x")
    assert "unsupported schema keyword(s): multipleOf" == str(caught.value)
    with pytest.raises(SchemaError) as caught:
        generator.expression({"type": "string", "format": "email"}, "common", "x")
    assert "unsupported format: email" == str(caught.value)


# -- times: the `platform-time` format as a regular expression (snapshots.REAL_DATE) -----------------

TIME = load_schemas()["common"]["$defs"]["time"]


def times() -> list[str]:
    """Texts of the time shape: the days that decide (28th to 31st, and 1st) of every year from 0000 to 9999,
    every day of a common year, a leap year, 1900 and 2000, and the time of day and offsets on good and bad dates."""
    out = [f"{year:04d}-{day}" for year in range(10_000)
           for day in ("01-01", "02-28", "02-29", "02-30", "04-30", "04-31", "11-31", "12-31")]
    out += [f"{year}-{month:02d}-{day:02d}" for year in (2023, 2024, 1900, 2000)
            for month in range(1, 13) for day in range(1, 32)]
    for date in ("2024-02-29", "2023-02-29", "0000-01-01", "0001-01-01", "9999-12-31"):
        for clock in ("", "T10:00", "t10:00", " 23:59:59", "T00:00:00.1", "T12:30:45.123456789",
                      "T12:30:45.1234567890", "T24:00", "x10:00"):
            for zone in ("", "Z", "z", "+00:00", "-00:00", "+23:59", "-23:59", "+24:00", "+0530"):
                out.append(date + clock + zone)
    return out


def test_real_date_says_what_the_platform_time_format_says() -> None:
    """On texts of the time shape, the fast validators' regular expression (in Rust) and the format's
    Python function (validation.FORMATS, which the compiled validators use) accept the same times."""
    import jsonschema_rs

    from checker.validation import FORMATS

    with_format = jsonschema_rs.validator_for(TIME, formats=FORMATS, validate_formats=True)
    fast = jsonschema_rs.validator_for(_dates_in_rust(TIME))
    assert "format" not in _dates_in_rust(TIME)  # the bundled time shape is the one REAL_DATE is made for
    texts = times()
    verdicts = [(text, with_format.is_valid(text)) for text in texts]
    assert verdicts == [(text, fast.is_valid(text)) for text in texts]
    # of the eight days of each year, four exist in every year from 0001, and February 29th in its 2,424 leap years
    assert 4 * 9_999 + 2_424 == sum(valid for _, valid in verdicts[:80_000])


def test_a_time_of_another_shape_keeps_the_format() -> None:
    """REAL_DATE only replaces the format beside the time shape it was written for."""
    other = {**TIME, "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    assert other == _dates_in_rust(other)


@pytest.mark.parametrize("buyer, problem", [
    ({"id": "B-1"}, ("/buyer/level", "required field is missing")),
    ({"level": "L2"}, ("/buyer/id", "required field is missing")),
])
def test_a_buyer_has_its_id_and_level(buyer: dict[str, Any], problem: tuple[str, str]) -> None:
    """SNAPSHOTS.md: buyer is {id, level, country?}. A buyer without its level was valid, and an order at the
    member price then got an error finding 'to buyer B-1 of level (missing)' where the data was missing."""
    order = {"kind": "order", "id": "O-1", "type": "order", "merchant_id": "M-1", "created_at": "2022-12-12",
             "buyer": buyer, "items": [{"quantity": 1, "listing": {"id": "L", "merchant_id": "M-1",
                                        "listing_type": "rts", "moq": 1,
                                        "price": {"mode": "range", "range": {"min": "1", "max": "2"}}}}]}
    agree(order)
    kind, problems = check_document(order)
    assert problem[0] == problems[0][0] and problem[1] in problems[0][1]
    assert ("order", []) == check_document({**order, "buyer": {"id": "B-1", "level": "L2"}})


def test_a_lower_case_t_and_z_are_rfc_3339() -> None:
    """RFC 3339 5.6: "T" and "Z" may be written "t" and "z"; both validators accept them, and the time is
    the same (it was refused: "is not a time")."""
    from checker.values import parse_time

    product = {"kind": "product", "id": "P", "merchant_id": "M", "listing_type": "rts", "moq": 1,
               "price": {"mode": "range", "range": {"min": "1", "max": "2"}}, "created_at": "2022-10-02t10:00:00z"}
    agree(product)
    assert ("product", []) == check_document(product)
    assert parse_time("2022-10-02t10:00:00z") == parse_time("2022-10-02T10:00:00Z")
    assert parse_time("2022-10-02t10:00") == parse_time("2022-10-02T10:00")


@pytest.mark.parametrize("value", ["2022-02-30T10:00:00", "2023-02-29", "0000-01-01", "2022-04-31 08:00Z"])
def test_a_date_that_does_not_exist_is_reported_as_before(value: str) -> None:
    """A time whose date does not exist: invalid for both validators, with the time's reason."""
    product = {"kind": "product", "id": "P", "merchant_id": "M", "listing_type": "rts", "moq": 1,
               "price": {"mode": "range", "range": {"min": "1", "max": "2"}}, "created_at": value}
    agree(product)
    reason = f'"{value}" is not a time (RFC 3339 such as "2022-12-27T08:00:00Z", or a date "2022-12-01")'
    assert ("product", [("/created_at", reason)]) == check_document(product)
