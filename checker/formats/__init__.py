"""Output formats: one small module per format, chosen from a registry.

A format module has either a `Writer` (a streaming format: results are
written as the scan finds them, so a scan of any size keeps no findings in
memory) or a `render(report, *, lang, color, pack) -> str` (a format that
needs the whole report, e.g. with totals before the details). Either can
render a finished report (`render` below), and either can take a scan's
results as they come (`writer` below). An unknown format is an error, never
a fallback.

A Writer is `Writer(out, *, lang, color, pack)` with `finding(f)`,
`error(e)`, `unevaluated(n)` called in input order and `end(report)` once,
with the report's counts and metadata.
"""

from __future__ import annotations

import io
from importlib import import_module
from types import ModuleType
from typing import IO, Any

from ..engine import Collector
from ..model import Report

#: format name -> module in this package that renders it
FORMATS = {
    "text": "text",
    "json": "json",
    "jsonl": "jsonl",
    "sarif": "sarif",
    "junit": "junit",
    "github": "github",
    "html": "html",
}


def _module(name: str) -> ModuleType:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    return import_module(f"{__name__}.{FORMATS[name]}")


def writer(name: str, out: IO[str], *, lang: str = "en", color: bool = False, pack: Any = None) -> Any:
    """A writer of format `name` to `out`, for results as a scan finds them."""
    module = _module(name)
    if hasattr(module, "Writer"):
        return module.Writer(out, lang=lang, color=color, pack=pack)
    return Collecting(out, module.render, lang=lang, color=color, pack=pack)


def render(report: Report, name: str, *, lang: str = "en", color: bool = False, pack: Any = None) -> str:
    """A finished report in format `name`."""
    module = _module(name)
    if hasattr(module, "render"):
        return module.render(report, lang=lang, color=color, pack=pack)  # type: ignore[no-any-return]
    out = io.StringIO()
    w = module.Writer(out, lang=lang, color=color, pack=pack)
    for f in report.findings:
        w.finding(f)
    for e in report.errors:
        w.error(e)
    for n in report.not_evaluated:
        w.unevaluated(n)
    w.end(report)
    return out.getvalue()


class Collecting(Collector):
    """A writer for the formats that need the whole report: it keeps the results, then renders."""

    def __init__(self, out: IO[str], render: Any, **options: Any) -> None:
        super().__init__()
        self.out, self._render, self.options = out, render, options

    def end(self, report: Report) -> None:
        import attrs

        whole = attrs.evolve(report, findings=tuple(self.findings), errors=tuple(self.errors),
                             not_evaluated=tuple(self.not_evaluated))
        self.out.write(self._render(whole, **self.options))
