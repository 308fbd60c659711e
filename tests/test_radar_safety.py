"""The ledger survives a scan killed mid-way and scans running at once (SQLite transactions, WAL, locking).

Each scan runs as a real `compliance scan --ledger` process. To kill it in the
middle of writing, not before or after, the child's SQLite connection gets a
trace callback that pauses it after it has written some of its tasks (inside
the scan's transaction) and says so on stderr; the test then kills it, or
starts a second scan while it holds the write lock.
"""

from __future__ import annotations

import datetime as _dt
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from checker.radar.ladder import load_ladder
from checker.radar.ledger import Ledger
from checker.resources import policies_dir
from checker.values import PLATFORM_TZ

from .conftest import LINEN, ROOT, doc, write_jsonl

MERCHANT = {"kind": "merchant", "id": "M-1", "gold": True, "star_level": 2, "primary_industry": "apparel"}

#: run `compliance` with a connection that pauses after the PAUSE_AT-th task insert
CHILD = r"""
import sqlite3, sys, time
pause_at, sleep = int(sys.argv[1]), float(sys.argv[2])
real = sqlite3.connect
def connect(*args, **kwargs):
    db = real(*args, **kwargs)
    count = [0]
    def trace(statement):
        if statement.lstrip().startswith("INSERT INTO tasks"):
            count[0] += 1
            if count[0] == pause_at:
                sys.stderr.write("PAUSED\n")
                sys.stderr.flush()
                time.sleep(sleep)
    db.set_trace_callback(trace)
    return db
sqlite3.connect = connect
from checker.cli import main
sys.argv = ["compliance", *sys.argv[3:]]
main()
"""


def catalog(path: Path, prefix: str, n: int) -> Path:
    return write_jsonl(path, [MERCHANT] + [doc(LINEN, id=f"{prefix}-{i}") for i in range(n)])


def start(book: Path, files: Path, as_of: str, pause_at: int = 0, sleep: float = 0.0) -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", CHILD, str(pause_at), str(sleep), "scan", str(files), "--ledger", str(book),
            "--as-of", as_of, "--format", "json", "-o", os.devnull]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ))


def wait_paused(child: subprocess.Popen[str]) -> None:
    assert child.stderr is not None
    for line in child.stderr:
        if line == "PAUSED\n":
            return
    raise AssertionError(f"the scan ended without pausing (exit {child.wait()})")


def contents(book: Path) -> dict[str, Any]:
    with sqlite3.connect(book) as db:
        assert "ok" == db.execute("PRAGMA integrity_check").fetchone()[0]
        scans = db.execute("SELECT id, as_of, opened FROM scans ORDER BY id").fetchall()
        tasks = db.execute("SELECT opened_scan, product_id FROM tasks ORDER BY id").fetchall()
    return {"scans": scans, "tasks": tasks}


def test_a_scan_killed_while_writing_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    first = start(book, catalog(tmp_path / "a.jsonl", "A", 2), "2022-12-01")
    assert 1 == first.wait(60)
    before = contents(book)
    assert 1 == len(before["scans"]) and 2 == len(before["tasks"])
    before_kill = _dt.datetime(2022, 12, 1, tzinfo=PLATFORM_TZ)  # the one scan recorded

    files = catalog(tmp_path / "b.jsonl", "B", 200)
    child = start(book, files, "2022-12-02", pause_at=100, sleep=120)
    wait_paused(child)  # 99 tasks of this scan written, inside its transaction
    child.send_signal(signal.SIGKILL)
    child.wait(60)
    assert -signal.SIGKILL == child.returncode

    assert before == contents(book)  # nothing of the killed scan, everything of the one before
    with Ledger(book) as ledger:
        assert 2 == len(ledger.tasks(load_ladder([policies_dir()]), before_kill))
    # the same scan, run again to the end, records it all
    again = start(book, files, "2022-12-02")
    assert 1 == again.wait(60)
    after = contents(book)
    assert [(1, "2022-12-01T08:00:00.000000Z", 2), (2, "2022-12-02T08:00:00.000000Z", 200)] == after["scans"]
    assert 202 == len(after["tasks"])


def test_two_scans_at_once_queue_for_the_ledger(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    Ledger(book).close()
    holding = start(book, catalog(tmp_path / "a.jsonl", "A", 50), "2022-12-01", pause_at=25, sleep=2)
    wait_paused(holding)  # holds SQLite's write lock mid-transaction
    waiting = start(book, catalog(tmp_path / "b.jsonl", "B", 50), "2022-12-01")
    assert (1, 1) == (holding.wait(120), waiting.wait(120))
    result = contents(book)
    assert [50, 50] == [opened for _, _, opened in result["scans"]]
    assert {f"A-{i}" for i in range(50)} | {f"B-{i}" for i in range(50)} == {p for _, p in result["tasks"]}
    # each scan's tasks are its own: the waiting one did not interleave with the holding one
    assert [1] * 50 + [2] * 50 == [scan for scan, _ in result["tasks"]]


def test_the_same_scan_twice_at_once_is_recorded_once(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    Ledger(book).close()
    files = catalog(tmp_path / "a.jsonl", "A", 20)
    holding = start(book, files, "2022-12-01", pause_at=10, sleep=2)
    wait_paused(holding)
    waiting = start(book, files, "2022-12-01")
    assert (1, 1) == (holding.wait(120), waiting.wait(120))
    assert waiting.stderr is not None and "already recorded; nothing changed" in waiting.stderr.read()
    result = contents(book)
    assert 1 == len(result["scans"]) and 20 == len(result["tasks"])
