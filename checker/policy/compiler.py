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
import re
from decimal import Decimal
from typing import Any, Callable

import attrs

from ..model import KINDS
from ..values import parse_time
from .expressions import (
    MAX_LITERAL,
    MIN_LITERAL,
    TOO_SMALL,
    Compiled,
    Constants,
    ExpressionCompiler,
    ExpressionError,
    Name,
    Reads,
)
from .model import Pack, PolicyError, Rule
from .runtime import CompiledPack, Generated, link
from .types import BOOL, NUMBER, TEXT, TIME, Type, of_kind

#: SNAPSHOTS.md: an order is judged by the rules in force at its created_at;
#: every other kind at the scan's --as-of.
CLOCK_FIELD = {"order": "created_at"}
#: the names `each` binds, besides `item`
EACH_NAMES = ("item", "index", "position", "previous", "next")
#: the expressions' constants: a parameter or total of one of these names would be hidden by it
_CONSTANT_NAMES = ("true", "false", "null")


def generate(pack: Pack) -> Generated:
    """Python source for the pack, with its hoisted constants."""
    constants = Constants()
    codes = {kind: [] for kind in KINDS}  # type: dict[str, list[_RuleCode]]
    reads = {kind: Reads() for kind in KINDS}
    for index, rule in enumerate(pack.rules):
        codes[rule.kind].append(_RuleCode(rule, index, constants, reads[rule.kind]))
    # the pack's name and version are a policy author's text: in the code only as literals (repr has no line
    # break), never as they are (a name "x\n<code>" would have been code)
    lines = [f"# Generated from policy pack {pack.name!r} {pack.version!r} ({pack.content_hash[:12]}). Do not edit.", ""]
    needs_merchant = set()  # the kinds whose rules' tests read the merchant (their evaluator looks it up)
    shows_merchant = set()  # and those whose messages only do: a scan must know the merchants all the same
    for kind in KINDS:
        if any(c.uses_merchant for c in codes[kind]):
            needs_merchant.add(kind)
        if any("merchant" in names for c in codes[kind] for _, names in c.templates.values()):
            shows_merchant.add(kind)
        lines += _memoized(_evaluator(kind, codes[kind], reads[kind], kind in needs_merchant), reads[kind])
    for kind in KINDS:
        lines += [_memoized_render(c.render()) for c in codes[kind]]
    order = sorted((c.index, f"render_{c.index}") for kind in KINDS for c in codes[kind])
    lines.append("RENDERERS = (" + "".join(f"{name}, " for _, name in order) + ")")
    totals = []
    for kind in KINDS:
        for c in codes[kind]:
            lines += c.totals
            totals += [f"({c.index}, {name!r}, {t.over!r}, total_{c.index}_{name})" for name, t in c.rule.totals.items()]
    lines.append("TOTALS = (" + "".join(f"{t}, " for t in totals) + ")")
    lines += constants.functions.values()  # the loops of `any`, `all`, `count`... (expressions.LOOPS)
    return Generated("\n".join(lines) + "\n", constants.values, frozenset(needs_merchant | shows_merchant))


