"""`compliance scan --jobs N`: the same scan on N worker processes, results in input order.

No input goes through the parent. The parent walks the folders once (so
that a file arriving during the scan is seen by all workers or none); each
of the N forked workers then reads the files itself (`Reader(raw=True)`:
it decompresses and cuts JSON Lines into batches of raw lines), exactly as
the others do, so that all of them enumerate the same sequence of units. A worker takes the
next unit no worker has taken yet (a shared counter), skips the units
before it, checks it, and sends what it found through a pipe of its own;
the parent takes unit 0, 1, 2 ... each from the worker that took it (a
worker's units come in order) and hands everything to the output in input
order, as the serial scan would: the output of `--jobs 2` is byte for
byte that of `--jobs 1`, whichever worker checked what.

Why: when the parent read the input and shipped its batches to a
multiprocessing.Pool, it spent 1.2 s of CPU on a 100,000-document catalog
(c100k.jsonl.gz: 20 MB, 174 MB of JSON Lines): the pool's threads feeding
174 MB of lines through pipes and taking the results back, ~0.5 s; reading,
~0.2 s; the merchant pre-pass, 0.27 s. That time was taken from the two
workers on two cores. Now each worker decompresses and cuts the whole file
(0.17 s each, at the same time) and the parent only copies the results
out: its CPU falls to 0.49 s, of which the pre-pass is 0.27 s. Measured in
one run, alternating (whole process, medians of 8): `--jobs 1` 6.50 s,
`--jobs 2` 3.69 s (1.76x; the pool: 4.00 s, 1.62x). Taking units as they
come, rather than every Nth, keeps the workers ending together (by 0.02 s,
where every Nth differed by up to 0.15 s) and lets a worker slowed by
another program on the machine take fewer units.

A file smaller than GROUP_BYTES, and a whole-JSON file of any size, is not
read by the reader: it becomes one piece of a unit (small files grouped
up to GROUP_BYTES, so that a folder of one-document files is not a unit
per file), and the worker that takes the unit reads it, once for all the
workers, and checks its documents in parts of UNIT_DOCUMENTS. A large
JSON array is therefore checked by one worker (its documents can only be
known by parsing it whole, which every worker would otherwise have to do,
in memory too). Each worker hashes the sequence of units it enumerated;
the parent checks at the end that all of them saw the same (a file that
changed while it was read would otherwise lose or repeat documents
silently: the scan stops with that reason, exit 2; a file appended to
during the scan is not one, each worker reading it up to the size it had
when the parent listed it, but for a .gz archive). A path that is not a regular file or a
folder (a pipe) cannot be read N times: such a scan runs serially. A
worker holds no copy of the parent's ends of the pipes: when the parent
is killed, the worker's next send fails and it ends.

As in the serial scan, the merchants are not looked up before the scan:
each worker notes the merchants of the units it reads, its own and (a
search of the raw lines for them, parsing only those) the others', and
runs the look-up itself only if a document names a merchant it has not
met yet (each merchant id is the first document of that id either way).
Merchant documents are checked last: their rules sum over the merchant's
orders, which each unit adds up as it is checked (the parent adds the
units' sums in input order).

Workers are forked (they inherit the compiled pack without copying); where fork is unavailable, `--jobs` runs serially. A
worker blocks while its pipe holds results the parent has not taken (the
pipe is widened to PIPE_BYTES, a few units), so memory stays flat however
large the input (peak RSS at 20,000 and 100,000 documents of the same
400 merchants: parent 34 and 37 MB, each worker 32 and 33 MB). A worker's
exception is raised again in the parent, with the worker's traceback as
its cause; a worker that ends without a word is an error, not a hang; on
any error, or an interrupt, the workers are terminated.
"""
from __future__ import annotations

import datetime as _dt
import gc
import multiprocessing
import os
import pickle
import signal
import stat
import sys
import traceback
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Iterator, Mapping

from .engine import MERCHANT_TEXT, Context, Session, Sink, add_sums, collect_context, metadata, needs_context
from .model import Finding, InputError, NotEvaluated, Report, ScanStopped, Tally
from .policy.runtime import CompiledPack, decimal_context
from .reading import Item, Lines, Reader, first_time, parse_lines, walk

