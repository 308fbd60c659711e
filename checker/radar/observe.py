"""What one scan tells the radar ledger: the penalised findings, and which listings it looked at.

A task is rectified only by a scan that looked at the listing again: a scan
of another folder says nothing about listings it did not read. So next to
the findings, the observer keeps every product document the scan checked
(what its page says) and the penalised rules it could not
evaluate there.

Evidence has a time and a page. A product document is evidence as of the
scan, about itself; an order or quote is evidence as of its own
`created_at`, about the page it was made on (`items[].listing`, "the page as
the buyer saw it", SNAPSHOTS.md): the quote that opened a fake-price task
stays in every later export, and must not keep the task open (or open a new
one) once the listing has been edited.

A page is kept as a digest of each field the data contract gives a listing
(PAGE_FIELDS), so that a quote's copy and the product document can be
compared field by field: fields a tool adds of its own, `kind` and
`updated_at` are not what the page says.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any, Iterable

import attrs

from ..model import Finding, NotEvaluated
from ..values import parse_time

Key = tuple[str, str, str]  # merchant, product, rule

#: what a listing's page says: the listing fields of SNAPSHOTS.md (schemas/product.schema.json, $defs/listing)
#: less its identity and its times
PAGE_FIELDS = ("title", "category", "listing_type", "unit", "currency", "moq", "price", "country_pricing", "sample",
               "customizations", "shipping", "composition", "promotions")


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
    #: for an order: the page it was made on (page()), None where it has none
    page: str | None = None

    @property
    def key(self) -> Key:
        return (self.merchant_id, self.product_id, self.rule)


@attrs.frozen
class Observation:
    as_of: _dt.datetime
    #: the rules that ran (a task of a rule outside the pack is not rectified by this scan)
    rules: frozenset[str]
    #: (merchant, product) -> the product document's page (page()), for every listing the scan checked
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
                    x.evidence_at.astimezone(_dt.timezone.utc).isoformat(), x.path, x.page or "") for x in self.hits),
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
            self.products[(doc["merchant_id"], doc["id"])] = page(doc)
            for n in not_evaluated:
                self.unevaluated.add((doc["merchant_id"], doc["id"], n.rule))
        for f in findings:
            if f.penalty is None or f.product_id is None or f.merchant_id is None:
                continue
            if kind == "product":
                at, made_on = self.as_of, None
            else:
                at, made_on = parse_time(doc["created_at"]), _quoted_page(doc, f.path)
            self.hits.append(Hit(f.merchant_id, f.product_id, f.rule, f.family, f.penalty, kind, f.document.id,
                                 f.document.source, at, f.path, f.message, made_on))

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


def page(listing: dict[str, Any]) -> str:
    """What a listing's page says, as compared by shows(): a JSON object of a digest of each PAGE_FIELDS field
    it has, in that order (a product document, or the copy of the page in an order item). Once per product
    document of a scan with --ledger: about 6 us."""
    import orjson

    dumps, sort, blake2b = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.blake2b
    fields = {name: blake2b(dumps(listing[name], option=sort, default=_plain), digest_size=8).hexdigest()
              for name in PAGE_FIELDS if name in listing}
    return dumps(fields).decode()


def shows(page_now: str, made_on: str) -> bool:
    """Whether the page as it is now is the page a quote was made on: every field of the quote's copy has the
    same value on the page. A copy may leave fields out (a tool's trimmed snapshot): a field the page has and
    the copy has not is not a difference, so adding a field is not seen as an edit, and a copy is never taken
    for another page only because it is shorter."""
    import orjson

    now, then = orjson.loads(page_now), orjson.loads(made_on)
    return all(now.get(name) == value for name, value in then.items())


def _quoted_page(order: dict[str, Any], path: str) -> str | None:
    """The page the order item a finding points into (/items/N/...) was made on, or None."""
    from ..engine import item_listing

    listing = item_listing(order, path)
    return page(listing) if listing is not None else None


def _plain(value: Any) -> str:
    return str(value)
