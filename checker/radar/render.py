"""`compliance radar` output: merchant standing and tasks, as text for people or JSON for tools."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .. import __version__
from ..values import format_time
from .ladder import Ladder
from .ledger import Standing, Task

_WORDS = {
    "product-downrank": "product down-ranked",
    "product-delete": "product deleted",
    "product-delist": "product delisted",
    "store-points": "store points",
    "store-downrank": "store down-ranked",
}


def radar_dict(path: str, ladder: Ladder, as_of: _dt.datetime, standing: list[Standing], tasks: list[Task],
               scans: int) -> dict[str, Any]:
    return {
        "ledger": path,
        "as_of": format_time(as_of),
        "metadata": {
            "tool": "compliance",
            "version": __version__,
            "ladder": {"file": ladder.file, "content_hash": ladder.content_hash},
            "scans": scans,
        },
        "merchants": [s.to_dict() for s in standing],
        "tasks": [t.to_dict() for t in tasks],
    }


def render_json(data: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def render_text(path: str, ladder: Ladder, as_of: _dt.datetime, standing: list[Standing], tasks: list[Task],
                scans: int) -> str:
    lines = [f"Radar ledger {path} as of {_day(as_of)} ({scans} scan{'s' * (scans != 1)} recorded)"]
    if not standing:
        lines.append("\nNo merchant has a radar task.")
    by_merchant: dict[str, list[Task]] = {}
    for task in tasks:
        by_merchant.setdefault(task.merchant_id, []).append(task)
    for s in standing:
        cost = [f"-{s.points_deducted} store points" if s.points_deducted else "no store points deducted"]
        if s.store_downranked_until is not None:
            cost.append(f"store down-ranked until {_day(s.store_downranked_until)}")
        counts = f"{s.open_tasks} open, {s.appealed_tasks} appealed, {s.expired_tasks} expired, {s.rectified_tasks} rectified"
        lines += ["", f"merchant {s.merchant_id}: {'; '.join(cost)}; tasks: {counts}"]
        for name, (offence, actions) in s.next_offence.items():
            lines.append(f"  next {name} offence would be a {offence} offence: {', '.join(actions)}")
        for t in by_merchant.get(s.merchant_id, []):
            lines.append("")
            lines.append(f"  task {t.id}  {t.status.upper():<9} {t.offence} {t.penalty}  {t.rule}  product {t.product_id}")
            lines.append(f"      opened {_day(t.opened_at)}, deadline {_day(t.deadline)}"
                         + (f", rectified {_day(t.rectified_at)}" if t.rectified_at else "")
                         + (f", appealed {_day(t.appeal.at)}: {t.appeal.reason}" if t.appeal else ""))
            ev = t.evidence
            lines.append(f"      evidence: {ev['kind']} {ev['id']} ({ev['source']}) {ev['path']}: {ev['message']}")
            for a in t.actions:
                what = _WORDS[a.action]
                if a.points is not None:
                    what += f" -{a.points}"
                span = f"{_day(a.at)} to {_day(a.until)}" if a.until else (
                    f"from {_day(a.at)}" if a.action == "product-downrank" else f"at {_day(a.at)}")
                note = "" if a.due else " (unless rectified before)"
                lines.append(f"      {'done' if a.due else 'next'}  {what}, {span}{note}")
    return "\n".join(lines) + "\n"


def _day(when: _dt.datetime | None) -> str:
    return "-" if when is None else format_time(when)
