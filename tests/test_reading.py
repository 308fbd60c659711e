"""Reading snapshots (SNAPSHOTS.md "Files"): hostile input, formats, folders,
the promise read = checked + errors, exact numbers, and streaming."""

from __future__ import annotations

import collections
import gzip
import io
import itertools
import json
import random
import re
import subprocess
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checker
import checker.reading
from checker import InputError, Report
from checker.reading import Reader, SyntaxProblem, loads, parse_lines, walk

AS_OF = "2022-12-01"

#: a valid product, clean under every rule of the bundled pack
GOOD = {
    "kind": "product",
    "id": "G1",
    "merchant_id": "M1",
    "listing_type": "rts",
    "moq": 1,
    "price": {"mode": "range", "range": {"min": "1", "max": "2"}},
}
#: a product that is not a valid snapshot: /moq below 1
BAD = {**GOOD, "id": "B1", "moq": 0}
BAD_MOQ = "0 is not a whole number from 1 to 1,000,000,000,000"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled packs go to a folder of this test session, never the user's cache."""
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "reading-cache"))


# -- helpers ---------------------------------------------------------------------------


def product(**changes: Any) -> dict[str, Any]:
    """GOOD with top-level fields replaced."""
    return {**GOOD, **changes}


def text(document: Any) -> bytes:
    """One document as compact JSON bytes, no newline."""
    return json.dumps(document).encode()


def lines(*documents: Any) -> bytes:
    """JSON Lines: each document (or raw bytes) on its own line."""
    return b"".join((d if isinstance(d, bytes) else text(d)) + b"\n" for d in documents)


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scan(*paths: Path | str) -> Report:
    return checker.scan([str(p) for p in paths], as_of=AS_OF)


def ids(items: list[Any]) -> list[Any]:
    """The ids of the documents among Reader items, errors as themselves."""
    return [item if isinstance(item, InputError) else item[0]["id"] for item in items]


def read(*paths: Path | str) -> list[Any]:
    return list(Reader().read([str(p) for p in paths]))


def stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """Make `data` the process's standard input, as bytes, for path "-"."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def cli_scan(*args: str, piped: bytes | None = None) -> tuple[int, dict[str, Any]]:
    """Run `compliance scan ARGS --format json` as a CI job would: exit status and report."""
    result = subprocess.run(
        [sys.executable, "-m", "checker", "scan", *args, "--format", "json", "--as-of", AS_OF],
        input=piped,
        capture_output=True,
        timeout=300,
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    return result.returncode, json.loads(result.stdout)


def with_max(literal: bytes) -> bytes:
    """GOOD as JSON text with /price/range/max replaced by a raw literal."""
    return text(GOOD).replace(b'"max": "2"', b'"max": ' + literal)


def column(data: bytes, literal: bytes) -> int:
    """The 1-based column where `literal` first appears in one line of text."""
    return data.index(literal) + 1


#: an image saved under a snapshot's name: a PNG signature, then noise
NOISE = b"\x89PNG\r\n\x1a\n" + random.Random(2022).randbytes(4096)


# -- hostile input: one error entry each, and the scan goes on ----------------------------

# (file name, content, valid documents inside the file, line, pointer, reason)
HOSTILE = [
    pytest.param(
        "deep.json", b"[" * 100_000 + b"]" * 100_000, 0,
        1, "", "not valid JSON: nested too deeply (more than 1,024 levels) (column 1026)",
        id="100,000 levels deep",
    ),
    pytest.param(
        "deep-exact.json", b"[" * 100_000 + b"1e5" + b"]" * 100_000, 0,
        1, "", "not valid JSON: nested too deeply (more than 1,024 levels) (column 1026)",
        id="100,000 levels deep, with a number for the exact parser",
    ),
    pytest.param(
        "deep.jsonl", lines(GOOD, b"[" * 100_000 + b"]" * 100_000, GOOD), 2,
        2, "", "not valid JSON: nested too deeply (more than 1,024 levels) (column 1026)",
        id="100,000 levels deep on a JSON Lines line",
    ),
    pytest.param(
        "nan.json", with_max(b"NaN"), 0,
        1, "", f"not valid JSON: NaN is not a number JSON allows (column {column(with_max(b'NaN'), b'NaN')})",
        id="NaN as a price",
    ),
    pytest.param(
        "nan.jsonl", lines(GOOD, with_max(b"NaN")), 1,
        2, "", f"not valid JSON: NaN is not a number JSON allows (column {column(with_max(b'NaN'), b'NaN')})",
        id="NaN as a price on a JSON Lines line",
    ),
    pytest.param(
        "nan-exact.json", with_max(b"NaN").replace(b'"min": "1"', b'"min": 1e0'), 0,
        1, "", f"not valid JSON: NaN is not a number JSON allows (column {column(with_max(b'NaN'), b'NaN')})",
        id="NaN as a price, with a number for the exact parser",
    ),
    pytest.param(
        "infinity.json", with_max(b"Infinity"), 0,
        1, "", f"not valid JSON: Infinity is not a number JSON allows (column {column(with_max(b'Infinity'), b'Infinity')})",
        id="Infinity as a price",
    ),
    pytest.param(
        "huge.jsonl", lines(GOOD, with_max(b"1e999999"), GOOD), 2,
        2, "/price/range/max", "1E+999999 is out of range for an amount (-1,000,000,000,000,000 to 1,000,000,000,000,000)",
        id="1e999999 as a price",
    ),
    pytest.param(
        "stray-byte.jsonl", lines(GOOD, b"\xff" + text(GOOD), GOOD), 2,
        2, "", "not valid UTF-8 text (column 1)",
        id="invalid UTF-8",
    ),
    pytest.param(
        "plain.jsonl.gz", lines(GOOD), 0,
        None, "", "not a gzip file",
        id=".gz that is not gzip",
    ),
    pytest.param(
        "noise.json", NOISE, 0,
        1, "", "not valid UTF-8 text (column 1)",
        id="random binary data named .json",
    ),
    pytest.param(
        "scalar.json", b"42", 0,
        None, "", "expected a document (a JSON object), got a number",
        id="a scalar where a document should be",
    ),
    pytest.param(
        "scalar.jsonl", lines(GOOD, b'"G2"'), 1,
        2, "", "expected a document (a JSON object), got text",
        id="a scalar on a JSON Lines line",
    ),
    pytest.param(
        "title.json", text(product(title="x" * 5_000_000)), 0,
        None, "/title", "text of 5,000,000 characters is longer than the maximum 1,000",
        id="a 5 MB title",
    ),
    pytest.param("empty.json", b"", 0, None, "", "empty file: no document", id="empty .json"),
    pytest.param("empty.jsonl", b"", 0, None, "", "empty file: no document", id="empty .jsonl"),
    pytest.param("blank.jsonl", b"\n  \n\t\n", 0, None, "", "empty file: no document", id="only blank lines"),
    pytest.param("empty-list.json", b"[]", 0, None, "", "empty list: no document", id="empty JSON array"),
]


@pytest.mark.parametrize(("name", "data", "inside", "line", "pointer", "reason"), HOSTILE)
def test_hostile_file_is_one_error_entry_and_the_scan_goes_on(
    tmp_path: Path, name: str, data: bytes, inside: int, line: int | None, pointer: str, reason: str
) -> None:
    """A hostile file between two good ones gives exactly one error entry; every good document is checked."""
    put(tmp_path / "a.json", text(GOOD))
    hostile = put(tmp_path / f"m-{name}", data)
    put(tmp_path / "z.jsonl", lines(GOOD))
    report = scan(tmp_path)
    assert [InputError(str(hostile), line, pointer, reason)] == list(report.errors)
    assert 2 + inside == report.documents


def test_truncated_gzip_keeps_the_documents_before_the_damage(tmp_path: Path) -> None:
    """A .jsonl.gz cut in half yields its first documents in order, then one error at the first lost line."""
    whole = gzip.compress(lines(*(product(id=f"G{i}") for i in range(2000))))
    path = put(tmp_path / "cut.jsonl.gz", whole[: len(whole) // 2])
    items = read(path)
    kept = len(items) - 1
    assert kept > 0
    damage = InputError(str(path), kept + 1, "", "gzip data is corrupt or truncated")
    assert [f"G{i}" for i in range(kept)] + [damage] == ids(items)
    assert kept == scan(path).documents


def test_truncated_json_gz_is_one_error(tmp_path: Path) -> None:
    """A .json.gz cut short cannot be parsed at all: one error, no line."""
    whole = gzip.compress(text([product(id=f"G{i}") for i in range(100)]))
    path = put(tmp_path / "cut.json.gz", whole[: len(whole) // 2])
    assert [InputError(str(path), None, "", "gzip data is corrupt or truncated")] == list(scan(path).errors)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    """A path that does not exist is an error entry naming the OS reason."""
    path = tmp_path / "nowhere.json"
    assert [InputError(str(path), None, "", "cannot read: No such file or directory")] == list(scan(path).errors)


def test_line_longer_than_16_mib_is_reported_not_read(tmp_path: Path) -> None:
    """A JSON Lines line over 16 MiB is one error at its line; the lines after it are still read."""
    huge = text(product(title="x" * (17 * 2**20)))
    path = put(tmp_path / "long.jsonl", lines(GOOD, huge, product(id="G3")))
    assert ["G1", InputError(str(path), 2, "", "line longer than 16 MiB"), "G3"] == ids(read(path))


def test_invalid_utf8_names_the_column_of_the_bad_byte(tmp_path: Path) -> None:
    """A Latin-1 title is reported at the column of its first non-UTF-8 byte."""
    data = text(product(title="Caf\xe9")).replace(b"\\u00e9", b"\xe9")
    path = put(tmp_path / "latin1.json", data)
    at = column(data, b"\xe9")
    reason = f"not valid UTF-8 text (column {at})"
    assert [InputError(str(path), 1, "", reason)] == list(scan(path).errors)


def test_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    """A file saved with a UTF-8 byte order mark (RFC 8259 8.1 allows ignoring it) is read."""
    path = put(tmp_path / "bom.json", b"\xef\xbb\xbf" + text(GOOD))
    report = scan(path)
    assert (1, []) == (report.documents, list(report.errors))


def innermost(value: Any) -> Any:
    while isinstance(value, list):
        value = value[0]
    return value


def test_1000_levels_parse() -> None:
    """1,000 levels of nesting, under the stated limit of 1,024, parse."""
    assert 1 == innermost(loads(b"[" * 1000 + b"1" + b"]" * 1000))


def test_1000_levels_parse_with_a_long_number_too() -> None:
    """1,000 levels parse also when the text holds an exponent (which sends it to the exact parser)."""
    assert Decimal("1e5") == innermost(loads(b"[" * 1000 + b"1e5" + b"]" * 1000))


def test_cli_scan_of_hostile_folder_exits_2_and_reports_the_good_documents(tmp_path: Path) -> None:
    """The command does not crash or hang on hostile files: exit 2, good documents checked, one error each."""
    put(tmp_path / "good.jsonl", lines(GOOD, product(id="G2")))
    put(tmp_path / "deep.json", b"[" * 100_000 + b"]" * 100_000)
    put(tmp_path / "noise.json", NOISE)
    put(tmp_path / "plain.json.gz", text(GOOD))
    put(tmp_path / "huge.jsonl", lines(with_max(b"1e999999")))
    code, out = cli_scan(str(tmp_path))
    assert 2 == code
    assert (2, 4, 6) == (out["summary"]["documents"], out["summary"]["errors"], out["summary"]["read"])
    expected = [
        (str(tmp_path / "deep.json"), 1, ""),
        (str(tmp_path / "huge.jsonl"), 1, "/price/range/max"),
        (str(tmp_path / "noise.json"), 1, ""),
        (str(tmp_path / "plain.json.gz"), None, ""),
    ]
    assert expected == [(e["file"], e["line"], e["pointer"]) for e in out["errors"]]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_document_nested_deeper_than_the_schema_validator_goes_is_one_error(tmp_path: Path, jobs: str) -> None:
    """A value nested 300 levels deep is valid JSON (the parser goes to 1,024), but jsonschema_rs stops
    explaining at 256 levels: the document is reported at its field, the others are still checked (it
    crashed the scan, the report cut short)."""
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    put(tmp_path / "a.jsonl", lines(GOOD, product(id="P-DEEP", title=deep), product(id="G2")))
    code, out = cli_scan(str(tmp_path), "--jobs", jobs)
    assert 2 == code
    assert 2 == out["summary"]["documents"]
    assert [(str(tmp_path / "a.jsonl"), 2, "/title")] == [(e["file"], e["line"], e["pointer"]) for e in out["errors"]]
    assert "nested more than 64 levels deep" in out["errors"][0]["reason"]
    result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--as-of", AS_OF],
                            input=text(product(id="P-DEEP", title=deep)), capture_output=True, timeout=300)
    assert 2 == result.returncode and b"/title: " in result.stdout and b"Traceback" not in result.stderr


def test_cli_scan_of_good_folder_exits_0(tmp_path: Path) -> None:
    """The same good documents alone exit 0: the 2 above comes from the error entries."""
    put(tmp_path / "good.jsonl", lines(GOOD, product(id="G2")))
    code, out = cli_scan(str(tmp_path))
    assert (0, 2, []) == (code, out["summary"]["documents"], out["errors"])


# -- formats ---------------------------------------------------------------------------


def test_single_document_file(tmp_path: Path) -> None:
    """A .json holding one object is one document, with no line and no index."""
    path = put(tmp_path / "one.json", json.dumps(GOOD, indent=2).encode())
    assert [(GOOD, str(path), None, None)] == read(path)


def test_json_array_file_reports_elements_by_index(tmp_path: Path) -> None:
    """In a JSON array, a non-object element is an error at /1 and an invalid one at /2/moq."""
    path = put(tmp_path / "list.json", text([GOOD, 7, BAD]))
    report = scan(path)
    expected = [
        InputError(str(path), None, "/1", "expected a document (a JSON object), got a number"),
        InputError(str(path), None, "/2/moq", BAD_MOQ),
    ]
    assert expected == list(report.errors)
    assert 1 == report.documents


def test_json_lines_skip_blank_lines_but_count_them(tmp_path: Path) -> None:
    """Blank lines in JSON Lines are neither documents nor errors, and line numbers still count them."""
    path = put(tmp_path / "blanks.jsonl", lines(GOOD, b"", b"  \t", BAD, b"") + text(product(id="G5")))
    report = scan(path)
    assert [InputError(str(path), 4, "/moq", BAD_MOQ)] == list(report.errors)
    assert 2 == report.documents
    assert [("G1", 1), ("B1", 4), ("G5", 6)] == [(item[0]["id"], item[2]) for item in read(path)]


def test_crlf_json_lines(tmp_path: Path) -> None:
    """JSON Lines written with Windows line ends are read like any other."""
    path = put(tmp_path / "crlf.ndjson", text(GOOD) + b"\r\n" + text(BAD) + b"\r\n")
    report = scan(path)
    assert (1, [InputError(str(path), 2, "/moq", BAD_MOQ)]) == (report.documents, list(report.errors))


@pytest.mark.parametrize("name", ["snap.jsonl.gz", "snap.ndjson.gz"])
def test_gzipped_json_lines(tmp_path: Path, name: str) -> None:
    """A gzipped JSON Lines file is streamed with its line numbers."""
    path = put(tmp_path / name, gzip.compress(lines(GOOD, BAD)))
    report = scan(path)
    assert (1, [InputError(str(path), 2, "/moq", BAD_MOQ)]) == (report.documents, list(report.errors))


def test_gzipped_json_array(tmp_path: Path) -> None:
    """A gzipped JSON array is read like the plain one, errors by index."""
    path = put(tmp_path / "list.json.gz", gzip.compress(text([GOOD, BAD])))
    report = scan(path)
    assert (1, [InputError(str(path), None, "/1/moq", BAD_MOQ)]) == (report.documents, list(report.errors))


def test_unusual_file_name_is_sniffed(tmp_path: Path) -> None:
    """A file named explicitly with another extension is looked at: here JSON Lines, gzipped."""
    path = put(tmp_path / "export.dat", gzip.compress(lines(GOOD, BAD)))
    report = scan(path)
    assert (1, [InputError(str(path), 2, "/moq", BAD_MOQ)]) == (report.documents, list(report.errors))


# stdin ("-")


def test_stdin_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """JSON Lines on stdin are read as <stdin> with line numbers."""
    stdin(monkeypatch, lines(GOOD, BAD))
    report = scan("-")
    assert (1, [InputError("<stdin>", 2, "/moq", BAD_MOQ)]) == (report.documents, list(report.errors))


def test_stdin_pretty_printed_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pretty-printed document on stdin (its first line is not a document) is one document."""
    stdin(monkeypatch, json.dumps(BAD, indent=2).encode())
    assert [InputError("<stdin>", None, "/moq", BAD_MOQ)] == list(scan("-").errors)


