"""`compliance scan --jobs N`: the same output, byte for byte and in the same order, as one process.

No test here is timed (bench/scan_bench.py measures the speed-up).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli import cli

from .conftest import LINEN, ROOT, SWEATER, doc, write_json
from .test_bench_corpus import corpus

AS_OF = "2022-12-28"


def scan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scan", *args, "--as-of", AS_OF], catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated catalog of 3,000 documents (every kind and family), cut into many batches, with
    damage: a broken line, an invalid document, a whole-JSON file and an array beside it."""
    folder = tmp_path_factory.mktemp("catalog")
    corpus.generate(str(folder / "a-catalog.jsonl.gz"), 3000, seed=7)
    lines = (ROOT / "fixtures" / "products" / "tier-tables.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "b-damaged.jsonl").write_bytes(b"".join(lines[:2]) + b"{not json\n" + b"".join(lines[2:]))
    write_json(folder / "c-one.json", doc(SWEATER, moq="many"))
    write_json(folder / "d-array.json", [LINEN, doc(LINEN, id="P-2")])
    return folder


@pytest.mark.parametrize("fmt", ["jsonl", "json", "text"])
def test_jobs_2_writes_what_jobs_1_writes_on_a_generated_catalog(generated: Path, fmt: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import checker.reading

    monkeypatch.setattr(checker.reading, "BATCH_LINES", 97)  # many batches, ending anywhere
    one = scan(str(generated), "--format", fmt, "--jobs", "1")
    two = scan(str(generated), "--format", fmt, "--jobs", "2")
    three = scan(str(generated), "--format", fmt, "--jobs", "3")
    assert 2 == one[0]  # the broken line and the invalid document
    assert one == two == three
    assert one[1].count("tier-anomaly/") > 50


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_jobs_2_writes_what_jobs_1_writes_on_the_fixtures(fmt: str) -> None:
    one = scan(str(ROOT / "fixtures"), "--format", fmt, "--jobs", "1")
    two = scan(str(ROOT / "fixtures"), "--format", fmt, "--jobs", "2")
    assert 1 == one[0]
    assert one == two


def test_merchants_and_their_sums_come_from_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A merchant at the end of the file, needed by products at its start (other batches, other workers),
    and the same merchant id twice: the first wins, as in one process."""
    import checker.reading

    monkeypatch.setattr(checker.reading, "BATCH_LINES", 2)
    lines = (ROOT / "fixtures" / "cases" / "member-price.jsonl").read_text(encoding="utf-8").splitlines()
    merchants = [line for line in lines if '"kind": "merchant"' in line]
    others = [line for line in lines if '"kind": "merchant"' not in line]
    assert merchants and others
    (tmp_path / "late.jsonl").write_text("\n".join(others + merchants) + "\n", encoding="utf-8")
    one = scan(str(tmp_path), "--format", "jsonl", "--jobs", "1")
    two = scan(str(tmp_path), "--format", "jsonl", "--jobs", "2")
    assert one == two
    assert "not in the scan" not in two[1]


def test_the_radar_ledger_is_the_same_with_workers(tmp_path: Path, generated: Path) -> None:
    for jobs in ("1", "2"):
        code, _ = scan(str(generated), "--format", "jsonl", "--jobs", jobs, "--ledger", str(tmp_path / f"{jobs}.db"))
        assert 2 == code
    tables = []
    for jobs in ("1", "2"):
        with sqlite3.connect(tmp_path / f"{jobs}.db") as db:
            tasks = db.execute("SELECT merchant_id, product_id, rule, opened_at, evidence_id, page_digest FROM tasks "
                               "ORDER BY id").fetchall()
            scans = db.execute("SELECT as_of, digest, documents, findings, opened FROM scans").fetchall()
        tables.append((tasks, scans))
    assert tables[0] == tables[1]
    assert len(tables[0][0]) > 100
