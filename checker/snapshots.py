"""The snapshot contract (SNAPSHOTS.md): schemas, validation, readable errors.

Validation on the per-document path uses compiled validators
(`jsonschema_rs`); explaining an invalid document walks our own schemas so
that the reason names the field in words a merchant team understands:
`/price/tiers/0/price: "abc" is not a decimal amount`.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import cache
from typing import Any, Iterator

from .model import KINDS
from .resources import schema_files

_BASE = "https://compliance.example/schemas/"


@cache
def load_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file by its name (`product`, `common`, ...)."""
    out = {}
    for path in schema_files():
        with open(path, encoding="utf-8") as f:
            out[os.path.basename(path).removesuffix(".schema.json")] = json.load(f)
    return out


@cache
def validators() -> dict[str, Any]:
    """A compiled validator per document kind."""
    import jsonschema_rs

    schemas = {name: _dates_in_rust(schema) for name, schema in load_schemas().items()}
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas.values() if "$id" in s])
    from .validation import FORMATS

    return {
        kind: jsonschema_rs.validator_for(
            schemas[kind], registry=registry, formats=FORMATS, validate_formats=True
        )
        for kind in KINDS
    }


# The `platform-time` format (validation.FORMATS) is a Python function: jsonschema_rs called back into
# Python for every time of every document, about half of its time on a catalog (validating 100,000
# documents: 1.3 s with the call-backs, 0.65 s without). On a text of the time shape (TIME_SHAPE, the
# pattern beside the format in common.schema.json) the format only adds that the date is a real one:
# no 2022-02-30, no year 0000, February 29th in leap years only. REAL_DATE says the same as a regular
# expression, which jsonschema_rs checks in Rust. Both agreed on every day from 0000-01-01 to 9999-12-31
# (3.7 million texts, compared once); tests/test_validation.py compares them on the days that decide in
# each of those years, and on times of day and offsets. A time node of another shape keeps the call-back.
TIME_SHAPE = (
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?"
    "(Z|z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"
)
REAL_DATE = (
    "^(?:"
    "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-"  # a year from 0001 to 9999,
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"  # any month from its 1st to its 28th,
    "|(?:0[13-9]|1[0-2])-(?:29|30)"  # the 29th and 30th but in February,
    "|(?:0[13578]|1[02])-31)"  # the 31st of the long months;
    "|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"  # leap days
    ")"
)


