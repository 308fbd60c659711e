"""Output formats: one small pure renderer per module, chosen from a registry.

Each renderer is `render(report, *, lang, color) -> str`. The CLI's list of
`--format` choices comes from FORMATS; an unknown format is an error, never
a fallback.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable

from ..model import Report

Renderer = Callable[..., str]

#: format name -> module in this package that renders it
FORMATS = {
    "text": "text",
    "json": "json",
    "jsonl": "jsonl",
}


def renderer(name: str) -> Renderer:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    return import_module(f"{__name__}.{FORMATS[name]}").render  # type: ignore[no-any-return]


def render(report: Report, name: str, *, lang: str = "en", color: bool = False) -> str:
    return renderer(name)(report, lang=lang, color=color)
