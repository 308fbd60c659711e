"""compliance: a policy-as-code checker for B2B marketplace listings.

The Python API, for listing tools written in Python::

    import checker

    policies = checker.load_policies()            # the bundled pack (compiled, cached)
    report = checker.check([product], as_of="2022-12-27")
    for finding in report.findings:
        print(finding.rule, finding.path, finding.message)
    report.exit_code()                            # 0, 1 or 2, as the CLI would exit

Everything else in the package is private.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Iterable

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from .model import DocumentRef, Finding, InputError, NotEvaluated, Report
    from .policy.model import PolicyError
    from .policy.runtime import CompiledPack

# The classes are imported on first use (PEP 562), so that `import checker`
# costs little on the pre-publish path.
_LAZY = {
    "CompiledPack": "policy.runtime",
    "DocumentRef": "model",
    "Finding": "model",
    "InputError": "model",
    "NotEvaluated": "model",
    "PolicyError": "policy.model",
    "Report": "model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CompiledPack",
    "DocumentRef",
    "Finding",
    "InputError",
    "NotEvaluated",
    "PolicyError",
    "Report",
    "__version__",
    "check",
    "load_policies",
    "scan",
    "verify",
]


def load_policies(paths: Iterable[str | Path] = (), *, bundled: bool = True) -> CompiledPack:
    """The bundled policy pack plus the folders or files in `paths` (a rule with the
    same id replaces the bundled one); `bundled=False` loads only `paths`.

    Raises PolicyError, naming the file, the rule and the problem.
    """
    from .policy.cache import load_compiled
    from .policy.files import default_dirs

    return load_compiled(default_dirs(paths, bundled=bundled))


def _as_of(value: str | _dt.datetime | _dt.date | None) -> _dt.datetime:
    from .values import parse_time

    if value is None:
        return _dt.datetime.now(_dt.timezone.utc)
    return parse_time(value)


def _check_lang(lang: str) -> None:
    from .policy.model import LANGUAGES

    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)} (got {lang!r})")


def _plain(value: Any) -> Any:
    """Documents as JSON would give them: any mapping as a dict, any tuple as a list."""
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check(
    documents: Iterable[Any],
    *,
    as_of: str | _dt.datetime | _dt.date | None = None,
    policies: CompiledPack | None = None,
    lang: str = "en",
) -> Report:
    """Check documents given as Python objects (dicts as parsed from JSON).

    Merchants among `documents` are resolved for the others. `as_of` (default
    now) is the time listing rules are judged at; orders are judged at their
    own created_at. Mappings and tuples are read as JSON objects and arrays;
    the caller's documents are not changed.
    """
    from .engine import check_documents

    _check_lang(lang)
    compiled = policies if policies is not None else load_policies()
    return check_documents(compiled, [_plain(doc) for doc in documents], _as_of(as_of), lang)


def scan(
    paths: Iterable[str | Path],
    *,
    as_of: str | _dt.datetime | _dt.date | None = None,
    policies: CompiledPack | None = None,
    lang: str = "en",
) -> Report:
    """Read and check every document in files and folders ("-" is stdin)."""
    from .engine import reference_validators, scan_paths

    _check_lang(lang)
    compiled = policies if policies is not None else load_policies()
    return scan_paths(
        [str(p) for p in paths], compiled, as_of=_as_of(as_of), lang=lang, validators=reference_validators()
    )


def verify(policies: CompiledPack | None = None) -> list[Any]:
    """Run every rule's own examples and the platform invariants; returns what does not hold (empty
    when all do): example results and invariant violations, each printable."""
    from .examples import run_examples
    from .invariants import check_invariants

    compiled = policies if policies is not None else load_policies()
    failures: list[Any] = [r for r in run_examples(compiled) if not r.ok]
    return failures + [v for _, v in check_invariants(compiled) if v is not None]