#: documents (of the files a worker reads for its unit alone) checked and sent together
UNIT_DOCUMENTS = 500
#: a file smaller than this (as stored) is read by the worker that checks it (with others, up to about this
#: much in all); a larger one by every worker, JSON Lines cut into batches (reading.BATCH_BYTES, ~600 lines)
GROUP_BYTES = 1 << 18
#: a worker's pipe to the parent holds this much (Linux; elsewhere the system's size): its results run at
#: most this far ahead of the parent (a batch of a catalog's lines sends ~250 KB of findings' text)
PIPE_BYTES = 1 << 20
#: units a worker checks between two collections of cyclic garbage
COLLECT_EVERY = 32

# what a worker sends: a unit's result (or part of it), its last message, or its exception
_PART, _END, _FAILED = 0, 1, 2


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def scan_parallel(
    paths: list[str],
    compiled: CompiledPack,
    *,
    jobs: int,
    as_of: _dt.datetime,
    lang: str,
    validators: Mapping[str, Any],
    sink: Sink,
    observer: Any = None,
    progress: Callable[[int, int], None] | None = None,
    excuses: Any = None,
    exclude: frozenset[str] = frozenset(),
) -> Report:
    """Scan `paths` on `jobs` processes. An `observer` (the radar's) gets what each worker's copy of
    it saw, in input order (`fresh()` makes a copy, `merge(copy)` takes one back)."""
    if not all(_readable_again(path) for path in paths):  # a pipe: one process reads it, as with --jobs 1
        from .engine import _scan_paths

        return _scan_paths(paths, compiled, as_of=as_of, lang=lang, validators=validators, observer=observer,
                           sink=sink, jobs=1, progress=progress, excuses=excuses, exclude=exclude)
    # No look-up of the merchants before the scan: each worker notes the merchants of every unit it reads, its
    # own and the others' (_noted), and looks them all up itself only if a document names one it has not met
    # yet (_looked_up), as a one-core scan does. The parent's look-up was 0.3 s before any worker started.
    context = Context()
    # the folders walked once, here: files arriving in a folder during the scan are not seen by some workers only
    state = {"paths": _enumerated(paths, exclude), "compiled": compiled, "validators": validators, "as_of": as_of, "lang": lang,
             "context": context, "observer": observer.fresh if observer is not None else None, "sink": sink,
             "excuses": excuses, "look_up": needs_context(compiled)}
    tally = Tally()
    documents = 0
    deferred: list[Item] = []
    read = 0  # bytes of input the workers have read, as far as the parent knows
    with decimal_context():
        encoded = getattr(sink, "encoded", None)
        for result, position in _run(state, jobs):
            read = max(read, position)
            if result is None:  # the end of a unit sent in parts, or of the scan
                continue
            events, part, count, seen, kept, sums = result
            for event in events:
                if event.__class__ is str:  # a finding's text, made by the worker (_Events)
                    encoded(None, event)  # type: ignore[misc]
                    continue
                code, value = event
                if code == 3:
                    sink.encoded(*value)  # type: ignore[attr-defined]
                elif code == 0:
                    sink.finding(value)
                elif code == 1:
                    sink.error(value)
                else:
                    sink.unevaluated(value)
            tally.add(part)
            documents += count
            deferred += kept
            add_sums(context.totals, sums)
            if seen is not None:
                observer.merge(seen)
            if progress is not None:
                progress(read, documents + tally.errors)
    # the merchants, now that every order is summed: here, as one process would at its end (each merchant
    # document the merchant of its messages, the first of its id: the look-up is given only merchants)
    last = Session(compiled, as_of=as_of, context=context, lang=lang, validators=validators, sink=sink,
                   observer=observer, excuses=excuses, look_up=dict)
    last.feed(deferred)
    tally.add(last.tally)
    if progress is not None:
        progress(read, documents + last.documents + tally.errors)
    return Report((), (), (), documents + last.documents, metadata(compiled, as_of, lang), tally=tally)


def _enumerated(paths: list[str], exclude: frozenset[str] = frozenset()) -> list[tuple[str, int | None] | InputError]:
    """The files to read with their sizes now, folders walked (with the errors of walking them, in their
    place), as each worker reads them (_Reader.read): a file that grows during the scan is read by every
    worker up to this size, a file arriving in a folder by none."""
    entries: list[tuple[str, int | None] | InputError] = []
    seen: set[tuple[int, int]] = set()
    for path in paths:
        for found in walk(path, exclude) if os.path.isdir(path) else [path]:
            if found.__class__ is InputError:
                entries.append(found)  # type: ignore[arg-type]
                continue
            try:
                info = os.stat(found)  # type: ignore[arg-type]
            except OSError:  # reported by the reader, alike in every worker
                entries.append((found, None))  # type: ignore[arg-type]
                continue
            if first_time(found, seen, info):  # type: ignore[arg-type]  # each file once, as the serial scan
                entries.append((found, info.st_size))  # type: ignore[arg-type]
    return entries


