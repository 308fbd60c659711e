"""Waivers and baseline in the machine formats: SARIF, JUnit and GitHub show what text and JSON show.

With --waivers and --baseline the text and JSON reports list the waivers
that expired (README: an expired waiver "no longer waives, and is itself
listed under `expired_waivers`") and count the waived and baselined
findings. A CI job that begins to fail because a waiver expired must find
the why in whatever format it reads: a SARIF configuration notification, a
JUnit test case, a GitHub warning annotation (the HTML page: in
test_html_report.py). Without waivers or baseline each format stays as it
was (the tests below check the absence; the byte-for-byte comparison is in
the report of the change).

The catalog (`excused_catalog`): three listings with one bait tier each,
as of 2022-12-28: P-LINEN waived (until 2023-01-31), P-BASE in the
baseline, P-NEW counted, and P-NEW's waiver expired on 2022-12-01: it is
why P-NEW fails.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from checker.cli import cli

from .conftest import LINEN, ROOT, doc, write_jsonl

AS_OF = "2022-12-28"
CJK = re.compile("[\u4e00-\u9fff]")
WAIVERS = """
[[waiver]]
rule = "tier-anomaly/bait-tier"
document = "P-LINEN"
reason = "the 10000+ tier is the distributor price (ticket 4711)"
owner = "li.wei@example.com"
expires = 2023-01-31

[[waiver]]
rule = "tier-anomaly/bait-tier"
document = "P-NEW"
path = "/price/tiers/3/price"
reason = "launch price, one month"
owner = "wang.fang@example.com"
expires = 2022-12-01
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def excused_catalog(root: Path) -> tuple[Path, Path, Path]:
    """The catalog, its waiver file and its baseline (of P-BASE alone), in `root`."""
    base_only = write_jsonl(root / "then" / "listings.jsonl", [doc(LINEN, id="P-BASE")])
    baseline = root / "baseline.json"
    code, _ = run("baseline", str(base_only), "-o", str(baseline), "--as-of", AS_OF)
    assert 0 == code
    catalog = write_jsonl(root / "now" / "listings.jsonl",
                          [doc(LINEN, id="P-LINEN"), doc(LINEN, id="P-BASE"), doc(LINEN, id="P-NEW")])
    waivers = root / "waivers.toml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    return catalog, waivers, baseline