def test_stdin_pretty_printed_array(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pretty-printed JSON array on stdin is read by index."""
    stdin(monkeypatch, json.dumps([GOOD, BAD], indent=2).encode())
    report = scan("-")
    assert (1, [InputError("<stdin>", None, "/1/moq", BAD_MOQ)]) == (report.documents, list(report.errors))


@pytest.mark.parametrize(
    ("data", "pointer"),
    [(lines(GOOD, BAD), "/moq"), (json.dumps([GOOD, BAD], indent=2).encode(), "/1/moq")],
    ids=["lines", "array"],
)
def test_stdin_gzip(monkeypatch: pytest.MonkeyPatch, data: bytes, pointer: str) -> None:
    """Gzip on stdin is recognised by its magic bytes."""
    stdin(monkeypatch, gzip.compress(data))
    report = scan("-")
    line = 2 if pointer == "/moq" else None
    assert (1, [InputError("<stdin>", line, pointer, BAD_MOQ)]) == (report.documents, list(report.errors))


def test_empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing on stdin is an error, not a silent success."""
    stdin(monkeypatch, b"")
    assert [InputError("<stdin>", None, "", "empty file: no document")] == list(scan("-").errors)


def test_cli_gzip_json_lines_on_stdin_exits_2(tmp_path: Path) -> None:
    """`compliance scan -` reads gzip from a pipe; an invalid line exits 2 while the good one is checked."""
    code, out = cli_scan("-", piped=gzip.compress(lines(GOOD, BAD)))
    assert (2, 1) == (code, out["summary"]["documents"])
    assert [{"file": "<stdin>", "line": 2, "pointer": "/moq", "reason": BAD_MOQ}] == out["errors"]


def test_stdin_line_numbers_count_leading_blank_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Line numbers on stdin are the same as for the same bytes in a .jsonl file."""
    stdin(monkeypatch, lines(b"", b"", GOOD, BAD))
    assert [InputError("<stdin>", 4, "/moq", BAD_MOQ)] == list(scan("-").errors)


def test_stdin_damaged_first_line_does_not_hide_the_rest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """JSON Lines on stdin whose first line is broken are read like the same .jsonl file: the rest is checked."""
    data = lines(b'{"kind": "product", "id": ', GOOD, BAD)
    as_file = scan(put(tmp_path / "same.jsonl", data))
    stdin(monkeypatch, data)
    report = scan("-")
    assert (1, 2) == (as_file.documents, len(as_file.errors))
    assert (1, 2) == (report.documents, len(report.errors))


# -- folders ---------------------------------------------------------------------------


def test_folder_walk_is_recursive_sorted_and_reads_only_snapshot_files(tmp_path: Path) -> None:
    """Folders are walked depth first in name order; only .json, .jsonl, .ndjson (and .gz) are taken."""
    for name in [
        "b/c.json", "b/a/z.ndjson", "a.jsonl", "c.json.gz", "D.JSONL.GZ", "e.ndjson.gz",
        "README.md", "policy.toml", "notes.txt", "archive.tar.gz", "b/data.csv", "f.json.bak",
    ]:
        put(tmp_path / name, b"{}")
    expected = ["D.JSONL.GZ", "a.jsonl", "b/a/z.ndjson", "b/c.json", "c.json.gz", "e.ndjson.gz"]
    assert [str(tmp_path / n) for n in expected] == list(walk(str(tmp_path)))


def test_folder_documents_come_in_walk_order(tmp_path: Path) -> None:
    """A scan reads files in walk order and each file's documents in file order."""
    put(tmp_path / "b" / "2.jsonl", lines(product(id="G3"), product(id="G4")))
    put(tmp_path / "a.json", text([product(id="G1"), product(id="G2")]))
    put(tmp_path / "c.json", text(product(id="G5")))
    assert ["G1", "G2", "G3", "G4", "G5"] == ids(read(tmp_path))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_folder_without_snapshots_is_an_error_not_a_pass(tmp_path: Path, jobs: str) -> None:
    """A CI job pointed at a wrong or empty export folder exits 2: nothing was checked (it exited 0). An
    empty folder inside one with snapshots is no error."""
    put(tmp_path / "empty" / "notes" / "readme.txt", b"not a snapshot")
    put(tmp_path / "full" / "a.json", text(GOOD))
    (tmp_path / "full" / "nothing").mkdir()
    code, out = cli_scan(str(tmp_path / "empty"), str(tmp_path / "full"), "--jobs", jobs)
    assert 2 == code
    assert 1 == out["summary"]["documents"]
    assert [(str(tmp_path / "empty"), None, "no snapshot file in this folder (.json, .jsonl, .ndjson, or .gz of them)")] \
        == [(e["file"], e["line"], e["reason"]) for e in out["errors"]]


def test_broken_symlink_is_an_error(tmp_path: Path) -> None:
    """A dangling link with a snapshot name is an error entry; one with another name is ignored like its name."""
    put(tmp_path / "good.json", text(GOOD))
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "deleted.jsonl")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    report = scan(tmp_path)
    expected = [InputError(str(tmp_path / "gone.jsonl"), None, "", "cannot read: broken symbolic link")]
    assert expected == list(report.errors)
    assert 1 == report.documents