def _readable_again(path: str) -> bool:
    """Whether every worker can read `path` on its own: a folder or a regular file (or a path that cannot be
    opened: each worker finds the same error). Not a pipe, whose text only one reader would get."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return True
    return stat.S_ISDIR(mode) or stat.S_ISREG(mode)


# -- in the parent -----------------------------------------------------------------------------


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker (the cause of the one raised again in the parent)."""

    def __str__(self) -> str:
        return "\n\n" + self.args[0]


def _run(state: dict[str, Any], jobs: int) -> Iterator[tuple[Any, int]]:
    """Fork `jobs` workers over the input; their results, in input order, with the bytes of input read."""
    context = multiprocessing.get_context("fork")
    state["claims"] = context.Value("q", 0)  # the index of the next unit no worker has taken yet
    workers: list[tuple[Any, Any]] = []
    done = False
    for stream in (sys.stdout, sys.stderr):  # else a worker would write their buffers again when it ends
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    # the parent's ends of the pipes made so far: a worker closes its copies first, so that a pipe's only
    # reader is the parent, and a worker whose parent is gone (killed) fails to send and ends
    state["parent_ends"] = ends = []
    try:
        for k in range(jobs):
            receiving, sending = context.Pipe(duplex=False)
            ends.append(receiving)
            _widen(sending)
            process = context.Process(target=_work, args=(state, sending), daemon=True,
                                      name=f"compliance-scan-{k + 1}")
            process.start()
            sending.close()  # the worker's alone: the parent sees the end of the pipe when the worker ends
            workers.append((process, receiving))
        # each worker's next message, once received: a worker's units come in input order, so the one that
        # took unit `slot` either has it next or has not sent it yet
        heads: list[tuple[Any, ...] | None] = [None] * jobs
        slot = 0
        while True:
            owner = next((k for k, head in enumerate(heads) if head and head[0] == _PART and head[1] == slot), None)
            if owner is not None:
                _, _, last, result, position = heads[owner]  # type: ignore[misc]
                heads[owner] = None
                yield result, position
                if last:
                    slot += 1
                continue
            waiting = [k for k, head in enumerate(heads) if head is None]
            if not waiting:  # every worker has ended, or sent a later unit: unit `slot` is nobody's, the end
                ends = [head for head in heads if head and head[0] == _END]
                if len(ends) < jobs or any(end[1:3] != ends[0][1:3] for end in ends):
                    # the workers did not all enumerate the same units (slots, signature)
                    raise ScanStopped("the input changed while it was being read (the workers did not read "
                                       "the same documents); scan again, or with --jobs 1")
                done = True
                yield None, max(end[3] for end in ends)
                return
            ready = wait([end for k in waiting for end in (workers[k][1], workers[k][0].sentinel)])
            for k in waiting:
                if workers[k][1] in ready or workers[k][0].sentinel in ready:
                    heads[k] = _receive(*workers[k])
    finally:
        for process, receiving in workers:
            if not done:
                process.terminate()
            process.join()
            receiving.close()


def _receive(process: Any, connection: Any) -> tuple[Any, ...]:
    """A worker's next message; its exception raised here; an error when it ended without one."""
    ready = wait([connection, process.sentinel])  # a message, the end of the pipe, or the end of the worker
    try:
        if connection not in ready and not connection.poll():
            raise EOFError
        message = connection.recv()
    except (EOFError, OSError):
        process.join()
        if process.exitcode is not None and process.exitcode < 0:  # killed: no defect of ours, as a rule
            name = signal.Signals(-process.exitcode).name if -process.exitcode in signal.valid_signals() else ""
            raise ScanStopped(f"a scan worker was killed ({name or -process.exitcode}: out of memory, or stopped "
                              "by someone?); run with fewer --jobs if memory is short") from None
        raise RuntimeError(f"a scan worker ended unexpectedly (exit code {process.exitcode})") from None
    if message[0] == _FAILED:
        _, error, text = message
        error.__cause__ = WorkerTraceback(text)
        raise error
    return message


def _widen(connection: Any) -> None:
    """Let the pipe hold PIPE_BYTES (Linux's F_SETPIPE_SZ; 64 KB by default), so that a worker which has
    finished a unit need not wait for the parent to take it."""
    import fcntl

    try:
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # type: ignore[attr-defined]
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or beyond the user's limit
        pass


# -- in the workers ----------------------------------------------------------------------------


