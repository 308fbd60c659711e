"""Waivers and baseline: accepted findings reported as such (not hidden), an expiry tested on both sides,
rules that cannot be waived, and a baseline that fails only on new findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli import cli

from .conftest import LINEN, ROOT, doc, write_json, write_jsonl

WAIVER = """
[[waiver]]
rule = "tier-anomaly/bait-tier"
document = "P-LINEN"
path = "/price/tiers/3/price"
reason = "the 10000+ tier is the distributor price (platform ticket 4711)"
owner = "li.wei@example.com"
expires = 2023-01-31
"""


def run(*args: str) -> tuple[int, dict | str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    out = result.stdout
    if "--format" in args and args[args.index("--format") + 1] == "json":
        out = json.loads(out)
    return result.exit_code, out, result.stderr


@pytest.fixture()
def linen(tmp_path: Path) -> Path:
    return write_json(tmp_path / "linen.json", LINEN)


@pytest.fixture()
def waivers(tmp_path: Path) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(WAIVER, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["scan", "check"])
def test_a_waiver_before_its_expiry_waives_and_is_reported(linen: Path, waivers: Path, command: str) -> None:
    code, report, _ = run(command, str(linen), "--waivers", str(waivers), "--format", "json",
                          "--as-of", "2023-01-30T23:59:59-08:00")
    assert 0 == code
    finding, = report["findings"]
    assert {"reason": "the 10000+ tier is the distributor price (platform ticket 4711)", "owner": "li.wei@example.com",
            "expires": "2023-01-31T00:00:00-08:00"} == finding["waived"]
    assert (1, 1, 0, 0) == (report["summary"]["findings"], report["summary"]["waived"], report["summary"]["baselined"],
                            report["summary"]["expired_waivers"])
    assert "expired_waivers" not in report


@pytest.mark.parametrize("command", ["scan", "check"])
def test_at_its_expiry_a_waiver_no_longer_waives_and_is_itself_reported(linen: Path, waivers: Path,
                                                                        command: str) -> None:
    code, report, _ = run(command, str(linen), "--waivers", str(waivers), "--format", "json",
                          "--as-of", "2023-01-31T00:00:00-08:00")
    assert 1 == code
    finding, = report["findings"]
    assert "waived" not in finding
    expired, = report["expired_waivers"]
    assert ("tier-anomaly/bait-tier", "P-LINEN", "li.wei@example.com", "2023-01-31T00:00:00-08:00") == (
        expired["rule"], expired["document"], expired["owner"], expired["expires"])
    assert expired["where"].endswith("waivers.toml: waiver[1]")
    assert (0, 1) == (report["summary"]["waived"], report["summary"]["expired_waivers"])
    code, text, _ = run(command, str(linen), "--waivers", str(waivers), "--as-of", "2023-02-01")
    assert "Expired waivers (no longer waive)" in text and "waiver[1]  tier-anomaly/bait-tier P-LINEN" in text


def test_a_waiver_for_another_pointer_or_document_waives_nothing(linen: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(WAIVER.replace("/price/tiers/3/price", "/price/tiers/2/price"), encoding="utf-8")
    assert 1 == run("check", str(linen), "--waivers", str(other), "--as-of", "2022-12-28")[0]
    other.write_text(WAIVER.replace('document = "P-LINEN"', 'document = "P-OTHER"'), encoding="utf-8")
    assert 1 == run("check", str(linen), "--waivers", str(other), "--as-of", "2022-12-28")[0]
    other.write_text(WAIVER.replace('path = "/price/tiers/3/price"\n', ""), encoding="utf-8")  # any pointer
    assert 0 == run("check", str(linen), "--waivers", str(other), "--as-of", "2022-12-28")[0]


#: the seed's toy car shipped to Germany and France without EPR numbers (RULES.md 5): blocked orders
EPR_ORDER = ROOT / "fixtures" / "cases" / "toy-car-epr.jsonl"


def test_a_rule_that_cannot_be_waived_refuses_the_waiver(tmp_path: Path) -> None:
    assert 1 == run("scan", str(EPR_ORDER), "--as-of", "2022-12-28")[0]
    waivers = tmp_path / "w.toml"
    waivers.write_text(WAIVER.replace("tier-anomaly/bait-tier", "epr/order-blocked"), encoding="utf-8")
    code, _, err = run("scan", str(EPR_ORDER), "--waivers", str(waivers), "--as-of", "2022-12-28")
    assert 2 == code
    assert "waiver[1]: rule: epr/order-blocked cannot be waived (the rule says waivable = false)" in err


def test_the_baseline_fails_only_on_new_findings_and_never_excuses_an_epr_block(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(ROOT / "fixtures", catalog)
    base = tmp_path / "baseline.json"
    code, out, _ = run("baseline", str(catalog), "-o", str(base), "--as-of", "2022-12-28")
    assert 0 == code and "73 finding(s) of 104 document(s)" in out
    code, report, _ = run("scan", str(catalog), "--baseline", str(base), "--format", "json", "--as-of", "2022-12-28")
    blocked = [f for f in report["findings"] if f["rule"] == "epr/order-blocked"]
    assert blocked and not any(f.get("baseline") for f in blocked)
    assert 1 == code  # the EPR blocks still fail
    assert len(report["findings"]) - len(blocked) == report["summary"]["baselined"]
    # without the files of the EPR blocks, the same catalog passes; a new bait tier fails
    for source in {f["document"]["source"].rsplit(":", 1)[0] for f in blocked}:
        Path(source).unlink()
    assert 0 == run("scan", str(catalog), "--baseline", str(base), "--as-of", "2022-12-28")[0]
    write_jsonl(catalog / "new.jsonl", [doc(LINEN, id="P-NEW")])
    code, report, _ = run("scan", str(catalog), "--baseline", str(base), "--format", "json", "--as-of", "2022-12-28")
    assert 1 == code
    assert ["P-NEW"] == [f["document"]["id"] for f in report["findings"] if not f.get("baseline")]


def test_a_baseline_fingerprint_survives_a_move_of_the_file(tmp_path: Path) -> None:
    first = write_json(tmp_path / "a" / "linen.json", LINEN)
    base = tmp_path / "b.json"
    assert 0 == run("baseline", str(first), "-o", str(base), "--as-of", "2022-12-28")[0]
    moved = write_jsonl(tmp_path / "elsewhere" / "export.jsonl", [{"kind": "merchant", "id": "M-9"}, LINEN])
    assert 0 == run("scan", str(moved), "--baseline", str(base), "--as-of", "2022-12-28")[0]


#: a merchant with DE WEEE on file, and its toy car: the EPR rules find one registration missing per country
#: and kind of goods, several at one place (/composition/circuit: DE and FR WEEE)
TOY_MERCHANT = {"kind": "merchant", "id": "M-EPR-TOYCAR", "name": "Shantou toys", "gold": True, "star_level": 2,
                "primary_industry": "toys",
                "epr": [{"country": "DE", "category": "packaging", "number": "DE2755553072093", "verified": True},
                        {"country": "DE", "category": "weee", "number": "DE 23691322", "verified": True},
                        {"country": "FR", "category": "packaging", "number": "FR423803_01UNWS", "verified": True}]}
TOY_CAR = {"kind": "product", "id": "P-EPR-TOYCAR", "merchant_id": "M-EPR-TOYCAR", "title": "Kids ride on car",
           "listing_type": "rts", "moq": 1, "price": {"mode": "range", "range": {"min": "89.00", "max": "92.00"}},
           "composition": {"packaging": True, "circuit": True, "battery": True}, "created_at": "2022-10-15"}


def test_a_new_finding_at_the_place_of_a_baselined_one_is_new(tmp_path: Path) -> None:
    """The merchant loses its DE WEEE registration: a second finding at /composition/circuit, beside FR WEEE's.
    The baseline kept one fingerprint (rule, document, path) for both, and excused the new one (exit 0);
    now the document's findings are matched by message, then one for one: only FR WEEE is baselined."""
    before = write_jsonl(tmp_path / "before" / "c.jsonl", [TOY_MERCHANT, TOY_CAR])
    base = tmp_path / "baseline.json"
    assert 0 == run("baseline", str(before), "-o", str(base), "--as-of", "2023-01-01")[0]
    assert 0 == run("scan", str(before), "--baseline", str(base), "--fail-on", "warning", "--as-of", "2023-01-01")[0]
    lost = {**TOY_MERCHANT, "epr": [r for r in TOY_MERCHANT["epr"] if r["category"] != "weee"]}
    after = write_jsonl(tmp_path / "after" / "c.jsonl", [lost, TOY_CAR])
    for jobs in ("1", "2"):
        code, report, _ = run("scan", str(after), "--baseline", str(base), "--fail-on", "warning",
                              "--format", "json", "--as-of", "2023-01-01", "--jobs", jobs)
        assert 1 == code
        new = [f for f in report["findings"] if not f.get("baseline")]
        assert [("/composition/circuit", True)] == [(f["path"], "Germany" in f["message"]) for f in new]
        assert report["summary"]["baselined"] == len(report["findings"]) - 1 > 1


