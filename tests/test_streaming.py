"""Streamed output: `compliance scan` writes findings as it finds them and keeps none; what it
writes is exactly what the whole report renders to."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import checker
from checker.cli import cli
from checker.engine import reference_validators, scan_paths
from checker.formats import FORMATS, render, writer
from checker.values import parse_time

from .conftest import LINEN, ROOT, SWEATER, compliance, doc, write_json, write_jsonl

AS_OF = "2022-12-28"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The bundled catalog, plus an unreadable file, an invalid document and JSON Lines."""
    extra = tmp_path_factory.mktemp("extra")
    (extra / "broken.json").write_text("{oops", encoding="utf-8")
    write_json(extra / "invalid.json", doc(SWEATER, moq="many"))
    write_jsonl(extra / "lines.jsonl", [LINEN, doc(LINEN, id="P-2")])
    return [str(ROOT / "fixtures"), str(extra)]


def test_the_json_format_is_the_report_object_byte_for_byte(catalog: list[str]) -> None:
    report = checker.scan(catalog, as_of=AS_OF)
    assert report.findings and report.errors and report.not_evaluated
    assert orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n" == render(report, "json")
    empty = checker.scan([ROOT / "fixtures" / "products" / "sweater-dress.json"], as_of=AS_OF, policies=None)
    assert orjson.dumps(empty.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n" == render(empty, "json")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_command_streams_what_the_whole_report_renders_to(catalog: list[str], fmt: str, lang: str) -> None:
    report = checker.scan(catalog, as_of=AS_OF, lang=lang)
    result = CliRunner().invoke(cli, ["scan", *catalog, "--as-of", AS_OF, "--format", fmt, "--lang", lang])
    assert 2 == result.exit_code  # the unreadable file
    assert render(report, fmt, lang=lang, pack=checker.load_policies().pack) == result.stdout


def test_a_streamed_scan_keeps_no_findings_and_still_counts_them(catalog: list[str]) -> None:
    out = io.StringIO()
    sink = writer("jsonl", out)
    compiled = checker.load_policies()
    report = scan_paths(catalog, compiled, as_of=parse_time(AS_OF), validators=reference_validators(), sink=sink)
    sink.end(report)
    whole = checker.scan(catalog, as_of=AS_OF)
    assert ((), (), ()) == (report.findings, report.errors, report.not_evaluated)
    assert whole.summary() == report.summary()
    assert whole.exit_code() == report.exit_code() == 2
    assert whole.exit_code("never", strict=True) == report.exit_code("never", strict=True)
    lines = out.getvalue().splitlines()
    assert len(whole.findings) == sum(1 for line in lines if line.startswith('{"type":"finding"'))


def test_an_unwritable_output_is_exit_2_with_the_reason(tmp_path: Path) -> None:
    result = compliance("scan", str(ROOT / "fixtures"), "-o", str(tmp_path / "no" / "such" / "r.json"))
    assert (2, "") == (result.returncode, result.stdout)
    assert f"compliance: No such file or directory: {tmp_path / 'no' / 'such' / 'r.json'}\n" == result.stderr


def test_a_jsonl_finding_line_is_its_type_then_its_object(catalog: list[str]) -> None:
    """The jsonl writer splices "type" in front of the finding's own object: the same bytes as the object
    {"type": "finding", **to_dict()} dumped, waived and baselined findings too."""
    import attrs

    findings = checker.scan(catalog, as_of=AS_OF).findings
    assert findings
    waived = {"reason": "ticket 4711 “分销价”", "owner": "li.wei@example.com", "expires": "2023-01-31T00:00:00-08:00"}
    encode = writer("jsonl", io.StringIO()).encode
    for finding in (*findings, attrs.evolve(findings[0], waived=waived), attrs.evolve(findings[-1], baseline=True)):
        assert orjson.dumps({"type": "finding", **finding.to_dict()}).decode() + "\n" == encode(finding)


def test_coloured_text_is_the_plain_text_styled(catalog: list[str]) -> None:
    """With colour, the severities (each its own colour, errors bold) and paths are styled; unstyled, the
    text is the plain one."""
    import click

    report = checker.scan(catalog, as_of=AS_OF)
    for lang in ("en", "zh"):
        coloured = render(report, "text", lang=lang, color=True)
        assert render(report, "text", lang=lang) == click.unstyle(coloured)
    assert click.style("error  ", fg="red", bold=True) in render(report, "text", color=True)
    assert click.style("警告     ", fg="yellow", bold=False) in render(report, "text", lang="zh", color=True)
    assert click.style(report.findings[0].path, dim=True) in render(report, "text", color=True)


def _bench_catalog(path: Path, n: int, seed: int) -> list[bytes]:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = corpus
    spec.loader.exec_module(corpus)
    corpus.generate(str(path), n, seed=seed)
    return path.read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("layout", ["as generated", "merchants last", "shuffled", "a merchant missing"])
def test_merchants_are_looked_up_only_when_a_document_needs_one_not_met_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """A one-core scan reads its input once when every merchant comes before the documents that name it (the
    benchmark's generator puts each merchant before its listings and orders), and runs the look-up pre-pass
    (once) as soon as a document names one it has not met; either way the report is the one of a scan that
    looked every merchant up first, byte for byte."""
    import random

    from checker.engine import Context, Session, lookup_merchants
    from checker.policy.cache import load_compiled
    from checker.reading import Reader
    from checker.resources import policies_dir

    lines = _bench_catalog(tmp_path / "generated.jsonl", 1200, seed=4)
    merchants = [line for line in lines if b'"kind":"merchant"' in line]
    others = [line for line in lines if line not in merchants]
    if layout == "merchants last":
        lines = others + merchants
    elif layout == "shuffled":
        random.Random(7).shuffle(lines)
    elif layout == "a merchant missing":
        lines = [line for line in lines if line != merchants[1]]
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_bytes(b"".join(lines))
    compiled = load_compiled([policies_dir()])
    validators, as_of = reference_validators(), parse_time(AS_OF)

    looked_up = []

    def counted(*args, **kwargs):
        looked_up.append(args[0])
        return lookup_merchants(*args, **kwargs)

    monkeypatch.setattr("checker.engine.lookup_merchants", counted)
    out = io.StringIO()
    sink = writer("jsonl", out, pack=compiled.pack)
    sink.end(scan_paths([str(catalog)], compiled, as_of=as_of, validators=validators, sink=sink))
    assert len(looked_up) == (0 if layout == "as generated" else 1)

    eager = io.StringIO()  # every merchant looked up before the first document, as scans did before
    sink = writer("jsonl", eager, pack=compiled.pack)
    context = Context(merchants=dict(lookup_merchants([str(catalog)], compiled, validators, as_of)))
    session = Session(compiled, as_of=as_of, context=context, validators=validators, sink=sink, gather_totals=True)
    session.feed(Reader().read([str(catalog)]))
    session.finish()
    sink.end(session.report())
    assert out.getvalue() == eager.getvalue()
    assert out.getvalue().count('"type":"finding"') > 500
    assert ('"type":"not_evaluated"' in out.getvalue()) == (layout == "a merchant missing")


MESSAGE_PACK = """
[example_base.product]
kind = "product"
[example_base.merchant]
kind = "merchant"

[[rule]]
id = "quality/merchant-in-message"
family = "quality"
severity = "advice"
penalty = "none"
kind = "product"
title = { en = "t", zh = "t" }
description = { en = "d", zh = "d" }
require = 'merchant_id == "never"'
path = "/merchant_id"
message = { en = "merchant name: {merchant.name}", zh = "商家 {merchant.name}" }
remedy = { en = "r", zh = "r" }
example = [ { name = "x", expect = "fail" }, { name = "y", expect = "pass", patch = { merchant_id = "never" } } ]

[[rule]]
id = "quality/orders-counted"
family = "quality"
severity = "advice"
penalty = "none"
kind = "merchant"
title = { en = "t", zh = "t" }
description = { en = "d", zh = "d" }
require = 'id != "never"'
path = "/id"
message = { en = "orders: {n}", zh = "订单 {n}" }
remedy = { en = "r", zh = "r" }
example = [ { name = "x", expect = "pass" }, { name = "y", expect = "fail", patch = { id = "never" } } ]
[rule.totals.n]
over = "order"
value = "1"
"""


@pytest.mark.parametrize("merchant_first", [True, False])
def test_a_message_naming_the_merchant_names_it_wherever_the_merchant_is(tmp_path: Path, merchant_first: bool) -> None:
    """A pack that reads the merchant only in a message (its rules' tests do not; it has totals, so the scan
    keeps its merchants) shows the merchant's name whether the merchant comes before the listing or after."""
    from checker.policy.cache import load_compiled

    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "rules.toml").write_text(MESSAGE_PACK, encoding="utf-8")
    merchant = {"kind": "merchant", "id": "M-1", "name": "Qingdao Kettles", "gold": True, "star_level": 1,
                "primary_industry": "home-appliances", "epr": []}
    listing = doc(LINEN, merchant_id="M-1")
    catalog = tmp_path / "catalog.jsonl"
    write_jsonl(catalog, [merchant, listing] if merchant_first else [listing, merchant])
    compiled = load_compiled([tmp_path / "pack"])
    report = scan_paths([str(catalog)], compiled, as_of=parse_time(AS_OF), validators=reference_validators())
    assert [f.message for f in report.findings if f.rule == "quality/merchant-in-message"] == [
        "merchant name: Qingdao Kettles"]


