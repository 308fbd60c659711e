"""The radar ledger: radar tasks in SQLite, opened and rectified by scans, appealed by people.

The ledger keeps facts only: when a task was opened (by which scan, on what
evidence), the pages its orders and quotes were made on, when a later scan
found it rectified, when it was appealed and why. Offence numbers,
deadlines, statuses and actions are computed from these facts and the
ladder as loaded (ladder.py), as of any time.

One task per merchant, listing and rule is live (not rectified) at a time.
A scan, in one transaction:

- opens a task for each penalised finding whose key has no live task, unless
  all its evidence predates the key's last rectification (an old quote that
  was already dealt with);
- keeps the page each order or quote of a task's key was made on: a page
  that was not honoured;
- marks a live task rectified when the scan looked at the listing (its
  product document was in the scan, the rule ran on it) and found no current
  evidence: no finding on the listing itself, no order or quote made on the
  page as it is (observe.shows). A task opened on orders or quotes needs
  more: the page must be none of those its orders and quotes were made on.
  The old quote stays in every export, made on the old page whenever it was
  made; the fix is an edit of the page, which a scan of the page alone sees
  too.

The scan's --as-of is the clock: scans are recorded in time order, and the
same observation recorded again at the same time changes nothing. Writers
take SQLite's write lock for the whole scan (BEGIN IMMEDIATE), so a killed
scan leaves nothing half-written and concurrent scans queue.

A file is recognised as a ledger before anything is written to it: another
application's SQLite database is refused as it is. Commands that only read
open the ledger read-only where it cannot be written. SQLite's errors (a
lock held too long, a read-only file, a full disk) become LedgerError,
saying what is wrong with the file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import pathlib
import sqlite3
from collections import defaultdict
from typing import Any, Iterable, Iterator

import attrs

from ..values import format_time
from . import DEFAULT_LEDGER  # noqa: F401 - part of this module's interface
from .ladder import APPEALED, EXPIRED, OPEN, RECTIFIED, REPEAT, Due, Ladder, task_actions, task_status
from .observe import Hit, Key, Observation, shows

APP = "compliance-radar"
#: how long a writer waits for another process's write lock, in seconds
LOCK_TIMEOUT = 60.0

#: schema migrations: MIGRATIONS[n] takes a ledger from version n to n + 1 (PRAGMA user_version)
MIGRATIONS = [
    """
    CREATE TABLE ledger (app TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        as_of TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        digest TEXT NOT NULL,
        pack_hash TEXT NOT NULL,
        ladder_hash TEXT NOT NULL,
        documents INTEGER NOT NULL,
        findings INTEGER NOT NULL,
        opened INTEGER NOT NULL DEFAULT 0,
        rectified INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX scans_by_time ON scans (as_of);
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        rule TEXT NOT NULL,
        family TEXT NOT NULL,
        penalty TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        opened_scan INTEGER NOT NULL REFERENCES scans (id),
        evidence_kind TEXT NOT NULL CHECK (evidence_kind IN ('product', 'order')),
        evidence_id TEXT,
        evidence_source TEXT NOT NULL,
        evidence_at TEXT NOT NULL,
        path TEXT NOT NULL,
        message TEXT NOT NULL,
        page_digest TEXT,
        rectified_at TEXT,
        rectified_scan INTEGER REFERENCES scans (id),
        CHECK (rectified_at IS NULL OR rectified_at >= opened_at)
    );
    CREATE UNIQUE INDEX tasks_live ON tasks (merchant_id, product_id, rule) WHERE rectified_at IS NULL;
    CREATE INDEX tasks_by_key ON tasks (merchant_id, product_id, rule, rectified_at);
    CREATE INDEX tasks_by_merchant ON tasks (merchant_id, penalty, opened_at, id);
    CREATE TABLE appeals (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES tasks (id),
        at TEXT NOT NULL,
        reason TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX appeals_by_task ON appeals (task_id, at);
    """,
    # schema 2: the pages (observe.page) a task's orders and quotes were made on. tasks.page_digest, a digest of
    # the product document a scan saw, is no longer written or read: a live quote task of an older ledger has
    # no page yet, and is rectified by a scan whose quotes are all made on another page than the one it reads.
    """
    CREATE TABLE pages (
        task_id INTEGER NOT NULL REFERENCES tasks (id),
        page TEXT NOT NULL,
        PRIMARY KEY (task_id, page)
    ) WITHOUT ROWID;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class LedgerError(Exception):
    """A ledger that cannot be used, or a change it refuses; str() says why."""


class AppealRefused(LedgerError):
    pass


def stamp(when: _dt.datetime) -> str:
    """A time as stored: UTC with microseconds, so that text order is time order."""
    if when.tzinfo is None:
        raise ValueError("ledger times are timezone-aware")
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unstamp(text: str) -> _dt.datetime:
    """A stored time, in UTC (platform-time datetimes compare wrongly in a repeated hour; outputs show
    platform time with format_time)."""
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc)