def test_symlink_loop_is_one_error_and_nothing_is_read_twice(tmp_path: Path) -> None:
    """A link back to an ancestor folder is one error entry; the files are read once."""
    put(tmp_path / "sub" / "p.json", text(GOOD))
    (tmp_path / "sub" / "up").symlink_to(tmp_path)
    report = scan(tmp_path)
    reason = f"symbolic link loop: this folder is {tmp_path} again; not read twice"
    assert [InputError(str(tmp_path / "sub" / "up"), None, "", reason)] == list(report.errors)
    assert 1 == report.documents


def test_self_referencing_file_link_is_an_error(tmp_path: Path) -> None:
    """A file link pointing at itself is an error entry, not a hang."""
    (tmp_path / "self.json").symlink_to(tmp_path / "self.json")
    reason = "cannot read: Too many levels of symbolic links"
    assert [InputError(str(tmp_path / "self.json"), None, "", reason)] == list(scan(tmp_path).errors)


def test_folder_reached_twice_through_a_link_is_read_under_its_own_name(tmp_path: Path) -> None:
    """A link to a sibling folder is not a loop: the real folder is read, and no error calls it a link loop."""
    put(tmp_path / "real" / "p.json", text(GOOD))
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    report = scan(tmp_path)
    assert [str(tmp_path / "real" / "p.json")] == [f for f in walk(str(tmp_path)) if isinstance(f, str)]
    assert [] == [e for e in report.errors if e.file == str(tmp_path / "real")]


