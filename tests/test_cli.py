"""The command line as a CI job and a listing tool use it: output shapes and exit status."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli import cli

from .conftest import LINEN, ROOT, SWEATER, compliance, doc, write_json, write_jsonl

AS_OF = "2022-12-28"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_scan_fixtures_json_has_the_contract_shape() -> None:
    """`compliance scan fixtures/ --format json` prints findings, errors, not_evaluated and summary."""
    code, out, _ = run("scan", str(ROOT / "fixtures"), "--format", "json", "--as-of", AS_OF)
    report = json.loads(out)
    assert 1 == code
    assert {"findings", "errors", "not_evaluated", "summary", "metadata"} == set(report)
    finding = next(f for f in report["findings"] if f["document"]["id"] == "1600000000002")
    assert {
        "rule": "tier-anomaly/bait-tier",
        "family": "tier-anomaly",
        "severity": "error",
        "penalty": "publishing-anomaly",
        "document": {"kind": "product", "id": "1600000000002", "source": str(ROOT / "fixtures/products/linen-dress.json")},
        "merchant_id": "M-LINEN",
        "product_id": "1600000000002",
        "path": "/price/tiers/3/price",
        "message": "Tier 4 (10000+) drops to 10.00 from 18.20, 45.1 % lower: below 10.92, the least price within 40.0 % of the tier before, it looks like a bait price.",
        "remedy": "Set tier 4 to the price the seller really sells at (at least 10.92), or remove the tier.",
    } == finding
    jsonl = next(f for f in report["findings"] if f["document"]["id"] == "FX-TIER-1")
    assert jsonl["document"]["source"].endswith("fixtures/products/tier-tables.jsonl:1")
    summary = report["summary"]
    lines = sum(len(p.read_text("utf-8").split("\n")) - 1 for p in (ROOT / "fixtures").rglob("*.jsonl"))
    singles = len(list((ROOT / "fixtures").rglob("*.json")))
    assert lines + singles == summary["documents"]  # every line of JSON Lines and every .json: one document
    assert summary["read"] == summary["documents"] + summary["errors"]
    assert 0 == summary["errors"]
    assert sum(summary["by_family"].values()) == len(report["findings"])
    assert summary["by_family"]["tier-anomaly"] == sum(f["family"] == "tier-anomaly" for f in report["findings"])
    assert set(summary["by_family"]) == {
        "fake-price", "fake-moq", "tier-anomaly", "spec-anomaly", "epr", "discount-floor", "quality", "marketing",
        "star-level",
    }
    meta = report["metadata"]
    assert meta["as_of"] == "2022-12-28T00:00:00-08:00"
    assert len(meta["policy_pack"]["content_hash"]) == 64


def test_exit_0_when_clean(tmp_path: Path) -> None:
    """Every document read, nothing at or above --fail-on: exit 0."""
    path = write_json(tmp_path / "p.json", SWEATER)
    code, out, _ = run("scan", str(path))
    assert (0, "1 document(s) checked, 0 finding(s) (no findings), 0 unreadable or invalid, 0 rule check(s) not evaluated\n") == (code, out)


def test_exit_1_on_a_finding_and_fail_on_threshold(tmp_path: Path) -> None:
    """An error finding exits 1; --fail-on never makes the same report exit 0."""
    path = write_json(tmp_path / "p.json", LINEN)
    assert 1 == run("scan", str(path))[0]
    assert 1 == run("scan", str(path), "--fail-on", "advice")[0]
    assert 0 == run("scan", str(path), "--fail-on", "never")[0]


def test_exit_2_for_one_corrupt_file_among_good_ones(tmp_path: Path) -> None:
    """A corrupt file exits 2, and the good files beside it are still checked and reported."""
    write_json(tmp_path / "a.json", SWEATER)
    (tmp_path / "b.json").write_text('{"kind": "product", "id": ', "utf-8")
    write_jsonl(tmp_path / "c.jsonl", [LINEN, doc(SWEATER, id="P-2")])
    result = compliance("scan", str(tmp_path), "--format", "json")
    report = json.loads(result.stdout)
    assert 2 == result.returncode
    assert [{"file": str(tmp_path / "b.json"), "line": 1, "pointer": "",
             "reason": "not valid JSON: unexpected end of data (column 27)"}] == report["errors"]
    assert 3 == report["summary"]["documents"]
    assert ["P-LINEN"] == [f["document"]["id"] for f in report["findings"]]


def test_exit_2_for_an_invalid_document_with_pointer(tmp_path: Path) -> None:
    """An invalid snapshot is an error entry with its JSON Pointer and a readable reason."""
    bad = doc(SWEATER)
    bad["price"]["tiers"][0]["price"] = "abc"
    path = write_jsonl(tmp_path / "p.jsonl", [SWEATER, bad])
    code, out, _ = run("scan", str(path), "--format", "json")
    assert 2 == code
    assert [{"file": str(path), "line": 2, "pointer": "/price/tiers/0/price",
             "reason": '"abc" is not a decimal amount'}] == json.loads(out)["errors"]


def test_text_output_of_an_error(tmp_path: Path) -> None:
    """The text report lists what could not be checked with file:line and pointer."""
    bad = doc(SWEATER, moq=0)
    path = write_jsonl(tmp_path / "p.jsonl", [bad])
    code, out, _ = run("scan", str(path))
    assert 2 == code
    assert f"  {path}:1: /moq: 0 is not a whole number from 1 to 1,000,000,000,000\n" in out


def test_unknown_kind_is_an_error(tmp_path: Path) -> None:
    """A document without a known kind is an error entry, never silently skipped."""
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "x"}, {"kind": "listing", "id": "y"}])
    code, out, _ = run("scan", str(path), "--format", "json")
    errors = json.loads(out)["errors"]
    assert 2 == code
    assert [
        ("/kind", 'required field is missing (one of "product", "order", "merchant", "signup")'),
        ("/kind", '"listing" is not a document kind (one of "product", "order", "merchant", "signup")'),
    ] == [(e["pointer"], e["reason"]) for e in errors]


def test_check_one_product_from_stdin() -> None:
    """`compliance check -` reads one document from stdin (the listing tool's pre-publish hook)."""
    result = compliance("check", "-", "--format", "json", stdin=json.dumps(LINEN, indent=2).encode())
    report = json.loads(result.stdout)
    assert 1 == result.returncode
    assert [("tier-anomaly/bait-tier", "<stdin>")] == [(f["rule"], f["document"]["source"]) for f in report["findings"]]


def test_check_refuses_a_folder(tmp_path: Path) -> None:
    """check is for files; a folder is a usage error (exit 2) pointing at scan."""
    code, _, err = run("check", str(tmp_path))
    assert 2 == code
    assert f"Error: {tmp_path} is a folder; check takes files (use: compliance scan {tmp_path})" in err


def test_bad_options_exit_2(tmp_path: Path) -> None:
    """An unknown format, --fail-on value or a bad --as-of is exit 2 with the reason."""
    path = write_json(tmp_path / "p.json", SWEATER)
    code, _, err = run("scan", str(path), "--format", "xml")
    assert 2 == code and "Invalid value for '--format': 'xml' is not one of 'text', 'json', 'jsonl', 'sarif', 'junit'" in err
    code, _, err = run("scan", str(path), "--as-of", "yesterday")
    assert 2 == code and "'yesterday' is not a time; give RFC 3339 (2022-12-27T08:00:00Z) or a date" in err
    code, _, err = run("scan", str(path), "--fail-on", "critical")
    assert 2 == code
    code, _, err = run("scan", str(tmp_path / "missing.json"), "--format", "json")
    assert 2 == code


def test_missing_path_is_an_error_entry(tmp_path: Path) -> None:
    """A path that does not exist is reported, not ignored."""
    code, out, _ = run("scan", str(tmp_path / "nope.json"), "--format", "json")
    assert 2 == code
    assert [{"file": str(tmp_path / "nope.json"), "line": None, "pointer": "",
             "reason": "cannot read: No such file or directory"}] == json.loads(out)["errors"]


def test_output_file_and_chinese(tmp_path: Path) -> None:
    """--output writes the report to a file; --lang zh gives the rule's Chinese message and remedy."""
    path = write_json(tmp_path / "p.json", LINEN)
    out_file = tmp_path / "report.json"
    code, out, _ = run("scan", str(path), "--format", "json", "--lang", "zh", "-o", str(out_file))
    finding = json.loads(out_file.read_text("utf-8"))["findings"][0]
    assert (1, "") == (code, out)
    assert "第4个阶梯（10000起）由18.20降至10.00，降幅45.1%：低于10.92（较前一阶梯降幅不超过40.0%的最低价），疑似诱饵价格。" == finding["message"]
    assert finding["remedy"].startswith("将第4个阶梯改为真实可成交价格（不低于10.92）")


def test_jsonl_output_is_one_record_a_line(tmp_path: Path) -> None:
    """--format jsonl streams findings, then errors, then the summary, one object a line."""
    path = write_jsonl(tmp_path / "p.jsonl", [LINEN, {"kind": "x"}])
    code, out, _ = run("scan", str(path), "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert 2 == code
    assert ["finding", "error", "summary"] == [line["type"] for line in lines]


def test_policies_lists_rules() -> None:
    """`compliance policies` lists every rule with id, family, severity, penalty and kind."""
    code, out, _ = run("policies", "--format", "json")
    rules = json.loads(out)["rules"]
    assert 0 == code
    assert {"id": "tier-anomaly/bait-tier", "family": "tier-anomaly", "severity": "error",
            "penalty": "publishing-anomaly", "kind": "product", "title": "No bait tier",
            "waivable": True, "file": "policies/tier-anomaly.toml"} in rules


def test_explain_in_both_languages() -> None:
    """`compliance explain RULE` says what, why, an example and the remedy, in English and Chinese."""
    code, out, _ = run("explain", "tier-anomaly/bait-tier")
    assert 0 == code
    for expected in [
        "tier-anomaly/bait-tier — No bait tier",
        "What it checks, and why",
        "max_drop = 0.40",
        "  → Tier 4 (10000+) drops to 10.00 from 18.20, 45.1 % lower: below 10.92, the least price within 40.0 % of the tier "
        "before, it looks like a bait price.",
        "  Set tier 4 to the price the seller really sells at (at least 10.92), or remove the tier.",
        "tier-anomaly/bait-tier — 不设诱饵阶梯价",
        "整改方案",
        "  → 第4个阶梯（10000起）由18.20降至10.00，降幅45.1%：低于10.92（较前一阶梯降幅不超过40.0%的最低价），疑似诱饵价格。",
    ]:
        assert expected in out


def test_explain_unknown_rule_suggests() -> None:
    """A misspelt rule id exits 2 with the closest ids."""
    code, _, err = run("explain", "tier-anomaly/bait")
    assert 2 == code
    assert "compliance: no rule 'tier-anomaly/bait'; did you mean tier-anomaly/bait-tier" in err


def test_kind_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    """A kind given as a list or object is an error entry, not a crash."""
    path = write_jsonl(tmp_path / "p.jsonl", [{"kind": ["product"]}, {"kind": {"a": 1}}, SWEATER])
    code, out, _ = run("scan", str(path), "--format", "json")
    report = json.loads(out)
    assert (2, 1) == (code, report["summary"]["documents"])
    assert [
        "a list is not a document kind (one of \"product\", \"order\", \"merchant\", \"signup\")",
        "an object is not a document kind (one of \"product\", \"order\", \"merchant\", \"signup\")",
    ] == [e["reason"] for e in report["errors"]]


def test_unwritable_output_exits_2_not_1(tmp_path: Path) -> None:
    """An --output in a missing folder is reported in one line, exit 2 (1 would mean findings)."""
    path = write_json(tmp_path / "p.json", SWEATER)
    result = compliance("check", str(path), "-o", str(tmp_path / "nope" / "out.json"))
    assert (2, f"compliance: No such file or directory: {tmp_path / 'nope' / 'out.json'}\n") == (
        result.returncode, result.stderr)


def test_as_of_beyond_the_calendar_is_a_usage_error(tmp_path: Path) -> None:
    """An --as-of platform time cannot show (year 9999 west of Pacific) is a bad option, exit 2."""
    path = write_json(tmp_path / "p.json", SWEATER)
    result = compliance("check", str(path), "--as-of", "9999-12-31T23:59:59-12:00")
    assert 2 == result.returncode
    assert "'9999-12-31T23:59:59-12:00' is not a time" in result.stderr


def test_as_of_takes_only_rfc3339_or_a_date(tmp_path: Path) -> None:
    """Shapes Python would accept but the contract does not (20221227, 2022-W52-1) are refused."""
    path = write_json(tmp_path / "p.json", SWEATER)
    for value in ("20221227", "2022-W52-1", "2022-12-27T08"):
        code, _, err = run("check", str(path), "--as-of", value)
        assert (2, True) == (code, f"'{value}' is not a time" in err)


def test_a_report_written_into_the_scanned_folder_is_not_read(tmp_path: Path) -> None:
    """scan DIR -o DIR/report.jsonl read its own report as it grew (1,732 errors in a scan of 3,000
    documents), and next time the report of the run before; with workers too. baseline alike."""
    write_jsonl(tmp_path / "catalog.jsonl", [LINEN, doc(SWEATER, id="S-2"), doc(LINEN, id="L-3")] * 50)
    report = tmp_path / "report.jsonl"
    for jobs in ("1", "2", "1"):
        result = compliance("scan", str(tmp_path), "--format", "jsonl", "-o", str(report), "--jobs", jobs,
                            "--as-of", AS_OF)
        assert 1 == result.returncode, result.stderr
        summary = json.loads(report.read_text().splitlines()[-1])
        assert (150, 150, 0) == (summary["read"], summary["documents"], summary["errors"])
    report.unlink()  # another command's report is an input like any file
    for _ in range(2):
        result = compliance("baseline", str(tmp_path), "-o", str(tmp_path / "baseline.json"), "--as-of", AS_OF)
        assert 0 == result.returncode, result.stderr


def test_an_input_named_as_the_output_is_refused_not_emptied(tmp_path: Path) -> None:
    """Opening -o to write empties it: an input named as the output exits 2 before anything is read or written."""
    listing = write_json(tmp_path / "listing.json", LINEN)
    before = listing.read_bytes()
    for command in ("scan", "check"):
        result = compliance(command, str(listing), "-o", str(tmp_path / "." / "listing.json"), "--as-of", AS_OF)
        assert 2 == result.returncode
        assert "is an input and the output (-o) both" in result.stderr
        assert before == listing.read_bytes()


def test_the_default_jobs_count_what_a_folder_holds(tmp_path: Path) -> None:
    """--jobs 0 (the default) starts workers only for 4 MB or more to read: in a folder too (a folder, even
    fixtures/ with 104 documents, started a worker per core), counted while walking it until there is enough."""
    from checker.cli import _jobs
    from checker.parallel import default_jobs

    small = write_jsonl(tmp_path / "small" / "a.jsonl", [LINEN] * 10)
    big = tmp_path / "big"
    for i in range(5):
        (big / f"part-{i}").mkdir(parents=True)
        (big / f"part-{i}" / "a.jsonl").write_bytes(b"x" * (1 << 20))
    assert 1 == _jobs(0, (str(small.parent),))
    assert 1 == _jobs(0, (str(ROOT / "fixtures"),))
    assert default_jobs() == _jobs(0, (str(big),))
    assert default_jobs() == _jobs(0, (str(small), str(big / "part-0"), str(big / "part-1"), str(big)))
    assert 1 == _jobs(0, ("-", str(big)))
    assert 3 == _jobs(3, (str(small),))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_closed_pipe_or_an_interrupt_is_exit_2_never_the_findings_status(tmp_path: Path, jobs: str) -> None:
    """click's main exited 1, the status of findings, on ^C and when the report's reader went away (| head),
    even with --fail-on never: a CI took an interrupted or cut scan for one with findings. Both exit 2; the
    closed pipe quietly, the interrupt saying the report is incomplete."""
    catalog = write_jsonl(tmp_path / "c.jsonl", [doc(LINEN, id=f"P-{i}") for i in range(3000)])  # ~1 MB of text
    command = [sys.executable, "-m", "checker", "scan", str(catalog), "--fail-on", "never", "--jobs", jobs,
               "--as-of", AS_OF]
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert reader.stdout is not None and reader.stdout.readline()
    reader.stdout.close()  # as `| head -1` does
    _, err = reader.communicate(timeout=120)
    assert (2, b"") == (reader.returncode, err)
    scan = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert scan.stdout is not None and scan.stdout.readline()  # it runs, and blocks once the pipe is full
    scan.send_signal(signal.SIGINT)
    _, err = scan.communicate(timeout=120)
    assert 2 == scan.returncode
    assert b"compliance: interrupted; the report is incomplete" in err and b"Traceback" not in err


def test_the_text_report_groups_many_rules_not_evaluated_and_totals_the_families(tmp_path: Path) -> None:
    """A catalog without its merchants' file: one line a rule and document was 44,786 lines for 50,000
    documents. Over 20, the text groups them by reason (json lists each); the summary names the families."""
    from checker.formats.text import GROUP_OVER

    products = [doc(LINEN, id=f"P-{i}", merchant_id=f"M-{i % 3}", promotions=[
        {"id": "PR", "type": "member-price", "audience": "L2+", "discount": "9.5", "start": "2022-12-01",
         "end": "2023-04-01"}]) for i in range(30)]
    catalog = write_jsonl(tmp_path / "c.jsonl", products)
    code, out, _ = run("scan", str(catalog), "--as-of", AS_OF)
    _, report, _ = run("scan", str(catalog), "--as-of", AS_OF, "--format", "json")
    skipped = json.loads(report)["not_evaluated"]
    assert len(skipped) > GROUP_OVER
    grouped = [line for line in out.splitlines() if " of them: merchant M-" in line]
    assert 3 == len(grouped)  # one a missing merchant
    assert len(skipped) == sum(int(line.split()[0]) for line in grouped)
    assert "by family: discount-floor 30, tier-anomaly 30" == out.splitlines()[-1]  # the most first, then by name


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full (a device that is always full)")
def test_a_full_disk_names_the_report_file() -> None:
    """'compliance: No space left on device' did not say which file: the report's is named, exit 2."""
    listing = str(ROOT / "fixtures" / "products" / "linen-dress.json")
    for command in (["scan", str(ROOT / "fixtures")], ["check", listing]):
        result = compliance(*command, "-o", "/dev/full", "--as-of", AS_OF)
        assert 2 == result.returncode
        assert "compliance: No space left on device: /dev/full" in result.stderr
