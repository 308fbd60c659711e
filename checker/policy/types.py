"""Static types of policy expressions, derived from the snapshot schemas.

A policy may only name fields the contract defines: `price.tierz` fails at
load, with the fields that exist. Each field's type also says how its raw
JSON value is read: money through `to_decimal`, time through `to_time`.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..snapshots import _walker

#: Type names a policy author sees in error messages.
WORDS = {
    "number": "a number",
    "text": "text",
    "bool": "true/false",
    "time": "a time",
    "list": "a list",
    "object": "an object",
    "map": "a table of names to values",
    "null": "null",
}


@attrs.frozen
class Type:
    name: str
    nullable: bool = False
    #: for objects: the schema node (node, base file) whose properties are its fields
    schema: Any = attrs.field(default=None, eq=False, repr=False)
    #: for lists and maps: the type of an element
    elem: Type | None = None
    #: for objects of policy data (a table in a parameter's list): (field name, type) pairs
    record: tuple[tuple[str, Type], ...] | None = None

    def null(self, nullable: bool = True) -> Type:
        return attrs.evolve(self, nullable=nullable)

    @property
    def words(self) -> str:
        if self.name == "list" and self.elem is not None and self.elem.name != "object":
            return f"a list of {_plural(self.elem)}"
        return WORDS[self.name]

    def fields(self) -> list[str]:
        if self.record is not None:
            return [name for name, _ in self.record]
        if self.schema is None:
            return []
        walker = _walker()
        names: list[str] = []
        for branch, _ in walker.branches(*self.schema):
            names += [n for n in branch.get("properties", {}) if n not in names]
        return names

    def field(self, name: str) -> tuple[Type, str | None] | None:
        """The type of field `name` and the reader its raw value needs, or None."""
        if self.record is not None:
            for field_name, typ in self.record:
                if field_name == name:
                    return (typ.null() if self.nullable else typ), None
            return None
        if self.schema is None:
            return None
        branches = list(_walker().branches(*self.schema))
        required = any(name in b.get("required", ()) for b, _ in branches)
        for branch, base in branches:
            props = branch.get("properties", {})
            if name in props:
                found, reader = of_schema(props[name], base)
                return (found if required and not self.nullable else found.null()), reader
        return None


def _plural(t: Type) -> str:
    return {"number": "numbers", "text": "texts", "bool": "true/false values", "time": "times"}.get(
        t.name, t.words
    )


NUMBER = Type("number")
TEXT = Type("text")
BOOL = Type("bool")
TIME = Type("time")
NULL = Type("null", nullable=True)


def of_schema(node: dict[str, Any], base: str) -> tuple[Type, str | None]:
    """The expression type of a schema node, and the reader for its raw value."""
    walker = _walker()
    ref = node.get("$ref", "")
    name = ref.rpartition("/")[2] if "#/$defs/" in ref else ""
    if name == "money":
        return NUMBER, "_money"
    if name == "time":
        return TIME, "_time"
    resolved, rbase = walker.resolve(node, base)
    if "anyOf" in resolved:
        alts = [a for a in resolved["anyOf"] if walker.resolve(a, rbase)[0].get("type") != "null"]
        nullable = len(alts) < len(resolved["anyOf"])
        if len(alts) == 1:
            found, reader = of_schema(alts[0], rbase)
            return found.null(nullable or found.nullable), reader
    if "const" in resolved or "enum" in resolved:
        values = [resolved["const"]] if "const" in resolved else resolved["enum"]
        if all(isinstance(v, str) for v in values):
            return TEXT, None
    kind = resolved.get("type")
    if kind in ("integer", "number"):
        return NUMBER, "_num"
    if kind == "string":
        return TEXT, None
    if kind == "boolean":
        return BOOL, None
    if kind == "array":
        elem, _ = of_schema(resolved.get("items", {}), rbase)
        return Type("list", elem=elem), None
    if kind == "object":
        if resolved.get("properties") or resolved.get("allOf"):
            return Type("object", schema=(resolved, rbase)), None
        extra = resolved.get("additionalProperties")
        if isinstance(extra, dict):
            value, _ = of_schema(extra, rbase)
            return Type("map", elem=value), None
    return Type("object", schema=(resolved, rbase)), None


def of_kind(kind: str) -> Type:
    """The type of a whole document of `kind`."""
    found, _ = of_schema({"$ref": f"{kind}.schema.json#"}, kind)
    return found


def uniform_field(obj: Type) -> tuple[Type, str | None] | None:
    """When every field of an object has the same type (a product's `composition`: all true/false),
    that type and reader: the object can then be looked up by a name computed at run time."""
    found = [obj.field(name) for name in obj.fields()]
    kinds = {(t.name, reader) for t, reader in (f for f in found if f is not None)}
    if len(kinds) != 1:
        return None
    typ, reader = found[0]  # type: ignore[misc]
    return typ.null(), reader