@attrs.frozen
class Recorded:
    """What recording a scan did."""

    scan: int | None
    opened: tuple[int, ...] = ()
    rectified: tuple[int, ...] = ()
    #: the same observation was already recorded at the same time: nothing changed
    already: bool = False


@attrs.frozen
class Appeal:
    task: int
    at: _dt.datetime
    reason: str


@attrs.frozen
class Task:
    """A radar task as of a time: the facts and what they come to."""

    id: int
    merchant_id: str
    product_id: str
    rule: str
    family: str
    penalty: str
    offence: str
    #: 1 + the merchant's earlier tasks of the class that count (Ladder.earlier_count)
    offence_number: int
    opened_at: _dt.datetime
    deadline: _dt.datetime
    status: str
    rectified_at: _dt.datetime | None
    appeal: Appeal | None
    actions: tuple[Due, ...]
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchant_id": self.merchant_id,
            "product_id": self.product_id,
            "rule": self.rule,
            "family": self.family,
            "penalty": self.penalty,
            "offence": self.offence,
            "offence_number": self.offence_number,
            "opened_at": format_time(self.opened_at),
            "deadline": format_time(self.deadline),
            "status": self.status,
            "rectified_at": None if self.rectified_at is None else format_time(self.rectified_at),
            "appeal": None if self.appeal is None else {"at": format_time(self.appeal.at), "reason": self.appeal.reason},
            "actions": [_due(a) for a in self.actions],
            "evidence": dict(self.evidence),
        }


def _due(a: Due) -> dict[str, Any]:
    out: dict[str, Any] = {"action": a.action, "at": format_time(a.at)}
    if a.until is not None:
        out["until"] = format_time(a.until)
    if a.points is not None:
        out["points"] = a.points
    out["due"] = a.due
    return out


@attrs.frozen
class Standing:
    """A merchant as of a time: what the tasks have cost and what the next offence would."""

    merchant_id: str
    points_deducted: int
    open_tasks: int
    appealed_tasks: int
    expired_tasks: int
    rectified_tasks: int
    store_downranked_until: _dt.datetime | None
    #: class -> (offence level of the next task, its actions as text)
    next_offence: dict[str, tuple[str, tuple[str, ...]]]

    def to_dict(self) -> dict[str, Any]:
        until = self.store_downranked_until
        return {
            "merchant_id": self.merchant_id,
            "points_deducted": self.points_deducted,
            "open_tasks": self.open_tasks,
            "appealed_tasks": self.appealed_tasks,
            "expired_tasks": self.expired_tasks,
            "rectified_tasks": self.rectified_tasks,
            "store_downranked_until": None if until is None else format_time(until),
            "next_offence": {c: {"offence": o, "actions": list(a)} for c, (o, a) in self.next_offence.items()},
        }


