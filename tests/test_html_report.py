"""`--format html`: the self-contained audit page, read back as a browser and a script would.

The fast tests parse the page as written; the browser tests run Debian's
chromium headless on it (`--dump-dom` after the page's script ran, a
screenshot, and Playwright typing into the filter), and compare what the
page says with the report's JSON output. They skip only where chromium is
not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import checker
from checker.formats import html as html_format
from checker.formats import render
from checker.model import DocumentRef, Finding, InputError, NotEvaluated, Report

from .conftest import ROOT
from .test_formats_waivers import excused_catalog
from .test_formats_waivers import run as run_cli

AS_OF = "2022-12-28"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium): no browser to render in"
)
#: as the machine notes advise: no background connections (the network is closed), a fresh profile
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
CJK = re.compile(r"[\u4e00-\u9fff]")


class Page(HTMLParser):
    """What a test reads back from a report page: texts by id, headings, chart bars, table rows."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str | None] = {}
        self.ids: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.classes: dict[str, str] = {}
        self.headings: list[tuple[str, str]] = []
        self.bars: dict[str, list[dict[str, Any]]] = {}
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.options: dict[str, list[str]] = {}
        self._open: list[tuple[str, Any]] = []  # (tag, where the text goes)
        self._svg: str | None = None
        self._table: str | None = None
        self._select: str | None = None
        self._tbody = False
        self._row: dict[str, Any] | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if "id" in a:
            self.classes[a["id"] or ""] = a.get("class") or ""
        if tag == "svg":
            self._svg = a.get("id")
            self.bars[self._svg or ""] = []
        elif tag == "g" and self._svg:
            self.bars[self._svg].append(a)
        elif tag == "rect" and self._svg and self.bars[self._svg]:
            self.bars[self._svg][-1]["width"] = float(a["width"] or 0)
        elif tag == "table":
            self._table = a.get("id")
            self.rows[self._table or ""] = []
        elif tag == "tbody":
            self._tbody = True
        elif tag == "tr" and self._tbody:
            self._row = {**a, "text": []}
            self.rows[self._table or ""].append(self._row)
        elif tag == "select":
            self._select = a.get("id")
            self.options[self._select or ""] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(a.get("value") or "")
        if tag in ("h1", "h2", "h3", "th") or (tag == "title" and self._svg is None):
            self._open.append((tag, ("heading", tag)))
        elif tag in ("b", "span", "p") and a.get("id"):
            self._open.append((tag, ("id", a["id"])))
        elif tag == "dd" and a.get("data-meta"):
            self._open.append((tag, ("meta", a["data-meta"])))
        elif tag == "td" and "data-count" in a and self._row is not None:
            self._open.append((tag, ("count", self._row)))
        elif tag == "text" and a.get("class") == "n" and self._svg and self.bars[self._svg]:
            self._open.append((tag, ("bar", self.bars[self._svg][-1])))
        if self._open and self._open[-1][0] == tag:
            self._open[-1] = (tag, (*self._open[-1][1], []))

    def handle_data(self, data: str) -> None:
        for _, target in self._open:
            target[-1].append(data)
        if self._row is not None:
            self._row["text"].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, target = self._open.pop()
            text = "".join(target[-1])
            if target[0] == "heading":
                self.headings.append((target[1], text))
            elif target[0] == "id":
                self.ids[target[1]] = text
            elif target[0] == "meta":
                self.meta[target[1]] = text
            elif target[0] == "count":
                target[1]["count"] = int(text)
            elif target[0] == "bar":
                target[1]["number"] = text  # the count written after the bar
        if tag == "svg":
            self._svg = None
        elif tag == "table":
            self._table, self._tbody = None, False
        elif tag == "tbody":
            self._tbody = False
        elif tag == "select":
            self._select = None
        elif tag == "tr" and self._row is not None:
            self._row["text"] = "".join(self._row["text"])
            self._row = None

    def chart(self, chart_id: str) -> dict[str, int]:
        return {bar["data-key"]: int(bar["data-count"]) for bar in self.bars[chart_id]}

    def visible(self, table: str = "findings") -> list[dict[str, Any]]:
        return [row for row in self.rows[table] if "hidden" not in row]


