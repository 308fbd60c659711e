"""`--format json`: the report object of SNAPSHOTS.md "Findings out"."""

from __future__ import annotations

import orjson

from ..model import Report


def render(report: Report, *, lang: str = "en", color: bool = False) -> str:
    return orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
