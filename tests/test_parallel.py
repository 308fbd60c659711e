"""`compliance scan --jobs N`: the same output, byte for byte and in the same order, as one process.

No test here is timed (bench/scan_bench.py measures the speed-up).
"""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli import cli
from checker.model import ScanStopped

from .conftest import LINEN, ROOT, SWEATER, doc, write_json
from .test_bench_corpus import corpus

AS_OF = "2022-12-28"


def scan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scan", *args, "--as-of", AS_OF], catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture(params=["one reader a file", "every worker reads"])
def sharing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the workers share the files: small files (all of these) each read by the one worker that checks
    them, as by default; or every file (of 64 bytes or more) read by every worker, JSON Lines cut into
    batches (of 97 lines) and whole-JSON files checked in parts (of 7 documents). The forked workers inherit
    the settings."""
    import checker.parallel
    import checker.reading

    monkeypatch.setattr(checker.reading, "BATCH_LINES", 97)  # many batches, ending anywhere
    if request.param == "every worker reads":
        monkeypatch.setattr(checker.parallel, "GROUP_BYTES", 64)
        monkeypatch.setattr(checker.parallel, "UNIT_DOCUMENTS", 7)
    return request.param


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated catalog of 3,000 documents (every kind and family), cut into many batches, with
    damage: a broken line, an invalid document, a whole-JSON file and arrays beside it."""
    folder = tmp_path_factory.mktemp("catalog")
    corpus.generate(str(folder / "a-catalog.jsonl.gz"), 3000, seed=7)
    lines = (ROOT / "fixtures" / "products" / "tier-tables.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "b-damaged.jsonl").write_bytes(b"".join(lines[:2]) + b"{not json\n" + b"".join(lines[2:]))
    write_json(folder / "c-one.json", doc(SWEATER, moq="many"))
    write_json(folder / "d-array.json", [LINEN, doc(LINEN, id="P-2")])
    write_json(folder / "e-array.json", [doc(LINEN, id=f"P-{n}", moq=n % 7 * 50) for n in range(40)])
    return folder


@pytest.mark.parametrize("fmt", ["jsonl", "json", "text"])
def test_jobs_2_writes_what_jobs_1_writes_on_a_generated_catalog(generated: Path, fmt: str, sharing: str) -> None:
    one = scan(str(generated), "--format", fmt, "--jobs", "1")
    two = scan(str(generated), "--format", fmt, "--jobs", "2")
    three = scan(str(generated), "--format", fmt, "--jobs", "3")
    assert 2 == one[0]  # the broken line and the invalid document
    assert one == two == three
    assert one[1].count("tier-anomaly/") > 50


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_jobs_2_writes_what_jobs_1_writes_on_the_fixtures(fmt: str, sharing: str) -> None:
    one = scan(str(ROOT / "fixtures"), "--format", fmt, "--jobs", "1")
    two = scan(str(ROOT / "fixtures"), "--format", fmt, "--jobs", "2")
    three = scan(str(ROOT / "fixtures"), "--format", fmt, "--jobs", "3")
    assert 1 == one[0]
    assert one == two == three


def test_merchants_and_their_sums_come_from_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A merchant at the end of the file, needed by products at its start (other batches, other workers),
    and the same merchant id twice: the first wins, as in one process."""
    import checker.parallel
    import checker.reading

    monkeypatch.setattr(checker.reading, "BATCH_LINES", 2)
    monkeypatch.setattr(checker.parallel, "GROUP_BYTES", 64)  # the file read by every worker
    lines = (ROOT / "fixtures" / "cases" / "member-price.jsonl").read_text(encoding="utf-8").splitlines()
    merchants = [line for line in lines if '"kind": "merchant"' in line]
    others = [line for line in lines if '"kind": "merchant"' not in line]
    assert merchants and others
    (tmp_path / "late.jsonl").write_text("\n".join(others + merchants) + "\n", encoding="utf-8")
    one = scan(str(tmp_path), "--format", "jsonl", "--jobs", "1")
    two = scan(str(tmp_path), "--format", "jsonl", "--jobs", "2")
    assert one == two
    assert "not in the scan" not in two[1]


def test_the_radar_ledger_is_the_same_with_workers(tmp_path: Path, generated: Path, sharing: str) -> None:
    for jobs in ("1", "2"):
        code, _ = scan(str(generated), "--format", "jsonl", "--jobs", jobs, "--ledger", str(tmp_path / f"{jobs}.db"))
        assert 2 == code
    tables = []
    for jobs in ("1", "2"):
        with sqlite3.connect(tmp_path / f"{jobs}.db") as db:
            tasks = db.execute("SELECT merchant_id, product_id, rule, opened_at, evidence_id FROM tasks "
                               "ORDER BY id").fetchall()
            scans = db.execute("SELECT as_of, digest, documents, findings, opened FROM scans").fetchall()
            pages = db.execute("SELECT task_id, page FROM pages ORDER BY task_id, page").fetchall()  # not honoured
        tables.append((tasks, scans, pages))
    assert tables[0] == tables[1]
    assert len(tables[0][0]) > 100 and len(tables[0][2]) > 10


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Paths whose reading yields errors of every kind, between good documents: a truncated archive, empty and
    broken whole-JSON files, a broken link, a blank file, a missing path, and files of unusual names whose shape
    is sniffed (JSON Lines, a pretty-printed array, broken lines before good ones)."""
    import gzip

    folder = tmp_path_factory.mktemp("damaged")
    lines = (ROOT / "fixtures" / "products" / "tier-tables.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "a-good.jsonl").write_bytes(b"".join(lines))
    packed = gzip.compress(b"".join(lines * 40))
    (folder / "b-truncated.jsonl.gz").write_bytes(packed[: len(packed) * 2 // 3])
    (folder / "c-empty.json").write_bytes(b"")
    (folder / "d-broken.json").write_bytes(b'{"kind": "product", nope')
    write_json(folder / "e-array.json", [LINEN, doc(LINEN, id="P-2"), doc(SWEATER, moq="many")])
    (folder / "f-link.jsonl").symlink_to(folder / "nowhere.jsonl")
    (folder / "g-blank.jsonl").write_bytes(b"\n  \n\n")
    write_json(folder / "h-sub" / "one.json", doc(SWEATER, id="P-3"))
    (folder / "h-sub" / "lines.ndjson").write_bytes(b"".join(lines[:3]) + b"[1, 2\n" + b"".join(lines[3:5]))
    notes = folder.parent / f"{folder.name}-notes.txt"
    notes.write_bytes(b"".join(lines[:4]))
    pretty = folder.parent / f"{folder.name}-pretty.data"
    pretty.write_text(json.dumps([SWEATER, doc(LINEN, id="P-4")], indent=2), encoding="utf-8")
    mixed = folder.parent / f"{folder.name}-mixed.data"
    mixed.write_bytes(b"{broken\nnot json either\n" + b"".join(lines[:3]))
    return [str(folder), str(notes), str(pretty), str(folder / "missing.jsonl"), str(mixed)]


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_errors_of_reading_are_reported_once_whatever_the_workers(damaged: list[str], fmt: str,
                                                                  sharing: str) -> None:
    """Every worker meets every error of walking the folders (and, when it reads every file, of reading them);
    only the one checking that unit reports it."""
    runs = [scan(*damaged, "--format", fmt, "--jobs", jobs) for jobs in ("1", "2", "3", "7")]
    assert runs[0][0] == 2
    assert all(run == runs[0] for run in runs[1:])
    if fmt == "jsonl":
        errors = [line for line in runs[0][1].splitlines() if line.startswith('{"type":"error"')]
        assert len(errors) == len(set(errors)) >= 8


def test_more_workers_than_units(tmp_path: Path) -> None:
    write_json(tmp_path / "one.json", doc(SWEATER, moq="many"))
    one = scan(str(tmp_path), "--format", "jsonl", "--jobs", "1")
    assert one == scan(str(tmp_path), "--format", "jsonl", "--jobs", "4")
    (tmp_path / "one.json").unlink()
    (tmp_path / "sub").mkdir()  # nothing to read at all: every worker ends at once
    assert scan(str(tmp_path), "--format", "jsonl", "--jobs", "1") == scan(str(tmp_path), "--format", "jsonl",
                                                                            "--jobs", "3")


def _fails(state: dict, unit: list) -> None:
    raise ValueError("a rule's bug, in a worker")


def test_a_workers_exception_is_raised_in_the_parent(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    import checker.parallel

    monkeypatch.setattr(checker.parallel, "_check", _fails)  # the forked workers inherit it
    with pytest.raises(ValueError, match="a rule's bug") as raised:
        scan(str(generated), "--format", "jsonl", "--jobs", "2")
    assert isinstance(raised.value.__cause__, checker.parallel.WorkerTraceback)
    assert "_fails" in str(raised.value.__cause__)  # the worker's traceback
    assert not multiprocessing.active_children()  # ended, not left running


def test_a_worker_that_ends_without_a_word_is_an_error_not_a_hang(generated: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing
    import os

    import checker.parallel

    real = checker.parallel._check

    def dies(state: dict, unit: list) -> object:
        if unit[0].__class__.__name__ == "Lines" and unit[0].first > 1000:
            os._exit(3)  # killed, as by the kernel when memory runs out
        return real(state, unit)

    monkeypatch.setattr(checker.parallel, "_check", dies)
    with pytest.raises(RuntimeError, match=r"a scan worker ended unexpectedly \(exit code 3\)"):
        scan(str(generated), "--format", "jsonl", "--jobs", "2")
    assert not multiprocessing.active_children()

    def killed(state: dict, unit: list) -> object:
        if unit[0].__class__.__name__ == "Lines" and unit[0].first > 1000:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel kills a process when memory runs out
        return real(state, unit)

    # no 'internal error ... please report it', as for a defect: the scan stops saying what happened (exit 2)
    monkeypatch.setattr(checker.parallel, "_check", killed)
    with pytest.raises(ScanStopped, match=r"a scan worker was killed \(SIGKILL: out of memory, or stopped by"):
        scan(str(generated), "--format", "jsonl", "--jobs", "2")
    assert not multiprocessing.active_children()


def test_workers_that_read_different_documents_are_an_error(generated: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A file that changes while the workers read it: they do not enumerate the same units, and the parent
    says so at the end rather than leave documents unchecked or checked twice."""
    import os

    import checker.parallel

    from checker.cli import main
    from checker.model import ScanStopped

    monkeypatch.setattr(checker.parallel, "_identity", lambda unit: os.getpid())  # as if each saw other units
    with pytest.raises(ScanStopped, match="the input changed while it was being read"):
        scan(str(generated), "--format", "jsonl", "--jobs", "2")
    # the console script says so in one line and exits 2 (unchecked), not as an internal error
    monkeypatch.setattr("sys.argv", ["compliance", "scan", str(generated), "--format", "jsonl", "--jobs", "2",
                                     "-o", os.devnull])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("compliance: the input changed while it was being read") and "internal" not in err


def test_a_pipe_is_read_once_so_serially(tmp_path: Path) -> None:
    import os

    from checker.parallel import _readable_again

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "file.jsonl").write_text("{}\n", encoding="utf-8")
    assert not _readable_again(str(tmp_path / "pipe"))
    assert _readable_again(str(tmp_path)) and _readable_again(str(tmp_path / "file.jsonl"))
    assert _readable_again(str(tmp_path / "missing"))  # each worker reports it alike


def _scan_api(paths: list[str], jobs: int, sink: object) -> object:
    from checker.cli import _load
    from checker.engine import reference_validators, scan_paths
    from checker.values import parse_time

    return scan_paths(paths, _load((), False), as_of=parse_time(AS_OF), validators=reference_validators(),
                      sink=sink, jobs=jobs)  # type: ignore[arg-type]


def test_a_sink_that_takes_findings_as_objects(generated: Path, sharing: str) -> None:
    """A sink without `encode` (the Python API's Collector) gets the workers' findings themselves."""
    from checker.engine import Collector

    one, two = Collector(), Collector()
    reports = [_scan_api([str(generated)], 1, one), _scan_api([str(generated)], 2, two)]
    assert (one.findings, one.errors, one.not_evaluated) == (two.findings, two.errors, two.not_evaluated)
    assert reports[0].summary() == reports[1].summary()  # type: ignore[attr-defined]
    assert len(two.findings) > 100 and two.errors


def test_an_interrupt_ends_the_workers(generated: Path) -> None:
    import multiprocessing

    from checker.engine import Collector

    class Interrupted(Collector):
        def finding(self, finding: object) -> None:
            if len(self.findings) == 10:
                raise KeyboardInterrupt  # Ctrl-C while the parent writes
            super().finding(finding)  # type: ignore[arg-type]

    with pytest.raises(KeyboardInterrupt):
        _scan_api([str(generated)], 2, Interrupted())
    assert not multiprocessing.active_children()


class _Unmakeable(Exception):
    """An exception that pickles but cannot be made again from its args (two required arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


def _fails_oddly(state: dict, unit: list) -> None:
    raise _Unmakeable("odd", "failure")


def test_an_exception_the_parent_cannot_remake_still_says_what_failed(generated: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    import checker.parallel

    monkeypatch.setattr(checker.parallel, "_check", _fails_oddly)
    with pytest.raises(RuntimeError, match="_Unmakeable: odd failure") as raised:
        scan(str(generated), "--format", "jsonl", "--jobs", "2")
    assert "_fails_oddly" in str(raised.value.__cause__)  # the worker's traceback
    assert not multiprocessing.active_children()


def test_a_file_arriving_during_the_scan_is_not_half_seen(generated: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent walks the folders once: a file written into the folder after that is read by no worker,
    instead of by those that walk it later (which would stop the scan: the workers disagree)."""
    import shutil

    import checker.parallel

    folder = tmp_path / "drop"
    shutil.copytree(generated, folder)
    code, before = scan(str(folder), "--format", "jsonl", "--jobs", "1")
    real = checker.parallel._enumerated

    def then_a_file_arrives(paths: list, exclude: frozenset = frozenset()) -> list:
        entries = real(paths, exclude)
        write_json(folder / "z-late.json", doc(SWEATER, id="P-LATE", moq="many"))
        return entries

    monkeypatch.setattr(checker.parallel, "_enumerated", then_a_file_arrives)
    assert scan(str(folder), "--format", "jsonl", "--jobs", "2") == (code, before)
    assert (folder / "z-late.json").exists() and "P-LATE" not in before


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """A scan killed (SIGKILL: no clean-up runs in the parent) leaves no worker behind: a worker holds no
    copy of the parent's end of its pipe, so its next send fails."""
    import os
    import signal
    import subprocess
    import sys
    import time

    big = tmp_path / "big.jsonl.gz"
    corpus.generate(str(big), 20000, seed=2)
    scan_ = subprocess.Popen([sys.executable, "-m", "checker", "scan", str(big), "--jobs", "2", "--format", "jsonl",
                              "-o", os.devnull, "--as-of", AS_OF])

    def children() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    status = (Path("/proc") / entry / "status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
                if fields.get("PPid", "").strip() == str(scan_.pid) and not fields.get("State", "").startswith("Z"):
                    found.append(int(entry))
        return found

    deadline = time.monotonic() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and scan_.poll() is None:
        workers = children()
        time.sleep(0.02)
    assert len(workers) == 2, "the scan ended before its workers were seen"
    os.kill(scan_.pid, signal.SIGKILL)
    scan_.wait()

    def alive(pid: int) -> bool:
        try:
            return not (Path("/proc") / str(pid) / "status").read_text().split("State:\t", 1)[1].startswith("Z")
        except (OSError, IndexError):
            return False

    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers still running after their parent was killed"


def test_a_file_appended_to_during_the_scan_is_read_as_it_was_listed(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker reads a file up to the size it had when the parent listed it: lines appended meanwhile
    are read by none (instead of by the workers that get there later, which would stop the scan)."""
    import checker.parallel

    monkeypatch.setattr(checker.parallel, "GROUP_BYTES", 64)  # every file read by every worker
    monkeypatch.setattr("checker.reading.BATCH_LINES", 5)
    lines = (ROOT / "fixtures" / "products" / "tier-tables.jsonl").read_bytes()
    growing = tmp_path / "growing.jsonl"
    growing.write_bytes(lines)
    code, before = scan(str(growing), "--format", "jsonl", "--jobs", "1")
    real = checker.parallel._enumerated

    def then_lines_arrive(paths: list, exclude: frozenset = frozenset()) -> list:
        entries = real(paths, exclude)
        with growing.open("ab") as f:
            f.write(json.dumps(doc(SWEATER, id="P-APPENDED", moq="many")).encode() + b"\n")
        return entries

    monkeypatch.setattr(checker.parallel, "_enumerated", then_lines_arrive)
    assert scan(str(growing), "--format", "jsonl", "--jobs", "2") == (code, before)
    assert b"P-APPENDED" in growing.read_bytes() and "P-APPENDED" not in before


@pytest.mark.parametrize("layout", ["as generated", "merchants in a file after", "a duplicate first",
                                    "an escaped merchant"])
def test_each_worker_finds_the_merchants_a_scan_on_one_core_finds(tmp_path: Path, sharing: str, layout: str) -> None:
    """Workers look no merchant up before the scan: each notes the merchants of the units it reads (its own,
    and the others' by a search of their raw lines, the small files read for it), and looks them all up
    only when a document names one not met yet. Whatever the layout, every document gets the merchant one
    process gives it: the first document of its id (a copy without EPR registrations, first, changes the EPR
    findings of all its listings and orders)."""
    lines = [line for line in _catalog_lines() if line.strip()]
    merchants = [line for line in lines if '"kind":"merchant"' in line]
    others = [line for line in lines if line not in merchants]
    folder = tmp_path / "catalog"
    folder.mkdir()
    if layout == "merchants in a file after":
        (folder / "a.jsonl").write_text("".join(others), encoding="utf-8")
        write_json(folder / "z-merchants.json", [json.loads(line) for line in merchants])
    elif layout == "a duplicate first":
        first = json.loads(merchants[0])
        write_json(folder / "0-copy.json", {**first, "epr": []})
        (folder / "a.jsonl").write_text("".join(lines), encoding="utf-8")
    elif layout == "an escaped merchant":
        escaped = [line.replace('"kind":"merchant"', '"kind":"merch\\u0061nt"', 1) for line in lines]
        (folder / "a.jsonl").write_text("".join(escaped), encoding="utf-8")
    else:
        (folder / "a.jsonl").write_text("".join(lines), encoding="utf-8")
    outputs = [scan(str(folder), "--format", "jsonl", "--jobs", jobs) for jobs in ("1", "2", "3")]
    assert outputs[0] == outputs[1] == outputs[2]
    assert "not in the scan" not in outputs[0][1]
    if layout == "a duplicate first":  # the copy won: its merchant's products lack every registration
        (folder / "0-copy.json").unlink()
        assert scan(str(folder), "--format", "jsonl", "--jobs", "2")[1].count("epr/") < outputs[0][1].count("epr/")


def _catalog_lines() -> list[str]:
    import gzip
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.jsonl.gz"
        corpus.generate(str(path), 1500, seed=11)
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.readlines()