class _File:
    """A file left unread by the reader: the worker that checks it reads it (again, for a whole-JSON file)."""

    __slots__ = ("path", "size")

    def __init__(self, path: str, size: int) -> None:
        self.path, self.size = path, size


class _Reader(Reader):
    """A raw reader that reads only the large JSON Lines files, in batches of lines: a file smaller than
    GROUP_BYTES, or a whole-JSON file, it leaves unread (a _File each) for the one worker that checks it to
    read; the others go on to the next file."""

    def __init__(self) -> None:
        super().__init__(raw=True)

    def read(self, paths: Iterable[Any]) -> Iterator[Any]:
        """The files and walking errors the parent enumerated (_enumerated), in order."""
        for entry in paths:
            if entry.__class__ is InputError:
                yield entry
            else:
                yield from self.read_file(*entry)

    def read_file(self, path: str, size: int | None = None) -> Iterator[Any]:  # type: ignore[override]
        """A small file left to one worker (whatever it holds: that worker reads all of it); a large one read,
        up to the size it had when listed (but for an archive). A file that could not be listed is read (to
        report why)."""
        if size is not None and size < GROUP_BYTES:
            self.done += size
            yield _File(path, size)
        else:
            yield from super().read_file(path, _limit(path, size))

    def _whole(self, stream: Any, path: str, prefix: bytes = b"", as_lines: bool = False) -> Iterator[Any]:
        """A large whole-JSON file, not parsed here: no document of it is known before all of it is parsed."""
        current = self.current
        yield _File(path, os.fstat(current.fileno()).st_size if current is not None else GROUP_BYTES)


def _limit(path: str, size: int | None) -> int | None:
    """How much of a file every worker reads alike: a large file up to the size it had when listed, but for
    an archive (written whole; reading it capped cost ~4 %, 0.15 s), which is read whole, as is a small
    file (read by one worker: _read) and one that could not be listed."""
    if size is None or size < GROUP_BYTES or path.lower().endswith(".gz"):
        return None
    return size


def _units(items: Iterable[Any]) -> Iterator[list[Any]]:
    """The units of work, in input order: a batch of lines; a file of GROUP_BYTES or more left unread; the
    smaller ones and the errors between them (at most UNIT_DOCUMENTS pieces and about GROUP_BYTES of files:
    a folder of one-document files is not a unit per file). On the files' contents: documents and errors
    (at most UNIT_DOCUMENTS), or a batch of lines."""
    pending: list[Any] = []
    size = 0
    for item in items:
        kind = item.__class__
        if kind is Lines or (kind is _File and item.size >= GROUP_BYTES):
            if pending:
                yield pending
                pending, size = [], 0
            yield [item]
            continue
        pending.append(item)
        if kind is _File:
            size += item.size
        if len(pending) >= UNIT_DOCUMENTS or size >= GROUP_BYTES:
            yield pending
            pending, size = [], 0
    if pending:
        yield pending


def _read(unit: list[Any]) -> Iterator[Any]:
    """A unit's pieces, its files read now, as the serial scan reads them (documents, errors, batches of
    lines)."""
    for piece in unit:
        if piece.__class__ is _File:
            yield from Reader(raw=True).read_file(piece.path)
        else:
            yield piece


def _identity(unit: list[Any]) -> Any:
    piece = unit[0]
    if piece.__class__ is Lines:
        return piece.path, piece.first, len(piece.lines)
    return tuple(piece.path if piece.__class__ is _File else str(piece) for piece in unit)


