"""Loading policy files: TOML, validated against schemas/policy.schema.json.

A bad policy fails here, before any document is read, with the file, the
rule id and what is wrong. Loading never runs code from a policy: TOML is
data, and expressions are compiled by `expressions.py`, which accepts only
its whitelist.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ..resources import schemas_dir
from ..values import BadValue, parse_time
from .files import PACK_FILE, fingerprint, pack_meta_files, policy_files
from .model import Example, Pack, PolicyError, Rule, Text, Total


def load_pack(dirs: Iterable[str | Path]) -> Pack:
    """Read and validate the policy files of `dirs`. A later folder's rule replaces an earlier
    folder's rule with the same id (a team's pack over the bundled one); one id twice in the same
    folder is a mistake."""
    dirs = [str(d) for d in dirs]
    content_hash, _ = fingerprint(dirs)
    rules: dict[str, Rule] = {}
    shown_files: list[str] = []
    for entry in dirs:
        where: dict[str, str] = {}
        for path, shown in policy_files([entry]):
            with open(path, "rb") as f:
                data = f.read()
            shown_files.append(shown)
            for rule in _load_file(shown, data):
                if rule.id in where:
                    same = "this file" if where[rule.id] == shown else where[rule.id]
                    raise PolicyError(shown, f"the same rule id is also in {same}", rule.id)
                where[rule.id] = shown
                rules[rule.id] = rule  # replaces an earlier folder's rule, in its place
    if not rules:
        raise PolicyError(", ".join(dirs), "no rules found")
    metas = [_pack_meta(path) for path in pack_meta_files(dirs, (PACK_FILE,))]
    name, version = metas[0] if metas else ("policies", "0")
    return Pack(tuple(rules.values()), content_hash, name, version, tuple(shown_files))


def parse_toml(shown: str, data: bytes, **options: Any) -> dict[str, Any]:
    """A policy folder's TOML file, or PolicyError naming it."""
    try:
        doc = tomllib.loads(data.decode("utf-8"), **options)
    except UnicodeDecodeError:
        raise PolicyError(shown, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(shown, f"not valid TOML: {e}") from None
    except RecursionError:
        raise PolicyError(shown, "nested too deeply") from None
    # Dotted keys (`patch.a.a.a... = 1`) nest tables without a bracket, as deep as the line is long: the
    # loader's recursive steps (_jsonish, the schema, merge) crashed with a RecursionError at ~500 levels
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PolicyError(shown, f"nested too deeply (more than {MAX_DEPTH} levels of tables and lists)")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return doc


#: levels of tables and lists in a policy folder's TOML file (a document nests ~6, policy data a few)
MAX_DEPTH = 32


def _pack_meta(path: str) -> tuple[str, str]:
    """(name, version) of a pack.toml."""
    with open(path, "rb") as f:
        info = parse_toml(path, f.read())
    unknown = set(info) - {"name", "version"}
    if unknown or not all(isinstance(info.get(k, ""), str) for k in ("name", "version")):
        raise PolicyError(path, "a pack.toml holds name and version, as text")
    for key in ("name", "version"):
        if _CONTROL.search(info.get(key, "")):
            raise PolicyError(path, f"{key}: {info[key]!r} is not one line of text (a control character or line break)")
    return info.get("name", "policies"), info.get("version", "0")


#: what a one-line text (a pack's name or version) cannot hold: control characters, line breaks
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _load_file(shown: str, data: bytes) -> list[Rule]:
    doc = parse_toml(shown, data, parse_float=Decimal)
    _validate(shown, doc)
    bases = doc.get("example_base", {})
    for kind, base in bases.items():
        bases[kind] = _jsonish(base)
    shared = doc.get("params", {})
    return [_rule(shown, {**raw, "params": {**_used(shared, raw), **raw.get("params", {})}}, bases) for raw in doc["rule"]]


def _used(shared: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The file-level params a rule names in its expressions or texts (so that `explain` shows its own)."""
    import re

    texts = [raw.get(k) or "" for k in ("when", "each", "where", "require", "path")]
    texts += [t for k in ("message", "remedy") for t in (raw.get(k) or {}).values()]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(texts)))
    return {name: value for name, value in shared.items() if name in words}


def schema_error(schema: str, doc: Any) -> Any:
    """The first error (by path, then message) of `doc` against schemas/`schema`, or None. For the files
    people write (policies, the penalty ladder, waivers): jsonschema's messages, speed irrelevant."""
    import jsonschema  # only when such a file is read: the check path reads the compiled pack's cache

    with open(os.path.join(schemas_dir(), schema), encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return None
    first = errors[0]
    if first.validator == "required":  # a misspelt key: say so beside the one missing ("requires" for "require")
        strays = [e for e in errors[1:]
                  if e.validator == "additionalProperties" and e.absolute_path == first.absolute_path]
        if strays:
            first.stray = strays[0]
    return first


def dotted(path: Any) -> str:
    """A schema error's path as a TOML reader writes it: class.fake-listing.first[0]."""
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _validate(shown: str, doc: dict[str, Any]) -> None:
    error = schema_error("policy.schema.json", _jsonish(doc))
    if error is None:
        return
    path = list(error.absolute_path)
    rule_id = None
    if len(path) >= 2 and path[0] == "rule" and isinstance(path[1], int):
        raw = doc["rule"][path[1]]
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        rule_id = rule_id or f"#{path[1] + 1}"
        path = path[2:]
    raise PolicyError(shown, _schema_message(error), rule_id, dotted(path) or None)


def _schema_message(error: Any) -> str:
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        said = "missing " + ", ".join(repr(m) for m in missing)
        stray = getattr(error, "stray", None)
        if stray is not None:  # "missing 'require' (unknown key(s) ('requires' was unexpected); misspelt?)"
            said += f" ({_schema_message(stray)}; misspelt?)"
        return said
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key(s)")
    if error.validator == "pattern" and isinstance(error.schema, dict) and "description" in error.schema:
        # what the pattern means, rather than the regular expression ("$(?!\\n)" says "on one line")
        return f"{error.instance!r} is not {error.schema['description']}"
    return error.message


def _jsonish(value: Any) -> Any:
    """TOML values as JSON would have them (times become RFC 3339 text)."""
    if isinstance(value, dict):
        return {k: _jsonish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonish(v) for v in value]
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return value


def _time(shown: str, rule_id: str, field: str, value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except BadValue:
        raise PolicyError(shown, f"{value!r} is not a time (RFC 3339 or YYYY-MM-DD)", rule_id, field) from None


def _rule(shown: str, raw: dict[str, Any], bases: dict[str, Any]) -> Rule:
    rule_id = raw["id"]
    if not rule_id.startswith(raw["family"] + "/"):
        raise PolicyError(shown, f"the id must start with the family, {raw['family']}/", rule_id, "id")
    if "where" in raw and "each" not in raw:
        raise PolicyError(shown, "'where' filters the items of 'each'; this rule has no 'each'", rule_id, "where")
    start = _time(shown, rule_id, "effective_from", raw.get("effective_from"))
    end = _time(shown, rule_id, "effective_until", raw.get("effective_until"))
    if start and end and end <= start:
        raise PolicyError(shown, "effective_until must be after effective_from", rule_id, "effective_until")
    kind = raw["kind"]
    examples = tuple(_example(shown, rule_id, kind, i, ex, bases) for i, ex in enumerate(raw["example"]))
    expects = {e.expect for e in examples}
    if not {"pass", "fail"} <= expects:
        raise PolicyError(shown, "a rule needs at least one passing and one failing example", rule_id, "example")
    totals = {name: Total(over=t["over"], value=t["value"], where=t.get("where")) for name, t in raw.get("totals", {}).items()}
    if totals and kind != "merchant":
        raise PolicyError(shown, "totals sum a merchant's orders: only merchant rules have them", rule_id, "totals")
    return Rule(
        totals=totals,
        id=rule_id,
        family=raw["family"],
        severity=raw["severity"],
        penalty=None if raw["penalty"] == "none" else raw["penalty"],
        kind=kind,
        title=Text(**raw["title"]),
        description=Text(**raw["description"]),
        message=Text(**raw["message"]),
        remedy=Text(**raw["remedy"]),
        require=raw["require"],
        path=raw["path"],
        when=raw.get("when"),
        each=raw.get("each"),
        where=raw.get("where"),
        params=dict(raw.get("params", {})),
        effective_from=start,
        effective_until=end,
        source=raw.get("source"),
        waivable=raw.get("waivable", True),
        examples=examples,
        file=shown,
    )


def merge(base: Any, patch: Any) -> Any:
    """`patch` laid over `base`: tables merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


def _example(shown: str, rule_id: str, kind: str, index: int, raw: dict[str, Any], bases: dict[str, Any]) -> Example:
    field = f"example[{index}] ({raw['name']})"
    if "document" in raw:
        document = _jsonish(raw["document"])
    elif kind in bases:
        document = merge(bases[kind], _jsonish(raw.get("patch", {})))
    else:
        raise PolicyError(shown, f"give a 'document', or an [example_base.{kind}] for 'patch'", rule_id, field)
    merchant_raw = raw.get("merchant", {})
    merchant = None
    if merchant_raw is not False and "merchant" in bases:
        merchant = merge(bases["merchant"], _jsonish(merchant_raw))
    elif isinstance(merchant_raw, dict) and merchant_raw:
        merchant = _jsonish(merchant_raw)
    paths = tuple(raw["paths"]) if "paths" in raw else None
    orders = []
    for patch in raw.get("orders", ()):
        if "order" not in bases:
            raise PolicyError(shown, "examples with orders need an [example_base.order]", rule_id, field)
        orders.append(merge(bases["order"], _jsonish(patch)))
    if paths is not None and raw["expect"] != "fail":
        raise PolicyError(shown, "'paths' belongs to a failing example", rule_id, field)
    return Example(
        name=raw["name"],
        expect=raw["expect"],
        document=document,
        merchant=merchant,
        as_of=_time(shown, rule_id, field + ".as_of", raw.get("as_of")),
        paths=paths,
        orders=tuple(orders),
    )