def test_a_baselined_finding_whose_figures_changed_is_still_baselined(tmp_path: Path) -> None:
    """The bait tier of the linen dress moves from 10.00 to 9.00: its message changes, not its place; one for
    one, it is the finding the baseline has (a version-1 baseline, fingerprints only, matches too)."""
    first = write_json(tmp_path / "a" / "linen.json", LINEN)
    base = tmp_path / "b.json"
    assert 0 == run("baseline", str(first), "-o", str(base), "--as-of", "2022-12-28")[0]
    tiers = [dict(t) for t in LINEN["price"]["tiers"]]
    tiers[-1]["price"] = "9.00"
    cheaper = write_json(tmp_path / "c" / "linen.json", doc(LINEN, price={"mode": "tiered", "tiers": tiers}))
    code, report, _ = run("scan", str(cheaper), "--baseline", str(base), "--format", "json", "--as-of", "2022-12-28")
    assert 0 == code and all(f["baseline"] for f in report["findings"]) and "9.00" in report["findings"][0]["message"]
    old = json.loads(base.read_text())
    version_1 = write_json(tmp_path / "v1.json", {"baseline": 1, "metadata": old["metadata"],
                                                  "fingerprints": sorted({f for f, _ in old["findings"]})})
    assert 0 == run("scan", str(cheaper), "--baseline", str(version_1), "--as-of", "2022-12-28")[0]