def _work(state: dict[str, Any], connection: Any) -> None:
    """A worker: read everything, check each unit it takes (the next one no worker has taken, when it is
    free), send the results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the parent's to handle: it ends the workers
    for end in state["parent_ends"]:
        end.close()
    # No automatic cyclic garbage collection: documents are trees, freed as they go (the collector's passes
    # were 8 % of a worker's time); a collection every COLLECT_EVERY units frees what cycles there are (an
    # exception kept with its traceback), and what the worker inherited is frozen out of its sight.
    gc.disable()
    gc.freeze()
    claims = state["claims"]

    def take() -> int:
        with claims.get_lock():
            taken = claims.value
            claims.value = taken + 1
        return taken

    try:
        reader = _Reader()
        signature = 0
        slots = checked = 0
        mine = take()
        for slot, unit in enumerate(_units(reader.read(state["paths"]))):
            slots = slot + 1
            signature = hash((signature, _identity(unit)))
            if slot != mine:  # another worker's: only its merchants, while they are still to be met
                if state["look_up"]:
                    _noted(state, unit)
                continue
            if unit[0].__class__ is Lines:
                connection.send((_PART, slot, True, _check(state, unit), reader.position()))
            else:  # files read now: their contents checked and sent in parts
                for part in _units(_read(unit)):
                    connection.send((_PART, slot, False, _check(state, part), reader.position()))
                connection.send((_PART, slot, True, None, reader.position()))
            mine = take()
            checked += 1
            if not checked % COLLECT_EVERY:
                gc.collect()
        connection.send((_END, slots, signature, reader.position()))
    except BaseException as e:  # noqa: BLE001 - every failure goes to the parent, which raises it
        text = traceback.format_exc()
        try:
            try:  # as the parent will get it: some exceptions pickle but cannot be made again from their args
                pickle.loads(pickle.dumps(e))
            except Exception:  # noqa: BLE001 - then its type and text, with the traceback
                e = RuntimeError(f"{type(e).__name__}: {e}")
            connection.send((_FAILED, e, text))
        except OSError:  # the parent is gone
            pass
    finally:
        connection.close()


def _items(unit: list[Any]) -> Iterator[Item]:
    """A unit's documents and errors: its batches of lines parsed."""
    for piece in unit:
        if piece.__class__ is Lines:
            yield from parse_lines(piece)
        else:
            yield piece


class _Events:
    """A worker's sink: everything in the order found, for the parent to pass on. When the output's
    writer can (`encode`), the worker writes each finding's text itself and sends that: the parent
    then only copies it out."""

    def __init__(self, writer: Any) -> None:
        self.events: list[Any] = []
        self.encode = getattr(writer, "encode", None)
        self.key = getattr(writer, "key", None)

    def finding(self, finding: Finding) -> None:
        if self.encode is None:
            self.events.append((0, finding))
        elif self.key is None:
            self.events.append(self.encode(finding))  # the text alone (sink.encoded(None, text)): less to pickle
        else:
            self.events.append((3, (self.key(finding), self.encode(finding))))

    def error(self, error: InputError) -> None:
        self.events.append((1, error))

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.events.append((2, entry))


def _check(state: dict[str, Any], unit: list[Any]) -> tuple[list[Any], Tally, int, Any, list[Item], dict[str, Any]]:
    """Check one unit: what it found, its counts, its observer, its merchant documents (checked by the
    parent at the end) and its orders' sums."""
    events = _Events(state["sink"])
    make = state["observer"]
    seen = make() if make is not None else None
    context = Context(merchants=state["context"].merchants)  # the worker's merchants; this unit's sums only
    session = Session(state["compiled"], as_of=state["as_of"], context=context, lang=state["lang"],
                      validators=state["validators"], sink=events, observer=seen, gather_totals=True,
                      excuses=state["excuses"], look_up=(lambda: _looked_up(state)) if state["look_up"] else None)
    session.feed(_items(unit))
    return events.events, session.tally, session.documents, seen, session.deferred, context.totals


def _noted(state: dict[str, Any], unit: list[Any]) -> None:
    """The valid merchant documents of another worker's unit, noted in this worker's (the first of each id),
    so that its own units find the merchants that come before them: a search of the raw lines, as the
    look-up does (engine.lookup_merchants); the files left to the unit's worker are read for it here."""
    merchants = state["context"].merchants
    valid = state["validators"]["merchant"]
    for piece in unit:
        if piece.__class__ is Lines:
            found: Iterable[Any] = parse_lines(piece, MERCHANT_TEXT, quiet=True)
        elif piece.__class__ is _File:
            found = Reader(prefilter=MERCHANT_TEXT).read_file(piece.path)  # as _read reads it
        else:
            continue
        for item in found:
            if item.__class__ is tuple:
                doc = item[0]
                if doc.__class__ is dict and doc.get("kind") == "merchant" and valid(doc):
                    merchants.setdefault(doc["id"], doc)


def _looked_up(state: dict[str, Any]) -> dict[str, Any]:
    """Every merchant of the input, as listed (engine.lookup_merchants, each file up to its listed size as
    _Reader reads it), for a document naming one this worker has not met; the look-up is then done."""
    state["look_up"] = False
    reader = Reader(prefilter=MERCHANT_TEXT)

    def items() -> Iterator[Item]:
        for entry in state["paths"]:
            if entry.__class__ is not InputError:
                path, size = entry
                yield from reader.read_file(path, _limit(path, size))

    return collect_context(items(), state["validators"], state["compiled"], state["as_of"], with_totals=False).merchants
