"""Running a compiled pack over documents: validation, merchants, findings.

The per-document path: validate with the compiled schema validator, run the
fused evaluator of the document's kind, and render messages only for what
failed. Everything read ends up either checked (`documents`) or in
`errors`: read = checked + errors.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

import attrs

from . import __version__
from .model import DocumentRef, Finding, InputError, NotEvaluated, Report, Tally
from .policy.runtime import EMPTY, CompiledPack, decimal_context
from .reading import Item, Reader
from .values import BadValue, format_time

#: a merchant document, as raw bytes, before it is parsed (the look-up pre-pass): `"kind"\s*:\s*"merchant"`,
#: spelt to start with `kind"`, the opening quote checked behind it, because the regex engine's search then
#: stops only at each "k" instead of at every quote: 0.07 s instead of 0.13 s over 100,000 lines (170 MB)
MERCHANT_TEXT = re.compile(rb'kind"(?<="kind")\s*:\s*"merchant"')


class Session:
    """One run over documents. Mutable: it accumulates the report as it goes."""

    def __init__(
        self,
        compiled: CompiledPack,
        *,
        as_of: _dt.datetime,
        context: Context | None = None,
        lang: str = "en",
        validators: Mapping[str, Any] | None = None,
        observer: Callable[[dict, str, list[Finding], list[NotEvaluated]], None] | None = None,
        sink: Sink | None = None,
        gather_totals: bool = False,
        excuses: Any = None,
        look_up: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.compiled = compiled
        #: the merchants of the whole input, asked for when a document names a merchant not met yet; until
        #: then the valid merchant documents met are the look-up (scan_paths: the look-up pass, only if needed)
        self.look_up = look_up
        #: waivers and baseline (waivers.Excuses) applied to each finding as it is made
        self.excuses = excuses if excuses else None
        #: sum the pack's totals over the orders as they are checked, and keep merchant documents (whose
        #: rules read the sums) for finish(): a scan then reads its orders once, not in a pre-pass too
        self.gather_totals = gather_totals and bool(compiled.totals)
        self.deferred: list[Item] = []
        #: called with every checked document and what was found on it (the radar ledger's view of a scan)
        self.observer = observer
        self.context = context or Context()
        self.validators = validators or compiled.validators
        self.as_of = as_of
        self.merchants = self.context.merchants
        self.lang = lang
        #: where findings, errors and not-evaluated entries go as they are found (kept for the report by default)
        self.sink = sink if sink is not None else Collector()
        self.tally = Tally()
        self.documents = 0

    def error(self, error: InputError) -> None:
        self.tally.error(error)
        self.sink.error(error)

    def feed(self, items: Iterable[Item]) -> None:
        with decimal_context():
            self._feed(items)

    def finish(self) -> None:
        """Check the merchant documents kept back by gather_totals, now that every order is summed."""
        deferred, self.deferred = self.deferred, []
        gathering, self.gather_totals = self.gather_totals, False
        try:
            self.feed(deferred)
        finally:
            self.gather_totals = gathering

    def _feed(self, items: Iterable[Item]) -> None:
        compiled = self.compiled
        evaluators = compiled.evaluators
        schema = self.validators
        as_of = self.as_of
        merchants = self.merchants
        totals = self.context.totals
        observer = self.observer
        gather = self.gather_totals
        deferred = self.deferred
        summed = compiled.totals
        look_up = self.look_up
        hits: list[tuple[int, Any]] = []
        missing: list[int] = []
        failed: list[tuple[int, Exception]] = []
        for item in items:
            if item.__class__ is not tuple:
                self.error(item)  # type: ignore[arg-type]
                continue
            doc, file, line, index = item  # type: ignore[misc]
            kind = doc.get("kind") if doc.__class__ is dict else None
            validator = schema.get(kind) if kind.__class__ is str else None  # type: ignore[arg-type]
            if validator is None or not validator(doc):
                self._invalid(doc, file, line, index)
                continue
            if look_up is not None:
                if kind == "merchant":
                    merchants.setdefault(doc["id"], doc)  # the first of each id, as the look-up keeps it
                else:  # its rules, or only its messages (the merchant's name), may read the merchant
                    wanted = doc.get("merchant_id")
                    if wanted.__class__ is str and wanted not in merchants:
                        self._look_up()
                        look_up = None
            if gather:
                if kind == "order":
                    add_totals(totals, doc, summed, as_of)
                elif kind == "merchant":
                    deferred.append(item)
                    continue
            try:
                if kind == "merchant" and totals:
                    evaluators[kind](doc, as_of, merchants, hits, missing, failed, totals.get(doc.get("id"), EMPTY))
                else:
                    evaluators[kind](doc, as_of, merchants, hits, missing, failed)
            except Exception as e:  # BadValue: the document is no valid snapshot after all
                hits.clear()
                missing.clear()
                failed.clear()
                self.error(_evaluation_error(e, doc, file, line, index))
                continue
            self.documents += 1
            if hits or missing or failed:
                found, unevaluated = self._report(doc, kind, file, line, hits, missing, failed)
                hits.clear()
                missing.clear()
                failed.clear()
                if observer is not None:
                    observer(doc, kind, found, unevaluated)
            elif observer is not None:
                observer(doc, kind, [], [])

    def _look_up(self) -> None:
        """The merchants of the whole input, added to those met so far (the first of each id: the same)."""
        assert self.look_up is not None
        found, self.look_up = self.look_up(), None
        for merchant_id, merchant in found.items():
            self.merchants.setdefault(merchant_id, merchant)

    def _invalid(self, doc: Any, file: str, line: int | None, index: int | None) -> None:
        from .snapshots import check_document

        _, problems = check_document(doc)
        prefix = f"/{index}" if index is not None else ""
        if not problems:  # pragma: no cover - the validators agree (tests/test_validation.py)
            problems = [("", "rejected by the compiled validator but not by the reference one; please report it")]
        where, reason = problems[0]
        more = tuple(f"{prefix}{p}: {r}" for p, r in problems[1:10])
        self.error(InputError(file, line, prefix + where, reason, more))

    def _report(
        self, doc: dict, kind: str, file: str, line: int | None, hits: list, missing: list, failed: list
    ) -> tuple[list[Finding], list[NotEvaluated]]:
        rules = self.compiled.pack.rules
        sink, tally = self.sink, self.tally
        doc_id = doc.get("id")
        ref = DocumentRef(kind, doc_id, file if line is None else f"{file}:{line}")
        merchant_id = doc.get("merchant_id") if kind != "merchant" else doc_id
        merchant = self.merchants.get(merchant_id) if merchant_id is not None else None
        found: list[Finding] = []
        unevaluated: list[NotEvaluated] = []
        if len(hits) > 1:  # the fused evaluator runs rules in groups: report them in pack order
            hits.sort(key=_hit_order)
        sums = self.context.totals.get(doc_id, EMPTY) if kind == "merchant" else EMPTY
        for rule_index, item_index in hits:
            rule = rules[rule_index]
            path, message, remedy = self.compiled.render(
                rule_index, doc, self.as_of, merchant, item_index, self.lang, sums
            )
            # the listing the finding is about: the product itself, or the listing of the order item it points into
            product_id = doc_id if kind == "product" else _item_listing(doc, path) if kind == "order" else None
            found.append(Finding(rule.id, rule.family, rule.severity, rule.penalty, ref, merchant_id, path, message,
                                 remedy, product_id))
        if self.excuses is not None:  # a document's findings together: the baseline matches them so
            found = self.excuses.apply(found)
        for finding in found:
            tally.finding(finding)
            sink.finding(finding)
        if missing or failed:
            self._unevaluated(ref, merchant_id, missing, failed, unevaluated)
        return found, unevaluated

    def _unevaluated(self, ref: DocumentRef, merchant_id: str | None, missing: list, failed: list,
                     unevaluated: list[NotEvaluated]) -> None:
        rules = self.compiled.pack.rules
        for rule_index in missing:
            rule = rules[rule_index]
            # the same words whichever worker met what: an invalid merchant document is among the errors
            reason = (f"merchant {merchant_id} is not in the scan (no valid merchant document of this id); the rule "
                      "needs the merchant's data")
            unevaluated.append(NotEvaluated(rule.id, rule.family, ref, reason, merchant_id=merchant_id))
        seen = set()
        for rule_index, error in failed:  # once per rule, however many items it failed on
            if rule_index not in seen:
                seen.add(rule_index)
                rule = rules[rule_index]
                reason = f"the rule failed on this document: {type(error).__name__}: {error}; please report it"
                unevaluated.append(NotEvaluated(rule.id, rule.family, ref, reason, failed=True,
                                                merchant_id=merchant_id))
        for entry in unevaluated:
            self.tally.unevaluated(entry)
            self.sink.unevaluated(entry)

    def report(self) -> Report:
        metadata_ = metadata(self.compiled, self.as_of, self.lang)
        kept = self.sink if isinstance(self.sink, Collector) else Collector()
        return Report(tuple(kept.findings), tuple(kept.errors), tuple(kept.not_evaluated), self.documents,
                      metadata_, tally=self.tally)


def metadata(compiled: CompiledPack, as_of: _dt.datetime, lang: str) -> dict[str, Any]:
    """What makes a report reproducible: the tool, the policy pack, the time judged at, the language."""
    pack = compiled.pack
    return {
        "tool": "compliance",
        "version": __version__,
        "policy_pack": {"name": pack.name, "version": pack.version, "content_hash": pack.content_hash},
        "as_of": format_time(as_of),
        "lang": lang,
    }


class Sink(Protocol):
    """Where a session's results go as they are found: an output format's writer, or a Collector."""

    def finding(self, finding: Finding) -> None: ...

    def error(self, error: InputError) -> None: ...

    def unevaluated(self, entry: NotEvaluated) -> None: ...


class Collector:
    """Keeps everything for the report (the Python API, `check`, formats that need the whole report)."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.errors: list[InputError] = []
        self.not_evaluated: list[NotEvaluated] = []

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def error(self, error: InputError) -> None:
        self.errors.append(error)

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.not_evaluated.append(entry)