@pytest.mark.parametrize("merchant_first", [True, False])
def test_a_pack_reading_the_merchant_only_in_a_message_shows_it(tmp_path: Path, merchant_first: bool) -> None:
    """Without totals and without a test that reads the merchant, a message naming the merchant still shows
    it (it said "(missing)": the scan kept no merchants for such a pack), in a scan and in a check."""
    from checker.policy.cache import load_compiled

    (tmp_path / "pack").mkdir()
    only_the_message = MESSAGE_PACK[: MESSAGE_PACK.index('[[rule]]\nid = "quality/orders-counted"')]
    (tmp_path / "pack" / "rules.toml").write_text(only_the_message, encoding="utf-8")
    compiled = load_compiled([tmp_path / "pack"])
    assert not compiled.totals and compiled.needs_merchant == {"product"}
    merchant = {"kind": "merchant", "id": "M-1", "name": "Qingdao Kettles", "gold": True, "star_level": 1,
                "primary_industry": "home-appliances", "epr": []}
    listing = doc(LINEN, merchant_id="M-1")
    catalog = tmp_path / "catalog.jsonl"
    write_jsonl(catalog, [merchant, listing] if merchant_first else [listing, merchant])
    report = scan_paths([str(catalog)], compiled, as_of=parse_time(AS_OF), validators=reference_validators())
    assert [f.message for f in report.findings] == ["merchant name: Qingdao Kettles"]
    checked = checker.check([listing, merchant], as_of=AS_OF, policies=compiled)
    assert [f.message for f in checked.findings] == ["merchant name: Qingdao Kettles"]


def test_a_merchant_written_with_escapes_is_found_by_the_look_up(tmp_path: Path) -> None:
    """The look-up's search of the raw text cannot see "merch\\u0061nt": a line with a \\u escape is parsed
    whatever the search says, so the merchant is found wherever it is in the input."""
    from checker.engine import lookup_merchants
    from checker.policy.cache import load_compiled
    from checker.resources import policies_dir

    merchant = ('{"kind":"merch\\u0061nt","id":"M-1","name":"Q","gold":true,"star_level":1,'
                '"primary_industry":"apparel","epr":[]}\n')
    listing = orjson.dumps(doc(LINEN, merchant_id="M-1")).decode() + "\n"
    compiled = load_compiled([policies_dir()])
    for lines in ([merchant, listing], [listing, merchant]):
        catalog = tmp_path / "catalog.jsonl"
        catalog.write_text("".join(lines), encoding="utf-8")
        found = lookup_merchants([str(catalog)], compiled, reference_validators(), parse_time(AS_OF))
        assert list(found) == ["M-1"]
        report = scan_paths([str(catalog)], compiled, as_of=parse_time(AS_OF), validators=reference_validators())
        assert report.documents == 2 and not report.not_evaluated