@pytest.mark.parametrize(
    "text, problem",
    [
        (WAIVER.replace('owner = "li.wei@example.com"\n', ""), "waiver[1]: missing 'owner'"),
        (WAIVER.replace("expires = 2023-01-31", 'expires = "2023-13-45"'),
         "waiver[1]: expires: '2023-13-45' is not a date or time"),
        # it said "'next week' is too short"
        (WAIVER.replace("expires = 2023-01-31", 'expires = "next week"'),
         "waiver[1]: expires: 'next week' is not a date or time"),
        # without its "/" a path never matched, silently
        (WAIVER.replace('path = "/price', 'path = "price'),
         "waiver[1].path: 'price/tiers/3/price' is not a JSON Pointer, empty or starting with /"),
        (WAIVER.replace("tier-anomaly/bait-tier", "tier-anomaly/nope"),
         "waiver[1]: rule: there is no rule tier-anomaly/nope in the policy pack"),
        ("[[waiver]\n", "not valid TOML"),
    ],
)
def test_a_bad_waiver_file_is_exit_2_naming_the_field(linen: Path, tmp_path: Path, text: str, problem: str) -> None:
    waivers = tmp_path / "bad.toml"
    waivers.write_text(text, encoding="utf-8")
    code, out, err = run("check", str(linen), "--waivers", str(waivers))
    assert (2, "") == (code, out)
    assert problem in err


def test_a_file_that_is_not_a_baseline_is_refused(linen: Path) -> None:
    code, _, err = run("scan", str(linen), "--baseline", str(linen))
    assert 2 == code and "not a baseline written by compliance baseline" in err


def test_waivers_give_the_same_output_with_workers(tmp_path: Path, waivers: Path) -> None:
    catalog = write_jsonl(tmp_path / "c.jsonl", [doc(LINEN, id=f"P-{i}") for i in range(40)] + [LINEN])
    args = ["scan", str(catalog), "--waivers", str(waivers), "--format", "jsonl", "--as-of", "2022-12-28"]
    one, two = run(*args, "--jobs", "1"), run(*args, "--jobs", "2")
    assert one == two
    assert 1 == one[1].count('"waived":{')


def test_every_format_shows_a_waived_finding_as_accepted(tmp_path: Path, waivers: Path) -> None:
    """SARIF: a suppression with the reason (and still a valid log); JUnit: no failure, the finding in
    system-out; GitHub: a notice; HTML: the row marked; text and JSON above."""
    import xml.etree.ElementTree as ET

    import jsonschema

    catalog = write_jsonl(tmp_path / "c.jsonl", [LINEN, doc(LINEN, id="P-OTHER")])
    outputs = {}
    for fmt in ("sarif", "junit", "github", "html"):
        out = tmp_path / f"r.{fmt}"
        code, _, _ = run("scan", str(catalog), "--waivers", str(waivers), "--format", fmt, "-o", str(out),
                         "--as-of", "2022-12-28")
        assert 1 == code  # P-OTHER's bait tier is not waived
        outputs[fmt] = out.read_text(encoding="utf-8")
    sarif = json.loads(outputs["sarif"])
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text("utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [["accepted"], None] == [[s["status"] for s in r["suppressions"]] if "suppressions" in r else None
                                    for r in results]
    assert "the 10000+ tier is the distributor price" in results[0]["suppressions"][0]["justification"]
    suite = ET.fromstring(outputs["junit"]).find("testsuite")
    assert "1" == suite.get("failures")
    assert any("waived: the 10000+ tier" in (e.text or "") for e in suite.iter("system-out"))
    assert ["::notice", "::error"] == [line.split(" ")[0] for line in outputs["github"].splitlines()[:2]]
    rows = [line for line in outputs["html"].splitlines() if line.startswith("<tr data-family")]
    assert [True, False] == ["data-waived" in row for row in rows]
    assert "<small data-waived>Waived: the 10000+ tier is the distributor price" in rows[0]