_ITEM_PATH = re.compile(r"/items/(\d+)(?:/|$)")


def check_documents(compiled: CompiledPack, documents: list[Any], as_of: _dt.datetime, lang: str = "en") -> Report:
    """Check documents in memory, plain JSON values (checker.check copies what it is given into them; the
    invariants' sweeps build them so): merchants among them resolved for the others."""
    items = [(doc, "<input>", None, i) for i, doc in enumerate(documents)]
    context = collect_context(items, compiled.validators, compiled, as_of) if needs_context(compiled) else Context()
    session = Session(compiled, as_of=as_of, context=context, lang=lang)
    session.feed(items)
    return session.report()


def _item_listing(order: dict, path: str) -> str | None:
    """The id of the listing embedded in the order item a path points into (/items/N/...), or None."""
    listing = item_listing(order, path)
    return listing.get("id") if listing is not None else None


def item_listing(order: dict, path: str) -> dict | None:
    """The listing embedded in the order item a path points into (/items/N/...), or None (the radar's
    observer reads the page it shows)."""
    item = _ITEM_PATH.match(path)
    if item is not None:
        try:
            listing = order["items"][int(item.group(1))]["listing"]
        except (IndexError, KeyError, TypeError):
            return None
        return listing if listing.__class__ is dict else None
    return None