def assert_counts_match(page: Page, report: Report) -> None:
    """Every count the page shows is the JSON output's, and every finding has its row."""
    output = json.loads(render(report, "json"))
    summary = output["summary"]
    assert {
        "findings": summary["findings"],
        "documents": summary["documents"],
        "read": summary["read"],
        "errors": summary["errors"],
        "not-evaluated": summary["not_evaluated"],
        **{f"severity-{name}": count for name, count in summary["by_severity"].items()},
    } == {key: int(page.ids[f"count-{key}"]) for key in (
        "findings", "documents", "read", "errors", "not-evaluated", "severity-error", "severity-warning", "severity-advice"
    )}
    assert summary["by_family"] == page.chart("chart-family")
    assert summary["by_severity"] == page.chart("chart-severity")
    assert summary["findings"] == sum(page.chart("chart-merchant").values())
    rows = page.rows["findings"]
    assert len(output["findings"]) == len(rows) == summary["findings"]
    assert [(f["family"], f["severity"], f["merchant_id"] or "") for f in output["findings"]] == [
        (row["data-family"], row["data-severity"], row["data-merchant"]) for row in rows
    ]
    assert summary["errors"] == len(page.rows.get("errors", []))
    assert summary["not_evaluated"] == len(page.rows.get("not-evaluated", []))
    by_rule = Counter(f["rule"] for f in output["findings"])
    top = page.rows["top-rules"]
    assert top and [(row["data-rule"], row["count"]) for row in top] == [(rule, by_rule[rule]) for rule, _ in
                                                                          sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))][:len(top)]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The bundled catalog scanned as of AS_OF, beside a file of three broken documents (so errors count)."""
    broken = tmp_path_factory.mktemp("broken") / "broken.jsonl"
    broken.write_text(
        '{"kind": "product", "id": "P-BROKEN", "merchant_id": "M-1"}\nnot json\n{"kind": "spaceship", "id": "S-1"}\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:  # the module-wide scan also uses the private pack cache
        mp.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pack-cache"))
        report = checker.scan([ROOT / "fixtures", broken], as_of=AS_OF)
    assert report.findings and report.errors and report.not_evaluated
    return report


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pack-cache"))
        return checker.load_policies().pack


def hostile_report(merchants: int = 1, per_merchant: int = 1) -> Report:
    """A report built by hand whose every text tries to break out of the page."""
    findings = []
    for m in range(merchants):
        for i in range(per_merchant):
            findings.append(
                Finding(
                    rule="quality/<b>bold</b>",
                    family="quality",
                    severity=("error", "warning", "advice")[i % 3],
                    penalty=None,
                    document=DocumentRef("product", f'P-{m}-{i}"><img src=x onerror=alert(1)>', "dir/a&b.json:3"),
                    merchant_id=f"M-{m:02d}",
                    path="/title",
                    message=f'Title "</td></tr><script>alert(\'x\')</script>" & 价格 <{i}>',
                    remedy="Remove <script> & 'quotes' from the title; 删除标题中的脚本",
                    product_id=f"P-{m}-{i}",
                )
            )
    return Report(
        tuple(findings),
        (InputError("x<y>.json", 2, "/a", "not valid JSON: <script>", ("</td>more",)),),
        (NotEvaluated("quality/<i>", "quality", DocumentRef("product", "P<1>", "s&t.json"), "needs <merchant>"),),
        documents=len(findings),
        metadata={"tool": "compliance", "version": "0.1.0", "as_of": "2022-12-28T00:00:00-08:00", "lang": "en",
                  "policy_pack": {"name": "team<pack>", "version": "1&2", "content_hash": "ab" * 32}},
    )


#: the engine's words for a rule that lacked its merchant (checker/engine.py)
MISSING = "merchant {} is not in the scan (no valid merchant document of this id); the rule needs the merchant's data"


def unevaluated_report(merchants: int = 3, per_merchant: int = 1700, errors: int = 600) -> Report:
    """A catalog without its merchants' file, as a report: per_merchant listings of each merchant lacked
    their merchant, one rule failed on a listing of M-07,
    and `errors` lines could not be read."""
    unevaluated = [
        NotEvaluated("marketing/gold-only", "marketing", DocumentRef("product", f"P-{m}-{i}", f"c.jsonl:{i}"),
                     MISSING.format(f"M-{m:02d}"), merchant_id=f"M-{m:02d}")
        for m in range(merchants)
        for i in range(per_merchant)
    ]
    listing = DocumentRef("product", "P-FAILED", "c.jsonl:99999")
    unevaluated.insert(len(unevaluated) // 2, NotEvaluated("epr/de-registration", "epr", listing,
                                                           "the rule failed on this document: KeyError: 'x'; please report it",
                                                           failed=True, merchant_id="M-07"))
    finding = Finding("quality/x", "quality", "advice", None, listing, "M-07", "/title", "m", "r", "P-FAILED")
    return Report(
        (finding,),
        tuple(InputError("broken.jsonl", n, "", f"not valid JSON (line-{n})") for n in range(1, errors + 1)),
        tuple(unevaluated),
        documents=len(unevaluated) + errors,
    )


# -- without a browser


def test_page_fetches_nothing(scanned: Report, pack: Any) -> None:
    """The page has no address, source or import of anything outside it, and a policy that forbids loads."""
    page = html_format.render(scanned, pack=pack)
    assert page.startswith("<!DOCTYPE html>\n")
    found = {needle for needle in ("http://", "https://", "src=", "href=", "url(", "@import", "<link", "<img",
                                   "<iframe", "<object", "<embed", "//fonts") if needle in page.lower()}
    assert set() == found
    assert "Content-Security-Policy\" content=\"default-src 'none';" in page
    assert 2 == page.count("<script>")  # the page's own two: the js class, the filter


def test_counts_in_page_match_json_output(scanned: Report, pack: Any) -> None:
    """The page as written carries the JSON output's counts, and a row per finding, in order."""
    page = Page(html_format.render(scanned, pack=pack))
    assert_counts_match(page, scanned)
    assert page.visible() == page.rows["findings"]  # scripts not run: nothing is hidden