# -- read = checked + errors -------------------------------------------------------------


def test_mixed_folder_counts_every_document_once(tmp_path: Path) -> None:
    """Every document put in a mixed folder is either checked or an error: read = checked + errors."""
    put(tmp_path / "one.json", text(GOOD))
    put(tmp_path / "list.json", text([GOOD, BAD, 3, GOOD]))
    put(tmp_path / "lines.jsonl", lines(GOOD, b"", b"{", BAD, GOOD))
    put(tmp_path / "deep" / "lines.ndjson.gz", gzip.compress(lines(GOOD, GOOD, with_max(b"NaN"))))
    put(tmp_path / "deep" / "one.json.gz", gzip.compress(text(BAD)))
    put(tmp_path / "README.md", text(GOOD))
    report = scan(tmp_path)
    good, bad = 1 + 2 + 2 + 2, 2 + 2 + 1 + 1
    assert (good, bad) == (report.documents, len(report.errors))
    assert good + bad == report.summary()["read"]


JUNK_LINES = [b"{", b"NaN", b"42", b"[1, 2]", b"\xff\xfe", b'{"kind": "nope"}', b"[" * 5000, b"1e999999", b"\x0c"]
line_strategy = st.one_of(
    st.just(text(GOOD)),
    st.just(text(BAD)),
    st.sampled_from(JUNK_LINES),
    st.sampled_from([b"", b"  ", b"\t\r"]),
    st.binary(max_size=40).filter(lambda b: b"\n" not in b),
    st.text(max_size=40).filter(lambda s: "\n" not in s).map(str.encode),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line_strategy, max_size=20))