class Ledger:
    """A radar ledger file. Use as a context manager, or call close()."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, read_only: bool = False,
                 timeout: float | None = None) -> None:
        """Open (and with `create`, make) the ledger at `path`, migrating an older schema where it can be
        written. `read_only`: for commands that only read; where the file or its folder cannot be written, the
        ledger is opened read-only (elsewhere as a writer would, so that closing it tidies SQLite's -wal and -shm
        files away). `timeout`: how long to wait for another process's write lock (default LOCK_TIMEOUT).
        Raises LedgerError saying what is wrong, having written nothing to a file that is not a ledger."""
        if create and read_only:
            raise ValueError("a ledger is created only to be written")
        self.path = os.fspath(path)
        self.timeout = LOCK_TIMEOUT if timeout is None else timeout
        self.folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(self.folder):
            raise LedgerError(f"{self.path}: no such folder {self.folder}")
        exists = os.path.exists(self.path)
        if not create and not exists:
            raise LedgerError(f"{self.path}: no ledger here (record one with: compliance scan PATH --ledger {self.path})")
        if os.path.isdir(self.path):
            raise LedgerError(f"{self.path}: a folder, not a ledger file")
        if exists and not read_only and not os.access(self.path, os.W_OK):  # before a scan, not after it
            raise LedgerError(f"{self.path}: the ledger cannot be written ({self._read_only_why()}); "
                              "compliance radar can still show it")
        self.read_only = read_only and not (os.access(self.path, os.W_OK) and os.access(self.folder, os.W_OK))
        self.db = self._connect(create)
        try:
            self._open()
        except sqlite3.Error as e:
            self.db.close()
            raise self._failure(e) from None
        except BaseException:
            self.db.close()
            raise

    def _connect(self, create: bool) -> sqlite3.Connection:
        """A connection to the file: read-write (creating it with `create`), or read-only. To read a ledger in
        write-ahead-log mode, SQLite makes a -shm file beside it; in a folder that cannot be written it cannot,
        and the file is read as it is on disk (immutable) when no write-ahead log holds changes not yet in it
        (while a ledger is being written, its -wal file is not empty)."""
        uri = pathlib.Path(os.path.abspath(self.path)).as_uri()
        modes = ["mode=rwc" if create else "mode=rw"]
        if self.read_only:
            log = self.path + "-wal"
            modes = ["mode=ro"] + ([] if os.path.exists(log) and os.path.getsize(log) else ["mode=ro&immutable=1"])
        for mode in modes:
            db = None
            try:
                db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=self.timeout, isolation_level=None)
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # SQLite opens the file lazily
                return db
            except sqlite3.Error as e:
                if db is not None:
                    db.close()
                if mode == modes[-1] or _code(e) != "SQLITE_CANTOPEN":
                    raise self._failure(e) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(self) -> None:
        """Recognise the file (reading only), then, where it may be written, make it a ledger of this schema."""
        self.db.execute("PRAGMA foreign_keys = ON")
        version = self.version
        new = self._recognise(version)
        if version > SCHEMA_VERSION:
            raise LedgerError(f"{self.path}: written by a newer compliance (ledger schema {version}; "
                              f"this one knows up to {SCHEMA_VERSION})")
        if self.read_only:
            if new:
                raise LedgerError(f"{self.path}: an empty file, no ledger yet (record one with: compliance scan PATH "
                                  f"--ledger {self.path})")
            if version < SCHEMA_VERSION:
                raise LedgerError(f"{self.path}: ledger schema {version}, older than this compliance's "
                                  f"({SCHEMA_VERSION}), and it cannot be upgraded here ({self._read_only_why()})")
            return
        mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":  # pragma: no cover - e.g. a file system without shared memory
            raise LedgerError(f"{self.path}: cannot use write-ahead logging (journal mode {mode})")
        self.db.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            self._migrate()
        self._check_app()

    def _recognise(self, version: int) -> bool:
        """True for an empty database (a new ledger), False for a ledger; LedgerError for anything else.
        Reads only: another application's database is left exactly as it was."""
        names = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master")}
        if not names and version == 0:
            return True
        if "ledger" in names:
            try:
                row = self.db.execute("SELECT app FROM ledger LIMIT 1").fetchone()
            except sqlite3.OperationalError:  # a table of that name, of another application
                row = None
            if row is not None and row[0] == APP:
                return False
        raise LedgerError(f"{self.path}: a SQLite database, but not a compliance radar ledger")

    # -- what SQLite says, as a user can act on it ------------------------------------------------

    def _failure(self, e: sqlite3.Error) -> LedgerError:
        """LedgerError naming what is wrong with the ledger file, for SQLite's error `e`."""
        code = _code(e)
        if code in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return LedgerError(f"{self.path}: the ledger is locked by another process (waited {self.timeout:g} s "
                               "for it)")
        if code == "SQLITE_READONLY":
            return LedgerError(f"{self.path}: the ledger cannot be written ({self._read_only_why() or e})")
        if code == "SQLITE_CANTOPEN":
            return LedgerError(f"{self.path}: cannot open the ledger ({self._cannot_open_why() or e})")
        if code == "SQLITE_NOTADB":
            return LedgerError(f"{self.path}: not a compliance radar ledger ({e})")
        if code == "SQLITE_CORRUPT":
            return LedgerError(f"{self.path}: the ledger file is damaged ({e})")
        if code == "SQLITE_FULL":
            return LedgerError(f"{self.path}: the disk is full ({e})")
        return LedgerError(f"{self.path}: the ledger could not be used ({e})")

    def _read_only_why(self) -> str | None:
        for target, what in ((self.path, "the file"), (self.folder, f"its folder {self.folder}")):
            if os.path.exists(target) and not os.access(target, os.W_OK):
                if _read_only_file_system(target):
                    return f"{what} is on a read-only file system"
                return f"{what} is read-only"
        return None

    def _cannot_open_why(self) -> str | None:
        if os.path.exists(self.path) and not os.access(self.path, os.R_OK):
            return "the file cannot be read"
        if not os.access(self.folder, os.W_OK):
            if self.read_only:
                return (f"its folder {self.folder} cannot be written, and the changes waiting in {self.path}-wal "
                        "are read with a -shm file SQLite makes beside it; open it once where it can be written")
            return f"its folder {self.folder} cannot be written, and SQLite keeps -wal and -shm files beside the ledger"
        return None

    @contextlib.contextmanager
    def _sqlite(self) -> Iterator[None]:
        """SQLite's errors as LedgerError (_failure)."""
        try:
            yield
        except sqlite3.Error as e:
            raise self._failure(e) from e

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- schema ----------------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._write():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            if version == 0:
                tables = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:  # another process made the new file something else meanwhile
                    raise LedgerError(f"{self.path}: a SQLite database, but not a compliance radar ledger")
            for step in range(version, SCHEMA_VERSION):
                # statement by statement: executescript() would commit the transaction first
                for statement in _statements(MIGRATIONS[step]):
                    self.db.execute(statement)
                if step == 0:
                    self.db.execute("INSERT INTO ledger VALUES (?, ?)", (APP, stamp(_now())))
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_app(self) -> None:
        try:
            row = self.db.execute("SELECT app FROM ledger").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or row[0] != APP:
            raise LedgerError(f"{self.path}: a SQLite database, but not a compliance radar ledger")

    def _write(self) -> _Transaction:
        return _Transaction(self.db)

    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -- scans -----------------------------------------------------------------------------------

    def record(self, obs: Observation, ladder: Ladder) -> Recorded:
        """Record one scan's observation (one transaction)."""
        for hit in obs.hits:
            if hit.penalty not in ladder.classes:
                raise LedgerError(f"rule {hit.rule} has penalty class {hit.penalty}, which the ladder "
                                  f"({ladder.file}) does not define")
        now = stamp(obs.as_of)
        digest = obs.digest()
        with self._sqlite(), self._write():
            if self.db.execute("SELECT 1 FROM scans WHERE as_of = ? AND digest = ?", (now, digest)).fetchone():
                return Recorded(None, already=True)  # changes nothing, so comes before the clock's checks
            self.check_clock(obs.as_of)
            scan = self.db.execute(
                "INSERT INTO scans (as_of, recorded_at, digest, pack_hash, ladder_hash, documents, findings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now, stamp(_now()), digest, obs.pack_hash, ladder.content_hash, obs.documents, len(obs.hits)),
            ).lastrowid
            by_key: dict[Key, list[Hit]] = defaultdict(list)
            for hit in obs.hits:
                by_key[hit.key].append(hit)
            live = {(r[1], r[2], r[3]): (r[0], r[4]) for r in self.db.execute(
                "SELECT id, merchant_id, product_id, rule, evidence_kind FROM tasks WHERE rectified_at IS NULL")}
            opened: list[int] = []
            for key, hits in by_key.items():
                task_id: int | None = live[key][0] if key in live else None
                if task_id is None:
                    last_fix = self.db.execute(
                        "SELECT max(rectified_at) FROM tasks WHERE merchant_id = ? AND product_id = ? AND rule = ?",
                        key).fetchone()[0]
                    fresh = [h for h in hits if h.evidence_kind == "product" or last_fix is None
                             or stamp(h.evidence_at) > last_fix]
                    if not fresh:
                        continue
                    h = fresh[0]
                    task_id = self.db.execute(
                        "INSERT INTO tasks (merchant_id, product_id, rule, family, penalty, opened_at, opened_scan, "
                        "evidence_kind, evidence_id, evidence_source, evidence_at, path, message) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*key, h.family, h.penalty, now, scan, h.evidence_kind, h.evidence_id, h.evidence_source,
                         stamp(h.evidence_at), h.path, h.message),
                    ).lastrowid
                    assert task_id is not None  # an INSERT into a table with row ids
                    opened.append(task_id)
                # the pages not honoured: those the key's orders and quotes were made on
                self.db.executemany("INSERT OR IGNORE INTO pages (task_id, page) VALUES (?, ?)", sorted(
                    {(task_id, h.page) for h in hits if h.evidence_kind == "order" and h.page is not None}))
            rectified = []
            for key, (task_id, evidence_kind) in live.items():
                page = obs.products.get(key[:2])
                if page is None or key[2] not in obs.rules or key in obs.unevaluated:
                    continue  # the scan did not look at this listing with this rule
                if any(h.evidence_kind == "product" or h.page is None or shows(page, h.page)
                       for h in by_key.get(key, ())):
                    continue  # still there: on the listing itself, or in an order made on the page as it is
                if evidence_kind == "order":
                    made_on = [p for (p,) in self.db.execute("SELECT page FROM pages WHERE task_id = ?", (task_id,))]
                    if not made_on or any(shows(page, p) for p in made_on):
                        continue  # a page not honoured is still the page (or none is known: an older ledger's)
                self.db.execute("UPDATE tasks SET rectified_at = ?, rectified_scan = ? WHERE id = ?",
                                (now, scan, task_id))
                rectified.append(task_id)
            self.db.execute("UPDATE scans SET opened = ?, rectified = ? WHERE id = ?",
                            (len(opened), len(rectified), scan))
        return Recorded(scan, tuple(opened), tuple(rectified))

    def check_clock(self, as_of: _dt.datetime, *, replay: bool = False) -> None:
        """Raise LedgerError when a scan as of `as_of` would come before a scan or an appeal already recorded
        (the ledger is kept in time order; a scan may not rewrite what an appeal was judged on). With `replay`
        (the check before a scan is read), a time a scan was recorded at passes: the same scan again changes
        nothing, which record() tells once the scan is read (and refuses any other)."""
        with self._sqlite():
            if replay and self.db.execute("SELECT 1 FROM scans WHERE as_of = ?", (stamp(as_of),)).fetchone():
                return
            times = [(kind, at) for kind, at in self.db.execute(
                "SELECT 'a scan as of', max(as_of) FROM scans UNION ALL SELECT 'an appeal at', max(at) FROM appeals")
                if at]
        if times:
            what, last = max(times, key=lambda t: t[1])
            if stamp(as_of) < last:
                raise LedgerError(
                    f"{self.path}: the ledger has {what} {format_time(unstamp(last))}; scans are recorded in time "
                    f"order, and this one is as of {format_time(as_of)} (give a later --as-of)"
                )

    # -- appeals ---------------------------------------------------------------------------------

    def appeal(self, task_id: int, reason: str, at: _dt.datetime, ladder: Ladder) -> Appeal:
        """Record an appeal, or raise AppealRefused saying why the platform would refuse it."""
        reason = reason.strip()
        at = at.astimezone(_dt.timezone.utc)
        if not reason:
            raise AppealRefused("an appeal needs a reason (--reason)")
        with self._sqlite(), self._write():
            row = self.db.execute(
                "SELECT penalty, opened_at, rectified_at, rule FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                raise AppealRefused(f"there is no task {task_id} in {self.path}")
            penalty, opened_at, rectified_at, rule = row
            cls = ladder.classes.get(penalty)
            if cls is None:
                raise AppealRefused(f"task {task_id} has penalty class {penalty}, which the ladder ({ladder.file}) "
                                    "does not define")
            if cls.appeals == 0:
                raise AppealRefused(
                    f"task {task_id} ({rule}) is a {penalty} task: {penalty} tasks cannot be appealed in the radar "
                    "(RULES.md 7: they were judged by the platform's staff; a wrong judgement is appealed by ticket)"
                )
            earlier = self.db.execute("SELECT at, reason FROM appeals WHERE task_id = ? ORDER BY at, id",
                                      (task_id,)).fetchall()
            if len(earlier) >= cls.appeals:
                when = format_time(unstamp(earlier[-1][0]))
                times = "once" if cls.appeals == 1 else f"{cls.appeals} times"
                raise AppealRefused(f"task {task_id} was already appealed at {when}; a task may be appealed {times}")
            opened = unstamp(opened_at)
            if at < opened:
                raise AppealRefused(f"task {task_id} opened at {format_time(opened)}, after {format_time(at)}")
            if rectified_at is not None and unstamp(rectified_at) <= at:
                raise AppealRefused(f"task {task_id} was rectified at {format_time(unstamp(rectified_at))}: "
                                    "there is nothing left to appeal")
            deadline = cls.deadline(opened)
            if at >= deadline:
                raise AppealRefused(
                    f"the rectification period of task {task_id} ended at {format_time(deadline)}; an appeal is "
                    f"accepted only within it (this one is at {format_time(at)})"
                )
            self.db.execute("INSERT INTO appeals (task_id, at, reason, recorded_at) VALUES (?, ?, ?, ?)",
                            (task_id, stamp(at), reason, stamp(_now())))
        return Appeal(task_id, at, reason)

    # -- views -----------------------------------------------------------------------------------

    def tasks(self, ladder: Ladder, as_of: _dt.datetime, merchant: str | None = None) -> list[Task]:
        """Every task opened by `as_of` (of one merchant), with what it comes to as of then."""
        with self._sqlite():
            return [t for t, _ in self._tasks(ladder, as_of, merchant)]

    def _tasks(self, ladder: Ladder, as_of: _dt.datetime, merchant: str | None) -> Iterator[tuple[Task, Any]]:
        as_of = as_of.astimezone(_dt.timezone.utc)
        cutoff = stamp(as_of)
        where, args = "opened_at <= ?", [cutoff]
        if merchant is not None:
            where += " AND merchant_id = ?"
            args.append(merchant)
        rows = self.db.execute(
            "SELECT id, merchant_id, product_id, rule, family, penalty, opened_at, rectified_at, evidence_kind, "
            f"evidence_id, evidence_source, evidence_at, path, message FROM tasks WHERE {where} "
            "ORDER BY merchant_id, opened_at, id", args).fetchall()
        appeals: dict[int, Appeal] = {}
        for task_id, at, reason in self.db.execute(
            "SELECT task_id, at, reason FROM appeals WHERE at <= ? ORDER BY at, id", (cutoff,)
        ):
            appeals.setdefault(task_id, Appeal(task_id, unstamp(at), reason))  # the first one
        earlier: dict[tuple[str, str], list[_dt.datetime]] = defaultdict(list)
        for (task_id, merchant_id, product_id, rule, family, penalty, opened_at, rectified_at, ekind, eid, esource,
             eat, path, message) in rows:
            cls = ladder.classes.get(penalty)
            if cls is None:
                raise LedgerError(f"task {task_id} has penalty class {penalty}, which the ladder ({ladder.file}) "
                                  "does not define")
            opened = unstamp(opened_at)
            fixed = unstamp(rectified_at) if rectified_at is not None and rectified_at <= cutoff else None
            history = earlier[(merchant_id, penalty)]
            number = ladder.earlier_count(history, opened) + 1
            offence = ladder.offence(history, opened)
            history.append(opened)
            appeal = appeals.get(task_id)
            status = task_status(cls, opened, fixed, appeal.at if appeal else None, as_of)
            evidence = {"kind": ekind, "id": eid, "source": esource, "at": format_time(unstamp(eat)), "path": path,
                        "message": message}
            yield Task(task_id, merchant_id, product_id, rule, family, penalty, offence, number, opened,
                       cls.deadline(opened),
                       status, fixed, appeal, tuple(task_actions(cls, offence, opened, fixed, as_of)), evidence), cls

    def standing(self, ladder: Ladder, as_of: _dt.datetime, merchant: str | None = None) -> list[Standing]:
        """Each merchant with tasks by `as_of` (or the one asked for, even without any)."""
        tasks: dict[str, list[Task]] = defaultdict(list)
        for task in self.tasks(ladder, as_of, merchant):
            tasks[task.merchant_id].append(task)
        if merchant is not None:
            tasks.setdefault(merchant, [])
        return [merchant_standing(m, ts, ladder, as_of) for m, ts in sorted(tasks.items())]

    def scans(self) -> list[dict[str, Any]]:
        keys = ("id", "as_of", "recorded_at", "pack_hash", "ladder_hash", "documents", "findings", "opened", "rectified")
        out = []
        with self._sqlite():
            rows = self.db.execute(f"SELECT {', '.join(keys)} FROM scans ORDER BY id").fetchall()
        for row in rows:
            item = dict(zip(keys, row))
            item["as_of"] = format_time(unstamp(item["as_of"]))
            item["recorded_at"] = format_time(unstamp(item["recorded_at"]))
            out.append(item)
        return out


def merchant_standing(merchant: str, tasks: Iterable[Task], ladder: Ladder, as_of: _dt.datetime) -> Standing:
    tasks = list(tasks)
    as_of = as_of.astimezone(_dt.timezone.utc)
    points = 0
    store_until: _dt.datetime | None = None
    for task in tasks:
        for a in task.actions:
            if a.action == "store-points" and a.at <= as_of:
                points += a.points or 0
            if a.action == "store-downrank" and a.at <= as_of and a.until is not None and a.until > as_of:
                store_until = a.until if store_until is None else max(store_until, a.until)
    count = {s: sum(t.status == s for t in tasks) for s in (OPEN, APPEALED, EXPIRED, RECTIFIED)}
    nxt = {}
    for name, cls in ladder.classes.items():
        offence = ladder.next_offence([t.opened_at for t in tasks if t.penalty == name], as_of)
        nxt[name] = (offence, tuple(a.describe() for a in cls.actions(offence)))
    return Standing(merchant, points, count[OPEN], count[APPEALED], count[EXPIRED], count[RECTIFIED], store_until,
                    nxt)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: SQLite's write lock for the whole change."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: Any, *exc: Any) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        if self.db.in_transaction:  # SQLite rolls back by itself on some errors (a full disk, I/O)
            self.db.execute("ROLLBACK")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _code(e: sqlite3.Error) -> str:
    """SQLite's primary result code of an error: SQLITE_READONLY for SQLITE_READONLY_DBMOVED."""
    name = getattr(e, "sqlite_errorname", None) or ""
    return "_".join(name.split("_")[:2])


def _read_only_file_system(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs (Windows)
        return False


__all__ = ["APPEALED", "DEFAULT_LEDGER", "EXPIRED", "OPEN", "RECTIFIED", "REPEAT", "AppealRefused", "Ledger",
           "LedgerError", "Recorded", "Standing", "Task"]