def test_everything_is_escaped() -> None:
    """Messages, ids, paths and reasons with markup, quotes, & and Chinese come out as text, not markup."""
    report = hostile_report()
    markup = html_format.render(report)
    assert 2 == markup.count("<script")
    assert "<img" not in markup and "<b>bold" not in markup and "<i>" not in markup
    page = Page(markup)
    (row,) = page.rows["findings"]
    finding = report.findings[0]
    assert finding.message in row["text"] and finding.remedy in row["text"] and finding.document.id in row["text"]
    assert "quality/<b>bold</b>" in row["text"]
    assert ("quality", "M-00") == (row["data-family"], row["data-merchant"])
    assert 1 == len(page.rows["errors"]) and "not valid JSON: <script>" in page.rows["errors"][0]["text"]
    assert "needs <merchant>" in page.rows["not-evaluated"][0]["text"]
    assert ("team<pack>", "1&2") == (page.meta["pack"], page.meta["pack_version"])


def test_zh_headings_are_chinese(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With lang="zh" every heading, column and label of the page is Chinese; with "en" none is."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pack-cache"))
        report = checker.scan([ROOT / "fixtures"], as_of=AS_OF, lang="zh")
    zh = Page(html_format.render(report, lang="zh"))
    assert "zh-Hans" == zh.root["lang"]
    headings = [text for _, text in zh.headings if text != "#"]
    assert len(headings) > 15
    assert [] == [text for text in headings if not CJK.search(text)]
    assert "合规审计报告" == zh.headings[0][1].split(" — ")[0]  # <title>
    assert CJK.search(zh.meta["as_of"])  # with the note on orders' own times
    en = Page(html_format.render(report, lang="en"))
    assert [] == [text for _, text in en.headings if CJK.search(text)]