def test_every_non_blank_json_lines_line_is_read_exactly_once(tmp_path: Path, raw: list[bytes]) -> None:
    """Whatever the lines hold, each non-blank one is one document or one error (an all-blank file is one error).

    A UTF-8 byte order mark opening the file is ignored (RFC 8259 8.1)."""
    path = put(tmp_path / "any.jsonl", b"".join(line + b"\n" for line in raw))
    report = checker.scan([str(path)], as_of=AS_OF)
    lines = list(raw)
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):  # a byte order mark opening the file is not text
        lines[0] = lines[0][3:]
    non_blank = [line for line in lines if line.strip(b" \t\r\n")]
    assert max(len(non_blank), 1) == report.summary()["read"]
    assert report.documents + len(report.errors) == report.summary()["read"]
    assert non_blank.count(text(GOOD)) == report.documents


# -- exact numbers ---------------------------------------------------------------------


def test_loads_keeps_long_literals_exact() -> None:
    """A literal of more than 15 significant digits comes back as the exact Decimal."""
    assert Decimal("12.000000000000000001") == loads(b'{"price": 12.000000000000000001}')["price"]
    assert [Decimal("1.000000000000001")] == loads(b"[1.000000000000001]")


def test_loads_keeps_short_literals_as_floats() -> None:
    """A literal of at most 15 significant digits takes the fast path (a float that repr()s exactly)."""
    assert [0.1, 26.9] == loads(b"[0.1, 26.9]")
    assert float is type(loads(b"[0.1]")[0])


#: number literals and texts near the shapes that send a line to the exact parser (reading._inexact)
literal = st.one_of(
    st.sampled_from([b"0.1", b"26.9", b"1e5", b"1E+300", b"1e-300", b"2e-3000", b"12.000000000000000001",
                     b"1234567890123456", b"12345678901234567", b"123456789012345.6e7", b"1.5e15", b'"DE3359426873780"',
                     b'"1600000020742"', b'"0e000"', b"-0", b"12345678901234567890", b'"3156547891234567890"',
                     b'"a\\"12345678901234567"', b'"a\\\\"', b'"1e300"']),
    st.from_regex(rb"\A-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?\Z"),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(literal, max_size=4), min_size=1, max_size=40), st.integers(1, 7), st.integers(7, 300))
def test_json_lines_numbers_read_as_one_line_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[bytes]], batch: int, read_bytes: int
) -> None:
    """Lines are tested for inexact numbers many at a time (as read, a chunk at a time, lines cut across
    chunks; or in the batches that parallel workers parse): each document is what `loads` makes of its line
    alone (a Decimal where a float would not be exact, a float otherwise), whatever lines are tested with it."""
    monkeypatch.setattr(checker.reading, "BATCH_LINES", batch)
    monkeypatch.setattr(checker.reading, "READ_BYTES", read_bytes)
    raw = [b"[" + b", ".join(row) + b"]" for row in rows]
    path = put(tmp_path / "numbers.jsonl", b"".join(line + b"\n" for line in raw))
    expected = []
    for number, line in enumerate(raw, 1):
        try:
            expected.append((repr(loads(line)), number))
        except SyntaxProblem:
            continue
    batches = Reader(raw=True).read([str(path)])
    for items in (Reader().read([str(path)]), (item for lines in batches for item in parse_lines(lines))):
        assert expected == [(repr(item[0]), item[2]) for item in items if not isinstance(item, InputError)]


