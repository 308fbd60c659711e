"""Compiled snapshot validators: the schemas of schemas/ turned into Python.

The per-document question is only "valid or not?"; `jsonschema_rs` answers
it at ~120,000 documents/s here but costs ~20 ms to import, which the
pre-publish `compliance check` cannot afford, and fastjsonschema's generated
code ran at ~6,000/s on these schemas. So, in the manner of fastjsonschema,
the schemas are compiled once into plain Python boolean functions (cached
with the policy pack), and an invalid document is then explained by the
reference validator (snapshots.explain, with jsonschema_rs). A property test
checks that both always agree.

Only the keywords our schemas use are supported; any other keyword fails
generation loudly, so a schema edit cannot be silently ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable

from .model import KINDS
from .values import BadValue, to_time

#: keywords that only annotate
_IGNORED = {"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default"}
_SUPPORTED = _IGNORED | {
    "$ref", "allOf", "anyOf", "if", "then", "type", "properties", "required", "additionalProperties", "enum",
    "const", "pattern", "format", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "maxProperties",
    "items",
}
_TYPES = {
    "string": "{x}.__class__ is str",
    "integer": "({x}.__class__ is int or ({x}.__class__ in _NUMBERS and {x}.__class__ is not int and _integral({x})))",
    "number": "({x}.__class__ is int or {x}.__class__ is float or ({x}.__class__ is _Decimal and {x}.is_finite()))",
    "boolean": "({x} is True or {x} is False)",
    "object": "{x}.__class__ is dict",
    "array": "{x}.__class__ is list",
    "null": "{x} is None",
}


#: keyword -> (the JSON type it constrains, the test)
_LIMITS = {
    "minLength": ("string", "len({x}) >= {limit}"),
    "maxLength": ("string", "len({x}) <= {limit}"),
    "minimum": ("number", "{x} >= {limit}"),
    "maximum": ("number", "{x} <= {limit}"),
    "minItems": ("array", "len({x}) >= {limit}"),
    "maxItems": ("array", "len({x}) <= {limit}"),
}
_STRUCTURAL = {"properties", "required", "additionalProperties", "items", "allOf", "if", "maxProperties"}


class SchemaError(ValueError):
    """A schema uses something the compiled validators do not support."""


def _valid_time(text: str) -> bool:
    # called once per time of every document (jsonschema_rs calls back): no import statement in here,
    # which alone cost ~2 us a call
    try:
        to_time(text)  # memoised: the rules read the same time right after
    except BadValue:
        return False
    return True


#: formats our schemas use, by name; also given to jsonschema_rs (snapshots.validators)
FORMATS: dict[str, Callable[[str], bool]] = {"platform-time": _valid_time}


class _Memo:
    """A `pattern` or a `format` as a memoised test of a text: catalogs repeat values (countries,
    amounts, times). Only short texts are remembered, so memory stays bounded."""

    __slots__ = ("spec", "regex", "test", "seen")

    def __init__(self, spec: str, regex: bool = False) -> None:
        self.spec = spec
        self.regex = regex
        self.test: Callable[[str], bool] = (
            (lambda t, r=re.compile(spec): r.search(t) is not None) if regex else FORMATS[spec]
        )
        self.seen: dict[str, bool] = {}

    def __call__(self, text: str) -> bool:
        found = self.seen.get(text)
        if found is None:
            found = self.test(text)
            if len(text) <= 64 and len(self.seen) < 20_000:
                self.seen[text] = found
        return found

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Memo, (self.spec, self.regex))

    def __repr__(self) -> str:
        return f"_Memo({self.spec!r})"


def _integral(value: Any) -> bool:
    if value.__class__ is float:
        return value.is_integer()
    return value.is_finite() and value == value.to_integral_value()  # Decimal from the exact parser


def _python_pattern(pattern: str) -> str:
    # ECMA-262 `$` (JSON Schema) matches only at the very end; Python's `$` also before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"
    return pattern


class _Generator:
    def __init__(self) -> None:
        from .snapshots import load_schemas

        self.files = load_schemas()
        self.functions: list[str] = []
        self.constants: dict[str, Any] = {}
        self.by_key: dict[str, str] = {}

    def constant(self, value: Any, prefix: str = "_c") -> str:
        key = f"{prefix}:{value!r}"
        if key not in self.by_key:
            name = f"{prefix}{len(self.constants)}"
            self.constants[name] = value
            self.by_key[key] = name
        return self.by_key[key]

    def resolve_ref(self, ref: str, base: str) -> tuple[dict[str, Any], str, str]:
        target, _, fragment = ref.partition("#")
        if target:
            base = target.rsplit("/", 1)[-1].removesuffix(".schema.json")
        node: Any = self.files[base]
        for part in filter(None, fragment.split("/")):
            node = node[part]
        return node, base, f"{base}#{fragment}"

    def function(self, key: str, node: dict[str, Any], base: str) -> str:
        """The name of a function `name(x) -> bool` validating `node` (generated once per key)."""
        if key in self.by_key:
            return self.by_key[key]
        name = f"_v{len(self.functions)}"
        self.by_key[key] = name
        self.functions.append("")  # reserve the slot; filled below (recursion may add more)
        slot = len(self.functions) - 1
        body = self.statements(node, base, "x")
        self.functions[slot] = "\n".join([f"def {name}(x):", *(f"    {line}" for line in body), "    return True"])
        return name

    def expression(self, node: Any, base: str, x: str) -> str:
        """A Python boolean expression that is true when value `x` satisfies `node`."""
        if node is True or node == {}:
            return "True"
        if node is False:
            return "False"
        if set(node) - _IGNORED == {"$ref"}:
            target, tbase, key = self.resolve_ref(node["$ref"], base)
            if not _STRUCTURAL & set(target) and "$ref" not in target:
                return self.expression(target, tbase, x)  # a small leaf (money, country...): inline it
            return f"{self.function(key, target, tbase)}({x})"
        if _STRUCTURAL & set(node):
            return f"{self.function(f'{base}:{id(node)}', node, base)}({x})"
        parts = [f"({line})" for line in self.leaf(node, base, x)]
        return " and ".join(parts) or "True"

    def leaf(self, node: dict[str, Any], base: str, x: str) -> list[str]:
        """Conditions for the keywords that need no statements."""
        unknown = set(node) - _SUPPORTED
        if unknown:
            raise SchemaError(f"unsupported schema keyword(s): {', '.join(sorted(unknown))}")
        out = []
        if "$ref" in node:
            out.append(self.expression({"$ref": node["$ref"]}, base, x))
        kind = node.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            out.append(" or ".join(_TYPES[k].format(x=x) for k in kinds))
        # after a single `type`, the other keywords need not test the type again
        known = kind if isinstance(kind, str) else None

        def only(json_type: str, condition: str) -> str:
            if known == json_type or (json_type == "number" and known == "integer"):
                return condition
            guard = {"string": f"{x}.__class__ is not str", "array": f"{x}.__class__ is not list",
                     "number": "not " + _TYPES["number"].format(x=x)}[json_type]
            return f"{guard} or {condition}"

        if "const" in node:
            out.append(self.equal_any(x, [node["const"]]))
        if "enum" in node:
            out.append(self.equal_any(x, node["enum"]))
        if "format" in node:
            if node["format"] not in FORMATS:
                raise SchemaError(f"unsupported format: {node['format']}")
            memo = self.constant(_Memo(node["format"]), "_fmt")
            out.append(only("string", f"{memo}({x})"))
        if "pattern" in node:
            # Catalogs repeat values (countries, amounts, times): each pattern memoises its answers.
            memo = self.constant(_Memo(_python_pattern(node["pattern"]), regex=True), "_re")
            out.append(only("string", f"{memo}({x})"))
        for keyword, (json_type, test) in _LIMITS.items():
            if keyword in node:
                out.append(only(json_type, test.format(x=x, limit=self.bound(node[keyword]))))
        if "anyOf" in node:
            out.append(" or ".join(f"({self.expression(alt, base, x)})" for alt in node["anyOf"]))
        return out

    def bound(self, value: Any) -> str:
        # an integral bound compares fastest as an int, exactly, with ints, floats and Decimals alike
        number = Decimal(str(value))
        if number == number.to_integral_value():
            return repr(int(number))
        return self.constant(number)

    def equal_any(self, x: str, values: list[Any]) -> str:
        # JSON equality: 1 and true differ, 1 and 1.0 are equal; our enums and consts are texts.
        if all(isinstance(v, str) for v in values):
            return f"{x}.__class__ is str and {x} in {self.constant(frozenset(values))}"
        return f"_json_in({x}, {self.constant(tuple(values))})"

    def statements(self, node: dict[str, Any], base: str, x: str) -> list[str]:
        """Lines of a function body that return False when `x` fails `node`."""
        lines = [f"if not ({cond}): return False" for cond in self.leaf(node, base, x)]
        is_dict = "True" if node.get("type") == "object" else f"{x}.__class__ is dict"
        if "maxProperties" in node:
            lines.append(f"if {is_dict} and len({x}) > {int(node['maxProperties'])}: return False")
        required = node.get("required", [])
        if required:
            test = " and ".join(f"{r!r} in {x}" for r in required)
            lines.append(f"if {is_dict} and not ({test}): return False")
        properties = node.get("properties", {})
        if properties:
            lines.append(f"if {is_dict}:")
            for prop, sub in properties.items():
                check = self.expression(sub, base, "v")
                if check != "True":
                    lines.append(f"    v = {x}.get({prop!r}, _MISSING)")
                    lines.append(f"    if v is not _MISSING and not ({check}): return False")
        extra = node.get("additionalProperties")
        if extra is not None and extra is not True:
            check = self.expression(extra, base, "v")
            known = self.constant(frozenset(properties))
            lines.append(f"if {is_dict}:")
            lines.append(f"    for k, v in {x}.items():")
            lines.append(f"        if k not in {known} and not ({check}): return False")
        if "items" in node:
            check = self.expression(node["items"], base, "v")
            if check != "True":
                lines.append(f"if {x}.__class__ is list:")
                lines.append(f"    for v in {x}:")
                lines.append(f"        if not ({check}): return False")
        for sub in node.get("allOf", []):
            lines.append(f"if not ({self.expression(sub, base, x)}): return False")
        if "if" in node:
            then = self.expression(node.get("then", True), base, x)
            lines.append(f"if ({self.expression(node['if'], base, x)}) and not ({then}): return False")
        return lines


def _json_in(value: Any, choices: tuple[Any, ...]) -> bool:
    return any(type(value) is type(c) and value == c for c in choices)


def generate() -> tuple[str, dict[str, Any]]:
    """Python source defining `VALIDATORS = {kind: function}`, and the constants it names."""
    gen = _Generator()
    entry = {kind: gen.function(f"{kind}#", gen.files[kind], kind) for kind in KINDS}
    source = "\n\n".join(gen.functions)
    source += "\n\nVALIDATORS = {" + ", ".join(f"{k!r}: {v}" for k, v in entry.items()) + "}\n"
    return source, gen.constants


def namespace(constants: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {
        "__builtins__": {"len": len, "dict": dict, "list": list, "str": str, "int": int, "float": float}
    }
    names.update(constants)
    names.update(
        _MISSING=object(), _NUMBERS=(int, float, Decimal), _Decimal=Decimal, _integral=_integral, _json_in=_json_in
    )
    return names


def build(code: Any, constants: dict[str, Any]) -> dict[str, Callable[[Any], bool]]:
    names = namespace(constants)
    exec(code, names)  # noqa: S102 - generated from our own schema files
    return dict(names["VALIDATORS"])


_built: dict[str, Callable[[Any], bool]] | None = None


def validators() -> dict[str, Callable[[Any], bool]]:
    """The compiled validator of each kind, generated on first use in this process."""
    global _built
    if _built is None:
        source, constants = generate()
        _built = build(compile(source, "<snapshot validators>", "exec"), constants)
    return _built
