"""`--format json`: the report object of SNAPSHOTS.md "Findings out".

Streamed: the findings array is written as the scan finds them (each
finding exactly as in the whole object dumped at once, indented by two),
then the errors, rules not evaluated, summary and metadata.
"""

from __future__ import annotations

from typing import IO, Any

import orjson

from ..model import Finding, InputError, NotEvaluated, Report

_INDENT = orjson.OPT_INDENT_2


class Writer:
    def __init__(self, out: IO[str], *, lang: str = "en", color: bool = False, pack: Any = None) -> None:
        self.write = out.write
        self.count = 0
        self.errors: list[InputError] = []
        self.skipped: list[NotEvaluated] = []

    def finding(self, finding: Finding) -> None:
        self.encoded(None, self.encode(finding))

    def encode(self, finding: Finding) -> str:
        """A finding's text, alone (parallel.py has the workers make it)."""
        return orjson.dumps(finding.to_dict(), option=_INDENT).replace(b"\n", b"\n    ").decode()

    def encoded(self, key: Any, text: str) -> None:
        self.write(('{\n  "findings": [\n    ' if not self.count else ",\n    ") + text)
        self.count += 1

    def error(self, error: InputError) -> None:
        self.errors.append(error)

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.skipped.append(entry)

    def end(self, report: Report) -> None:
        rest = {
            "errors": [e.to_dict() for e in self.errors],
            "not_evaluated": [n.to_dict() for n in self.skipped],
            "summary": report.summary(),
            "metadata": dict(report.metadata),
        }
        if report.expired_waivers:
            rest["expired_waivers"] = [w.to_dict() for w in report.expired_waivers]
        tail = orjson.dumps(rest, option=_INDENT).decode()
        self.write(("\n  ]," if self.count else '{\n  "findings": [],') + tail[1:] + "\n")