def test_merchant_chart_top_20_and_others() -> None:
    """The merchant chart names the 20 merchants with most findings, most first, and adds up the rest."""
    findings = [
        Finding("quality/x", "quality", "advice", None, DocumentRef("product", f"P{m}-{i}", "f.json"), f"M-{m:02d}",
                "/title", "m", "r")
        for m in range(25)
        for i in range(m + 1)  # merchant M-24 has 25 findings, M-00 one
    ]
    page = Page(html_format.render(Report(tuple(findings), (), (), len(findings))))
    bars = page.bars["chart-merchant"]
    assert [f"M-{m:02d}" for m in range(24, 4, -1)] == [bar["data-key"] for bar in bars[:20]]
    assert ("data-others", 1 + 2 + 3 + 4 + 5) == ("data-others" in bars[20] and "data-others", int(bars[20]["data-count"]))
    assert 21 == len(bars)
    assert 25 == len(page.options["filter-merchant"]) - 1  # every merchant can be filtered on
    # the bars are to scale: the top merchant's the full 300 px, the others' 15 findings 15/25 of it
    assert [300 * (25 - m) / 25 for m in range(20)] == pytest.approx([bar["width"] for bar in bars[:20]], abs=0.05)
    assert (180.0, "15", False) == (bars[20]["width"], bars[20]["number"], "data-capped" in bars[20])


def merchant_findings(counts: dict[str, int]) -> tuple[Finding, ...]:
    """`count` advice findings for each merchant."""
    return tuple(
        Finding("quality/x", "quality", "advice", None, DocumentRef("product", f"P-{m}-{i}", "f.json"), m, "/title", "m", "r")
        for m, count in counts.items()
        for i in range(count)
    )


def test_merchant_chart_is_scaled_on_the_named_merchants() -> None:
    """Many merchants with a few findings each (a 50,000-document catalog: 969 "others" with 27,170
    findings, the top merchant 184): the named bars are scaled on the top merchant, not on "others",
    whose bar is capped at the full width, marked as cut, with its number written."""
    named = {f"M-{m:02d}": 40 - m for m in range(20)}  # 40 down to 21
    rest = {f"M-R{m:03d}": 3 for m in range(300)}  # 900 findings in all, 22 times the top merchant's
    page = Page(html_format.render(Report(merchant_findings({**named, **rest}), (), (), 0)))
    bars = page.bars["chart-merchant"]
    assert list(named) == [bar["data-key"] for bar in bars[:20]]
    widths = [bar["width"] for bar in bars[:20]]
    assert 300 == widths[0] and [300 * n / 40 for n in named.values()] == pytest.approx(widths, abs=0.05)
    assert widths[-1] > 150  # the 20th merchant, 21 findings, still half the top's: not a sliver
    others = bars[20]
    assert ("900", 300.0) == (others["number"], others["width"])
    assert "data-others" in others and "data-capped" in others
    assert all("data-capped" not in bar for bar in bars[:20])
    # "others" below the top merchant's count is drawn to scale, not capped
    page = Page(html_format.render(Report(merchant_findings({**named, **{f"M-R{m}": 1 for m in range(30)}}), (), (), 0)))
    others = page.bars["chart-merchant"][20]
    assert (225.0, "30", False) == (others["width"], others["number"], "data-capped" in others)