def _hit_order(hit: tuple[int, Any]) -> tuple[int, int]:
    return hit[0], -1 if hit[1] is None else hit[1]


def _evaluation_error(error: Exception, doc: Any, file: str, line: int | None, index: int | None) -> InputError:
    from .snapshots import pointer

    prefix = f"/{index}" if index is not None else ""
    if isinstance(error, BadValue):
        found = _find(doc, error.value)
        where = pointer(found) if found is not None else ""
        return InputError(file, line, prefix + where, f"{error.value!r} is not {error.expected}")
    return InputError(
        file, line, prefix, f"could not be evaluated: {type(error).__name__}: {error}; please report it"
    )


def _find(doc: Any, value: Any, path: tuple = ()) -> tuple | None:
    if doc is value or (type(doc) is type(value) and doc == value):
        return path
    if isinstance(doc, dict):
        for key, child in doc.items():
            found = _find(child, value, (*path, key))
            if found is not None:
                return found
    elif isinstance(doc, list):
        for i, child in enumerate(doc):
            found = _find(child, value, (*path, i))
            if found is not None:
                return found
    return None


# -- merchants --------------------------------------------------------------------------


@attrs.define
class Context:
    """What rules may need from the rest of the scan: merchants by id, and per merchant the totals its
    rules sum over its orders ((rule, name) -> amount). Mutable while it is collected."""

    merchants: dict[str, Any] = attrs.Factory(dict)
    totals: dict[str, dict[tuple[int, str], Any]] = attrs.Factory(dict)