def _evaluator(kind: str, codes: list[_RuleCode], reads: Reads, needs_merchant: bool) -> list[str]:
    """One function running every rule of `kind`: rules that share their time window and `when`
    share one test, rules that also share `each` share one loop, and each field read is one local.

    A rule that raises is recorded in `failed` with its error, and the other rules go on; a
    group's shared test or reads that raise record every rule of the group. `_BadValue` (a
    schema-valid value that is no value, e.g. 2022-02-30) makes the whole document invalid.
    """
    out = [f"def evaluate_{kind}(doc, as_of, merchants, hits, missing, failed, totals=_NO_TOTALS):"]
    if kind in CLOCK_FIELD:
        out.append(f'    as_of = _time(doc.get("{CLOCK_FIELD[kind]}"))')
    if needs_merchant:
        out.append('    merchant = merchants.get(doc.get("merchant_id"))')
    out += [f"    {name} = {code}" for name, code in reads.at("doc")]
    groups: dict[tuple[Any, ...], list[_RuleCode]] = {}
    for code in codes:
        groups.setdefault(code.group, []).append(code)
    for (window, when, when_uses_merchant, uses_merchant), members in groups.items():
        indices = ", ".join(str(c.index) for c in members)
        body = ["    try:"]
        depth = 2
        guards = list(window) + ([when] if when and not when_uses_merchant else [])
        if guards:
            body.append("    " * depth + f"if {' and '.join(guards)}:")
            depth += 1
        if uses_merchant:
            body.append("    " * depth + "if merchant is None:")
            body.append("    " * depth + f"    missing.extend(({indices},))")
            body.append("    " * depth + "else:")
            depth += 1
        if when and when_uses_merchant:
            body.append("    " * depth + f"if {when}:")
            depth += 1
        pad = "    " * depth
        for code in members:
            if code.each is None:
                body += _checked(pad, code, f"not {code.require.code}", "None")
        loops: dict[str, list[_RuleCode]] = {}
        for code in members:
            if code.each is not None:
                loops.setdefault(code.each.code, []).append(code)
        for each, rules in loops.items():
            inner = pad + "        "
            item_reads = reads.at(rules[0].item_level)
            # A list of the policy's own (a parameter: `each = "registrations"`) is the same for every
            # document: its items' fields are read once, here, into rows of (item, field, field...), and
            # the loop unpacks them. The EPR rules go over ten registrations for most listings: their group
            # took 2.9 instead of 3.9 us a listing. Only plain field reads: anything else may fail, and must
            # fail where it did.
            constant = codes[0].constants.values.get(each) if CONSTANT_ROWS and _CONSTANT.fullmatch(each) else None
            if not (isinstance(constant, tuple) and all(isinstance(item, dict) for item in constant)):
                constant = None
            fixed = [(n, _FIELD.fullmatch(r)) for n, r in item_reads] if constant is not None else []
            fixed = [(n, m.group(1)) for n, m in fixed if m is not None]
            if fixed:
                rows = tuple((item, *(item.get(field) for _, field in fixed)) for item in constant)
                unpack = f"(v_item, {', '.join(n for n, _ in fixed)})"
                source = codes[0].constants.add(rows)
                item_reads = [(n, r) for n, r in item_reads if n not in dict(fixed)]
            else:
                unpack, source = "v_item", "_s"
            each_body = [f"{inner}{name} = {read}" for name, read in item_reads]
            for code in rules:
                cond = f"not {code.require.code}"
                if code.where is not None:
                    cond = f"{code.where.code} and {cond}"
                each_body += _checked(inner, code, cond, "v_index")
            text = "\n".join(each_body)
            body.append(f"{pad}_s = {each}")
            body.append(f"{pad}if _s:")
            if "v_next" in text:
                body.append(f"{pad}    _n = len(_s)")
            body.append(f"{pad}    for v_index, {unpack} in enumerate({source}):")
            # `previous` and `next` only for the loops whose rules name them
            if "v_previous" in text:
                body.append(f"{inner}v_previous = _s[v_index - 1] if v_index else None")
            if "v_next" in text:
                body.append(f"{inner}v_next = _s[v_index + 1] if v_index + 1 < _n else None")
            body += each_body
        body += ["    except _BadValue:", "        raise", "    except Exception as e:",
                 f"        failed.extend((i, e) for i in ({indices},))"]
        out += body
    return out + ["    pass", ""]


#: read the fields of a policy's own list once, when compiling (off: in the loop; tests/test_loops.py compares)
CONSTANT_ROWS = True
#: the code of a hoisted constant, and of a plain field read of a loop's item (Reads)
_CONSTANT = re.compile(r"_k[0-9]+")
_FIELD = re.compile(r"v_item\.get\('([^'\\]*)'\)")


#: computing again a call the fused function made already (off: every call made where it is written)
MEMO = True
#: the functions whose answer depends on their arguments alone: the loops of `any`, `all`... and the vocabulary
_PURE = re.compile(r"_q[0-9]+|fn_[a-z_]+|_money|_num|_time|_div|_at")
_DOC_NAMES = frozenset({"doc", "merchant", "as_of", "totals"})
_ITEM_NAMES = frozenset({"v_item", "v_index", "v_previous", "v_next"})
_LOOP = re.compile(r"( *)for v_index, .* in enumerate\(.*\):$")
_IF = re.compile(r"( *)if (.*):$")