def test_one_long_literal_among_short_ones_is_exact(tmp_path: Path) -> None:
    """In a file of many read buffers, the one line holding a long literal is read exactly, in its place; the
    others keep floats."""
    raw = [b'{"n": %d, "x": 0.5, "text": "%s"}' % (i, b"a" * 100) for i in range(3000)]
    raw[1500] = b'{"n": 1500, "x": 0.5, "y": 12.000000000000000001}'
    path = put(tmp_path / "numbers.jsonl", b"\n".join(raw) + b"\n")
    assert 4 * checker.reading.READ_BYTES < path.stat().st_size
    items = list(Reader().read([str(path)]))
    assert [(n, n + 1) for n in range(3000)] == [(item[0]["n"], item[2]) for item in items]
    documents = [item[0] for item in items]
    assert [Decimal("0.5"), Decimal("12.000000000000000001")] == [documents[1500]["x"], documents[1500]["y"]]
    assert {float} == {type(d["x"]) for i, d in enumerate(documents) if i != 1500}


@pytest.mark.parametrize("text, exact", [
    (b'{"id": "3156547891234567890", "x": 0.5}', False),  # a 19-digit order number is text
    (b'{"3156547891234567890": 1, "x": 0.5}', False),  # so is a name
    (b'{"t": "a\\"12345678901234567890", "x": 0.5}', False),  # after an escaped quote, still inside the text
    (b'{"t": "a\\\\", "y": 12.000000000000000001}', True),  # after an escaped backslash, the text has ended
    (b'{"id": "3156547891234567890", "y": 12.000000000000000001}', True),
    (b'[{"id": "3156547891234567890"}, {"id": "O-2", "y": 1e300}]', True),
    (b'[12345678901234567890]', True),
])
def test_long_runs_of_digits_only_inside_strings_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: bytes, exact: bool
) -> None:
    """Only a number orjson may not read exactly sends a text to the exact parser (~36 us more a line),
    not digits inside strings; a whole file and a line alike."""
    slow: list[bytes] = []
    exact_loads = checker.reading._exact_loads
    monkeypatch.setattr(checker.reading, "_exact_loads", lambda data: slow.append(data) or exact_loads(data))
    whole = loads(text)
    assert len(slow) == exact
    assert repr(whole) == repr(exact_loads(text) if exact else orjson.loads(text))
    path = put(tmp_path / "one.jsonl", text + b"\n" + b'{"n": 1}\n' * 3)
    items = list(Reader().read([str(path)]))
    assert len(slow) == 2 * exact
    assert repr(items[0][0]) == repr(whole)


@pytest.mark.parametrize("line", [
    b'{"kind":"merchant","id":"M1"}', b'{"id": "M1", "kind" :\t "merchant"}', b'{"kind":"product","merchant_id":"M1"}',
    b'{"subkind":"merchant"}', b'{"kind":"merchants"}', b'kind":"merchant"', b'{"x":"kind","y":"merchant"}',
    b'{"kind"\r:\x0b"merchant"}', b'{"k":"kind\\"", "kind": "merchant"}', b'{"kind":"product"} {"kind":"merchant"}',
])
def test_the_merchant_pre_pass_picks_the_lines_it_always_did(line: bytes) -> None:
    """engine.MERCHANT_TEXT, spelt for a faster search, finds a match in the same lines as its plain spelling."""
    from checker.engine import MERCHANT_TEXT

    plain = re.compile(rb'"kind"\s*:\s*"merchant"')
    assert (plain.search(line) is None) == (MERCHANT_TEXT.search(line) is None)


def tiers(last_price: bytes) -> bytes:
    """A tier table whose second tier's price is the literal `last_price`, after a first tier at 12."""
    doc = product(id="T1", price={"mode": "tiered", "tiers": [
        {"min_qty": 1, "max_qty": 9, "price": "12"}, {"min_qty": 10, "price": 0}]})
    return text(doc).replace(b'"price": 0}', b'"price": ' + last_price + b"}")


@pytest.mark.parametrize("name", ["t.json", "t.jsonl"])
def test_price_one_part_in_1e18_higher_is_a_rising_tier(tmp_path: Path, name: str) -> None:
    """12.000000000000000001 after 12 is a rising price (a float would see 12 twice)."""
    report = scan(put(tmp_path / name, tiers(b"12.000000000000000001") + b"\n"))
    assert [("tier-anomaly/price-rises", "/price/tiers/1/price")] == [(f.rule, f.path) for f in report.findings]


