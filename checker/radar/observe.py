"""What one scan tells the radar ledger: the penalised findings, and which listings it looked at.

A task is rectified only by a scan that looked at the listing again: a scan
of another folder says nothing about listings it did not read. So next to
the findings, the observer keeps every product document the scan checked
(with a digest of its content) and the penalised rules it could not
evaluate there.

Evidence has a time. A product document is evidence as of the scan; an
order or quote is evidence as of its own `created_at`: the quote that
opened a fake-price task stays in every later export, and must not keep the
task open (or open a new one) once the listing has been fixed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any, Iterable

import attrs

from ..model import Finding, NotEvaluated
from ..values import parse_time

Key = tuple[str, str, str]  # merchant, product, rule


@attrs.frozen
class Hit:
    """A penalised finding, as the ledger sees it."""

    merchant_id: str
    product_id: str
    rule: str
    family: str
    penalty: str
    #: "product" (the listing itself) or "order" (an order, sample or quote about it)
    evidence_kind: str
    evidence_id: str | None
    evidence_source: str
    #: the scan's time for a product, the order's created_at for an order
    evidence_at: _dt.datetime
    path: str
    message: str

    @property
    def key(self) -> Key:
        return (self.merchant_id, self.product_id, self.rule)


@attrs.frozen
class Observation:
    as_of: _dt.datetime
    #: the rules that ran (a task of a rule outside the pack is not rectified by this scan)
    rules: frozenset[str]
    #: (merchant, product) -> digest of the product document, for every listing the scan checked
    products: dict[tuple[str, str], str]
    #: (merchant, product, rule) the scan could not evaluate on the listing (it lacked data)
    unevaluated: frozenset[Key]
    hits: tuple[Hit, ...]
    pack_hash: str = ""
    documents: int = 0

    def digest(self) -> str:
        """The content of the observation, for recognising the same scan recorded twice."""
        h = hashlib.sha256()
        for part in (
            sorted(self.rules), sorted(self.products.items()), sorted(self.unevaluated),
            sorted((x.key, x.evidence_kind, x.evidence_id or "", x.evidence_source,
                    x.evidence_at.astimezone(_dt.timezone.utc).isoformat(), x.path) for x in self.hits),
        ):
            h.update(repr(part).encode())
        return h.hexdigest()


class Observer:
    """Called by the scan with every checked document (engine.Session's observer)."""

    def __init__(self, as_of: _dt.datetime) -> None:
        self.as_of = as_of
        self.products: dict[tuple[str, str], str] = {}
        self.unevaluated: set[Key] = set()
        self.hits: list[Hit] = []

    def __call__(self, doc: dict, kind: str, findings: list[Finding], not_evaluated: list[NotEvaluated]) -> None:
        if kind == "product":
            self.products[(doc["merchant_id"], doc["id"])] = digest(doc)
            for n in not_evaluated:
                self.unevaluated.add((doc["merchant_id"], doc["id"], n.rule))
        for f in findings:
            if f.penalty is None or f.product_id is None or f.merchant_id is None:
                continue
            if kind == "product":
                at = self.as_of
            else:
                at = parse_time(doc["created_at"])
            self.hits.append(Hit(f.merchant_id, f.product_id, f.rule, f.family, f.penalty, kind, f.document.id,
                                 f.document.source, at, f.path, f.message))

    def fresh(self) -> Observer:
        """An empty observer for the same scan (one per worker batch of a parallel scan)."""
        return Observer(self.as_of)

    def merge(self, other: Observer) -> None:
        """Take in what a fresh copy saw, as if this observer had seen it next."""
        self.products.update(other.products)
        self.unevaluated |= other.unevaluated
        self.hits.extend(other.hits)

    def observation(self, rules: Iterable[str], *, pack_hash: str = "", documents: int = 0) -> Observation:
        return Observation(self.as_of, frozenset(rules), dict(self.products), frozenset(self.unevaluated),
                           tuple(self.hits), pack_hash, documents)


def digest(doc: dict[str, Any]) -> str:
    """A digest of a document's content, independent of key order (an edit of the listing changes it)."""
    import orjson

    text = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS, default=_plain)
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _plain(value: Any) -> str:
    return str(value)
