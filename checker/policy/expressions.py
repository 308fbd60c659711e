"""Policy expressions: parsed with `ast`, checked against a whitelist and the
snapshot types, and turned into Python source for the fused evaluators.

A policy is data. Its expressions can name document fields, the rule's
parameters and the functions of `vocabulary.py`; they can compare, do exact
arithmetic (+ - * /) and combine conditions with and/or/not. Nothing else
parses: no attribute outside the snapshot contract, no call outside the
vocabulary, no `**`, no lambda, no import. Every name an expression uses is
resolved at load time to a generated identifier, so no Python builtin is
reachable.

Missing values: a field that is absent (or null) is "missing". Comparing a
missing value with anything is false, except `x == null` and `x != null`;
arithmetic with a missing value gives a missing value.
"""

from __future__ import annotations

import ast
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

import attrs

from .types import BOOL, NULL, NUMBER, TEXT, TIME, Type, uniform_field
from .vocabulary import FUNCTIONS

MAX_SOURCE = 2000
MAX_NODES = 400
#: levels of nesting (the bundled policies' deepest: 17). The generated code nests up to 3 parentheses a level,
#: and the renderer a few more around it: `- - ... moq` 196 deep was beyond Python's 200 in a message, and
#: loading crashed with a SyntaxError
MAX_DEPTH = 50
#: literals beyond this magnitude are refused (amounts, quantities and counts never come close)
MAX_LITERAL = Decimal(10) ** 15
#: and, but for 0, at least this: 1 / 1e-999990 is within the arithmetic's range, and `add_days` made it a whole
#: number of a million digits, 25 s for each document (a tiny number is no threshold of any rule either)
MIN_LITERAL = Decimal(10) ** -15
#: `for` expressions over parameters' lists nested in one another: their sizes multiplied, at most (one over
#: the longest list the schema allows, nested in none)
MAX_NESTED_ITEMS = 10_000
TOO_SMALL = f"a number other than 0 is at least {MIN_LITERAL:f}"


class ExpressionError(ValueError):
    """An expression a policy may not contain; the message says why, in words."""


@attrs.frozen
class Name:
    """What a bare name in an expression stands for."""

    code: str
    type: Type
    #: set when the name is a document field read on demand (`price` -> doc["price"])
    reader: str | None = None
    #: where reads through this name can be hoisted to (see Reads); None: nowhere
    level: Any = None
    #: policy data of a fixed size (a parameter): a `for` over it may hold another `for`
    bounded: bool = False


class Reads:
    """The field reads of one fused function, each computed once into a local.

    A read such as `_money(v_item.get('price'))` used by five tier rules is
    evaluated once per tier. `level` says where the local is assigned: "doc"
    at the top of the function, or a loop's own key inside that loop.
    """

    def __init__(self) -> None:
        self.locals: dict[tuple[Any, str], str] = {}
        #: (local name, code, level) in the order first seen, which is dependency order
        self.order: list[tuple[str, str, Any]] = []
        self.level_of: dict[str, Any] = {}

    def local(self, code: str, level: Any) -> str:
        key = (level, code)
        name = self.locals.get(key)
        if name is None:
            name = f"r{len(self.order)}"
            self.locals[key] = name
            self.order.append((name, code, level))
            self.level_of[name] = level
        return name

    def at(self, level: Any) -> list[tuple[str, str]]:
        return [(name, code) for name, code, lv in self.order if lv == level]


@attrs.frozen
class Compiled:
    code: str
    type: Type
    names: frozenset[str]