def test_not_evaluated_rows_name_their_merchant_and_can_be_filtered(scanned: Report) -> None:
    """Each rule not evaluated has its row, with its merchant (the one it lacked, as the reason says; for a
    rule that failed, the document's); a filter bar picks a merchant (most
    entries first), an outcome or a text; the errors have a text filter."""
    page = Page(html_format.render(scanned))
    rows = page.rows["not-evaluated"]
    assert len(scanned.not_evaluated) == len(rows)
    for entry, row in zip(scanned.not_evaluated, rows, strict=True):
        assert f"merchant {row['data-merchant']} is not in the scan" in entry.reason
        assert row["data-merchant"] in row["text"]  # in a column of its own
    by_merchant = Counter(row["data-merchant"] for row in rows)
    assert ["", *sorted(by_merchant, key=lambda m: (-by_merchant[m], m))] == page.options["not-evaluated-filter-merchant"]
    assert ["", "failed", "lacked"] == page.options["not-evaluated-filter-outcome"]
    assert str(len(rows)) == page.ids["count-visible-not-evaluated"]
    assert {"filter-text", "not-evaluated-filter-text", "errors-filter-text"} <= set(page.classes)
    assert str(len(scanned.errors)) == page.ids["count-visible-errors"]

    report = unevaluated_report(per_merchant=2, errors=1)
    page = Page(html_format.render(report))
    merchants = [row["data-merchant"] for row in page.rows["not-evaluated"]]
    assert ["M-00", "M-00", "M-01", "M-07", "M-01", "M-02", "M-02"] == merchants
    assert ["data-failed" in row for row in page.rows["not-evaluated"]] == [False] * 3 + [True] + [False] * 3
    assert ["", "M-00", "M-01", "M-02", "M-07"] == page.options["not-evaluated-filter-merchant"]


def test_top_rules_have_titles_from_the_pack(scanned: Report, pack: Any) -> None:
    """Given the pack, the top rules show the rules' titles in the page's language."""
    with_pack = Page(html_format.render(scanned, pack=pack))
    rule = pack.rule(with_pack.rows["top-rules"][0]["data-rule"])
    assert rule.title.en in with_pack.rows["top-rules"][0]["text"]
    assert rule.title.zh in Page(html_format.render(scanned, lang="zh", pack=pack)).rows["top-rules"][0]["text"]
    assert rule.title.en not in Page(html_format.render(scanned)).rows["top-rules"][0]["text"]


def test_metadata_block(scanned: Report) -> None:
    """The scan's time, pack name, version and content hash are shown, and a caller's generated_at."""
    import attrs

    meta = scanned.metadata
    page = Page(html_format.render(attrs.evolve(scanned, metadata={**meta, "generated_at": "2022-12-28T09:00:00Z"})))
    policy = meta["policy_pack"]
    assert (policy["name"], policy["version"], policy["content_hash"], "2022-12-28T09:00:00Z") == (
        page.meta["pack"], page.meta["pack_version"], page.meta["content_hash"], page.meta["generated_at"]
    )
    assert page.meta["as_of"].startswith("2022-12-28T00:00:00-08:00")


def test_empty_report_and_determinism(scanned: Report, pack: Any) -> None:
    """A report with nothing in it is a page with zeros; the same report always gives the same page."""
    page = Page(html_format.render(Report((), (), (), 0)))
    assert ("0", [], 0) == (page.ids["count-findings"], page.rows["findings"], sum(page.chart("chart-family").values()))
    assert html_format.render(scanned, pack=pack) == html_format.render(scanned, pack=pack)


@pytest.fixture(scope="module")
def excused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """test_formats_waivers' catalog (P-LINEN waived, P-BASE in the baseline, P-NEW counted: its waiver
    expired) scanned with --waivers and --baseline: the page in English and Chinese, and the JSON."""
    root = tmp_path_factory.mktemp("excused")
    catalog, waivers, baseline = excused_catalog(root)
    out: dict[str, Any] = {}
    for name, fmt, lang in (("html", "html", "en"), ("zh", "html", "zh"), ("json", "json", "en")):
        code, text = run_cli("scan", str(catalog), "--waivers", str(waivers), "--baseline", str(baseline),
                             "--format", fmt, "--lang", lang, "--as-of", AS_OF)
        assert 1 == code
        out[name] = json.loads(text) if fmt == "json" else text
    out["file"] = root / "report.html"
    out["file"].write_text(out["html"], encoding="utf-8")
    return out