def needs_context(compiled: CompiledPack) -> bool:
    return bool(compiled.needs_merchant or compiled.totals)


def lookup_merchants(
    paths: list[str], compiled: CompiledPack, validators: Mapping[str, Any], as_of: _dt.datetime,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A scan's look-up pass: the valid merchants of every input by id (the first of each), found by a
    search of the raw lines (only they are parsed). Orders are summed in the main pass."""
    pieces = Reader(prefilter=MERCHANT_TEXT, exclude=exclude).read(paths)
    return collect_context(pieces, validators, compiled, as_of, with_totals=False).merchants


def collect_context(
    items: Iterable[Item], validators: Mapping[str, Any], compiled: CompiledPack, as_of: _dt.datetime,
    with_totals: bool = True,
) -> Context:
    """Valid merchants by id (the first of each id wins), and (`with_totals`) each merchant's totals.
    Memory grows with the number of merchants, not of orders: each order only adds to its merchant's sums."""
    context = Context()
    totals = compiled.totals if with_totals else ()
    with decimal_context():
        for item in items:
            if item.__class__ is not tuple:
                continue
            doc = item[0]  # type: ignore[index]
            kind = doc.get("kind") if doc.__class__ is dict else None
            if kind == "merchant" and validators["merchant"](doc):
                context.merchants.setdefault(doc["id"], doc)
            elif totals and kind == "order" and validators["order"](doc):
                add_totals(context.totals, doc, totals, as_of)
    return context


def add_totals(into: dict[str, dict[tuple[int, str], Any]], order: dict, totals: Any, as_of: _dt.datetime) -> None:
    """Add a valid order's shares to its merchant's sums (in decimal_context)."""
    sums = into.setdefault(order["merchant_id"], {})
    for rule_index, name, _, function in totals:
        key = (rule_index, name)
        try:
            share = function(order, as_of)
        except Exception:  # noqa: BLE001 - the order is reported by the main pass if it is bad
            share = None
        # a merchant with orders in the scan has a total, 0 when none of them counts
        sums[key] = sums.get(key, 0) + (share if share is not None else 0)


def add_sums(into: dict[str, dict[tuple[int, str], Any]], part: dict[str, dict[tuple[int, str], Any]]) -> None:
    """Add one part's sums to another's (in decimal_context): orders read by different workers."""
    for merchant_id, sums in part.items():
        mine = into.setdefault(merchant_id, {})
        for key, amount in sums.items():
            mine[key] = mine.get(key, 0) + amount


def spool_stdin(paths: list[str]) -> tuple[list[str], str | None]:
    """Stdin can be read once; when a pre-pass needs it twice, copy it to a file first."""
    if "-" not in paths:
        return paths, None
    import shutil
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="compliance-stdin-")
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out)
    return [tmp if p == "-" else p for p in paths], tmp


def reference_validators() -> dict[str, Any]:
    """jsonschema_rs: about three times the speed of the compiled Python validators per document, for whole
    catalogs; its ~20 ms import is why `check` uses the pack's own validators instead."""
    from .snapshots import validators

    return {kind: v.is_valid for kind, v in validators().items()}