class Constants:
    """Values hoisted out of generated code (Decimals, tuples, times), and the generated loop
    functions of a pack (`_q<N>`, see ExpressionCompiler._loop): both are shared by all its rules."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._by_key: dict[Any, str] = {}
        #: the source of each loop function, by name
        self.functions: dict[str, str] = {}
        self._function_names: dict[tuple[str, str], str] = {}

    def function(self, parameters: str, body: str) -> str:
        """The name of a module-level function of these parameters and body (one per distinct text)."""
        key = (parameters, body)
        name = self._function_names.get(key)
        if name is None:
            name = self._function_names[key] = f"_q{len(self._function_names)}"
            self.functions[name] = f"def {name}({parameters}):\n{body}"
        return name

    def add(self, value: Any) -> str:
        key = (type(value).__name__, repr(value))
        name = self._by_key.get(key)
        if name is None:
            name = f"_k{len(self.values)}"
            self.values[name] = value
            self._by_key[key] = name
        return name


class ExpressionCompiler:
    """Compiles expressions for one rule: its scope of names and its constants."""

    def __init__(
        self,
        scope: dict[str, Name],
        root: Type,
        constants: Constants,
        temps: list[int] | None = None,
        reads: Reads | None = None,
        sizes: tuple[int, ...] = (),
    ) -> None:
        self.scope = scope
        self.root = root
        self.constants = constants
        #: with reads, field reads become shared locals (the fused evaluator); without, inline (renderers)
        self.reads = reads
        self._in_for = False
        #: the sizes of the parameters' lists that the `for` being compiled is inside (and of the one a rule's
        #: `each` goes over, for its where, require and messages)
        self._sizes: list[int] = list(sizes)
        self._levels: dict[str, Any] = {n.code: n.level for n in scope.values() if n.level is not None}
        #: shared by the expressions of one rule, so their temporaries never collide
        self._temps = temps if temps is not None else [0]
        self._used: set[str] = set()

    # -- entry points --------------------------------------------------------------

    def compile(self, source: str, want: str | None = None) -> Compiled:
        """Compile `source`; with want="bool" the result must be a condition."""
        tree = parse(source)
        self._used = set()
        # the text the tree's columns refer to (parse strips it): numbers are read from it (n_Constant). The
        # text as given shifted them: `' moq >= 10'` was `moq >= 1`
        self._source = source.strip()
        code, typ = self.node(tree.body)
        if want == "bool" and typ.name != "bool":
            raise ExpressionError(f"must be a condition (true or false), but this is {typ.words}")
        if want == "list" and typ.name != "list":
            raise ExpressionError(f"must be a list, but this is {typ.words}")
        return Compiled(code, typ, frozenset(self._used))

    def temp(self) -> str:
        self._temps[0] += 1
        return f"_t{self._temps[0]}"

    # -- nodes -----------------------------------------------------------------------

    def node(self, node: ast.AST) -> tuple[str, Type]:
        handler = getattr(self, "n_" + type(node).__name__, None)
        if handler is None:
            raise ExpressionError(f"{_describe(node)} is not allowed in a policy expression")
        return handler(node)

    def n_Constant(self, node: ast.Constant) -> tuple[str, Type]:
        value = node.value
        if value is None:
            return "None", NULL
        if isinstance(value, bool):
            return repr(value), BOOL
        if isinstance(value, str):
            return repr(value), TEXT
        if isinstance(value, (int, float)):
            literal = ast.get_source_segment(self._source, node) or repr(value)
            try:
                number = Decimal(literal.replace("_", ""))
            except InvalidOperation:
                raise ExpressionError(f"{literal} is not a number a policy can use") from None
            if not number.is_finite() or abs(number) > MAX_LITERAL:
                raise ExpressionError(f"the number {literal} is too large (at most {MAX_LITERAL:,})")
            if number and abs(number) < MIN_LITERAL:
                raise ExpressionError(f"the number {literal} is too small ({TOO_SMALL})")
            if float(number) != value:  # pragma: no cover - the text read is not the number parsed: a defect
                raise ExpressionError(
                    f"the number {literal} could not be read (a defect of the checker, please report it)")
            if isinstance(value, int):
                return repr(int(number)), NUMBER
            return self.constants.add(number), NUMBER
        raise ExpressionError(f"{_describe(node)} is not allowed in a policy expression")

    def n_Name(self, node: ast.Name) -> tuple[str, Type]:
        name = node.id
        if name in ("true", "false"):
            return ("True" if name == "true" else "False"), BOOL
        if name == "null":
            return "None", NULL
        found = self.scope.get(name)
        if found is not None:
            self._used.add(name)
            return found.code, found.type
        field = self.root.field(name) if not name.startswith("_") else None
        if field is not None:
            self._used.add("doc")
            typ, reader = field
            return self._hoist(_read(f'doc.get("{name}")', reader), "doc"), typ
        known = sorted(set(self.scope) | set(self.root.fields()))
        raise ExpressionError(f"unknown name {name!r}; known names here: {', '.join(known)}")

    def n_Attribute(self, node: ast.Attribute) -> tuple[str, Type]:
        base, typ = self.node(node.value)
        name = node.attr
        if name.startswith("_"):
            raise ExpressionError(f"{name!r} is not a field; names starting with '_' are not allowed")
        if typ.name != "object":
            raise ExpressionError(f"cannot take .{name} of {typ.words}")
        field = typ.field(name)
        if field is None:
            raise ExpressionError(
                f"{name!r} is not a field here; the fields are: {', '.join(typ.fields())}"
            )
        ftype, reader = field
        getter = f"({base} or _E).get({name!r})" if typ.nullable else f"{base}.get({name!r})"
        return self._hoist(_read(getter, reader), self._level(base)), ftype

    def _level(self, code: str) -> Any:
        if self.reads is not None and code in self.reads.level_of:
            return self.reads.level_of[code]
        return self._levels.get(code)

    def _hoist(self, code: str, level: Any) -> str:
        if self.reads is None or level is None:
            return code
        return self.reads.local(code, level)

    def n_Subscript(self, node: ast.Subscript) -> tuple[str, Type]:
        base, typ = self.node(node.value)
        index = node.slice
        if typ.name == "list":
            number = _int_constant(index)
            if number is None:
                raise ExpressionError("a list can only be indexed by a whole number, e.g. price.tiers[0] or [-1]")
            assert typ.elem is not None
            return f"_at({base}, {number})", typ.elem.null()
        if typ.name == "object" and isinstance(index, ast.Constant) and isinstance(index.value, str):
            raise ExpressionError(f"write .{index.value} to read a field, not [{index.value!r}]")
        if typ.name == "object":
            found = uniform_field(typ)
            if found is None:
                raise ExpressionError("only an object whose fields are all of one type can be looked up by a computed name")
            key, ktype = self.node(index)
            if ktype.name != "text":
                raise ExpressionError(f"a field is named by text, not by {ktype.words}")
            ftype, reader = found
            return _read(f"({base} or _E).get({key})", reader), ftype
        if typ.name == "map":
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                key = repr(index.value)
            else:
                key, ktype = self.node(index)
                if ktype.name != "text":
                    raise ExpressionError(f"a table is looked up by text, not by {ktype.words}")
            assert typ.elem is not None
            return f"({base} or _E).get({key})", typ.elem.null()
        raise ExpressionError(f"cannot index {typ.words}")

    def n_List(self, node: ast.List | ast.Tuple) -> tuple[str, Type]:
        values = []
        types = set()
        for elt in node.elts:
            value, typ = self._literal(elt)
            values.append(value)
            types.add(typ.name)
        if len(types) > 1:
            raise ExpressionError("a list must hold values of one type (all numbers, or all texts)")
        elem = Type(types.pop()) if types else NULL
        return self.constants.add(tuple(values)), Type("list", elem=elem)

    n_Tuple = n_List

    def _literal(self, node: ast.AST) -> tuple[Any, Type]:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if isinstance(node.value, str) and sign == 1:
                return node.value, TEXT
            if isinstance(node.value, (int, float)):
                code, _ = self.n_Constant(node)
                value = self.constants.values[code] if code.startswith("_k") else int(code)
                return sign * value, NUMBER
        raise ExpressionError("a list written in a policy may only hold numbers or texts")

    def n_UnaryOp(self, node: ast.UnaryOp) -> tuple[str, Type]:
        code, typ = self.node(node.operand)
        if isinstance(node.op, ast.Not):
            _need(typ, "bool", "'not' needs a condition")
            return f"(not {code})", BOOL
        if isinstance(node.op, ast.USub):
            _need(typ, "number", "'-' needs a number")
            if typ.nullable:
                t = self.temp()
                return f"(None if ({t} := {code}) is None else -{t})", typ
            return f"(-{code})", typ
        raise ExpressionError(f"{_describe(node)} is not allowed in a policy expression")

    def n_BinOp(self, node: ast.BinOp) -> tuple[str, Type]:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise ExpressionError(f"the operator {_OPERATOR_WORDS.get(type(node.op), '?')} is not allowed; use + - * /")
        left, ltype = self.node(node.left)
        right, rtype = self.node(node.right)
        for typ in (ltype, rtype):
            _need(typ, "number", f"'{op}' works on numbers, not on {typ.words}")
        if op == "/":
            return f"_div({left}, {right})", NUMBER.null()
        checks, (a, b) = self._guard([(left, ltype), (right, rtype)])
        if checks:
            return f"(None if {' or '.join(c + ' is None' for c in checks)} else {a} {op} {b})", NUMBER.null()
        return f"({a} {op} {b})", NUMBER

    def n_BoolOp(self, node: ast.BoolOp) -> tuple[str, Type]:
        word = "and" if isinstance(node.op, ast.And) else "or"
        parts = []
        for value in node.values:
            code, typ = self.node(value)
            _need(typ, "bool", f"'{word}' combines conditions, not {typ.words}")
            parts.append(code)
        return "(" + f" {word} ".join(parts) + ")", BOOL

    def n_IfExp(self, node: ast.IfExp) -> tuple[str, Type]:
        test, ttype = self.node(node.test)
        _need(ttype, "bool", "the condition of 'if ... else' must be true or false")
        body, btype = self.node(node.body)
        other, otype = self.node(node.orelse)
        if btype.name != otype.name and "null" not in (btype.name, otype.name):
            raise ExpressionError(f"'if ... else' gives {btype.words} or {otype.words}: make both the same type")
        result = btype if btype.name != "null" else otype
        return f"({body} if {test} else {other})", result.null(btype.nullable or otype.nullable)

    def n_Compare(self, node: ast.Compare) -> tuple[str, Type]:
        parts = []
        left_node = node.left
        left = self.node(left_node)
        for i, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
            right = self.node(right_node)
            if i + 1 < len(node.ops) and not _SIMPLE.fullmatch(right[0]):
                # the middle of `a < b < c` is used by two comparisons: computed once, into a temporary. Its
                # code written twice doubled with each chain nested in the middle of another: 20 deep (80
                # characters of `true == (...) == true`) took 110 s to load (tests/test_policy_safety.py)
                t = self.temp()
                parts.append(self._compare(op, left, (f"({t} := {right[0]})", right[1])))
                right = (t, right[1])
            else:
                parts.append(self._compare(op, left, right))
            left = right
        return (parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"), BOOL

    def _compare(self, op: ast.cmpop, left: tuple[str, Type], right: tuple[str, Type]) -> str:
        (a, at), (b, bt) = left, right
        if isinstance(op, (ast.Is, ast.IsNot)):
            raise ExpressionError("use == and != (for example x == null), not 'is'")
        if isinstance(op, (ast.In, ast.NotIn)):
            if bt.name != "list":
                raise ExpressionError(f"'in' looks for a value in a list, and this is {bt.words}")
            elem = bt.elem or NULL
            if elem.name not in ("null", at.name):
                raise ExpressionError(f"'in' compares {at.words} with a list of {elem.words} values")
            word = "in" if isinstance(op, ast.In) else "not in"
            t = self.temp()
            return f"(({t} := {a}) is not None and {t} {word} ({b} or ()))"
        symbol = _COMPARISONS[type(op)]
        if symbol in ("==", "!="):
            if at.name == "null" or bt.name == "null":
                other = b if at.name == "null" else a
                return f"({other} {'is' if symbol == '==' else 'is not'} None)"
            if at.name != bt.name:
                raise ExpressionError(f"cannot compare {at.words} with {bt.words}; they are never equal")
        else:
            if at.name != bt.name or at.name not in ("number", "time", "text"):
                raise ExpressionError(
                    f"'{symbol}' compares two numbers, two times or two texts, not {at.words} with {bt.words}"
                )
        checks, (x, y) = self._guard([(a, at), (b, bt)])
        if checks:
            return "(" + "".join(f"{c} is not None and " for c in checks) + f"{x} {symbol} {y})"
        return f"({x} {symbol} {y})"

    def _guard(self, operands: list[tuple[str, Type]]) -> tuple[list[str], list[str]]:
        """For nullable operands: a `(temp := code)` to test for None, and the temp to use after."""
        checks, uses = [], []
        for code, typ in operands:
            if typ.nullable:
                t = self.temp()
                checks.append(f"({t} := {code})")
                uses.append(t)
            else:
                uses.append(code)
        return checks, uses

    def n_Call(self, node: ast.Call) -> tuple[str, Type]:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only the functions of the policy language can be called, by name")
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise ExpressionError(
                f"unknown function {node.func.id!r}; the functions are: {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise ExpressionError(f"{function.name}() takes no named arguments")
        if len(node.args) != len(function.params):
            raise ExpressionError(f"{function.name}() takes {len(function.params)} argument(s), got {len(node.args)}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError("'*' is not allowed in a policy expression")
        codes, types = [], []
        for arg, want in zip(node.args, function.params):
            if isinstance(arg, ast.GeneratorExp):
                if not function.generator:
                    raise ExpressionError(f"{function.name}() does not take a 'for' expression")
                if function.name in LOOPS:
                    code, typ = self._loop(function.name, arg)
                    _check_arg(function.name, want, typ)
                    return code, function.returns([typ])
                code, typ = self._generator(arg)
            elif want.startswith("constant-"):
                code, typ = self._constant_arg(function.name, arg, want)
            else:
                code, typ = self.node(arg)
            _check_arg(function.name, want, typ)
            codes.append(code)
            types.append(typ)
        if function.name == "date":
            return codes[0], TIME
        return f"fn_{function.name}({', '.join(codes)})", function.returns(types)

    def _constant_arg(self, name: str, arg: ast.AST, want: str) -> tuple[str, Type]:
        if want == "constant-number":
            number = _int_constant(arg)
            if number is None or not 0 <= number <= 12:
                raise ExpressionError(f"the second argument of {name}() is a whole number of decimals from 0 to 12")
            return repr(number), NUMBER
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise ExpressionError(f"{name}() takes a fixed text, e.g. {name}(\"2022-12-27\")")
        from ..values import BadValue, parse_time

        try:
            when = parse_time(arg.value)
        except BadValue:
            raise ExpressionError(f"{arg.value!r} is not a time (RFC 3339 or YYYY-MM-DD)") from None
        return self.constants.add(when), TIME

    def _generator(self, node: ast.GeneratorExp) -> tuple[str, Type]:
        seq, var, element, cond, typ = self._for(node)
        # The list is bound first: Python allows no `:=` (our null tests) inside the `in` part.
        t = self.temp()
        code = f"({t} := {seq}, ({element} for {var} in ({t} or ()){f' if {cond}' if cond else ''}))[1]"
        return code, typ

    def _loop(self, function: str, node: ast.GeneratorExp) -> tuple[str, Type]:
        """`function(ELEMENT for x in LIST if COND)` as a call of a generated function that loops over
        the list with a plain `for` statement, stopping as soon as the answer is known (LOOPS):
        `all(any(s.country == c and s.computable for s in shipping) for c in core_countries)` took
        11.0 us with generators handed to the runtime's any/all, 2.6 us as loops (10 x 10 items).

        The function is defined once per pack at module level (Constants.function); what the loop
        reads from the rule's scope (field reads, `item`, an outer loop's variable, the merchant...)
        is passed as arguments, found with `symtable`. Its value is the runtime function's on the
        same items, element for element (tests/test_loops.py compares the two)."""
        seq, var, element, cond, typ = self._for(node)
        init, each, end = LOOPS[function]
        lines = [*(f"    {line}" for line in init), f"    for {var} in (_seq or ()):"]
        pad = "        "
        if cond:
            lines.append(f"{pad}if {cond}:")
            pad += "    "
        lines += [pad + line.replace("{elt}", element) for line in each]
        lines.append(f"    {end}")
        body = "\n".join(lines) + "\n"
        free = _free_names(f"def _q(_seq):\n{body}")
        name = self.constants.function(", ".join(["_seq", *free]), body)
        return f"{name}({', '.join([seq, *free])})", typ

    def _for(self, node: ast.GeneratorExp) -> tuple[str, str, str, str, Type]:
        """A `for` expression's parts as code: the list, the variable, the element, the condition
        ("" without `if`), and its type (a list of the elements)."""
        if len(node.generators) != 1:
            raise ExpressionError("a 'for' expression takes one 'for'")
        gen = node.generators[0]
        if gen.is_async or not isinstance(gen.target, ast.Name):
            raise ExpressionError("write 'for NAME in LIST'")
        if len(gen.ifs) > 1:
            raise ExpressionError("a 'for' expression takes at most one 'if'")
        if self._in_for:
            raise ExpressionError(
                "a 'for' expression inside another over a document's list is not allowed: its work grows with"
                " the square of the list (over a parameter's list it may hold one)"
            )
        seq, stype = self.node(gen.iter)
        bounded = isinstance(gen.iter, ast.Name) and getattr(self.scope.get(gen.iter.id), "bounded", False)
        if stype.name != "list":
            raise ExpressionError(f"'for ... in' goes over a list, and this is {stype.words}")
        sizes = self._sizes
        if bounded:
            # a `for` over a parameter's list may hold another, but their sizes multiply: three nested over a
            # list of 300 numbers were 27 million turns a document (and at load, in a message)
            sizes = [*sizes, len(self.constants.values.get(seq, ()))]
            work = math.prod(sizes)
            if len(sizes) > 1 and work > MAX_NESTED_ITEMS:
                raise ExpressionError(
                    "a 'for' over a parameter's list inside another goes over their items multiplied: here "
                    f"{' x '.join(map(str, sizes))} = {work:,}, and at most {MAX_NESTED_ITEMS:,} are allowed"
                )
        var = gen.target.id
        if var in self.scope or var in ("true", "false", "null") or var.startswith("_"):
            raise ExpressionError(f"{var!r} is already a name here; choose another")
        py = f"g_{var}"
        assert stype.elem is not None
        self.scope[var] = Name(py, stype.elem)
        outer, outer_sizes = self._in_for, self._sizes
        self._in_for = not bounded
        self._sizes = sizes
        try:
            element, etype = self.node(node.elt)
            cond = ""
            if gen.ifs:
                cond, ctype = self.node(gen.ifs[0])
                _need(ctype, "bool", "the 'if' of a 'for' expression must be a condition")
        finally:
            del self.scope[var]
            self._in_for, self._sizes = outer, outer_sizes
        self._used.discard(var)
        return seq, py, element, cond, Type("list", elem=etype.null(False))


# -- helpers ---------------------------------------------------------------------------

#: the functions whose `for` expression becomes a loop (ExpressionCompiler._loop): the lines before the
#: loop, the loop's body for one element ({elt}; run only when the `if` holds), and the last line. Each
#: gives what the runtime's fn_<name> gives on the same elements (runtime.py): first and last take the
#: element whatever its value; min, max and sum skip missing ones, min and max keep the first of equals.
LOOPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "any": ((), ("if {elt}:", "    return True"), "return False"),
    "all": ((), ("if not {elt}:", "    return False"), "return True"),
    "count": (("_r = 0",), ("{elt}", "_r += 1"), "return _r"),  # the element is still evaluated, as before
    "first": ((), ("return {elt}",), "return None"),
    "last": (("_r = None",), ("_r = {elt}",), "return _r"),
    "min": (("_r = None",), ("_v = {elt}", "if _v is not None and (_r is None or _v < _r):", "    _r = _v"),
            "return _r"),
    "max": (("_r = None",), ("_v = {elt}", "if _v is not None and (_r is None or _v > _r):", "    _r = _v"),
            "return _r"),
    "sum": (("_r = 0",), ("_v = {elt}", "if _v is not None:", "    _r = _r + _v"), "return _r"),
}


def _free_names(source: str) -> list[str]:
    """The names a generated loop function reads from the rule's scope (its arguments): every name it
    uses as a global, at any depth, that the generated module does not define (runtime.namespace's
    helpers, constants `_k<N>`, loop functions `_q<N>`)."""
    import symtable

    from .runtime import namespace

    module = set(namespace({})) | set(namespace({})["__builtins__"])
    found: set[str] = set()
    tables = [symtable.symtable(source, "<loop>", "exec")]
    while tables:
        table = tables.pop()
        tables += table.get_children()
        if table.get_type() == "module":
            continue
        found |= {s.get_name() for s in table.get_symbols() if s.is_global()}
    free = sorted(n for n in found if n not in module and not re.fullmatch(r"_[kq]\d+", n))
    if any(re.fullmatch(r"_t\d+", n) for n in free):  # pragma: no cover - a temporary is never shared
        raise AssertionError(f"a loop would read another expression's temporary: {source}")
    return free

#: code that may be written twice: a name (a field read into a local, a temporary) or a literal
_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?[0-9]+|True|False|None")

_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_OPERATOR_WORDS = {
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.MatMult: "@",
}
_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def parse(source: str) -> ast.Expression:
    """Parse an expression, refusing anything too long, too deep or not an expression."""
    if not isinstance(source, str):
        raise ExpressionError("an expression is text")
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"expression longer than {MAX_SOURCE:,} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        where = f" (column {e.offset})" if e.offset else ""
        raise ExpressionError(f"not a valid expression: {e.msg}{where}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("expression nested too deeply") from None
    count = deepest = 0
    for _, depth in _walk(tree):
        count += 1
        deepest = max(deepest, depth)
    if count > MAX_NODES:
        raise ExpressionError(f"expression too large ({count} parts; at most {MAX_NODES})")
    if deepest > MAX_DEPTH:
        raise ExpressionError(f"expression nested too deeply (more than {MAX_DEPTH} levels)")
    return tree


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, int]]:
    """Each node of the tree, with its depth (the tree's root: 1)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _read(getter: str, reader: str | None) -> str:
    return f"{reader}({getter})" if reader else getter


def _need(typ: Type, name: str, message: str) -> None:
    if typ.name != name:
        raise ExpressionError(message)


def _check_arg(function: str, want: str, typ: Type) -> None:
    ok = {
        "any": True,
        "list": typ.name == "list",
        "number": typ.name == "number",
        "time": typ.name == "time",
        "text": typ.name == "text",
        "constant-number": True,
        "constant-text": True,
        "list-of-number": typ.name == "list" and typ.elem is not None and typ.elem.name == "number",
        "list-of-bool": typ.name == "list" and typ.elem is not None and typ.elem.name == "bool",
        "list-of-ordered": typ.name == "list" and typ.elem is not None and typ.elem.name in ("number", "time"),
        "list-of-text": typ.name == "list" and typ.elem is not None and typ.elem.name in ("text", "null"),
        "list-of-object": typ.name == "list" and typ.elem is not None and typ.elem.name == "object",
        "map": typ.name == "map",
    }[want]
    if not ok:
        wanted = want.replace("list-of-ordered", "a list of numbers or times").replace("list-of-", "a list of ")
        wanted = {"list": "a list", "number": "a number", "time": "a time", "text": "text",
                  "map": "a table of names to values", "a list of text": "a list of texts",
                  "a list of object": "a list of objects"}.get(wanted, wanted)
        raise ExpressionError(f"{function}() takes {wanted}, not {typ.words}")


def _int_constant(node: ast.AST) -> int | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) < 10**6:
        return sign * node.value
    return None


_NODE_WORDS = {
    "Lambda": "a lambda",
    "Call": "a call",
    "ListComp": "a list comprehension",
    "DictComp": "a dict comprehension",
    "SetComp": "a set comprehension",
    "GeneratorExp": "a 'for' expression outside count/any/all/min/max/sum",
    "Dict": "a dict",
    "Set": "a set",
    "JoinedStr": "an f-string",
    "NamedExpr": "an assignment (:=)",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Starred": "'*'",
    "Slice": "a slice",
}


def _describe(node: ast.AST) -> str:
    name = type(node).__name__
    return _NODE_WORDS.get(name, f"'{name}'")
