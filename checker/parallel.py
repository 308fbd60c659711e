"""`compliance scan --jobs N`: the same scan on N worker processes, results in input order.

The parent reads: it walks the folders, decompresses, and cuts JSON Lines
into batches of raw lines (reading.Lines); whole-JSON files it parses
itself. Workers parse, validate and evaluate the batches and send back what
they found; the parent hands it to the output in input order, as the
serial scan would, so the output of `--jobs 2` is byte for byte that of
`--jobs 1`.

Two passes, like the serial scan: when the pack needs merchants (or sums
over a merchant's orders), a first pass on the workers collects them from
every batch, the parent merges the parts (the first merchant of an id wins,
sums add up), and the workers of the second pass start with the result.

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

from .engine import Context, Session, Sink, collect_context, context_text, metadata, needs_context, ticking
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
) -> Report:
    """Scan `paths` on `jobs` processes. An `observer` (the radar's) gets what each worker's copy of
    it saw, in input order (`fresh()` makes a copy, `merge(copy)` takes one back)."""
    context = Context()
    base = 0
    if needs_context(compiled):
        _STATE.update(compiled=compiled, validators=validators, as_of=as_of, prefilter=context_text(compiled))
        first = Reader(quiet=True, raw=True)
        parts = _run(_units(first.read(paths)), _collect, jobs)
        context = _merge_contexts(ticking(parts, first, progress, 0, False, every=1) if progress else parts)
        base = first.position()
    _STATE.update(compiled=compiled, validators=validators, as_of=as_of, lang=lang, context=context,
                  observer=observer.fresh if observer is not None else None)
    tally = Tally()
    documents = 0
    reader = Reader(raw=True)
    try:
        for events, part, count, seen in _run(_units(reader.read(paths)), _check, jobs):
            for code, value in events:
                if code == 0:
                    sink.finding(value)
                elif code == 1:
                    sink.error(value)
                else:
                    sink.unevaluated(value)
            tally.add(part)
            documents += count
            if seen is not None:
                observer.merge(seen)
            if progress is not None:
                progress(base + reader.position(), documents + tally.errors)
    finally:
        _STATE.clear()
    return Report((), (), (), documents, metadata(compiled, as_of, lang), tally=tally)


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
    pool = multiprocessing.get_context("fork").Pool(jobs)
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


def _items(unit: list[Any], prefilter: Any = None, quiet: bool = False) -> Iterator[Item]:
    for piece in unit:
        if piece.__class__ is Lines:
            yield from parse_lines(piece, prefilter, quiet)
        else:
            yield piece


# -- in the workers ----------------------------------------------------------------------------


def _collect(unit: list[Any]) -> Context:
    """First pass: the merchants and order sums of one unit."""
    state = _STATE
    items = _items(unit, state["prefilter"], quiet=True)
    return collect_context(items, state["validators"], state["compiled"], state["as_of"])


class _Events:
    """A worker's sink: everything in the order found, for the parent to pass on."""

    def __init__(self) -> None:
        self.events: list[tuple[int, Any]] = []

    def finding(self, finding: Finding) -> None:
        self.events.append((0, finding))

    def error(self, error: InputError) -> None:
        self.events.append((1, error))

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.events.append((2, entry))


def _check(unit: list[Any]) -> tuple[list[tuple[int, Any]], Tally, int, Any]:
    """Second pass: check one unit."""
    state = _STATE
    events = _Events()
    make = state["observer"]
    seen = make() if make is not None else None
    session = Session(state["compiled"], as_of=state["as_of"], context=state["context"], lang=state["lang"],
                      validators=state["validators"], sink=events, observer=seen)
    session.feed(_items(unit))
    return events.events, session.tally, session.documents, seen


def _merge_contexts(parts: Iterable[Context]) -> Context:
    """The parts of the first pass, in input order: as if one process had read them all."""
    merged = Context()
    with decimal_context():  # sums of amounts, exact
        _merge(merged, parts)
    return merged


def _merge(merged: Context, parts: Iterable[Context]) -> None:
    for part in parts:
        for merchant_id, doc in part.merchants.items():
            merged.merchants.setdefault(merchant_id, doc)
        for merchant_id, sums in part.totals.items():
            into = merged.totals.setdefault(merchant_id, {})
            for key, amount in sums.items():
                into[key] = into.get(key, 0) + amount