def scan_paths(
    paths: Iterable[str],
    compiled: CompiledPack,
    *,
    as_of: _dt.datetime,
    lang: str = "en",
    validators: Mapping[str, Any] | None = None,
    observer: Any = None,
    sink: Sink | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    excuses: Any = None,
    exclude: frozenset[str] = frozenset(),
) -> Report:
    """Read and check every document under `paths` (files, folders, "-" for stdin). With a `sink`, the
    results go there as they are found, and the report only counts them. `jobs` > 1 runs the scan on
    that many processes (parallel.py), with the same results in the same order. `progress(bytes, documents)`
    is told now and then how many bytes of the input have been read and how many documents checked (-1
    while a one-core scan looks its merchants up). `excuses` (waivers.Excuses) marks waived and
    baselined findings. Files found in folders whose real path is in `exclude` are not read (the scan's own
    report)."""
    report = _scan_paths(paths, compiled, as_of=as_of, lang=lang, validators=validators, observer=observer,
                         sink=sink, jobs=jobs, progress=progress, excuses=excuses, exclude=exclude)
    if excuses is not None and excuses.expired:
        report = attrs.evolve(report, expired_waivers=excuses.expired)
    return report


def _scan_paths(
    paths: Iterable[str], compiled: CompiledPack, *, as_of: _dt.datetime, lang: str, validators: Any, observer: Any,
    sink: Sink | None, jobs: int, progress: Callable[[int, int], None] | None, excuses: Any,
    exclude: frozenset[str] = frozenset(),
) -> Report:
    paths = list(paths)
    validators = validators or compiled.validators
    if jobs > 1 and sink is not None and "-" not in paths:
        from . import parallel

        if parallel.available():
            return parallel.scan_parallel(paths, compiled, jobs=jobs, as_of=as_of, lang=lang, validators=validators,
                                          sink=sink, observer=observer, progress=progress, excuses=excuses,
                                          exclude=exclude)
    spooled = None
    looking = needs_context(compiled)  # packs whose rules or messages read merchants, or with totals
    if looking:
        paths, spooled = spool_stdin(paths)
    reader = Reader(exclude=exclude)

    def look_up() -> Mapping[str, Any]:
        """The look-up pass over every input (a search of the raw lines for merchants), run only when a document
        names a merchant that the scan has not met yet: a catalog that lists its merchants before their
        listings and orders is read once (0.27 s of 5.9 for 100,000 documents, gzipped)."""
        if progress is not None:
            progress(reader.position(), -1)  # the bar says "merchants" meanwhile
        return lookup_merchants(paths, compiled, validators, as_of, exclude)

    try:
        session = Session(compiled, as_of=as_of, context=Context(), lang=lang, validators=validators,
                          observer=observer, sink=sink, gather_totals=True, excuses=excuses,
                          look_up=look_up if looking else None)
        items: Iterator[Item] = reader.read(paths)
        if progress is not None:
            items = ticking(items, reader, progress)
        if spooled is not None:
            items = _rename(items, spooled, "<stdin>")
        session.feed(items)
        session.finish()
        return session.report()
    finally:
        if spooled is not None:
            os.unlink(spooled)


def ticking(items: Iterable[Any], reader: Reader, progress: Callable[[int, int], None],
            every: int = 256) -> Iterator[Any]:
    """`items`, telling `progress` the bytes read and the items every `every` items."""
    n = 0
    for item in items:
        yield item
        n += 1
        if not n % every:
            progress(reader.position(), n)
    progress(reader.position(), n)


def _rename(items: Iterable[Item], old: str, new: str) -> Iterator[Item]:
    for item in items:
        if item.__class__ is tuple and item[1] == old:  # type: ignore[index]
            yield (item[0], new, item[2], item[3])  # type: ignore[index]
        elif isinstance(item, InputError) and item.file == old:
            yield InputError(new, item.line, item.pointer, item.reason, item.more)
        else:
            yield item