def _memoized(lines: list[str], reads: Reads) -> list[str]:
    """_memoize's function, or the function as it was when a test is too deep for `ast` to walk (see
    _memoized_render; expressions.MAX_DEPTH keeps a rule's tests well below it)."""
    try:
        return _memoize(lines, reads)
    except RecursionError:  # pragma: no cover - see above
        return lines


def _memoize(lines: list[str], reads: Reads) -> list[str]:
    """The fused function with each call that it would make again on the same arguments made once: the
    first use computes it into a local (`_m<N>`), the others find it there. The fake-moq and fake-price
    rules of an order item test `tier_for(...)`, `count(customizations)` and their loops up to six times
    each; the SKU spread's `max(...)` over all SKUs was computed again for every SKU.

    A call is one of a pure function (_PURE) on plain names and literals, in a rule's or a group's test.
    On fields of the document only, it is made once per document (the locals start out unset, `_U`, at
    the top); on an item's fields, once per item (unset at the top of each turn of the loop). Made
    lazily, where it was written, so that a call that fails fails in the same rule, and one that a test
    did not reach is not made. Memoised are the calls made more than once per document or item, and the
    document's calls inside a loop."""
    if not MEMO:
        return lines
    import ast

    def level(call: ast.Call, loop: int | None) -> Any:
        """None (not memoised), "doc", or the loop (its line) whose item the call reads."""
        if not (isinstance(call.func, ast.Name) and _PURE.fullmatch(call.func.id)) or call.keywords:
            return None
        found: Any = "doc"
        for arg in call.args:
            if isinstance(arg, ast.Constant):
                continue
            if not isinstance(arg, ast.Name):
                return None
            name = arg.id
            at = reads.level_of.get(name)
            if name in _ITEM_NAMES or (at is not None and at != "doc"):
                if loop is None:
                    return None
                found = loop
            elif not (name in _DOC_NAMES or at == "doc" or _CONSTANT.fullmatch(name)):
                return None  # a loop's own variable, a temporary: not the same value on each use
        return found

    # where each test sits: the innermost loop around it (by indentation)
    tests: list[tuple[int, str, str, int | None]] = []  # line, indentation, test, loop line
    loops: list[tuple[int, int]] = []  # (indentation, line) of the loops open at a line
    for i, line in enumerate(lines):
        width = len(line) - len(line.lstrip(" "))
        while loops and loops[-1][0] >= width:
            loops.pop()
        if _LOOP.fullmatch(line):
            loops.append((width, i))
        elif (m := _IF.fullmatch(line)) is not None:
            tests.append((i, m.group(1), m.group(2), loops[-1][1] if loops else None))
    seen: dict[tuple[Any, str], list[bool]] = {}  # (level, call) -> one entry per use: inside a loop?
    for _, _, test, loop in tests:
        for node in ast.walk(ast.parse(test, mode="eval")):
            if isinstance(node, ast.Call) and (at := level(node, loop)) is not None:
                seen.setdefault((at, ast.unparse(node)), []).append(loop is not None)
    names = {key: f"_m{n}" for n, key in enumerate(k for k, uses in seen.items() if len(uses) > 1 or
                                                  (k[0] == "doc" and any(uses)))}
    if not names:
        return lines

    class Memo(ast.NodeTransformer):
        def __init__(self, loop: int | None) -> None:
            self.loop = loop

        def visit_Call(self, node: ast.Call) -> Any:
            at = level(node, self.loop)
            name = names.get((at, ast.unparse(node))) if at is not None else None
            if name is None:
                return self.generic_visit(node)
            return _lazily(name, node)

    out = list(lines)
    for i, pad, test, loop in tests:
        tree = Memo(loop).visit(ast.parse(test, mode="eval"))
        out[i] = f"{pad}if {ast.unparse(tree)}:"
    resets: dict[Any, list[str]] = {}
    for (at, _), name in names.items():
        resets.setdefault(at, []).append(name)
    # the document's: after the reads at the top (the first line that is no read); each loop's: first in it
    top = next(i for i, line in enumerate(out) if i and not re.match(r"    (as_of|merchant|r[0-9]+) = ", line))
    for at in sorted(resets, key=lambda a: -1 if a == "doc" else a, reverse=True):
        if at == "doc":
            out.insert(top, "    " + " = ".join(resets[at]) + " = _U")
        else:
            width = len(out[at]) - len(out[at].lstrip(" "))
            out.insert(at + 1, " " * (width + 4) + " = ".join(resets[at]) + " = _U")
    return out


