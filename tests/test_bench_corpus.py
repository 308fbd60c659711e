"""The scan benchmark's corpus generator (bench/corpus.py): reproducible, valid, and violating each family.

No timing is asserted here; bench/scan_bench.py itself is too slow for the tests and only its --help runs.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import checker

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def _load_corpus():
    spec = importlib.util.spec_from_file_location("bench_corpus", BENCH / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus()


def _lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl.gz"
    stats = corpus.generate(str(path), 500, seed=3)
    return path, stats


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    corpus.generate(str(a), 300, seed=11)
    corpus.generate(str(b), 300, seed=11)
    assert a.read_bytes() == b.read_bytes()


def test_another_seed_other_documents(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    corpus.generate(str(a), 200, seed=1)
    corpus.generate(str(b), 200, seed=2)
    assert a.read_bytes() != b.read_bytes()


def test_plain_and_gzipped_hold_the_same_documents(tmp_path):
    plain, gz = tmp_path / "c.jsonl", tmp_path / "c.jsonl.gz"
    corpus.generate(str(plain), 150, seed=5)
    corpus.generate(str(gz), 150, seed=5)
    assert gzip.decompress(gz.read_bytes()) == plain.read_bytes()


@pytest.mark.parametrize("n", [1, 7, 120])
def test_the_requested_count(tmp_path, n):
    path = tmp_path / "c.jsonl"
    stats = corpus.generate(str(path), n, seed=0)
    assert stats.documents == n
    assert len(_lines(path)) == n


def test_kinds_and_merchant_references(small):
    path, stats = small
    docs = _lines(path)
    kinds = Counter(d["kind"] for d in docs)
    assert kinds == stats.kinds
    assert set(kinds) == {"merchant", "product", "order", "signup"}
    assert kinds["product"] > kinds["order"] > kinds["merchant"]
    merchants = {d["id"] for d in docs if d["kind"] == "merchant"}
    assert len(merchants) == kinds["merchant"] == stats.merchants
    for doc in docs:
        if doc["kind"] != "merchant":
            assert doc["merchant_id"] in merchants
    assert docs[0]["kind"] == "merchant"
    modes = Counter(d["price"]["mode"] for d in docs if d["kind"] == "product")
    assert set(modes) == {"tiered", "sku", "range"}
    assert {d["listing_type"] for d in docs if d["kind"] == "product"} == {"rts", "customization"}
    assert {d["type"] for d in docs if d["kind"] == "order"} == {"order", "quote", "sample"}
    assert all("listing" in i for d in docs if d["kind"] == "order" for i in d["items"])


def test_every_document_is_valid_and_the_families_fire(small):
    path, stats = small
    report = checker.scan([path], as_of="2022-12-28")
    summary = report.summary()
    assert summary["errors"] == 0, report.errors[:3]
    assert summary["not_evaluated"] == 0
    assert summary["documents"] == 500
    by_family = summary["by_family"]
    for family in ("fake-price", "fake-moq", "tier-anomaly", "spec-anomaly", "epr", "discount-floor", "quality"):
        assert by_family[family] > 0, family
    # the documents with findings of a family are the ones the generator made to violate it (exactly, with
    # the pack of this commit; a little slack so that a new rule does not make this a test of the pack)
    found = Counter()
    seen = set()
    for f in report.findings:
        key = (f.document.kind, f.document.id, f.family)
        if key not in seen:
            seen.add(key)
            found[(f.document.kind, f.family)] += 1
    for key, planned in stats.planned.items():
        assert planned * 0.9 - 1 <= found[key] <= planned * 1.1 + 1, (key, planned, found[key])
    assert set(found) <= set(stats.planned)


def test_scan_bench_help():
    done = subprocess.run([sys.executable, str(BENCH / "scan_bench.py"), "--help"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout


def test_corpus_cli(tmp_path):
    out = tmp_path / "c.jsonl.gz"
    done = subprocess.run([sys.executable, str(BENCH / "corpus.py"), "40", str(out), "--seed", "9"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert len(_lines(out)) == 40


def test_the_benchmarks_one_rule_pack_loads_and_finds_nothing_in_a_catalog(tmp_path):
    """scan_bench's "no rules" row scans with NO_RULES_PACK instead of the bundled pack: it must load (its
    examples pass) and every document of a catalog must be checked with nothing found, or the row would
    measure an error path."""
    from checker.engine import scan_paths
    from checker.policy.cache import load_compiled
    from checker.values import parse_time

    sys.path.insert(0, str(BENCH))
    try:
        import scan_bench
    finally:
        sys.path.remove(str(BENCH))
    pack = tmp_path / "no-rules"
    pack.mkdir()
    for name, text in scan_bench.NO_RULES_PACK.items():
        (pack / name).write_text(text, encoding="utf-8")
    compiled = load_compiled([pack])
    assert [rule.id for rule in compiled.pack.rules] == ["star-level/bench-never"]
    catalog = tmp_path / "c.jsonl.gz"
    corpus.generate(str(catalog), 300, seed=2)
    report = scan_paths([str(catalog)], compiled, as_of=parse_time(scan_bench.AS_OF))
    assert (report.documents, report.findings, report.errors) == (300, (), ())
