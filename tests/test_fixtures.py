"""The example catalog: every snapshot file in fixtures/ reports exactly the
findings (and rules not evaluated) written in its .expect.toml (fixtures/README.md).
A case that needs its merchant keeps the merchant in the same file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import checker
from checker.reading import DOCUMENT_EXTENSIONS

from .conftest import ROOT

FIXTURES = ROOT / "fixtures"
AS_OF = "2022-12-28T12:00:00-08:00"


def snapshot_files() -> list[Path]:
    return sorted(
        p for p in FIXTURES.rglob("*") if p.is_file() and p.name.lower().removesuffix(".gz").endswith(DOCUMENT_EXTENSIONS)
    )


def expectation(path: Path) -> Path:
    name = path.name.removesuffix(".gz")
    for ext in DOCUMENT_EXTENSIONS:
        name = name.removesuffix(ext)
    return path.with_name(name + ".expect.toml")


def expected_findings(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    data = tomllib.loads(expectation(path).read_text("utf-8"))
    rows = sorted((f["rule"], f["document"], f["path"]) for f in data.get("finding", []))
    return data.get("as_of", AS_OF), rows


def expected_not_evaluated(path: Path) -> list[tuple[str, str]]:
    data = tomllib.loads(expectation(path).read_text("utf-8"))
    return sorted((n["rule"], n["document"]) for n in data.get("not_evaluated", []))


def test_the_catalog_has_snapshots() -> None:
    """Discovery finds the seed's cases (a broken glob would make every other test vacuous)."""
    names = {p.name for p in snapshot_files()}
    assert {"sweater-dress.json", "linen-dress.json"} <= names


@pytest.mark.parametrize("path", snapshot_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_reports_exactly_its_expected_findings(path: Path) -> None:
    """A scan of one fixture file gives exactly the findings of its .expect.toml, and no errors."""
    assert expectation(path).is_file(), f"{path.name} has no {expectation(path).name}"
    as_of, expected = expected_findings(path)
    report = checker.scan([path], as_of=as_of)
    assert [] == [str(e) for e in report.errors]
    actual = sorted((f.rule, f.document.id, f.path) for f in report.findings)
    assert expected == actual
    assert expected_not_evaluated(path) == sorted((n.rule, n.document.id) for n in report.not_evaluated)


def test_whole_catalog_scan_is_the_union_of_the_files() -> None:
    """Scanning fixtures/ as a folder reports the union of every file's expectations, in file order;
    merchant documents last (their rules sum over the orders of the whole scan), in file order too."""
    expected = sorted(row for p in snapshot_files() for row in expected_findings(p)[1])
    report = checker.scan([FIXTURES], as_of=AS_OF)
    assert expected == sorted((f.rule, f.document.id, f.path) for f in report.findings)
    kinds = [f.document.kind == "merchant" for f in report.findings]
    assert 0 < sum(kinds) and kinds == sorted(kinds)  # the merchants' findings after all the others
    for merchants in (False, True):
        sources = [f.document.source.split(":")[0] for f, m in zip(report.findings, kinds) if m == merchants]
        assert sources == sorted(sources, key=lambda s: snapshot_files().index(Path(s)))