@pytest.fixture(scope="module")
def excused(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return excused_catalog(tmp_path_factory.mktemp("excused"))


def scan(excused: tuple[Path, Path, Path], fmt: str, *more: str, plain: bool = False) -> str:
    """The catalog scanned in `fmt`, with its waivers and baseline (plain: without them)."""
    catalog, waivers, baseline = excused
    excuses = () if plain else ("--waivers", str(waivers), "--baseline", str(baseline))
    code, out = run("scan", str(catalog), *excuses, "--format", fmt, "--as-of", AS_OF, *more)
    assert 1 == code  # P-NEW's bait tier counts
    return out


@pytest.fixture(scope="module")
def expected(excused: tuple[Path, Path, Path]) -> dict[str, Any]:
    """The JSON report: what the other formats must say."""
    report = json.loads(scan(excused, "json"))
    assert (3, 1, 1, 1) == tuple(report["summary"][k] for k in ("findings", "waived", "baselined", "expired_waivers"))
    (expired,) = report["expired_waivers"]
    assert ("P-NEW", "2022-12-01T00:00:00-08:00") == (expired["document"], expired["expires"])
    return report


# -- SARIF --------------------------------------------------------------------------------------


def test_sarif_an_expired_waiver_is_a_configuration_warning(excused: tuple[Path, Path, Path],
                                                            expected: dict[str, Any]) -> None:
    log = json.loads(scan(excused, "sarif"))
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text("utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run_ = log["runs"][0]
    driver = run_["tool"]["driver"]
    invocation, = run_["invocations"]
    (note,) = invocation["toolConfigurationNotifications"]
    assert ("expired-waiver", "ExpiredWaiver", "warning") == (
        driver["notifications"][note["descriptor"]["index"]]["id"],
        driver["notifications"][note["descriptor"]["index"]]["name"], note["level"])
    assert "expired-waiver" == note["descriptor"]["id"]
    rule = note["associatedRule"]
    assert "tier-anomaly/bait-tier" == rule["id"] == driver["rules"][rule["index"]]["id"]
    assert expected["expired_waivers"][0] == note["properties"]
    assert note["message"]["text"].startswith("tier-anomaly/bait-tier P-NEW /price/tiers/3/price: the waiver expired "
                                              "2022-12-01T00:00:00-08:00")
    assert "launch price, one month" in note["message"]["text"]
    (where,) = note["locations"]
    assert excused[1].as_uri() == where["physicalLocation"]["artifactLocation"]["uri"]
    # the scan itself ran: the expired waiver is no execution error
    assert ([], True) == (invocation["toolExecutionNotifications"], invocation["executionSuccessful"])
    # the counts, as in the JSON summary; the findings still marked as before
    assert expected["summary"] == run_["properties"]["summary"]
    results = {r["properties"]["document"]["id"]: r for r in run_["results"]}
    assert ["accepted"] == [s["status"] for s in results["P-LINEN"]["suppressions"]]
    assert "unchanged" == results["P-BASE"]["baselineState"]
    assert "suppressions" not in results["P-NEW"] and "baselineState" not in results["P-NEW"]


def test_sarif_without_waivers_has_no_configuration_notifications(excused: tuple[Path, Path, Path]) -> None:
    run_ = json.loads(scan(excused, "sarif", plain=True))["runs"][0]
    assert "toolConfigurationNotifications" not in run_["invocations"][0]
    assert ["input-error", "not-evaluated", "rule-failed"] == [n["id"] for n in run_["tool"]["driver"]["notifications"]]


# -- JUnit --------------------------------------------------------------------------------------


def test_junit_an_expired_waiver_is_a_skipped_test_case_and_the_counts_are_properties(
        excused: tuple[Path, Path, Path], expected: dict[str, Any]) -> None:
    root = ET.fromstring(scan(excused, "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    waiver_cases = [c for c in cases if c.get("classname") == "waiver"]
    (case,) = waiver_cases
    where = expected["expired_waivers"][0]["where"]
    assert f"{where}: tier-anomaly/bait-tier P-NEW /price/tiers/3/price" == case.get("name")
    skipped = case.find("skipped")
    assert skipped is not None
    assert "expired 2022-12-01T00:00:00-08:00: no longer waives" == skipped.get("message")
    assert "launch price, one month" in (skipped.text or "") and "wang.fang@example.com" in (skipped.text or "")
    # one document (P-NEW) fails; the waived and baselined pass; the expired waiver is skipped
    totals = {"tests": str(len(cases)), "failures": "1", "errors": "0", "skipped": "1"}
    assert totals == {k: suite.get(k) for k in totals} == {k: root.get(k) for k in totals}
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert {"summary.waived": "1", "summary.baselined": "1", "summary.expired_waivers": "1"} == {
        k: properties.get(k) for k in ("summary.waived", "summary.baselined", "summary.expired_waivers")}


def test_junit_without_waivers_has_no_waiver_cases_or_counts(excused: tuple[Path, Path, Path]) -> None:
    suite = ET.fromstring(scan(excused, "junit", plain=True)).find("testsuite")
    assert suite is not None
    assert [] == [c for c in suite.findall("testcase") if c.get("classname") == "waiver"]
    assert [] == [p.get("name") for p in suite.iter("property") if p.get("name") in
                  ("summary.waived", "summary.baselined", "summary.expired_waivers")]


# -- GitHub -------------------------------------------------------------------------------------


def test_github_an_expired_waiver_is_a_warning_on_the_waiver_file(excused: tuple[Path, Path, Path]) -> None:
    lines = scan(excused, "github").splitlines()
    warnings = [line for line in lines if "waiver expired" in line]
    (warning,) = warnings
    file = str(excused[1]).replace(":", "%3A").replace(",", "%2C")
    assert warning.startswith(f"::warning file={file},title=waiver expired%3A tier-anomaly/bait-tier::"
                              "tier-anomaly/bait-tier P-NEW /price/tiers/3/price: expired 2022-12-01T00:00:00-08:00, "
                              "no longer waives%0Areason: launch price, one month%0Aowner: wang.fang@example.com")
    # the findings keep their commands: the waived and baselined ones are notices, P-NEW an error
    assert ["::notice", "::notice", "::error"] == [line.split(" ")[0] for line in lines[:3]]
    assert lines[-2].startswith("compliance: 3 document(s) checked")
    assert "compliance: 1 waived, 1 in the baseline (not counted for the exit status), 1 waiver(s) expired" == lines[-1]


def test_github_without_waivers_ends_with_the_summary_alone(excused: tuple[Path, Path, Path]) -> None:
    lines = scan(excused, "github", plain=True).splitlines()
    assert [] == [line for line in lines if "waiver" in line]
    assert 4 == len(lines) and lines[-1].startswith("compliance: 3 document(s) checked")


# -- every machine format -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github"])
def test_in_chinese_the_expired_waiver_is_told_in_chinese(excused: tuple[Path, Path, Path], fmt: str) -> None:
    out = scan(excused, fmt, "--lang", "zh")
    if fmt == "sarif":
        text = json.loads(out)["runs"][0]["invocations"][0]["toolConfigurationNotifications"][0]["message"]["text"]
    elif fmt == "junit":
        text = next(e for e in ET.fromstring(out).iter("skipped")).get("message") or ""
    else:
        text = next(line for line in out.splitlines() if line.startswith("::warning"))
    assert "过期" in text and CJK.search(text)


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "html"])
def test_with_waivers_workers_give_the_same_output(excused: tuple[Path, Path, Path], fmt: str) -> None:
    assert scan(excused, fmt, "--jobs", "1") == scan(excused, fmt, "--jobs", "2")