def _dates_in_rust(node: Any) -> Any:
    """A copy of a schema with each `platform-time` format on a TIME_SHAPE text replaced by REAL_DATE."""
    if isinstance(node, list):
        return [_dates_in_rust(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {key: _dates_in_rust(value) for key, value in node.items()}
    if out.get("format") == "platform-time" and out.get("pattern") == TIME_SHAPE:
        del out["format"]
        out["allOf"] = [*out.get("allOf", ()), {"pattern": REAL_DATE}]
    return out


# -- explaining ---------------------------------------------------------------


def pointer(parts: Any) -> str:
    """A JSON Pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def show(value: Any) -> str:
    """A value as it would appear in JSON, shortened for a message."""
    if isinstance(value, str):
        if len(value) > 40:
            return f'"{value[:30]}…" ({len(value):,} characters)'
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if len(text) <= 40 else text[:30] + "…"


class _Schemas:
    """Walks our schema files by instance path, following $ref, allOf and anyOf."""

    def __init__(self) -> None:
        self.files = load_schemas()

    def resolve(self, node: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
        while "$ref" in node:
            ref = node["$ref"]
            target, _, frag = ref.partition("#")
            if target:
                base = target.removesuffix(".schema.json")
            doc: Any = self.files[base]
            for part in filter(None, frag.split("/")):
                doc = doc[part]
            node = doc
        return node, base

    def branches(self, node: dict[str, Any], base: str) -> Iterator[tuple[dict[str, Any], str]]:
        node, base = self.resolve(node, base)
        yield node, base
        for sub in node.get("allOf", ()):
            yield from self.branches(sub, base)

    def child(self, node: dict[str, Any], base: str, key: Any) -> tuple[dict[str, Any], str] | None:
        for branch, b in self.branches(node, base):
            if isinstance(key, int) and "items" in branch:
                return branch["items"], b
            props = branch.get("properties", {})
            if key in props:
                return props[key], b
            extra = branch.get("additionalProperties")
            if isinstance(extra, dict):
                return extra, b
            for alt in branch.get("anyOf", ()):
                found = self.child(alt, b, key)
                if found:
                    return found
        return None

    def at(self, kind: str, path: list[Any]) -> tuple[dict[str, Any], str] | None:
        here: tuple[dict[str, Any], str] | None = (self.files[kind], kind)
        for key in path:
            if here is None:
                return None
            here = self.child(here[0], here[1], key)
        return here

    def describe(self, node: dict[str, Any], base: str) -> str:
        """What a schema node expects, in words."""
        ref = node.get("$ref", "")
        named = _NAMED.get(ref.rpartition("/")[2]) if "#/$defs/" in ref else None
        if named:
            return named
        node, base = self.resolve(node, base)
        if "anyOf" in node:
            return " or ".join(self.describe(alt, base) for alt in node["anyOf"])
        if "const" in node:
            return json.dumps(node["const"])
        if "enum" in node:
            return "one of " + ", ".join(json.dumps(v) for v in node["enum"])
        kind = node.get("type")
        words = _TYPES.get(kind, "a valid value")
        if kind == "integer" and "minimum" in node and "maximum" in node:
            words += f" from {node['minimum']:,} to {node['maximum']:,}"
        elif kind == "integer" and "minimum" in node:
            words += f" of at least {node['minimum']:,}"
        return words


_NAMED = {
    "money": "a decimal amount",
    "time": 'a time (RFC 3339 such as "2022-12-27T08:00:00Z", or a date "2022-12-01")',
    "country": 'a country code (ISO 3166-1 alpha-2, upper case, e.g. "DE")',
    "buyer_level": 'a buyer level ("L0" to "L4")',
    "quantity": "a whole number from 1 to 1,000,000,000,000",
}
_TYPES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


@cache
def _walker() -> _Schemas:
    return _Schemas()


def explain(kind: str, document: Any, errors: list[Any]) -> list[tuple[str, str]]:
    """(JSON Pointer, reason) for each schema error, in the validator's order."""
    walker = _walker()
    out = []
    for error in errors:
        path = list(error.instance_path)
        name = type(error.kind).__name__
        value = _at(document, path, error.instance)
        if name == "Required":
            prop = error.kind.property
            problem = (pointer(path + [prop]), "required field is missing")
            if problem not in out:
                out.append(problem)
            continue
        here = walker.at(kind, path)
        if name == "MaxLength" and isinstance(value, str):
            reason = f"text of {len(value):,} characters is longer than the maximum {error.kind.limit:,}"
        elif name == "MinLength":
            reason = f"{show(value)} is shorter than {error.kind.limit} character(s)"
        elif name == "MinItems":
            reason = f"{show(value)} has fewer than {error.kind.limit} item(s)"
        elif name in ("MaxItems", "MaxProperties"):
            reason = f"{show(value)} has more than {error.kind.limit:,} entries"
        elif here is not None and _is_money(here[0]) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            reason = f"{show(value)} is out of range for an amount (-1,000,000,000,000,000 to 1,000,000,000,000,000)"
        elif here is not None:
            reason = f"{show(value)} is not {walker.describe(*here)}"
        else:  # pragma: no cover - every instance path lies inside our schemas
            reason = error.message
        problem = (pointer(path), reason)
        if problem not in out:
            out.append(problem)
    return out


def _at(document: Any, path: list[Any], default: Any) -> Any:
    """The value at `path` as the document holds it (the validator's copy may be converted)."""
    try:
        for key in path:
            document = document[key]
    except (KeyError, IndexError, TypeError):
        return default
    return document


def _is_money(node: dict[str, Any]) -> bool:
    return node.get("$ref", "").endswith("#/$defs/money")


def check_document(document: Any) -> tuple[str | None, list[tuple[str, str]]]:
    """The document's kind and its problems (empty when it is a valid snapshot)."""
    if not isinstance(document, dict):
        return None, [("", f"expected a document (a JSON object), got {_a(document)}")]
    kind = document.get("kind")
    if kind is None:
        return None, [("/kind", f"required field is missing (one of {_kinds()})")]
    if not isinstance(kind, str) or kind not in KINDS:
        return None, [("/kind", f"{show(kind)} is not a document kind (one of {_kinds()})")]
    validator = validators()[kind]
    try:
        if validator.is_valid(document):
            return kind, []
        errors = list(validator.iter_errors(document))
    except ValueError:  # jsonschema_rs: "Recursion limit reached", a value nested 256 levels deep or more
        return kind, [_too_deep(document)]
    return kind, explain(kind, document, errors)


#: no field of a snapshot nests anywhere near this deep (a few levels); jsonschema_rs gives up at 256
DEEP = 64


def _too_deep(document: dict[str, Any]) -> tuple[str, str]:
    """Where a document holds a value nested more than DEEP levels: its field, and why it is not checked."""
    for key, value in document.items():
        stack = [(value, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > DEEP:
                return pointer([key]), f"holds lists or objects nested more than {DEEP} levels deep; no field does"
            if isinstance(node, dict):
                stack.extend((v, depth + 1) for v in node.values())
            elif isinstance(node, list):
                stack.extend((v, depth + 1) for v in node)
    return "", "lists or objects nested too deeply to be checked"


def _kinds() -> str:
    return ", ".join(f'"{k}"' for k in KINDS)


def _a(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"