def test_price_equal_in_a_long_literal_is_not_rising(tmp_path: Path) -> None:
    """12.000000000000000000 after 12 is the same price: no finding."""
    report = scan(put(tmp_path / "t.json", tiers(b"12.000000000000000000")))
    assert ([], 1) == (list(report.findings), report.documents)


def test_twenty_digit_moq_is_reported_against_the_maximum(tmp_path: Path) -> None:
    """A 20-digit MOQ is read exactly and the reason says the allowed range it falls outside."""
    path = put(tmp_path / "moq.json", text(product(moq=12345678901234567890)))
    reason = "12345678901234567890 is not a whole number from 1 to 1,000,000,000,000"
    assert [InputError(str(path), None, "/moq", reason)] == list(scan(path).errors)


# -- streaming -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """200,000 documents (over 25 MB) as .jsonl and as .jsonl.gz."""
    folder = tmp_path_factory.mktemp("big")
    data = lines(*(product(id=f"G{i}") for i in range(200_000)))
    assert len(data) > 25_000_000
    return {
        ".jsonl": put(folder / "big.jsonl", data),
        ".jsonl.gz": put(folder / "big.jsonl.gz", gzip.compress(data, compresslevel=1)),
    }


def peak_memory(action: Any) -> tuple[Any, int]:
    """The result of `action()` and the peak of Python allocations while it ran."""
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("ext", [".jsonl", ".jsonl.gz"])
def test_first_document_arrives_without_reading_the_file(big_lines: dict[str, Path], ext: str) -> None:
    """The first document of a 25 MB JSON Lines file is yielded after reading one buffer of about a
    megabyte (reading.BATCH_BYTES: the lines of a batch), not the file."""
    items = Reader().read([str(big_lines[ext])])
    first, peak = peak_memory(lambda: next(items))
    items.close()
    assert ("G0", 1) == (first[0]["id"], first[2])
    assert peak < 4_000_000


@pytest.mark.parametrize("ext", [".jsonl", ".jsonl.gz"])
def test_memory_stays_flat_while_iterating(big_lines: dict[str, Path], ext: str) -> None:
    """Going through 50,000 documents (about 6 MB of text) or all 200,000 (25 MB) takes the same memory:
    a buffer of lines at a time, never the file."""

    def last_of(count: int) -> Any:
        return lambda: collections.deque(itertools.islice(Reader().read([str(big_lines[ext])]), count), maxlen=1)[0]

    last, peak = peak_memory(last_of(50_000))
    assert ("G49999", 50_000) == (last[0]["id"], last[2])
    last, whole = peak_memory(last_of(200_000))
    assert ("G199999", 200_000) == (last[0]["id"], last[2])
    assert peak < 6_000_000 and whole < 6_000_000
    assert whole < 1.2 * peak


def test_the_merchant_search_parses_the_lines_an_escape_may_hide_a_merchant_in() -> None:
    """The look-up's search of raw lines (engine.MERCHANT_TEXT) cannot see "merch\\u0061nt": a line with an
    escape of an ASCII character is parsed whatever the search says. Escapes of other characters (a catalog
    written with every Chinese character escaped) spell no "merchant": their lines are not parsed for it."""
    from checker.engine import MERCHANT_TEXT
    from checker.reading import Lines, parse_lines

    lines = [b'{"kind":"product","id":"P-1","title":"\\u4e2d\\u6587 caf\\u00e9"}',
             b'{"kind":"merch\\u0061nt","id":"M-1"}',
             b'{"kind":"product","id":"P-2"}',
             b'{"\\u006bind" : "merchant","id":"M-2"}',
             b'{"kind":"merchant","id":"M-3"}']
    found = [item[0]["id"] for item in parse_lines(Lines("c.jsonl", 1, lines), MERCHANT_TEXT, quiet=True)]
    assert found == ["M-1", "M-2", "M-3"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_named_twice_is_read_once(tmp_path: Path, jobs: str) -> None:
    """A folder and a file in it, a file named twice, a link to a file of the folder: each file is read once
    (fixtures/ and a file of it counted 105 documents of 104, and reported the bait tier twice)."""
    folder = tmp_path / "catalog"
    put(folder / "a.jsonl", lines(GOOD, product(id="G2")))
    put(folder / "b.json", text(product(id="G3")))
    (folder / "link-to-a.jsonl").symlink_to(folder / "a.jsonl")
    code, out = cli_scan(str(folder), str(folder / "b.json"), str(folder), str(folder / "a.jsonl"), "--jobs", jobs)
    assert 0 == code
    assert (3, 0) == (out["summary"]["documents"], out["summary"]["errors"])
