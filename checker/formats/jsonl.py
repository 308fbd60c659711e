"""`--format jsonl`: one finding per line, then errors, rules not evaluated and the summary.

Each line is an object with a `type`: "finding", "error", "not_evaluated" or
(last) "summary", so a consumer can stream it.
"""

from __future__ import annotations

import orjson

from ..model import Report


def render(report: Report, *, lang: str = "en", color: bool = False) -> str:
    lines = [orjson.dumps({"type": "finding", **f.to_dict()}) for f in report.findings]
    lines += [orjson.dumps({"type": "error", **e.to_dict()}) for e in report.errors]
    lines += [orjson.dumps({"type": "not_evaluated", **n.to_dict()}) for n in report.not_evaluated]
    lines.append(orjson.dumps({"type": "summary", **report.summary(), "metadata": report.metadata}))
    return b"\n".join(lines).decode() + "\n"
