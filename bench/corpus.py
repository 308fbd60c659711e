"""A seeded, realistic corpus of marketplace snapshots, for the scan benchmark.

Usage: python bench/corpus.py N OUT [--seed S] [--merchants M]

writes N documents (SNAPSHOTS.md) to OUT as JSON Lines, gzipped when OUT ends
in `.gz` (`corpus.jsonl.gz`), plain otherwise (`corpus.jsonl`). The same N,
seed and merchant count give the same bytes (`random.Random(seed)`, a gzip
header without a time or a name). From Python: `generate(path, n, seed=0)`,
which returns the counts it wrote (`Stats`).

What is in it, in one stream:

- merchants (about 2 % of the documents, at most 2,000 by default so that
  the merchant look-up the scan keeps is the same at any corpus size): a few
  first, the others interleaved, each before the documents that name it, so
  every `merchant_id` resolves within the file. Gold or not, star levels,
  primary industries (about 10 % in the star-level industries), and verified
  EPR registrations for DE and FR, in the registers' number formats, for
  everything their product lines need.
- products (about 73 %, ~1.5 KB each on average): every price mode (tiered,
  sku, range), RTS and customization listings, member-price and new-buyer
  promotions, shipping to the 10 core countries and others, composition,
  samples, customization services, category paths, over 18 product lines.
- orders, quotes and sample orders (about 24 %) with the listing as the
  buyer saw it embedded in `items[].listing` (a product of the same
  merchant from earlier in the stream), SKUs, member prices, customizations.
- sign-ups for platform activities (about 1 %).

About 10 % of the documents of each kind a family judges violate that
family (VIOLATION_RATE): a bait tier, a tier gap, a fifth tier; a "Shipping
fee" SKU priced 1, an attribute from another category, a part beside the
main unit, a price spread; a member discount of 9.8, one that starts too
early or is too short, on a non-Gold merchant; a listing without the 10 core
shipping countries; a quote above the page price, a member price above the
promised discount, a shipping fee above twice the goods, cups below the
category floor; an MOQ refused or raised in a quote, a refused sample; an
order to DE or FR from a merchant whose registration is missing, unverified
or malformed; a sign-up outside the 7th-23rd or by a non-Gold merchant; and
merchants in the star-level industries. Everything else passes every rule,
and every document is a valid snapshot: a scan of the corpus reports no
`errors`. `Stats.planned` counts the documents made to violate each family;
the scan's `by_family` counts findings (a document can have several).

Times are chosen for `--as-of 2022-12-28` (orders are judged at their own
`created_at`, from 2022-09 to 2022-12-27).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as _dt
import gzip
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

#: the share of the documents of a kind that a family judges which are made to violate it
VIOLATION_RATE = 0.10
#: the default merchant count: n // MERCHANT_SHARE, within MIN_MERCHANTS..MAX_MERCHANTS
MERCHANT_SHARE = 50
MIN_MERCHANTS = 5
MAX_MERCHANTS = 2000

CORE = ("US", "CA", "GB", "AU", "NZ", "FR", "DE", "NL", "IT", "ES")
OTHER_COUNTRIES = ("JP", "KR", "SG", "AE", "SA", "MX", "BR", "PL", "SE", "CH", "ZA", "IN", "IE", "BE", "AT")
NON_EPR_DESTINATIONS = ("US", "CA", "GB", "AU", "NZ", "JP", "KR", "SG", "AE", "MX", "BR", "ZA")

# EPR (policies/epr.toml): the registration a composition flag needs, per country
EPR_NEEDS = {
    "DE": {"packaging": "packaging", "circuit": "weee", "battery": "battery"},
    "FR": {
        "packaging": "packaging", "circuit": "weee", "battery": "battery", "furniture": "furniture",
        "tyres": "tyres", "textile": "textile", "printed_paper": "paper",
    },
}

# money is kept as integers of 1/10,000 USD (the cups are priced in tenths of a cent)
UNIT = 10_000
CENT = 100


def money(v: int) -> str:
    """1/10,000 USD -> a decimal string: 2 decimals, or 4 when the amount needs them."""
    if v % CENT == 0:
        return f"{v // UNIT}.{(v // CENT) % 100:02d}"
    return f"{v // UNIT}.{v % UNIT:04d}"


def to_cent(v: float) -> int:
    """A float amount in 1/10,000 USD rounded to whole cents (at least one cent)."""
    return max(CENT, round(v / CENT) * CENT)


def member_price(page: int, discount: int) -> int:
    """Page price at `discount` tenths of 折 (95 = 9.5折), rounded half-up to the cent (RULES.md 6.6)."""
    return (page * discount + 5000) // 10000 * CENT


# -- product lines ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    name: str
    category: tuple[str, ...]
    unit: str
    price: tuple[float, float]  # USD, the first tier / cheapest SKU
    composition: tuple[str, ...]  # what it is or contains (EPR), beside packaging
    attributes: dict[str, tuple[str, ...]]  # sale attributes and their values
    nouns: tuple[str, ...]
    words: tuple[str, ...]
    moqs: tuple[int, ...]
    customizations: tuple[str, ...] = ("Customized logo", "Customized packaging", "Graphic customization")
    custom_moqs: tuple[int, ...] = (50, 100, 200, 300, 500, 1000)  # "Customized logo, Min. order 50"
    packaging: bool = True


COLORS = ("Black", "White", "Red", "Blue", "Green", "Grey", "Pink", "Beige", "Navy", "Khaki", "Brown", "Yellow")
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "3XL")

LINES = {
    line.name: line
    for line in (
        Line("casual-dress", ("Apparel", "Women's Clothing", "Dresses", "Casual Dresses"), "piece", (8, 35), ("textile",),
             {"Color": COLORS, "Size": SIZES, "Material": ("Linen", "Cotton", "Polyester", "Rayon")},
             ("casual dress", "linen dress", "maxi dress", "sweater dress", "shirt dress"),
             ("summer", "loose", "V-neck", "long sleeve", "plus size", "vintage", "solid color", "pleated"),
             (2, 10, 50, 60, 100), ("Customized logo", "Custom size", "Customized label", "Graphic customization")),
        Line("womens-coat", ("Apparel", "Women's Clothing", "Coats & Jackets", "Women's Coats"), "piece", (25, 90),
             ("textile",), {"Color": COLORS, "Size": SIZES, "Material": ("Wool", "Down", "Polyester")},
             ("down coat", "wool coat", "puffer jacket", "trench coat", "windbreaker"),
             ("winter", "hooded", "long", "lightweight", "waterproof", "oversized", "belted"), (1, 2, 10, 50),
             ("Customized logo", "Graphic customization", "Customized packaging")),
        Line("mens-tshirt", ("Apparel", "Men's Clothing", "Tops & Tees", "Men's T-Shirts"), "piece", (2.5, 12), ("textile",),
             {"Color": COLORS, "Size": SIZES, "Material": ("Cotton", "Polyester", "Bamboo fiber")},
             ("t-shirt", "polo shirt", "oversized tee", "graphic tee"),
             ("100% cotton", "blank", "heavyweight", "quick dry", "crew neck", "printed"), (2, 50, 100, 300)),
        Line("electric-kettle", ("Home Appliances", "Kitchen Appliances", "Electric Kettles"), "piece", (6, 25), ("circuit",),
             {"Color": COLORS, "Capacity": ("1.0L", "1.5L", "1.7L", "1.8L", "2.0L"), "Plug Type": ("EU", "UK", "US", "AU"),
              "Voltage": ("110V", "220V")},
             ("electric kettle", "glass kettle", "stainless steel kettle", "travel kettle"),
             ("1500W", "auto shut-off", "boil-dry protection", "LED", "cordless", "double wall"), (2, 12, 100, 500)),
        Line("keyboard", ("Consumer Electronics", "Computer Hardware & Software", "Keyboards"), "piece", (4, 40), ("circuit",),
             {"Model": ("8d", "12d", "14fd", "K68", "K87", "K104"), "Color": COLORS[:4], "Layout": ("US", "UK", "DE", "FR")},
             ("mechanical keyboard", "wireless keyboard", "gaming keyboard", "keyboard"),
             ("RGB", "hot-swappable", "2.4G", "bluetooth", "USB-C", "compact", "silent"), (1, 2, 10, 50)),
        Line("ride-on-car", ("Toys & Hobbies", "Ride On Toys", "Ride On Cars"), "piece", (60, 180), ("circuit", "battery"),
             {"Color": COLORS[:6], "Model Number": ("RC-12", "RC-24", "JX-8"), "Battery Capacity": ("12V 4.5Ah", "12V 7Ah", "24V 7Ah"),
              "Age Range": ("2-4 years", "3-6 years", "5-8 years")},
             ("ride on car", "electric toy car", "kids ride-on jeep"),
             ("12V", "lithium battery", "2.4G remote control", "two seater", "with MP3", "LED lights"), (1, 2, 5, 20)),
        Line("plush-toy", ("Toys & Hobbies", "Stuffed Animals & Plush Toys", "Plush Toys"), "piece", (1.2, 9), ("textile",),
             {"Color": COLORS, "Height": ("20cm", "30cm", "45cm", "60cm")},
             ("plush toy", "stuffed animal", "teddy bear", "plush doll"),
             ("soft", "custom", "kawaii", "cartoon", "huggable", "embroidered"), (10, 50, 100, 500)),
        Line("ladle", ("Home & Garden", "Kitchen, Dining & Bar", "Kitchen Utensils", "Ladles"), "piece", (1.5, 6), (),
             {"Material": ("Stainless steel 304", "Stainless steel 201", "Nylon"), "Length": ("28cm", "32cm", "36cm")},
             ("kitchen ladle", "soup ladle", "serving spoon"),
             ("stainless steel", "heat resistant", "long handle", "dishwasher safe"), (10, 50, 100)),
        Line("dessert-cups", ("Home & Garden", "Kitchen, Dining & Bar", "Disposable Tableware", "Disposable Cups"), "piece",
             (0.04, 0.09), (), {"Capacity": ("3oz", "5oz", "7oz", "9oz"), "Color": ("Clear", "Black", "Gold")},
             ("dessert cups", "mousse cups", "pudding cups", "plastic cups"),
             ("disposable", "PS plastic", "with lids", "party", "square"), (200, 1000, 5000)),
        Line("dinner-plates", ("Home & Garden", "Kitchen, Dining & Bar", "Disposable Tableware", "Disposable Plates"), "box",
             (12, 45), (), {"Pieces": ("60 pieces", "120 pieces", "180 pieces"), "Rim": ("Gold rim", "Silver rim", "Plain")},
             ("dinner plates set", "party plates", "plastic plates"),
             ("disposable", "gold rim", "wedding", "heavy duty", "elegant"), (1, 5, 20)),
        Line("office-chair", ("Furniture", "Office Furniture", "Office Chairs"), "piece", (25, 140), ("furniture",),
             {"Color": COLORS[:5], "Base": ("Nylon base", "Chrome base", "Aluminium base")},
             ("office chair", "ergonomic chair", "mesh chair", "executive chair"),
             ("ergonomic", "high back", "adjustable", "lumbar support", "swivel", "with headrest"), (1, 2, 10, 50)),
        Line("dtf-printer", ("Machinery", "Printing Machinery", "Digital Printers", "Inkjet Printers"), "set", (900, 6500),
             ("circuit",), {"Model Number": ("A3", "A2", "60cm", "30cm"), "Print Head": ("XP600", "i3200", "4720"),
                            "Printing Width": ("30cm", "60cm"), "Voltage": ("110V", "220V")},
             ("DTF printer", "direct to film printer", "t-shirt printing machine"),
             ("A3", "dual head", "with powder shaker", "high speed", "for textiles"), (1, 2),
             ("Customized logo", "Customized voltage", "Customized packaging"), (1, 2, 5, 10)),
        Line("notebook", ("Office & School Supplies", "Notebooks & Writing Pads", "Notebooks"), "piece", (0.6, 4.5),
             ("printed_paper",), {"Size": ("A5", "A6", "B5"), "Cover": ("Kraft", "PU leather", "Hardcover"),
                                  "Pages": ("80 sheets", "100 sheets", "160 sheets")},
             ("notebook", "journal", "planner", "diary"),
             ("spiral", "dotted", "lined", "custom printed", "eco-friendly"), (50, 100, 500, 1000)),
        Line("vegetable-cutter",
             ("Machinery", "Food & Beverage Machinery", "Fruit & Vegetable Processing Machines", "Vegetable Cutter"), "set",
             (40, 900), ("circuit",),
             {"Model Number": ("VC-1", "VC-2", "VC-300"), "Machinery Capacity": ("30/min", "300kg/h", "800kg/h"),
              "Voltage": ("110V", "220V", "380V"), "Power": ("0.75kw", "1.1kw", "1.5kw")},
             ("vegetable cutter", "french fry cutter", "potato slicer", "onion dicer"),
             ("commercial", "electric", "multifunction", "stainless steel", "industrial"), (1, 2, 5),
             ("Customized logo", "Customized voltage", "Customized blades"), (5, 10, 20, 50)),
        Line("ceramic-tiles", ("Construction & Real Estate", "Building Materials", "Floor Tiles", "Ceramic Tiles"),
             "square meter", (4, 22), (),
             {"Size": ("600x600mm", "600x1200mm", "800x800mm"), "Finish": ("Matte", "Glossy", "Polished")},
             ("porcelain floor tiles", "ceramic wall tiles", "marble look tiles"),
             ("glazed", "anti-slip", "rustic", "full body", "for living room"), (100, 200, 500)),
        Line("excavator", ("Machinery", "Construction Machinery", "Excavators"), "unit", (9000, 48000), ("circuit", "battery"),
             {"Model Number": ("XE35", "XE60", "XE215"), "Engine": ("Kubota", "Yanmar", "Perkins")},
             ("mini excavator", "crawler excavator", "hydraulic digger"),
             ("1.5 ton", "3.5 ton", "with EPA engine", "with cabin", "hydraulic"), (1,),
             ("Customized color", "Customized attachments"), (1, 2, 3, 5)),
        Line("car-tyres", ("Vehicles & Accessories", "Tires & Accessories", "Car Tires"), "piece", (18, 95), ("tyres",),
             {"Size": ("195/65R15", "205/55R16", "225/45R17", "235/60R18"), "Season": ("All season", "Winter", "Summer")},
             ("car tyres", "passenger car tires", "radial tyres"),
             ("tubeless", "high performance", "low noise", "run flat"), (4, 20, 100, 400)),
        # the star-level bonus counts orders of after-sales service listings (policies/star-level.toml)
        Line("after-sales", ("Machinery", "After-sales Service", "Local Repair"), "service", (2000, 40000), (),
             {"Service": ("On-site repair", "Annual maintenance", "Remote support")},
             ("local after-sales service", "on-site maintenance service"),
             ("for hydraulic presses", "for CNC machines", "for packing lines", "in Europe"), (1,),
             ("Customized service plan",), (1,), packaging=False),
    )
}

INDUSTRIES = {  # primary industry -> (weight, product lines)
    "apparel": (20, ("casual-dress", "womens-coat", "mens-tshirt")),
    "consumer-electronics": (14, ("electric-kettle", "keyboard")),
    "toys": (12, ("ride-on-car", "plush-toy")),
    "home-goods": (16, ("ladle", "dessert-cups", "dinner-plates")),
    "furniture": (8, ("office-chair",)),
    "printing-machinery": (6, ("dtf-printer",)),
    "office-supplies": (7, ("notebook",)),
    "automotive-parts": (7, ("car-tyres",)),
    # the star-level industries (RULES.md 10): about 10 % of the merchants
    "industrial-machinery": (5, ("vegetable-cutter", "after-sales")),
    "building-materials": (3, ("ceramic-tiles",)),
    "construction-machinery": (2, ("excavator",)),
}
INDUSTRY_NAMES = list(INDUSTRIES)
INDUSTRY_WEIGHTS = [INDUSTRIES[i][0] for i in INDUSTRY_NAMES]
CITIES = ("Yiwu", "Shenzhen", "Guangzhou", "Ningbo", "Hangzhou", "Shantou", "Foshan", "Xiamen", "Qingdao", "Suzhou",
          "Dongguan", "Wenzhou", "Jinhua", "Zhengzhou", "Changzhou")
COMPANY = ("Trading", "Industrial", "Import & Export", "Technology", "Manufacturing", "Commodity", "Supply Chain")

ACTIVITIES = ("million-dollar-club", "open-account-credit", "first-order", "buyer-carnival")
NEEDS_STAR = ("million-dollar-club", "open-account-credit")

NON_PHYSICAL = ("Shipping fee", "Price difference", "Deposit", "Extra payment", "Customized link", "运费", "补差价")
FOREIGN_ATTRIBUTES = ("Shipping Method", "Style", "Package", "Logistics")


@dataclass
class Merchant:
    id: str
    gold: bool
    star: int
    industry: str
    lines: tuple[str, ...]
    #: (country, category) of the registration made broken, when the merchant violates EPR
    broken: tuple[str, str] | None
    pool: list[dict] = field(default_factory=list)  # recent clean listings, for orders


@dataclass
class Stats:
    documents: int = 0
    bytes: int = 0  # uncompressed
    kinds: Counter = field(default_factory=Counter)
    #: (kind, family) -> documents made to violate the family
    planned: Counter = field(default_factory=Counter)
    merchants: int = 0
    seconds: float = 0.0


# -- time ---------------------------------------------------------------------------------

# days are proleptic Gregorian ordinals (datetime.date.toordinal)


def day_number(y: int, m: int, d: int) -> int:
    return _dt.date(y, m, d).toordinal()


def iso(n: int) -> str:
    return _dt.date.fromordinal(n).isoformat()


_DST = ((day_number(2022, 3, 13), day_number(2022, 11, 6)), (day_number(2023, 3, 12), day_number(2023, 11, 5)))


def pacific_offset(n: int) -> str:
    """US Pacific offset on day n (2022-2023)."""
    return "-07:00" if any(a <= n < b for a, b in _DST) else "-08:00"


def add_months(n: int, months: int) -> int:
    day = _dt.date.fromordinal(n)
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return day_number(year, month, min(day.day, calendar.monthrange(year, month)[1]))


QUALITY_SINCE = day_number(2022, 11, 2)
EPR_FROM = day_number(2022, 12, 27)
LAST_DAY = day_number(2022, 12, 27)  # the corpus is judged --as-of 2022-12-28


# -- the generator ------------------------------------------------------------------------


class Generator:
    def __init__(self, n: int, seed: int, merchants: int | None) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.stats = Stats()
        if merchants is None:
            merchants = min(MAX_MERCHANTS, max(MIN_MERCHANTS, n // MERCHANT_SHARE))
        self.merchant_count = max(1, min(merchants, n))
        self.merchants: list[Merchant] = []
        self.gold_starred: list[Merchant] = []
        self.not_gold: list[Merchant] = []
        self.gold_no_star: list[Merchant] = []
        self.epr_broken: list[Merchant] = []
        self.products = 0
        self.orders = 0
        self.signups = 0
        self.promotions = 0
        self.planned: set[tuple[str, str]] = set()
        self.epr_debt = 0.5

    # -- the stream --

    def documents(self):
        rng = self.rng
        n, m = self.n, self.merchant_count
        # a few merchants first, the others at random places in the first 90 % of the stream
        first = max(1, m // 10)
        slots = set(range(first)) | set(rng.sample(range(first, min(n, max(int(n * 0.9), m))), m - first))
        planned = self.stats.planned
        for i in range(n):
            if i in slots:
                doc = self.merchant()
            else:
                r = rng.random()
                if r < 0.745:
                    doc = self.product()
                elif r < 0.988:
                    doc = self.order()
                else:
                    doc = self.signup()
            planned.update(self.planned)
            self.planned.clear()
            yield doc

    def plan(self, kind: str, family: str) -> None:
        """The document being made violates `family` (counted once per document)."""
        self.planned.add((kind, family))

    # -- merchants --

    def merchant(self) -> dict:
        rng = self.rng
        k = len(self.merchants)
        mid = f"M{100000 + k * 7 + rng.randrange(7)}"
        industry = rng.choices(INDUSTRY_NAMES, INDUSTRY_WEIGHTS)[0]
        lines = INDUSTRIES[industry][1]
        gold = rng.random() < 0.85
        star = rng.choices((0, 1, 2, 3, 4, 5), (15, 30, 25, 15, 10, 5))[0]
        # every (country, category) the merchant's lines need; the ones needed by all lines can be broken
        needed: list[tuple[str, str]] = []
        common: list[tuple[str, str]] | None = None
        for name in lines:
            line = LINES[name]
            comps = (("packaging",) if line.packaging else ()) + line.composition
            regs = [(c, EPR_NEEDS[c][comp]) for c in ("DE", "FR") for comp in comps if comp in EPR_NEEDS[c]]
            needed += [r for r in regs if r not in needed]
            common = regs if common is None else [r for r in common if r in regs]
        needed.sort(key=lambda r: (r[0], r[1]))
        # a little above VIOLATION_RATE, as a steady share (so that even a small corpus has one): not every
        # industry can break one (services need none), and one product in ten gives no composition
        broken = None
        self.epr_debt += VIOLATION_RATE * 1.15
        if common and self.epr_debt >= 1:
            self.epr_debt -= 1
            broken = rng.choice(common)
        how = rng.choices(("malformed", "unverified", "missing"), (7, 2, 1))[0] if broken else None
        epr = []
        for country, category in needed:
            entry = {"country": country, "category": category, "number": self.epr_number(country, category),
                     "verified": True}
            if (country, category) == broken:
                if how == "missing":
                    continue
                if how == "unverified":
                    entry["verified"] = False
                else:
                    entry["number"] = self.malformed(entry["number"])
            epr.append(entry)
        if how == "malformed":
            self.plan("merchant", "epr")
        if industry in ("industrial-machinery", "building-materials", "construction-machinery"):
            self.plan("merchant", "star-level")
        merchant = Merchant(mid, gold, star, industry, lines, broken)
        self.merchants.append(merchant)
        if gold and star >= 1:
            self.gold_starred.append(merchant)
        elif gold:
            self.gold_no_star.append(merchant)
        else:
            self.not_gold.append(merchant)
        if broken:
            self.epr_broken.append(merchant)
        doc = {
            "kind": "merchant",
            "id": mid,
            "name": f"{rng.choice(CITIES)} {rng.choice(LINES[lines[0]].nouns).title()} {rng.choice(COMPANY)} Co., Ltd.",
            "gold": gold,
            "star_level": star,
            "primary_industry": industry,
            "epr": epr,
        }
        return doc

    def epr_number(self, country: str, category: str) -> str:
        rng = self.rng
        if country == "DE" and category == "packaging":
            return f"DE{rng.randrange(10**12, 10**13)}"
        if country == "DE":
            return f"DE{rng.choice(('', ' '))}{rng.randrange(10**7, 10**8)}"
        tail = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(4))
        return f"FR{rng.randrange(10**5, 10**6)}_{rng.randrange(1, 100):02d}{tail}"

    def malformed(self, number: str) -> str:
        """A number that no longer has its register's shape (a digit lost, a wrong separator)."""
        if number.startswith("FR"):
            return number.replace("_", "-")
        return number[:-1]

    # -- products --

    def product(self) -> dict:
        merchant = self.rng.choice(self.merchants)
        doc, clean = self.listing(merchant, violate=True)
        if clean and len(merchant.pool) < 4:
            merchant.pool.append(_as_listing(doc))
        elif clean and self.rng.random() < 0.3:
            merchant.pool[self.rng.randrange(4)] = _as_listing(doc)
        return doc

    def listing(self, merchant: Merchant, *, violate: bool, line: Line | None = None) -> tuple[dict, bool]:
        """A product snapshot of `merchant`, and whether it was made to pass every product rule."""
        rng = self.rng
        self.products += 1
        line = line or LINES[rng.choice(merchant.lines)]
        rate = VIOLATION_RATE if violate else 0.0
        mode = rng.choices(("tiered", "sku", "range"), (45, 35, 20))[0]
        bad_tier = mode == "tiered" and rng.random() < rate / 0.45
        bad_spec = mode == "sku" and rng.random() < rate / 0.35
        service = line.name == "after-sales"  # a service: no composition, an old listing
        bad_quality = not service and rng.random() < rate
        bad_discount = rng.random() < rate
        listing_type = "customization" if service or rng.random() < 0.35 else "rts"
        # untouched since before 2022-11-02: the quality advisories do not apply (RULES.md 8)
        legacy = service or (not bad_quality and rng.random() < 0.25)
        if mode == "range" and listing_type == "customization" and not legacy and not bad_quality:
            listing_type = "rts"

        moq = rng.choice(line.moqs)
        base = to_cent(rng.uniform(*line.price) * UNIT)
        if mode == "tiered":
            price, moq = self.tiers(moq, base, bad_tier)
        elif mode == "sku":
            price = self.skus(line, base, bad_spec)
        else:
            price = {"mode": "range", "range": {"min": money(base), "max": money(to_cent(base * rng.uniform(1.2, 2.6)))}}

        pid = f"{1600000000000 + self.products * 37 + rng.randrange(37)}"
        noun = rng.choice(line.nouns)
        words = rng.sample(line.words, min(len(line.words), rng.randint(2, 4)))
        title = f"{rng.choice(CITIES)} factory {' '.join(words)} {noun} {rng.choice(('wholesale', 'OEM', 'hot sale', 'new arrival', '2022'))}"
        doc: dict[str, Any] = {
            "kind": "product",
            "id": pid,
            "merchant_id": merchant.id,
            "title": title[:1].upper() + title[1:],
            "category": list(line.category),
            "listing_type": listing_type,
            "unit": line.unit,
            "currency": "USD",
            "moq": moq,
            "price": price,
        }
        country_pricing = rng.random() < 0.08
        if country_pricing or rng.random() < 0.5:
            doc["country_pricing"] = country_pricing
        first_price = _page_low(price)
        sample_moq = rng.choice((1, 1, 1, 2, 5))
        if listing_type == "customization" or rng.random() < 0.6:
            doc["sample"] = {"available": True, "price": money(to_cent(first_price * rng.uniform(1.1, 2.5))),
                             "moq": sample_moq, "determinate": rng.random() < 0.6}
        elif rng.random() < 0.5:
            doc["sample"] = {"available": False}
        customizations = rng.sample(line.customizations, rng.randint(1, min(3, len(line.customizations))))
        doc["customizations"] = [{"name": c, "moq": max(moq, rng.choice(line.custom_moqs))} for c in customizations]
        doc["shipping"] = self.shipping(first_price, listing_type)
        if not service and rng.random() < 0.9:
            comp = {"packaging": line.packaging}
            for flag in line.composition:
                comp[flag] = True
            if "battery" not in comp and rng.random() < 0.5:
                comp["battery"] = False
            doc["composition"] = comp
        created, updated = self.listing_dates(legacy)
        doc["created_at"] = created
        if updated:
            doc["updated_at"] = updated

        promotions = []
        eligible = merchant.gold and listing_type == "rts" and not country_pricing
        if bad_discount:
            promotions.append(self.bad_member_promotion(doc, merchant))
        elif eligible and rng.random() < 0.3:
            promotions.append(self.member_promotion())
        if rng.random() < 0.15:
            start = rng.randint(day_number(2022, 6, 1), day_number(2022, 12, 20))
            promotions.append({"id": f"PR{self.next_promotion()}", "type": "new-buyer", "audience": "new",
                               "discount": rng.choice(("9.0", "9.5", "8.8")), "start": iso(start),
                               "end": iso(add_months(start, 12))})
        if promotions:
            doc["promotions"] = promotions
        if bad_quality:
            self.spoil_quality(doc)

        for family, bad in (("tier-anomaly", bad_tier), ("spec-anomaly", bad_spec), ("quality", bad_quality),
                            ("discount-floor", bad_discount)):
            if bad and violate:
                self.plan("product", family)
        if merchant.broken and "composition" in doc and violate:
            self.plan("product", "epr")
        return doc, not (bad_tier or bad_spec or bad_quality or bad_discount)

    def tiers(self, moq: int, base: int, bad: bool) -> tuple[dict, int]:
        rng = self.rng
        count = rng.choice((1, 2, 2, 3, 3, 3, 4, 4))
        mins = [moq]
        for _ in range(count - 1):
            mins.append(mins[-1] * rng.choice((2, 3, 5, 10)))
        prices = [base]
        for _ in range(count - 1):
            prices.append(min(prices[-1], to_cent(prices[-1] * (1 - rng.uniform(0.02, 0.12)))))
        bounded = rng.random() < 0.7
        kind = rng.choice(("bait", "bait", "gap", "five", "closed", "moq", "rises", "zero", "minimums")) if bad else None
        if kind in ("bait", "gap", "rises", "minimums") and count == 1:
            mins.append(mins[-1] * 10)
            prices.append(to_cent(prices[-1] * 0.95))
            count = 2
        if kind == "five":
            while len(mins) < 5:
                mins.append(mins[-1] * 2)
                prices.append(to_cent(prices[-1] * 0.97))
        elif kind == "bait":  # the linen dress: ... 18.20, then 10.00; more than 40 % below the tier before
            prices[-1] = min(to_cent(prices[-2] * rng.uniform(0.3, 0.55)), (prices[-2] * 3 - 1) // 5 // CENT * CENT)
        elif kind == "rises":
            i = rng.randrange(1, len(prices))
            prices[i] = prices[i - 1] + rng.choice((1, 5, 10, 50)) * CENT
        elif kind == "zero":
            prices[-1] = 0
        elif kind == "minimums":
            mins[1] = mins[0]
            bounded = False
        tiers = []
        for i, (low, price) in enumerate(zip(mins, prices)):
            tier: dict[str, Any] = {"min_qty": low}
            last = i == len(mins) - 1
            if not last and (bounded or kind == "gap"):
                tier["max_qty"] = mins[i + 1] - 1
            elif last and rng.random() < 0.3:
                tier["max_qty"] = None
            tier["price"] = money(price)
            tiers.append(tier)
        if kind == "gap":
            tiers[0]["max_qty"] = mins[1] - 1 + rng.choice((-100, -1, 1, 10)) if mins[1] > 101 else mins[1]
        elif kind == "closed":
            tiers[-1]["max_qty"] = mins[-1] * 5
        elif kind == "moq":
            moq = moq + rng.choice((1, moq))
        return {"mode": "tiered", "tiers": tiers}, moq

    def skus(self, line: Line, base: int, bad: bool) -> dict:
        rng = self.rng
        names = list(line.attributes)
        chosen = rng.sample(names, min(len(names), rng.choice((1, 2, 2))))
        first = line.attributes[chosen[0]]
        values = rng.sample(first, min(len(first), rng.randint(2, 5)))
        rows = []
        for v in values:
            if len(chosen) > 1:
                second = line.attributes[chosen[1]]
                for w in rng.sample(second, min(len(second), rng.randint(1, 3))):
                    rows.append({chosen[0]: v, chosen[1]: w})
            else:
                rows.append({chosen[0]: v})
        skus = [{"attributes": a, "price": money(to_cent(base * rng.uniform(1.0, 1.8)))} for a in rows]
        if bad:
            restricted = line.category[-1] in _CATEGORY_ATTRIBUTES
            kind = rng.choice(("non-physical", "non-physical", "part", "spread") + (("category",) if restricted else ()))
            if kind == "non-physical":  # a "Shipping fee" SKU priced 1
                skus.append({"attributes": {chosen[0]: rng.choice(NON_PHYSICAL)}, "price": "1.00"})
            elif kind == "part":  # the fry cutter: "Main" vs "Accessories"
                skus[0]["attributes"] = {chosen[0]: rng.choice(("Main machine", "Complete set", "Main"))}
                skus.append({"attributes": {chosen[0]: rng.choice(("Accessories", "Spare parts", "Blade accessory"))},
                             "price": money(to_cent(base * 0.4))})
            elif kind == "spread":
                cheapest = min(_amount(s["price"]) for s in skus)
                skus.append({"attributes": {chosen[0]: "Premium " + rng.choice(first)},
                             "price": money(to_cent(cheapest * rng.uniform(6, 9)))})
            else:
                skus[-1]["attributes"] = {**skus[-1]["attributes"], rng.choice(FOREIGN_ATTRIBUTES): "Express"}
        return {"mode": "sku", "skus": skus}

    def shipping(self, price: int, listing_type: str) -> list[dict]:
        rng = self.rng
        rows = []
        guaranteed = rng.randrange(len(CORE))
        computable = listing_type == "rts" or rng.random() < 0.5
        base = max(3 * UNIT, min(price * 0.3, 300 * UNIT))
        for i, country in enumerate(CORE):
            row: dict[str, Any] = {"country": country}
            if computable:
                row["fee"] = money(to_cent(base * rng.uniform(0.8, 1.6)))
            row["computable"] = computable
            row["guaranteed"] = computable and (i == guaranteed or rng.random() < 0.15)
            rows.append(row)
        for country in rng.sample(OTHER_COUNTRIES, rng.randint(0, 3)):
            rows.append({"country": country, "fee": money(to_cent(base * rng.uniform(1.2, 2.5))), "computable": True,
                         "guaranteed": False})
        return rows

    def listing_dates(self, legacy: bool) -> tuple[str, str | None]:
        rng = self.rng
        if legacy:
            created = rng.randint(day_number(2022, 3, 1), day_number(2022, 10, 30))
            updated = rng.randint(created, day_number(2022, 10, 31)) if rng.random() < 0.3 else None
        else:
            if rng.random() < 0.5:
                created = rng.randint(day_number(2022, 11, 3), day_number(2022, 12, 26))
                updated = rng.randint(created, day_number(2022, 12, 26)) if rng.random() < 0.3 else None
            else:
                created = rng.randint(day_number(2022, 3, 1), day_number(2022, 10, 30))
                updated = rng.randint(day_number(2022, 11, 3), day_number(2022, 12, 26))
        return self.timestamp(created), self.timestamp(updated) if updated is not None else None

    def timestamp(self, day: int) -> str:
        rng = self.rng
        form = rng.random()
        if form < 0.3:
            return iso(day)
        hh, mm = rng.randrange(24), rng.randrange(60)
        if form < 0.7:
            return f"{iso(day)}T{hh:02d}:{mm:02d}:{rng.randrange(60):02d}{pacific_offset(day)}"
        return f"{iso(day)}T{hh:02d}:{mm:02d}:00Z"

    def next_promotion(self) -> int:
        self.promotions += 1
        return 500000 + self.promotions

    def member_promotion(self) -> dict:
        rng = self.rng
        start = rng.randint(day_number(2022, 12, 1), day_number(2023, 1, 31))
        return {"id": f"PR{self.next_promotion()}", "type": "member-price", "audience": "L2+",
                "discount": rng.choice(("9.5", "9.5", "9.0", "9", "8.8", "8.5", "8.0")),
                "start": iso(start), "end": iso(add_months(start, rng.choice((4, 4, 6, 12)))),
                "stock": rng.choice((100, 500, 1000, 5000))}

    def bad_member_promotion(self, doc: dict, merchant: Merchant) -> dict:
        rng = self.rng
        promo = self.member_promotion()
        kinds = ["discount", "discount", "early", "short", "audience", "country"]
        if doc["listing_type"] == "customization":
            kinds.append("customization")
        if not merchant.gold:
            kinds += ["gold", "gold"]
        kind = rng.choice(kinds)
        if kind == "discount":  # the seed's 9.8
            promo["discount"] = rng.choice(("9.8", "9.6", "9.9", "0.9", "10"))
        elif kind == "early":
            start = rng.randint(day_number(2022, 11, 1), day_number(2022, 11, 30))
            promo["start"], promo["end"] = iso(start), iso(add_months(start, 6))
        elif kind == "short":
            start = day_number(*map(int, promo["start"].split("-")))
            promo["end"] = iso(add_months(start, rng.choice((1, 2, 3))))
        elif kind == "audience":
            promo["audience"] = "all"
        elif kind == "country":
            doc["country_pricing"] = True
        # "customization" and "gold": the listing or the merchant are not allowed one at all
        return promo

    def spoil_quality(self, doc: dict) -> None:
        rng = self.rng
        if doc["listing_type"] == "rts":
            kind = rng.choice(("core", "computable", "guarantee", "customization"))
            shipping = doc["shipping"]
            if kind == "core":
                drop = rng.randrange(len(CORE))
                del shipping[drop]
            elif kind == "computable":
                row = shipping[rng.randrange(len(CORE))]
                row.pop("fee", None)
                row["computable"] = False
            elif kind == "guarantee":
                for row in shipping:
                    row["guaranteed"] = False
            else:
                doc["customizations"] = []
        elif doc["price"]["mode"] != "range":
            kind = rng.choice(("customization", "sample"))
            if kind == "customization":
                del doc["customizations"]
            else:
                doc["sample"] = {"available": False}

    # -- orders --

    def order(self) -> dict:
        rng = self.rng
        self.orders += 1
        rate = VIOLATION_RATE
        otype = rng.choices(("order", "quote", "sample"), (60, 25, 15))[0]
        bad_price = rng.random() < rate
        bad_moq = rng.random() < rate
        bad_discount = otype != "sample" and rng.random() < rate / 0.85
        bad_epr = rng.random() < rate and bool(self.epr_broken)
        if bad_epr:
            merchant = rng.choice(self.epr_broken)
            if otype == "quote":  # EPR blocks trades: orders and sample orders
                otype = "order"
            ship_to = merchant.broken[0]  # type: ignore[index]
        else:
            merchant = rng.choice(self.merchants)
            if merchant.broken or rng.random() < 0.75:
                ship_to = rng.choice(NON_EPR_DESTINATIONS)
            else:
                ship_to = rng.choice(("DE", "FR"))
        day = rng.randint(day_number(2022, 9, 1), LAST_DAY)
        if bad_epr and rng.random() < 0.5:
            day = rng.randint(EPR_FROM, LAST_DAY)  # from 2022-12-27 a block (error), before it a warning
        level = rng.choices(("L0", "L1", "L2", "L3", "L4"), (20, 35, 25, 12, 8))[0]
        created = f"{iso(day)}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00{pacific_offset(day)}"
        doc: dict[str, Any] = {
            "kind": "order",
            "id": f"{'O' if otype == 'order' else 'Q' if otype == 'quote' else 'S'}{20000000 + self.orders * 13 + rng.randrange(13)}",
            "type": otype,
            "merchant_id": merchant.id,
            "buyer": {"id": f"B{rng.randrange(10**6, 10**7)}", "level": level, "country": ship_to},
            "ship_to": ship_to,
            "created_at": created,
        }
        count = 1 if otype == "sample" else rng.choices((1, 2, 3), (70, 20, 10))[0]
        spoils = [bad for bad in (bad_price, bad_moq, bad_discount) if bad]
        if otype != "sample":
            count = max(count, len(spoils))  # each violation on an item of its own
        items = [self.item(merchant, otype, level, composition=bad_epr and i == 0) for i in range(count)]
        doc["items"] = items
        spoil_shipping = False
        at = 0
        if bad_price:
            spoil_shipping = not self.spoil_price(items[at], otype, doc, merchant, shipping=not bad_moq)
            at = min(at + 1, count - 1)
        if bad_moq:
            self.spoil_moq(items[at], otype)
            at = min(at + 1, count - 1)
        if bad_discount:
            self.spoil_discount(items[at], doc)
        goods = sum(i["quantity"] * _amount(i["unit_price"]) for i in items if i.get("unit_price") is not None)
        if spoil_shipping:
            doc["shipping_fee"] = money(to_cent(max(goods, CENT) * rng.uniform(2.2, 3.5)))
        elif rng.random() < 0.85 and goods > 0:
            doc["shipping_fee"] = money(to_cent(goods * rng.uniform(0.02, 0.6)))
        for family, bad in (("fake-price", bad_price), ("fake-moq", bad_moq), ("discount-floor", bad_discount),
                            ("epr", bad_epr)):
            if bad:
                self.plan("order", family)
        return doc

    def pick_listing(self, merchant: Merchant, *, sample: bool = False, line: Line | None = None,
                     composition: bool = False) -> dict:
        """A clean page of the merchant's: one of its recent products, or one not in the corpus."""
        rng = self.rng

        def fits(listing: dict) -> bool:
            return ((not sample or listing.get("sample", {}).get("available", False))
                    and (line is None or listing["category"][-1] == line.category[-1])
                    and (not composition or "composition" in listing))

        pool = [p for p in merchant.pool if fits(p)]
        if pool and rng.random() < 0.9:
            return rng.choice(pool)
        for _ in range(20):  # a page that is not in the corpus (published before the export)
            listing, _ = self.listing(merchant, violate=False, line=line)
            if fits(listing):
                return _as_listing(listing)
        listing["sample"] = {"available": True, "price": money(to_cent(_page_low(listing["price"]) * 1.5)), "moq": 1,
                             "determinate": True}
        return _as_listing(listing)

    def item(self, merchant: Merchant, otype: str, level: str, composition: bool = False) -> dict:
        rng = self.rng
        listing = self.pick_listing(merchant, sample=otype == "sample", composition=composition)
        item: dict[str, Any] = {"listing": listing}
        price = listing["price"]
        if price["mode"] == "sku":
            sku = rng.choice(price["skus"])
            item["sku"] = dict(sku["attributes"])
        if otype == "sample":
            sample = listing["sample"]
            item["quantity"] = sample.get("moq", 1) * rng.choice((1, 1, 2))
            item["unit_price"] = sample["price"]
            return item
        moq = listing["moq"]
        quantity = moq * rng.choice((1, 1, 2, 3, 5, 10, 20))
        item["quantity"] = quantity
        page = _page_price(listing, item)
        unit = page if rng.random() < 0.6 else to_cent(page * rng.uniform(0.85, 1.0))
        if price["mode"] == "range":
            low = _amount(price["range"]["min"])
            unit = to_cent(rng.uniform(low, page))
        unit = min(unit, page)
        member = next((p for p in listing.get("promotions", ()) if p["type"] == "member-price"), None)
        customs = listing.get("customizations") or []
        if member and level in ("L2", "L3", "L4") and rng.random() < 0.7:
            item["member_price"] = True
            unit = member_price(page, round(float(member["discount"]) * 10))
        elif customs and rng.random() < 0.15:
            wanted = rng.choice(customs)
            item["customizations"] = [wanted["name"]]
            item["quantity"] = max(quantity, wanted["moq"])
            unit = to_cent(_page_price(listing, item) * rng.uniform(1.05, 1.3))  # a customized logo costs more
        item["unit_price"] = money(unit)
        return item

    def spoil_price(self, item: dict, otype: str, doc: dict, merchant: Merchant, shipping: bool) -> bool:
        """Make `item` a fake price; False when the violation is the order's shipping fee instead."""
        rng = self.rng
        listing = item["listing"]
        if otype == "sample":
            if rng.random() < 0.7:  # quoting more than the page sample price
                item["unit_price"] = money(_amount(listing["sample"]["price"]) + to_cent(rng.uniform(1, 40) * UNIT))
            else:  # refusing the sample service (also a fake sample MOQ)
                item["refused"] = True
                item["unit_price"] = None
                self.plan("order", "fake-moq")
            return True
        kind = rng.choices(("page", "member", "shipping", "floor"), (60, 15, 15, 10))[0]
        has_member = any(p["type"] == "member-price" for p in listing.get("promotions", ()))
        if kind == "member" and not has_member:
            kind = "page"
        if (kind == "floor" and merchant.industry != "home-goods") or (kind == "shipping" and not shipping):
            kind = "page"
        item.pop("customizations", None)
        item.pop("member_price", None)
        item["quantity"] = max(item["quantity"], listing["moq"])
        if kind == "shipping":
            return False
        if kind == "floor":  # the seed's dessert cups at 0.0284
            cups = self.pick_listing(merchant, line=LINES["dessert-cups"])
            item.clear()
            item.update({"listing": cups, "quantity": cups["moq"], "unit_price": "0.0284"})
            if cups["price"]["mode"] == "sku":
                item["sku"] = dict(cups["price"]["skus"][0]["attributes"])
            return True
        page = _page_price(listing, item)
        if kind == "member":
            promo = next(p for p in listing["promotions"] if p["type"] == "member-price")
            item["member_price"] = True
            doc["buyer"]["level"] = rng.choice(("L2", "L3", "L4"))
            item["unit_price"] = money(member_price(page, round(float(promo["discount"]) * 10)) + rng.choice((1, 5, 20)) * CENT)
        else:  # the quote or order above the page price for that quantity
            item["unit_price"] = money(to_cent(page * rng.uniform(1.05, 1.6)) + CENT)
        return True

    def spoil_moq(self, item: dict, otype: str) -> None:
        rng = self.rng
        listing = item["listing"]
        if otype == "sample":
            sample = listing["sample"]
            if item.get("refused"):
                return  # already refused: a fake sample MOQ too
            item["quantity"] = sample.get("moq", 1)
            if rng.random() < 0.5:
                item["seller_min_qty"] = sample.get("moq", 1) * rng.choice((2, 5, 10))
            else:
                item["refused"] = True
                item["unit_price"] = None
                self.plan("order", "fake-price")  # refusing a sample is a fake sample price too
            return
        customs = listing.get("customizations") or []
        kind = rng.choice(("raised", "refused", "custom")) if customs else rng.choice(("raised", "refused"))
        item.pop("member_price", None)
        if kind == "custom":  # the down coat: the page says logo from 200, the seller says 1000
            wanted = rng.choice(customs)
            item["customizations"] = [wanted["name"]]
            item["quantity"] = max(item["quantity"], wanted["moq"])
            item["seller_min_qty"] = wanted["moq"] * rng.choice((2, 5, 10))
            return
        item.pop("customizations", None)
        item["quantity"] = max(item["quantity"], listing["moq"])
        if kind == "raised":  # "FCL only": the seller insists on more than the page MOQ
            item["seller_min_qty"] = listing["moq"] * rng.choice((5, 10, 100)) + 1
            item["unit_price"] = money(_page_price(listing, item))
        else:
            item["refused"] = True
            item["unit_price"] = None

    def spoil_discount(self, item: dict, doc: dict) -> None:
        """The member price given to an L0/L1 buyer, or below 1折 of the page price."""
        rng = self.rng
        listing = item["listing"]
        item.pop("customizations", None)
        item.pop("seller_min_qty", None)
        item.pop("refused", None)
        item["quantity"] = max(item["quantity"], listing["moq"])
        page = _page_price(listing, item)
        item["member_price"] = True
        promo = next((p for p in listing.get("promotions", ()) if p["type"] == "member-price"), None)
        if page < 2 * UNIT or rng.random() < 0.7:  # an L1 buyer at the member price
            doc["buyer"]["level"] = rng.choice(("L0", "L1"))
            discount = round(float(promo["discount"]) * 10) if promo else 100
            item["unit_price"] = money(member_price(page, discount))
        else:  # below 1折 of the page price
            item["unit_price"] = money(page * rng.choice((5, 8)) // 100 // CENT * CENT)

    # -- sign-ups --

    def signup(self) -> dict:
        rng = self.rng
        self.signups += 1
        activity = rng.choice(ACTIVITIES)
        month = rng.choice(((2022, 11), (2022, 12)))
        day = rng.randint(7, 23)
        merchant = rng.choice(self.gold_starred) if self.gold_starred else rng.choice(self.merchants)
        if rng.random() < VIOLATION_RATE:
            kind = rng.choice(("window", "window", "gold", "star"))
            if kind == "gold" and self.not_gold:
                merchant = rng.choice(self.not_gold)
            elif kind == "star" and self.gold_no_star:
                merchant = rng.choice(self.gold_no_star)
                activity = rng.choice(NEEDS_STAR)
            else:
                day = rng.choice((1, 3, 5, 6, 24, 25, 28, 30))
        if not (7 <= day <= 23 and merchant.gold and (merchant.star >= 1 or activity not in NEEDS_STAR)):
            self.plan("signup", "marketing")
        n = day_number(month[0], month[1], day)
        return {
            "kind": "signup",
            "id": f"SU{700000 + self.signups}",
            "merchant_id": merchant.id,
            "activity": activity,
            "signed_up_at": f"{iso(n)}T{rng.randrange(8, 20):02d}:{rng.randrange(60):02d}:00{pacific_offset(n)}",
        }


_CATEGORY_ATTRIBUTES = ("Vegetable Cutter", "Inkjet Printers", "Casual Dresses", "Women's Coats", "Men's T-Shirts",
                        "Electric Kettles", "Ride On Cars")


def _as_listing(doc: dict) -> dict:
    """The page embedded in an order: the product snapshot without its `kind`."""
    listing = dict(doc)
    del listing["kind"]
    return listing


def _amount(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * UNIT + int((frac + "0000")[:4])


def _page_low(price: dict) -> int:
    if price["mode"] == "tiered":
        return min(_amount(t["price"]) for t in price["tiers"])
    if price["mode"] == "sku":
        return min(_amount(s["price"]) for s in price["skus"])
    return _amount(price["range"]["min"])


def _page_price(listing: dict, item: dict) -> int:
    """The page price the buyer saw for the item: its tier, its SKU, or the top of the range."""
    price = listing["price"]
    if price["mode"] == "tiered":
        best = None
        for tier in price["tiers"]:
            if tier["min_qty"] <= item["quantity"] and (best is None or tier["min_qty"] > best["min_qty"]):
                best = tier
        return _amount(best["price"])  # type: ignore[index]
    if price["mode"] == "sku":
        for sku in price["skus"]:
            if sku["attributes"] == item.get("sku"):
                return _amount(sku["price"])
        return _amount(price["skus"][0]["price"])
    return _amount(price["range"]["max"])


def generate(path: str, n: int, *, seed: int = 0, merchants: int | None = None) -> Stats:
    """Write a corpus of `n` documents to `path` (gzipped when it ends in `.gz`); returns what it wrote.

    The gzip header has no time and no file name, so a seed gives the same bytes every time."""
    if n < 1:
        raise ValueError("n must be at least 1")
    start = time.perf_counter()
    gen = Generator(n, seed, merchants)
    stats = gen.stats
    dumps = orjson.dumps
    kinds = stats.kinds
    with open(path, "wb") as raw:
        out: BinaryIO = raw
        if str(path).endswith(".gz"):
            out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)  # type: ignore[assignment]
        chunk: list[bytes] = []
        size = 0
        for doc in gen.documents():
            line = dumps(doc)
            chunk.append(line)
            size += len(line) + 1
            kinds[doc["kind"]] += 1
            if len(chunk) >= 2000:
                out.write(b"\n".join(chunk) + b"\n")
                chunk.clear()
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")
        if out is not raw:
            out.close()
    stats.bytes = size
    stats.documents = sum(kinds.values())
    stats.merchants = gen.merchant_count
    stats.seconds = time.perf_counter() - start
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of documents")
    parser.add_argument("out", help="output file: .jsonl.gz (gzipped) or .jsonl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--merchants", type=int, default=None,
                        help=f"merchant count (default n/{MERCHANT_SHARE}, {MIN_MERCHANTS} to {MAX_MERCHANTS})")
    args = parser.parse_args(argv)
    stats = generate(args.out, args.n, seed=args.seed, merchants=args.merchants)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats.kinds.items()))
    print(f"{args.out}: {stats.documents} documents ({kinds}), {stats.bytes / 1e6:.1f} MB uncompressed, "
          f"{stats.bytes / stats.documents:.0f} B/document, {stats.seconds:.1f} s")
    planned = ", ".join(f"{kind}/{family} {v}" for (kind, family), v in sorted(stats.planned.items()))
    print(f"made to violate: {planned}", file=sys.stderr)


if __name__ == "__main__":
    main()
