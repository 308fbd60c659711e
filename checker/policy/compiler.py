"""The policy compiler: a pack of rules becomes one Python function per document kind.

In the manner of fastjsonschema, the declarative rules are turned into
Python source once, checked while they are turned (a bad expression fails
here with its file, rule and field), compiled with `compile`, and cached by
content hash (cache.py). Per document, the fused function of its kind runs
every rule in one pass and records only `(rule number, item index)` for what
fails; messages are rendered afterwards, for findings only.

Generated names: `doc` is the document, `as_of` the time rules are judged
at (the scan's --as-of; an order's created_at), `merchant` the document's
merchant, `v_*` the bindings of `each`, `g_*` the variables of `for`
expressions, `p_*` parameters, `_k*` hoisted constants, `fn_*` the
vocabulary.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Callable, Mapping

import attrs

from ..snapshots import KINDS
from ..values import format_time, parse_time
from .expressions import Compiled, Constants, ExpressionCompiler, ExpressionError, Name
from .model import Pack, PolicyError, Rule
from .runtime import CompiledPack, Generated, RuleFailure, fmt, fmt_pointer, link, namespace
from .types import BOOL, NUMBER, TEXT, TIME, Type, of_kind

#: SNAPSHOTS.md: an order is judged by the rules in force at its created_at;
#: every other kind at the scan's --as-of.
CLOCK_FIELD = {"order": "created_at"}
#: the names `each` binds, besides `item`
EACH_NAMES = ("item", "index", "position", "previous", "next")


def generate(pack: Pack) -> Generated:
    """Python source for the pack, with its hoisted constants."""
    constants = Constants()
    blocks: dict[str, list[str]] = {kind: [] for kind in KINDS}
    renderers: list[str] = []
    needs_merchant: set[str] = set()
    for index, rule in enumerate(pack.rules):
        rule_code = _RuleCode(rule, index, constants)
        blocks[rule.kind].append(rule_code.evaluate())
        renderers.append(rule_code.render())
        if rule_code.uses_merchant:
            needs_merchant.add(rule.kind)
    lines = [f"# Generated from policy pack {pack.name} {pack.version} ({pack.content_hash[:12]}). Do not edit.", ""]
    for kind in KINDS:
        lines.append(f"def evaluate_{kind}(doc, as_of, merchants, hits, missing):")
        if kind in CLOCK_FIELD:
            lines.append(f'    as_of = _time(doc.get("{CLOCK_FIELD[kind]}"))')
        if kind in needs_merchant:
            lines.append('    merchant = merchants.get(doc.get("merchant_id"))')
        lines.extend(blocks[kind] or ["    pass"])
        lines.append("")
    lines.extend(renderers)
    lines.append("RENDERERS = (" + "".join(f"render_{i}, " for i in range(len(pack.rules))) + ")")
    return Generated("\n".join(lines) + "\n", constants.values, frozenset(needs_merchant))


def compile_pack(pack: Pack) -> CompiledPack:
    generated = generate(pack)
    code = compile(generated.source, f"<policy pack {pack.content_hash[:12]}>", "exec")
    return link(pack, generated, code)


# -- one rule ----------------------------------------------------------------------------


class _RuleCode:
    def __init__(self, rule: Rule, index: int, constants: Constants) -> None:
        self.rule = rule
        self.index = index
        self.constants = constants
        self.root = of_kind(rule.kind)
        self.temps = [0]
        scope = self._base_scope()
        self.doc_scope = dict(scope)
        self.each: Compiled | None = None
        self.item_scope = dict(scope)
        self.when = self._compile("when", rule.when, self.doc_scope, "bool") if rule.when else None
        if rule.each:
            self.each = self._compile("each", rule.each, self.doc_scope, "list")
            assert self.each.type.elem is not None
            self.item_scope.update(
                item=Name("v_item", self.each.type.elem),
                index=Name("v_index", NUMBER),
                position=Name("(v_index + 1)", NUMBER),
                previous=Name("v_previous", self.each.type.elem.null()),
                next=Name("v_next", self.each.type.elem.null()),
            )
        self.where = self._compile("where", rule.where, self.item_scope, "bool") if rule.where else None
        self.require = self._compile("require", rule.require, self.item_scope, "bool")
        self.templates = {
            "path": self._template("path", rule.path, pointer=True),
            **{f"message.{lang}": self._template(f"message.{lang}", rule.message.get(lang)) for lang in ("en", "zh")},
            **{f"remedy.{lang}": self._template(f"remedy.{lang}", rule.remedy.get(lang)) for lang in ("en", "zh")},
        }
        self.uses_merchant = any(
            "merchant" in c.names for c in (self.when, self.each, self.where, self.require) if c is not None
        )

    def _fail(self, field: str, problem: str) -> PolicyError:
        return PolicyError(self.rule.file, problem, self.rule.id, field)

    def _base_scope(self) -> dict[str, Name]:
        scope: dict[str, Name] = {"as_of": Name("as_of", TIME)}
        if self.rule.kind != "merchant":
            scope["merchant"] = Name("merchant", of_kind("merchant"))
        for name, value in self.rule.params.items():
            if name in scope or name in EACH_NAMES or self.root.field(name) is not None:
                raise self._fail(f"params.{name}", f"the parameter name {name!r} is already a field or name; rename it")
            scope[name] = self._param(name, value)
        return scope

    def _param(self, name: str, value: Any) -> Name:
        field = f"params.{name}"
        if isinstance(value, bool):
            return Name(repr(value), BOOL)
        if isinstance(value, int):
            return Name(repr(value), NUMBER)
        if isinstance(value, Decimal):
            return Name(self.constants.add(value), NUMBER)
        if isinstance(value, str):
            return Name(repr(value), TEXT)
        if isinstance(value, (_dt.date, _dt.datetime)):
            return Name(self.constants.add(parse_time(value)), TIME)
        if isinstance(value, list):
            elem = _uniform(value)
            if elem is None:
                raise self._fail(field, "a list parameter holds only numbers or only texts")
            values = tuple(Decimal(v) if elem is NUMBER and not isinstance(v, int) else v for v in value)
            return Name(self.constants.add(values), Type("list", elem=elem))
        if isinstance(value, dict):
            elem = _uniform(list(value.values()))
            if elem is None:
                raise self._fail(field, "a table parameter maps names to only numbers or only texts")
            return Name(self.constants.add(dict(value)), Type("map", elem=elem))
        raise self._fail(field, f"unsupported parameter value {value!r}")  # pragma: no cover - schema

    def _compile(self, field: str, source: str, scope: dict[str, Name], want: str | None) -> Compiled:
        try:
            return ExpressionCompiler(dict(scope), self.root, self.constants, self.temps).compile(source, want)
        except ExpressionError as e:
            raise self._fail(field, f"{e} (in {source!r})") from None

    def _template(self, field: str, text: str, pointer: bool = False) -> tuple[str, frozenset[str]]:
        """A text with {expressions} as Python source producing a str, and the names it uses."""
        parts: list[str] = []
        names: set[str] = set()
        literal = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch in "{}" and text[i : i + 2] in ("{{", "}}"):
                literal += ch
                i += 2
                continue
            if ch == "}":
                raise self._fail(field, "a '}' without its '{' (write '}}' for a brace)")
            if ch == "{":
                end = text.find("}", i)
                if end < 0:
                    raise self._fail(field, "a '{' without its '}' (write '{{' for a brace)")
                if literal:
                    parts.append(repr(literal))
                    literal = ""
                compiled = self._compile(field, text[i + 1 : end], self.item_scope, None)
                names |= compiled.names
                parts.append(f"{'_ptr' if pointer else '_fmt'}({compiled.code})")
                i = end + 1
                continue
            literal += ch
            i += 1
        if literal or not parts:
            parts.append(repr(literal))
        if pointer and not text.startswith("/") and text:
            raise self._fail(field, 'a path is a JSON Pointer starting with "/", e.g. "/price/tiers/{index}/price"')
        return ("(" + " + ".join(parts) + ")" if len(parts) > 1 else parts[0]), frozenset(names)

    # -- source -----------------------------------------------------------------------

    def _window(self) -> list[str]:
        conds = []
        if self.rule.effective_from is not None:
            conds.append(f"{self.constants.add(self.rule.effective_from)} <= as_of")
        if self.rule.effective_until is not None:
            conds.append(f"as_of < {self.constants.add(self.rule.effective_until)}")
        return conds

    def evaluate(self) -> str:
        rule, i = self.rule, self.index
        out = [f"    # [{i}] {rule.id} ({rule.file})", "    try:"]
        depth = 2

        def emit(line: str) -> None:
            out.append("    " * depth + line)

        guards = self._window()
        when_uses_merchant = self.when is not None and "merchant" in self.when.names
        if self.when is not None and not when_uses_merchant:
            guards.append(self.when.code)
        if guards:
            emit(f"if {' and '.join(guards)}:")
            depth += 1
        if self.uses_merchant:
            emit("if merchant is None:")
            emit(f"    missing.append({i})")
            emit("else:")
            depth += 1
        if when_uses_merchant:
            assert self.when is not None
            emit(f"if {self.when.code}:")
            depth += 1
        if self.each is None:
            emit(f"if not {self.require.code}:")
            emit(f"    hits.append(({i}, None))")
        else:
            used = self.where.names if self.where else frozenset()
            used = used | self.require.names
            emit(f"_s = {self.each.code}")
            emit("if _s:")
            depth += 1
            if "next" in used:
                emit("_n = len(_s)")
            emit("for v_index, v_item in enumerate(_s):")
            depth += 1
            if "previous" in used:
                emit("v_previous = _s[v_index - 1] if v_index else None")
            if "next" in used:
                emit("v_next = _s[v_index + 1] if v_index + 1 < _n else None")
            cond = f"not {self.require.code}"
            if self.where is not None:
                cond = f"{self.where.code} and {cond}"
            emit(f"if {cond}:")
            emit(f"    hits.append(({i}, v_index))")
        out.append("    except _BadValue:")
        out.append("        raise")
        out.append("    except Exception as e:")
        out.append(f"        raise _RuleFailure({i}, e) from e")
        return "\n".join(out)

    def render(self) -> str:
        i = self.index
        out = [f"def render_{i}(doc, as_of, merchant, v_index, lang):"]
        if self.rule.kind in CLOCK_FIELD:
            out.append(f'    as_of = _time(doc.get("{CLOCK_FIELD[self.rule.kind]}"))')
        if self.each is not None:
            out.append(f"    _s = {self.each.code}")
            out.append("    v_item = _s[v_index]")
            out.append("    v_previous = _s[v_index - 1] if v_index else None")
            out.append("    v_next = _s[v_index + 1] if v_index + 1 < len(_s) else None")
        t = self.templates
        out.append('    if lang == "zh":')
        out.append(f"        return ({t['path'][0]}, {t['message.zh'][0]}, {t['remedy.zh'][0]})")
        out.append(f"    return ({t['path'][0]}, {t['message.en'][0]}, {t['remedy.en'][0]})")
        return "\n".join(out) + "\n"


def _uniform(values: list[Any]) -> Type | None:
    if all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in values):
        return NUMBER
    if all(isinstance(v, str) for v in values):
        return TEXT
    return None