def test_waived_baselined_and_expired_waivers_are_counted_listed_and_filterable(excused: dict[str, Any]) -> None:
    """The JSON summary's waived, baselined and expired_waivers counts are on the page; each expired waiver
    has a row, before the charts (what a lead whose job began to fail looks for); a filter picks the
    findings that count, the waived or the baselined."""
    markup, output = excused["html"], excused["json"]
    page = Page(markup)
    summary = output["summary"]
    assert (1, 1, 1) == (summary["waived"], summary["baselined"], summary["expired_waivers"])
    assert {key: summary[key] for key in ("waived", "baselined", "expired_waivers")} == {
        key: int(page.ids[f"count-{key.replace('_', '-')}"]) for key in ("waived", "baselined", "expired_waivers")}
    assert '<div class="stat bad"><b id="count-expired-waivers">' in markup  # shown as the errors are
    (row,) = page.rows["expired-waivers"]
    waiver = output["expired_waivers"][0]
    for text in (waiver["where"], waiver["rule"], waiver["document"], waiver["path"], waiver["expires"],
                 waiver["reason"], waiver["owner"]):
        assert text in row["text"]
    assert markup.index('id="expired-waivers"') < markup.index('id="overview"')
    assert ["", "open", "waived", "baseline"] == page.options["filter-status"]
    marks = [("data-waived" in r, "data-baseline" in r) for r in page.rows["findings"]]
    assert [(True, False), (False, True), (False, False)] == marks
    assert 2 == markup.count("<script>")
    zh = Page(excused["zh"])
    assert [] == [text for _, text in zh.headings if text != "#" and not CJK.search(text)]


def test_without_waivers_or_baseline_the_page_has_no_status(scanned: Report, pack: Any) -> None:
    """A scan without --waivers or --baseline: no counts of them, no status filter, no expired waivers;
    the script is the one the page always had."""
    markup = html_format.render(scanned, pack=pack)
    page = Page(markup)
    assert not {"count-waived", "count-baselined", "count-expired-waivers"} & set(page.ids)
    assert "filter-status" not in page.options and "expired-waivers" not in page.rows
    assert "status" not in markup.split("<script>")[-1]