def _memoized_render(source: str) -> str:
    """_memoize_render's renderer, or the renderer as it was when it is too deep for `ast` to walk (a message
    of some 200 placeholders is a chain of as many `+`): it is right without, if slower."""
    try:
        return _memoize_render(source)
    except RecursionError:
        return source


def _memoize_render(source: str) -> str:
    """A rule's renderer with each call that its texts make more than once on the same values made once
    (into `_m<N>`, as in _memoized). A renderer has no loop: its names keep their values, but for the
    temporaries of `:=`, so any call of a pure function on them is the same call. The EPR messages look
    up the merchant's registration ten times: 9.4 -> 6.9 us a finding; all renderers together, 12 % less."""
    if not MEMO:
        return source
    import ast

    tree = ast.parse(source)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)

    def pure(node: ast.AST) -> bool:
        """A call that gives the same on each use: of a pure function, or a table's .get, on such values."""
        for sub in ast.walk(node):
            if isinstance(sub, (ast.NamedExpr, ast.Lambda, ast.GeneratorExp, ast.ListComp)):
                return False
            if isinstance(sub, ast.Name) and sub.id.startswith(("_t", "g_", "_m")):
                return False
            if isinstance(sub, ast.Call) and not (
                (isinstance(sub.func, ast.Name) and _PURE.fullmatch(sub.func.id))
                or (isinstance(sub.func, ast.Attribute) and sub.func.attr == "get")
            ):
                return False
        return True

    counts: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and _PURE.fullmatch(node.func.id):
            if pure(node):
                text = ast.unparse(node)
                counts[text] = counts.get(text, 0) + 1
    names = {text: f"_m{n}" for n, text in enumerate(t for t, c in counts.items() if c > 1)}
    if not names:
        return source

    class Memo(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> Any:
            name = names.get(ast.unparse(node))
            node = self.generic_visit(node)  # inner calls first: the outer one's text is the same at each use
            if name is None:
                return node
            return _lazily(name, node)

    function = Memo().visit(function)
    reset = ast.parse(" = ".join(names.values()) + " = _U").body[0]
    function.body.insert(0, reset)
    return ast.unparse(ast.fix_missing_locations(function)) + "\n"


def _lazily(name: str, call: Any) -> Any:
    """`call` made once into the local `name` (first set to _U), at its first use: the expression for each use."""
    import ast

    return ast.parse(f"({name} if {name} is not _U else ({name} := {ast.unparse(call)}))", mode="eval").body


def _checked(pad: str, code: _RuleCode, condition: str, item: str) -> list[str]:
    """One rule's test in the fused function, in a try of its own (free in Python 3.11)."""
    return [
        f"{pad}# [{code.index}] {code.rule.id}",
        f"{pad}try:",
        f"{pad}    if {condition}:",
        f"{pad}        hits.append(({code.index}, {item}))",
        f"{pad}except _BadValue:",
        f"{pad}    raise",
        f"{pad}except Exception as e:",
        f"{pad}    failed.append(({code.index}, e))",
    ]


@attrs.frozen
class Built:
    """A pack compiled: its rules' module and the snapshot validators, as code objects."""

    pack: Pack
    generated: Generated
    code: Any
    validator_constants: dict[str, Any]
    validator_code: Any

    def link(self) -> CompiledPack:
        from .. import validation

        validators = validation.build(self.validator_code, self.validator_constants)
        return link(self.pack, self.generated, self.code, validators)

    def frozen(self) -> tuple[Any, ...]:
        """What the cache stores (code objects marshalled)."""
        import marshal

        return (self.pack, self.generated, marshal.dumps(self.code), self.validator_constants,
                marshal.dumps(self.validator_code))


def build(pack: Pack) -> Built:
    from .. import validation

    generated = generate(pack)
    code = compile(generated.source, f"<policy pack {pack.content_hash[:12]}>", "exec")
    vsource, vconstants = validation.generate()
    return Built(pack, generated, code, vconstants, compile(vsource, "<snapshot validators>", "exec"))


def compile_pack(pack: Pack) -> CompiledPack:
    """A pack ready to run, without the cache."""
    return build(pack).link()


# -- one rule ----------------------------------------------------------------------------


class _RuleCode:
    """One rule's expressions, compiled twice: for the fused evaluator (field reads shared through
    `reads`) and for its renderer (reads inline; it runs for findings only)."""

    def __init__(self, rule: Rule, index: int, constants: Constants, reads: Reads) -> None:
        self.rule = rule
        self.index = index
        self.constants = constants
        self.reads = reads
        self.root = of_kind(rule.kind)
        self.temps = [0]
        #: the size of the parameter's list `each` goes over, if it goes over one: a `for` over another
        #: parameter's list in the rule's tests or messages runs that many times (expressions.MAX_NESTED_ITEMS)
        self.sizes: tuple[int, ...] = ()
        scope = self._base_scope()
        self.when = self._compile("when", rule.when, scope, "bool", reads) if rule.when else None
        self.each: Compiled | None = None
        self.each_inline: Compiled | None = None
        item_scope = dict(scope)
        render_scope = dict(scope)
        window = tuple(self._window())
        if rule.each:
            self.each = self._compile("each", rule.each, scope, "list", reads)
            self.each_inline = self._compile("each", rule.each, scope, "list")
            listed = constants.values.get(self.each.code) if _CONSTANT.fullmatch(self.each.code) else None
            if isinstance(listed, tuple):
                self.sizes = (len(listed),)
            assert self.each.type.elem is not None
            elem = self.each.type.elem
            # Item reads are hoisted into the loop of this rule's group: the same window, when,
            # merchant use and each. The merchant use is known before compiling, from the names.
            probe = {"merchant"} & _names(rule.where, rule.require, rule.when, rule.each)
            self.item_level = ("item", window, self.when.code if self.when else None, bool(probe), self.each.code)
            bindings = dict(
                item=Name("v_item", elem, level=self.item_level),
                index=Name("v_index", NUMBER),
                position=Name("(v_index + 1)", NUMBER),
                previous=Name("v_previous", elem.null(), level=self.item_level),
                next=Name("v_next", elem.null(), level=self.item_level),
            )
            item_scope.update(bindings)
            render_scope.update({k: attrs.evolve(v, level=None) for k, v in bindings.items()})
        self.where = self._compile("where", rule.where, item_scope, "bool", reads) if rule.where else None
        self.require = self._compile("require", rule.require, item_scope, "bool", reads)
        self.item_scope = render_scope
        self.templates = {
            "path": self._template("path", rule.path, pointer=True),
            **{f"message.{lang}": self._template(f"message.{lang}", rule.message.get(lang)) for lang in ("en", "zh")},
            **{f"remedy.{lang}": self._template(f"remedy.{lang}", rule.remedy.get(lang)) for lang in ("en", "zh")},
        }
        self.uses_merchant = any(
            "merchant" in c.names for c in (self.when, self.each, self.where, self.require) if c is not None
        )
        self.totals = [self._total(name, total) for name, total in rule.totals.items()]
        when_uses_merchant = self.when is not None and "merchant" in self.when.names
        #: rules with the same group share one test in the fused evaluator
        self.group = (window, self.when.code if self.when else None, when_uses_merchant, self.uses_merchant)

    def _fail(self, field: str, problem: str) -> PolicyError:
        return PolicyError(self.rule.file, problem, self.rule.id, field)

    def _base_scope(self) -> dict[str, Name]:
        scope: dict[str, Name] = {"as_of": Name("as_of", TIME)}
        if self.rule.kind != "merchant":
            # nullable in code: reads through it are hoisted above the test that it is there
            scope["merchant"] = Name("merchant", of_kind("merchant").null(), level="doc")
        for name, value in self.rule.params.items():
            if name in scope or name in EACH_NAMES or name in _CONSTANT_NAMES or self.root.field(name) is not None:
                raise self._fail(f"params.{name}", f"the parameter name {name!r} is already a field or name; rename it")
            scope[name] = self._param(name, value)
        for name in self.rule.totals:
            if name in scope or name in EACH_NAMES or name in _CONSTANT_NAMES or self.root.field(name) is not None:
                raise self._fail(f"totals.{name}", f"the total's name {name!r} is already a field or name; rename it")
            scope[name] = Name(f"totals.get(({self.index}, {name!r}))", NUMBER.null())
        return scope

    def _param(self, name: str, value: Any) -> Name:
        """A parameter as a hoisted constant and its type. Policy data may be a value, a list of
        values, a list of tables (records with named fields: `item.country`), or a table of
        names to values or to lists of values (looked up with `table[name]`)."""
        typ, data = self._data(f"params.{name}", value, top=True)
        if typ.name in ("bool", "text") or (typ.name == "number" and isinstance(data, int)):
            return Name(repr(data), typ, bounded=True)
        return Name(self.constants.add(data), typ, bounded=True)

    def _data(self, field: str, value: Any, top: bool = False) -> tuple[Type, Any]:
        if isinstance(value, bool):
            return BOOL, value
        if isinstance(value, (int, Decimal)):
            if isinstance(value, Decimal) and not value.is_finite() or abs(value) > MAX_LITERAL:
                raise self._fail(field, f"{value} is not a number a policy can use (finite, at most {MAX_LITERAL:,})")
            if value and abs(value) < MIN_LITERAL:
                raise self._fail(field, f"{value} is too small for a policy ({TOO_SMALL})")
            return NUMBER, value
        if isinstance(value, str):
            return TEXT, value
        if isinstance(value, (_dt.date, _dt.datetime)):
            return TIME, parse_time(value)
        if isinstance(value, list):
            items = [self._data(f"{field}[{i}]", v) for i, v in enumerate(value)]
            elem = _common(field, [t for t, _ in items], self._fail)
            return Type("list", elem=elem), tuple(v for _, v in items)
        if isinstance(value, dict):
            items = {k: self._data(f"{field}.{k}", v) for k, v in value.items()}
            if top:  # a table of names to values: looked up with table[name]
                elem = _common(field, [t for t, _ in items.values()], self._fail)
                return Type("map", elem=elem), {k: v for k, (_, v) in items.items()}
            record = tuple((k, t) for k, (t, _) in items.items())
            return Type("object", record=record), {k: v for k, (_, v) in items.items()}
        raise self._fail(field, f"unsupported parameter value {value!r}")  # pragma: no cover - schema

    def _compile(
        self, field: str, source: str, scope: dict[str, Name], want: str | None, reads: Reads | None = None
    ) -> Compiled:
        try:
            sizes = () if field == "each" or field.startswith("totals.") else self.sizes
            compiler = ExpressionCompiler(dict(scope), self.root, self.constants, self.temps, reads, sizes)
            compiled = compiler.compile(source, want)
        except ExpressionError as e:
            raise self._fail(field, f"{e} (in {source!r})") from None
        try:  # what the whitelist allows must also be valid Python where it lands: inside a function
            compile(f"def _f():\n return {compiled.code}\n", "<policy expression>", "exec")
        except SyntaxError as e:
            raise self._fail(field, f"cannot be compiled (a defect of the checker, please report it): {e.msg}") from None
        return compiled

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
                compiled = self._compile(field, text[i + 1 : end], self.item_scope, None)
                names |= compiled.names
                part = f"{'_ptr' if pointer else '_fmt'}({compiled.code})"
                folded = self._folded(part, compiled)
                if folded is not None:
                    literal += folded
                else:
                    if literal:
                        parts.append(repr(literal))
                        literal = ""
                    parts.append(part)
                i = end + 1
                continue
            literal += ch
            i += 1
        if literal or not parts:
            parts.append(repr(literal))
        if pointer and not text.startswith("/") and text:
            raise self._fail(field, 'a path is a JSON Pointer starting with "/", e.g. "/price/tiers/{index}/price"')
        return ("(" + " + ".join(parts) + ")" if len(parts) > 1 else parts[0]), frozenset(names)

    def _folded(self, part: str, compiled: Compiled) -> str | None:
        """The text a template's part always gives when it reads only the rule's parameters (`{max_tiers}`,
        `{percent(1 - max_drop)}`): computed once here, in the runtime's arithmetic, rather than for every
        finding. None for any other part, and for one that fails here: it is left to work, or fail, at run
        time."""
        if not compiled.names <= set(self.rule.params):
            return None
        from .runtime import decimal_context, namespace

        names = namespace(self.constants.values)
        try:
            # the loop functions made so far (a `for` over a parameter's list calls one); our own generated source
            exec("\n".join(self.constants.functions.values()), names)  # noqa: S102
            with decimal_context():
                text = eval(part, names)  # noqa: S307 - our own generated source
        except Exception:  # noqa: BLE001 - see above
            return None
        return text if isinstance(text, str) else None

    # -- source -----------------------------------------------------------------------

    def _window(self) -> list[str]:
        conds = []
        if self.rule.effective_from is not None:
            conds.append(f"{self.constants.add(self.rule.effective_from)} <= as_of")
        if self.rule.effective_until is not None:
            conds.append(f"as_of < {self.constants.add(self.rule.effective_until)}")
        return conds

    def _total(self, name: str, total: Any) -> str:
        """A function adding one document's share to a total: its `value` when `where` holds, else None.
        It sees the document of the kind summed, the rule's parameters, and `as_of` (the scan's time)."""
        saved = self.root
        self.root = of_kind(total.over)
        try:
            scope = {"as_of": Name("as_of", TIME), **{k: v for k, v in self._base_scope().items()
                                                     if k not in ("merchant", "as_of") and k not in self.rule.totals}}
            value = self._compile(f"totals.{name}.value", total.value, scope, None)
            if value.type.name != "number":
                raise self._fail(f"totals.{name}.value", f"a total adds numbers, and this is {value.type.words}")
            where = self._compile(f"totals.{name}.where", total.where, scope, "bool") if total.where else None
        finally:
            self.root = saved
        lines = [f"def total_{self.index}_{name}(doc, as_of):"]
        if where is not None:
            lines.append(f"    if not {where.code}:")
            lines.append("        return None")
        lines.append(f"    return {value.code}")
        return "\n".join(lines) + "\n"

    def render(self) -> str:
        i = self.index
        out = [f"def render_{i}(doc, as_of, merchant, v_index, lang, totals=_NO_TOTALS):"]
        if self.rule.kind in CLOCK_FIELD:
            out.append(f'    as_of = _time(doc.get("{CLOCK_FIELD[self.rule.kind]}"))')
        if self.each_inline is not None:
            out.append(f"    _s = {self.each_inline.code}")
            out.append("    v_item = _s[v_index]")
            out.append("    v_previous = _s[v_index - 1] if v_index else None")
            out.append("    v_next = _s[v_index + 1] if v_index + 1 < len(_s) else None")
        t = self.templates
        out.append('    if lang == "zh":')
        out.append(f"        return ({t['path'][0]}, {t['message.zh'][0]}, {t['remedy.zh'][0]})")
        out.append(f"    return ({t['path'][0]}, {t['message.en'][0]}, {t['remedy.en'][0]})")
        return "\n".join(out) + "\n"


def _names(*sources: str | None) -> set[str]:
    import ast

    from .expressions import parse

    return {n.id for src in sources if src for n in ast.walk(parse(src)) if isinstance(n, ast.Name)}


def _common(field: str, types: list[Type], fail: Callable[[str, str], PolicyError]) -> Type:
    """The one type of a list's (or table's) values; tables in a list merge into one record type,
    a field missing from some of them being missing (null) there."""
    if not types:
        return Type("null", nullable=True)
    names = {t.name for t in types}
    if len(names) != 1:
        raise fail(field, "a list or table of policy data holds values of one kind (all numbers, all texts, all tables...)")
    first = types[0]
    if first.name == "list":
        return Type("list", elem=_common(field, [t.elem for t in types if t.elem is not None], fail))
    if first.name != "object":
        return first
    fields: dict[str, list[Type]] = {}
    for t in types:
        for name, ft in t.record or ():
            fields.setdefault(name, []).append(ft)
    record = []
    for name, found in fields.items():
        merged = _common(f"{field}.{name}", found, fail)
        record.append((name, merged.null() if len(found) < len(types) else merged))
    return Type("object", record=tuple(record))
