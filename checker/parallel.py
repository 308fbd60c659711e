"""`compliance scan --jobs N`: the same scan on N worker processes, results in input order.

The parent reads: it walks the folders, decompresses, and cuts JSON Lines
into batches of raw lines (reading.Lines); whole-JSON files it parses
itself. Workers parse, validate and evaluate the batches and send back what
they found; the parent hands it to the output in input order, as the
serial scan would, so the output of `--jobs 2` is byte for byte that of
`--jobs 1`.

As in the serial scan, the merchants are looked up first (the parent
searches the raw lines for them and parses only those), and merchant
documents are checked last: their rules sum over the merchant's orders,
which the workers add up batch by batch while they check them.

Workers are forked (they inherit the compiled pack and the merchants
without copying); where fork is unavailable, `--jobs` runs serially. At
most a few batches per worker are in flight, so memory stays flat however
large the input.
"""

from __future__ import annotations

import datetime as _dt
import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Mapping

from .engine import Context, Session, Sink, add_sums, lookup_merchants, metadata
from .model import Finding, InputError, NotEvaluated, Report, Tally
from .policy.runtime import CompiledPack, decimal_context
from .reading import Item, Lines, Reader, parse_lines

#: batches in flight per worker
WINDOW = 4
#: parsed documents (of whole-JSON files) sent to a worker together
UNIT_DOCUMENTS = 500

# What a forked worker inherits: set by the parent just before it forks the pool.
_STATE: dict[str, Any] = {}


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
) -> Report:
    """Scan `paths` on `jobs` processes. An `observer` (the radar's) gets what each worker's copy of
    it saw, in input order (`fresh()` makes a copy, `merge(copy)` takes one back)."""
    context, base = lookup_merchants(paths, compiled, validators, as_of, progress)  # by the parent: a line search
    _STATE.update(compiled=compiled, validators=validators, as_of=as_of, lang=lang, context=context,
                  observer=observer.fresh if observer is not None else None, sink=sink, excuses=excuses)
    tally = Tally()
    documents = 0
    deferred: list[Item] = []
    reader = Reader(raw=True)
    try:
        with decimal_context():
            for events, part, count, seen, kept, sums in _run(_units(reader.read(paths)), _check, jobs):
                for code, value in events:
                    if code == 3:
                        sink.encoded(*value)
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
                    progress(base + reader.position(), documents + tally.errors)
    finally:
        _STATE.clear()
    # the merchants, now that every order is summed: here, as one process would at its end
    last = Session(compiled, as_of=as_of, context=context, lang=lang, validators=validators, sink=sink,
                   observer=observer, excuses=excuses)
    last.feed(deferred)
    tally.add(last.tally)
    if progress is not None:
        progress(base + reader.position(), documents + last.documents + tally.errors)
    return Report((), (), (), documents + last.documents, metadata(compiled, as_of, lang), tally=tally)


def _units(items: Iterable[Item | Lines]) -> Iterator[list[Any]]:
    """Work for one worker: a batch of lines, or parsed documents and errors, in input order."""
    pending: list[Any] = []
    for item in items:
        if item.__class__ is Lines:
            if pending:
                yield pending
                pending = []
            yield [item]
        else:
            pending.append(item)
            if len(pending) >= UNIT_DOCUMENTS:
                yield pending
                pending = []
    if pending:
        yield pending


def _run(units: Iterator[list[Any]], work: Callable[[list[Any]], Any], jobs: int) -> Iterator[Any]:
    """work(unit) for each unit on a pool of `jobs` forked processes; results in order."""
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_quiet_collector)
    try:
        flight: deque[Any] = deque()
        for unit in units:
            flight.append(pool.apply_async(work, (unit,)))
            if len(flight) >= jobs * WINDOW:
                yield flight.popleft().get()
        while flight:
            yield flight.popleft().get()
    finally:
        pool.terminate()
        pool.join()


def _quiet_collector() -> None:
    """In a worker: no automatic cyclic garbage collection (documents are trees, freed as they go: the
    collector's passes were 8 % of a worker's time); a collection every COLLECT_EVERY units instead
    frees what cycles there are (an exception kept with its traceback)."""
    import gc

    gc.disable()
    _STATE["units"] = 0


#: units a worker checks between two collections of cyclic garbage
COLLECT_EVERY = 32


def _items(unit: list[Any], prefilter: Any = None, quiet: bool = False) -> Iterator[Item]:
    for piece in unit:
        if piece.__class__ is Lines:
            yield from parse_lines(piece, prefilter, quiet)
        else:
            yield piece


# -- in the workers ----------------------------------------------------------------------------


class _Events:
    """A worker's sink: everything in the order found, for the parent to pass on. When the output's
    writer can (`encode`), the worker writes each finding's text itself and sends that: the parent,
    which reads for everyone, then only copies it out."""

    def __init__(self, writer: Any) -> None:
        self.events: list[tuple[int, Any]] = []
        self.encode = getattr(writer, "encode", None)
        self.key = getattr(writer, "key", None)

    def finding(self, finding: Finding) -> None:
        if self.encode is not None:
            self.events.append((3, (self.key(finding) if self.key else None, self.encode(finding))))
        else:
            self.events.append((0, finding))

    def error(self, error: InputError) -> None:
        self.events.append((1, error))

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.events.append((2, entry))


def _check(unit: list[Any]) -> tuple[list[tuple[int, Any]], Tally, int, Any, list[Item], dict[str, Any]]:
    """Check one unit: what it found, its counts, its observer, its merchant documents (checked by the
    parent at the end) and its orders' sums."""
    state = _STATE
    events = _Events(state["sink"])
    make = state["observer"]
    seen = make() if make is not None else None
    base = state["context"]
    context = Context(merchants=base.merchants)  # this unit's sums only
    session = Session(state["compiled"], as_of=state["as_of"], context=context, lang=state["lang"],
                      validators=state["validators"], sink=events, observer=seen, gather_totals=True,
                      excuses=state["excuses"])
    session.feed(_items(unit))
    state["units"] = state.get("units", 0) + 1
    if not state["units"] % COLLECT_EVERY:
        import gc

        gc.collect()
    return events.events, session.tally, session.documents, seen, session.deferred, context.totals