# -- in a real browser


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        check=False, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert 0 == result.returncode, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def report_file(scanned: Report, pack: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(html_format.render(scanned, pack=pack), encoding="utf-8")
    return path


def dump_dom(url: str, profile: Path) -> Page:
    """The DOM after the page's script ran, as chromium serializes it."""
    return Page(run_chromium(profile, "--virtual-time-budget=2000", "--dump-dom", url).stdout)


@needs_chromium
def test_browser_dom_counts_match_json_output(scanned: Report, report_file: Path, tmp_path: Path) -> None:
    """In chromium, after the script ran, the page's counts are the JSON output's and every finding shows."""
    page = dump_dom(report_file.as_uri(), tmp_path / "profile")
    assert "ready" in page.classes["findings"].split()  # the script ran to the end
    assert_counts_match(page, scanned)
    assert len(scanned.findings) == len(page.visible()) == int(page.ids["count-visible"])


@needs_chromium
def test_browser_filter_from_url_hash(scanned: Report, report_file: Path, tmp_path: Path) -> None:
    """report.html#family=epr&severity=error shows exactly the EPR errors."""
    page = dump_dom(report_file.as_uri() + "#family=epr&severity=error", tmp_path / "profile")
    expected = [f for f in scanned.findings if (f.family, f.severity) == ("epr", "error")]
    assert 0 < len(expected) < len([f for f in scanned.findings if f.family == "epr"])
    visible = page.visible()
    assert len(expected) == len(visible) == int(page.ids["count-visible"])
    assert {("epr", "error")} == {(row["data-family"], row["data-severity"]) for row in visible}
    assert len(scanned.findings) == len(page.rows["findings"])  # the others are hidden, not gone


@needs_chromium
def test_browser_screenshot(report_file: Path, tmp_path: Path) -> None:
    """Chromium renders the page to a 1280x2000 PNG with something on it."""
    shot = tmp_path / "report.png"
    run_chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", report_file.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (1280, 2000) == struct.unpack(">II", data[16:24])
    assert len(data) > 10_000


@pytest.fixture
def browser() -> Iterator[Any]:
    """Playwright driving Debian's chromium (it downloads no browser of its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        try:
            yield launched
        finally:
            launched.close()


def visible_rows(page: Any) -> int:
    return int(page.locator("#findings tbody tr:visible").count())


@needs_chromium
def test_browser_filter_by_typing_selecting_and_clicking(scanned: Report, report_file: Path, browser: Any) -> None:
    """Typing in the filter box, choosing a family and clicking a severity bar show exactly the matching rows."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(report_file.as_uri())
    assert len(scanned.findings) == visible_rows(page)

    page.select_option("#filter-family", "epr")
    epr = [f for f in scanned.findings if f.family == "epr"]
    assert (len(epr), str(len(epr))) == (visible_rows(page), page.inner_text("#count-visible"))

    page.fill("#filter-text", "LUCID")  # the German registry, named in some EPR messages and remedies
    lucid = [f for f in epr if "lucid" in f"{f.message} {f.remedy}".lower()]
    assert 0 < len(lucid) < len(epr)
    page.wait_for_function(f"document.getElementById('count-visible').textContent === '{len(lucid)}'")
    assert len(lucid) == visible_rows(page)
    assert page.url.endswith("#q=LUCID&family=epr")

    page.click("#filter-reset")
    assert len(scanned.findings) == visible_rows(page)

    page.click("#chart-severity g[data-key=warning]")
    warnings = [f for f in scanned.findings if f.severity == "warning"]
    assert ("warning", len(warnings)) == (page.input_value("#filter-severity"), visible_rows(page))


@needs_chromium
def test_browser_pages_a_long_report(tmp_path: Path, browser: Any) -> None:
    """With more than 500 matching findings the page shows 500 at a time, and "show more" the rest."""
    report = hostile_report(merchants=3, per_merchant=411)  # 1,233 findings, a third of each severity
    path = tmp_path / "long.html"
    path.write_text(html_format.render(report), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []  # an unescaped <img onerror> or <script> in a message would alert()

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    assert ("1233", 500) == (page.inner_text("#count-visible"), visible_rows(page))
    assert 1233 == page.locator("#findings tbody tr").count()
    page.click("#filter-more")
    assert 1000 == visible_rows(page)
    page.click("#filter-more")
    assert (1233, False) == (visible_rows(page), page.is_visible("#filter-more"))
    page.select_option("#filter-merchant", "M-01")
    assert ("411", 411) == (page.inner_text("#count-visible"), visible_rows(page))
    assert [] == dialogs


@needs_chromium
def test_browser_filter_by_status(excused: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    """The status filter shows the findings that count, the waived or the baselined, from the menu or
    from the URL (#status=open)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(excused["file"].as_uri())
    assert 3 == visible_rows(page) and page.is_visible("#expired-waivers")
    for status, document in (("open", "P-NEW"), ("waived", "P-LINEN"), ("baseline", "P-BASE")):
        page.select_option("#filter-status", status)
        assert (1, "1") == (visible_rows(page), page.inner_text("#count-visible"))
        assert document in page.locator("#findings tbody tr:visible").inner_text()
        assert page.url.endswith(f"#status={status}")
    page.click("#filter-reset")
    assert 3 == visible_rows(page)
    dom = dump_dom(excused["file"].as_uri() + "#status=open", tmp_path / "profile")
    (row,) = dom.visible()
    assert "P-NEW" in row["text"] and "1" == dom.ids["count-visible"]


@needs_chromium
def test_browser_pages_and_filters_not_evaluated_and_errors(tmp_path: Path, browser: Any) -> None:
    """A catalog without its merchants: 5,101 rules not evaluated and 600 unreadable lines are shown 500 at a
    time, as the findings are (all laid out, the page took 13 s to load in chromium for 44,786 of them and
    was 2.5 million px tall); a merchant, the outcome or a text picks some, and the URL says which."""
    # expect(), not wait_for_function(): that evaluates a string, which the page's CSP forbids
    from playwright.sync_api import expect

    report = unevaluated_report()
    path = tmp_path / "unevaluated.html"
    path.write_text(html_format.render(report), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    ne, errors = "#not-evaluated tbody tr", "#errors tbody tr"
    assert (5101, 600) == (page.locator(ne).count(), page.locator(errors).count())  # every entry has its row
    assert ("5101", 500) == (page.inner_text("#count-visible-not-evaluated"), page.locator(ne + ":visible").count())
    assert ("600", 500) == (page.inner_text("#count-visible-errors"), page.locator(errors + ":visible").count())
    assert page.evaluate("document.body.scrollHeight") < 80_000  # 1,100 rows laid out, not 5,700
    assert 1 == visible_rows(page)  # the findings are filtered on their own

    page.click("#not-evaluated-filter-more")
    assert 1000 == page.locator(ne + ":visible").count()
    page.select_option("#not-evaluated-filter-merchant", "M-01")
    assert ("1700", 500) == (page.inner_text("#count-visible-not-evaluated"), page.locator(ne + ":visible").count())
    assert page.url.endswith("#not-evaluated-merchant=M-01")
    page.select_option("#not-evaluated-filter-merchant", "M-07")  # the rule that failed, on a listing of M-07
    assert "P-FAILED" in page.locator(ne + ":visible").inner_text()
    page.click("#not-evaluated-filter-reset")
    page.select_option("#not-evaluated-filter-outcome", "failed")
    assert ("1", 1) == (page.inner_text("#count-visible-not-evaluated"), page.locator(ne + ":visible").count())
    page.select_option("#not-evaluated-filter-outcome", "lacked")
    assert "5100" == page.inner_text("#count-visible-not-evaluated")
    page.click("#not-evaluated-filter-reset")
    page.fill("#not-evaluated-filter-text", "p-2-169")  # P-2-169 and P-2-1690 ... P-2-1699
    expect(page.locator("#count-visible-not-evaluated")).to_have_text("11")  # the script waits for a pause in typing
    assert 11 == page.locator(ne + ":visible").count()

    page.fill("#errors-filter-text", "(line-59")  # line-59 and line-590 ... line-599
    expect(page.locator("#count-visible-errors")).to_have_text("11")  # the script waits for a pause in typing
    assert 11 == page.locator(errors + ":visible").count()
    assert page.url.endswith("#not-evaluated-q=p-2-169&errors-q=(line-59")
    page.click("#errors-filter-reset")
    assert 500 == page.locator(errors + ":visible").count()

    # a shared view: the findings' and the not-evaluated filters from the URL
    dom = dump_dom(path.as_uri() + "#merchant=M-07&not-evaluated-merchant=M-02", tmp_path / "profile")
    assert ("1", "1700", "600") == (dom.ids["count-visible"], dom.ids["count-visible-not-evaluated"],
                                    dom.ids["count-visible-errors"])
    visible = dom.visible("not-evaluated")
    assert 500 == len(visible) and {"M-02"} == {row["data-merchant"] for row in visible}
