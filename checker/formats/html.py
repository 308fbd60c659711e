"""`--format html`: one self-contained audit page for a compliance lead.

The page carries everything inline and fetches nothing: CSS, a few lines of
vanilla JavaScript (filter the findings by text, family, severity and
merchant, and, when some are waived or in the baseline, by whether they
count; the rules not evaluated by text, merchant and outcome; the documents
that could not be read by text; each table shows 500 matching rows at a time,
and "show more"; `#family=epr&severity=error&merchant=M-1&status=open&q=text`
in the URL sets the findings' filter, `#not-evaluated-merchant=M-1`,
`#not-evaluated-q=...`, `#not-evaluated-outcome=failed` and `#errors-q=...`
the others', so a filtered view can be shared) and SVG bar charts. A
Content-Security-Policy meta tag forbids any load from outside, should a
browser ever be asked to.

Counts a test or a script can read back from the DOM:

- `#count-findings`, `#count-documents`, `#count-read`, `#count-errors`,
  `#count-not-evaluated`: the report's summary; `#count-visible`,
  `#count-visible-not-evaluated`, `#count-visible-errors`: rows the tables'
  filters match;
- `svg#chart-family`, `#chart-severity`, `#chart-merchant`: one
  `<g data-key=... data-count=...>` per bar (the merchant chart's last bar,
  "others", has `data-others`, and `data-capped` when it outweighs the top
  merchant: the bars are scaled on the named ones, "others" is cut);
- `#top-rules` rows: `data-rule`, and `<td data-count>`;
- `#findings` rows: `data-family`, `data-severity`, `data-merchant`, and
  `data-waived` or `data-baseline` on an accepted finding; every finding
  has a row, in the report's order. `#errors` and `#not-evaluated` have a
  row per entry (`data-error`; `data-not-evaluated`, `data-merchant`, and
  `data-failed` when the rule failed).

With --waivers or --baseline, when a finding was waived or baselined or a
waiver has expired (a page without them is as it was, byte for byte):
`#count-waived`, `#count-baselined` and `#count-expired-waivers` are the
summary's counts; `#filter-status` filters the findings by "open" (counted
for the exit status), "waived" or "baseline"; and `#expired-waivers`, right
after the scan's counts, has a row (`data-expired-waiver`) per waiver that
expired and no longer waives: what a lead whose job began to fail looks for.

A pure renderer: no I/O, no clock (the report's metadata says when the
listings were judged; a `generated_at` in it is shown when the caller adds
one), the same report gives the same bytes. `color` is accepted for the
renderer interface and has no effect; `pack` (a Pack, or a CompiledPack)
gives the top rules their titles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from ..model import FAMILIES, Report

#: merchants charted by name; the rest are one "others" bar
TOP_MERCHANTS = 20
#: rules listed in the top-rules table
TOP_RULES = 10

_WORDS = {
    "en": {
        "title": "Compliance audit report",
        "scan": "About this scan",
        "tool": "Tool",
        "pack": "Policy pack",
        "pack_version": "Pack version",
        "content_hash": "Pack content hash (SHA-256)",
        "as_of": "Listings judged as of",
        "orders_note": "orders are judged at their own created_at",
        "generated": "Generated",
        "lang": "Language",
        "documents": "Documents checked",
        "read": "Documents read",
        "errors_count": "Unreadable or invalid",
        "findings": "Findings",
        "not_evaluated_count": "Rule checks not evaluated",
        "overview": "Overview",
        "by_family": "Findings by family",
        "by_severity": "Findings by severity",
        "by_merchant": "Findings by merchant (top {n})",
        "others": "others ({n} merchants)",
        "chart_hint": "Click a bar to filter the findings below.",
        "top_rules": "Top rules",
        "more_rules": "{n} more rule(s) with {count} finding(s) in all.",
        "rule": "Rule",
        "rule_title": "Title",
        "family": "Family",
        "severity": "Severity",
        "count": "Findings",
        "findings_table": "Findings",
        "filter_text": "Filter: rule, product, path, message",
        "all_families": "All families",
        "all_severities": "All severities",
        "all_merchants": "All merchants",
        "reset": "Reset",
        "showing": "{visible} of {total} match",
        "more": "Show more ({shown} of {matching} shown)",
        "document": "Document",
        "merchant": "Merchant",
        "path": "Path",
        "message": "Message and remedy",
        "waived": "Waived",
        "baseline": "In the baseline (not counted)",
        "fix": "Fix",
        "listing": "listing",
        "no_findings": "No findings.",
        "errors": "Could not be checked",
        "file": "File",
        "line": "Line",
        "pointer": "Pointer",
        "reason": "Reason",
        "no_errors": "Every document was read and valid.",
        "not_evaluated": "Not evaluated",
        "outcome": "Outcome",
        "failed": "rule failed",
        "lacked": "lacked data",
        "no_not_evaluated": "Every rule that applied was evaluated.",
        "no_merchant": "(no merchant)",
        "waived_count": "Waived",
        "baselined_count": "In the baseline",
        "expired_count": "Expired waivers",
        "all_statuses": "All findings",
        "open": "Counted for the exit status",
        "status_waived": "Waived",
        "status_baseline": "In the baseline",
        "expired_waivers": "Expired waivers (no longer waive)",
        "expired_note": "These waivers expired as of the scan: the findings they named count again.",
        "waiver": "Waiver",
        "expired_at": "Expired",
        "filter_not_evaluated": "Filter: rule, document, merchant, reason",
        "filter_errors": "Filter: file, pointer, reason",
        "all_outcomes": "All outcomes",
    },
    "zh": {
        "title": "合规审计报告",
        "scan": "本次扫描",
        "tool": "工具",
        "pack": "规则包",
        "pack_version": "规则包版本",
        "content_hash": "规则包内容哈希（SHA-256）",
        "as_of": "商品判定时间",
        "orders_note": "订单按其创建时间判定",
        "generated": "生成时间",
        "lang": "语言",
        "documents": "已检查文档",
        "read": "已读取文档",
        "errors_count": "无法读取或无效",
        "findings": "问题",
        "not_evaluated_count": "未评估的规则检查",
        "overview": "概览",
        "by_family": "按规则族统计",
        "by_severity": "按严重程度统计",
        "by_merchant": "按商家统计（前{n}名）",
        "others": "其他（{n}个商家）",
        "chart_hint": "点击柱条可筛选下方的问题明细。",
        "top_rules": "命中最多的规则",
        "more_rules": "另有{n}条规则，共{count}个问题。",
        "rule": "规则",
        "rule_title": "名称",
        "family": "规则族",
        "severity": "严重程度",
        "count": "问题数",
        "findings_table": "问题明细",
        "filter_text": "筛选：规则、商品、位置、描述",
        "all_families": "全部规则族",
        "all_severities": "全部严重程度",
        "all_merchants": "全部商家",
        "reset": "重置",
        "showing": "匹配 {visible} / {total}",
        "more": "显示更多（已显示 {shown} / {matching}）",
        "document": "文档",
        "merchant": "商家",
        "path": "位置",
        "message": "问题与整改",
        "waived": "已豁免",
        "baseline": "在基线内（不计入）",
        "fix": "整改",
        "listing": "商品",
        "no_findings": "未发现问题。",
        "errors": "无法检查",
        "file": "文件",
        "line": "行",
        "pointer": "位置",
        "reason": "原因",
        "no_errors": "所有文档均已读取且有效。",
        "not_evaluated": "未评估",
        "outcome": "结果",
        "failed": "规则执行失败",
        "lacked": "缺少数据",
        "no_not_evaluated": "适用的规则均已评估。",
        "no_merchant": "（无商家）",
        "waived_count": "已豁免",
        "baselined_count": "基线内",
        "expired_count": "已过期的豁免",
        "all_statuses": "全部问题",
        "open": "计入退出状态",
        "status_waived": "已豁免",
        "status_baseline": "基线内",
        "expired_waivers": "已过期的豁免（不再生效）",
        "expired_note": "以下豁免在本次扫描时已过期：其所列的问题重新计入。",
        "waiver": "豁免",
        "expired_at": "过期时间",
        "filter_not_evaluated": "筛选：规则、文档、商家、原因",
        "filter_errors": "筛选：文件、位置、原因",
        "all_outcomes": "全部结果",
    },
}
_SEVERITY_ZH = {"error": "错误", "warning": "警告", "advice": "建议"}

# No url(), no @import, no web fonts: the page must render offline exactly as here.
_CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#f5f6f8;--card:#fff;--accent:#3454a4;
--error:#c0392b;--warning:#b7791f;--advice:#2b6cb0}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
header{background:#1f2b4d;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d2ea}
main{padding:16px 28px 40px;max-width:1600px;margin:0 auto}
section{margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:14px;margin:0 0 8px}
figure{margin:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:14px 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;margin-bottom:12px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.stat b{display:block;font-size:26px;line-height:1.2}
.stat span{color:var(--muted);font-size:12px}
.stat.bad b{color:var(--error)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;overflow-wrap:anywhere}
#top-rules td:nth-last-child(-n+3),#top-rules th{white-space:nowrap}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px;align-items:start}
svg.chart{display:block;width:100%;max-width:560px;height:auto}
svg.chart text{font-size:12px;fill:var(--fg)}
svg.chart text.n{fill:var(--muted)}
svg.chart rect{fill:var(--accent)}
svg.chart g[data-key=error] rect{fill:var(--error)}
svg.chart g[data-key=warning] rect{fill:var(--warning)}
svg.chart g[data-key=advice] rect{fill:var(--advice)}
svg.chart g[data-others] rect{fill:#9aa3b5}
svg.chart g.pick{cursor:pointer}
svg.chart g.pick:hover rect{opacity:.75}
.hint,.note{color:var(--muted);font-size:12px;margin:6px 0 0}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#eef0f4;font-weight:600;position:sticky;top:0}
td[data-count]{text-align:right;font-variant-numeric:tabular-nums}
small{display:block;color:var(--muted);font-size:12px}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#findings{table-layout:fixed}
#findings col:nth-child(1){width:3.5em}
#findings col:nth-child(2){width:6em}
#findings col:nth-child(3),#findings col:nth-child(4){width:15%}
#findings col:nth-child(5){width:10%}
#findings col:nth-child(6){width:12%}
.js table.paged:not(.ready) tbody{display:none}
#findings td:nth-child(1){color:var(--muted);font-variant-numeric:tabular-nums}
#findings td:nth-child(2){font-weight:600}
#findings td:nth-child(6){font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#findings tr[data-severity=error] td:nth-child(2){color:var(--error)}
#findings tr[data-severity=warning] td:nth-child(2){color:var(--warning)}
#findings tr[data-severity=advice] td:nth-child(2){color:var(--advice)}
#findings tbody tr:hover{background:#f8f9fb}
#not-evaluated tr[data-failed] td{color:var(--error)}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 10px}
.filters input,.filters select,.filters button{font:inherit;padding:4px 8px;border:1px solid #b9c0cc;border-radius:4px;background:#fff}
.filters input{flex:1 1 260px}
.filters output{color:var(--muted);margin-left:auto}
button.more{font:inherit;margin:10px 0;padding:6px 14px;border:1px solid #b9c0cc;border-radius:4px;background:#fff;cursor:pointer}
button.more[hidden]{display:none}
@page{size:A4 landscape;margin:10mm}
@media print{
body{background:#fff;font-size:10pt}
header{background:none;color:#000;padding:0 0 8px;border-bottom:2px solid #000}
header p{color:#333}
main{padding:8px 0;max-width:none}
.filters,.hint,button.more{display:none}
.card,.stat,figure{break-inside:avoid}
th{position:static}
tr{break-inside:avoid}
}
"""

# Three tables are filtered and paged alike: the findings (text, family, severity, merchant), the rules
# not evaluated (text, merchant, outcome) and the documents that could not be read (text). Each shows at
# most PAGE matching rows at a time ("show more"): a browser lays out 100,000 table rows in minutes, 500 at
# once (a catalog without its merchants' file: 44,786 rules not evaluated, all laid out, took 13 s to load
# in chromium and made a page 2.5 million px tall; paged, as long as its 24,683 findings alone).
# The filters are read from the URL hash at load and written back on change: the findings' keys as they
# were (q, family, severity, merchant), the others' after their table's id (not-evaluated-merchant=M-1).
# The @STATUS...@ marks are where the status filter goes (_js): a page without waived or baselined
# findings has none.
_JS_TEMPLATE = """
(function () {
  var PAGE = 500, views = [];
  function matches(k, d, want) {
    if (k === "outcome") return (d.failed === undefined ? "lacked" : "failed") === want;@STATUS_TEST@
    return d[k] === want;
  }
  function share() {
    var hash = [];
    views.forEach(function (v) {
      v.keys.forEach(function (k) {
        var value = v.box[k].value.trim();
        if (value) hash.push(v.prefix + k + "=" + encodeURIComponent(value));
      });
    });
    hash = hash.length ? "#" + hash.join("&") : "";
    if (hash !== location.hash) {
      try { history.replaceState(null, "", hash || location.pathname + location.search); } catch (e) { /* file: URL */ }
    }
  }
  function apply(v, paging) {
    if (!paging) v.limit = PAGE;
    var want = v.keys.map(function (k) { return v.box[k].value.trim(); });
    var q = want[0].toLowerCase(), rows = v.rows, n = 0;
    if (q && !v.texts) v.texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    for (var i = 0; i < rows.length; i++) {
      var d = rows[i].dataset, ok = !q || v.texts[i].indexOf(q) >= 0;
      for (var j = 1; ok && j < want.length; j++) ok = !want[j] || matches(v.keys[j], d, want[j]);
      var show = ok && n < v.limit;
      if (rows[i].hidden === show) rows[i].hidden = !show;
      if (ok) n++;
    }
    v.count.textContent = n;
    v.more.hidden = n <= v.limit;
    v.more.textContent = v.more.getAttribute("data-label").replace("{shown}", Math.min(n, v.limit)).replace("{matching}", n);
    v.table.classList.add("ready");
    share();
  }
  // the table #id, filtered by the boxes #{prefix}filter-text (key q, first), #{prefix}filter-{key}
  function paged(id, prefix, keys) {
    var table = document.getElementById(id);
    if (!table || !table.tBodies || !table.tBodies.length) return null;
    var v = {table: table, prefix: prefix, keys: keys, box: {}, limit: PAGE, texts: null, timer: 0,
             rows: Array.prototype.slice.call(table.tBodies[0].rows),
             count: document.getElementById(prefix ? "count-visible-" + id : "count-visible"),
             more: document.getElementById(prefix + "filter-more")};
    keys.forEach(function (k) { v.box[k] = document.getElementById(prefix + "filter-" + (k === "q" ? "text" : k)); });
    v.box.q.addEventListener("input", function () {
      clearTimeout(v.timer);
      v.timer = setTimeout(function () { apply(v); }, v.rows.length > 5000 ? 250 : 0);
    });
    keys.slice(1).forEach(function (k) { v.box[k].addEventListener("change", function () { apply(v); }); });
    v.more.addEventListener("click", function () { v.limit += PAGE; apply(v, true); });
    document.getElementById(prefix + "filter-reset").addEventListener("click", function () {
      for (var k in v.box) v.box[k].value = "";
      apply(v);
    });
    views.push(v);
    return v;
  }
  var findings = paged("findings", "", ["q", "family", "severity", "merchant"@STATUS_KEY@]);
  paged("not-evaluated", "not-evaluated-", ["q", "merchant", "outcome"]);
  paged("errors", "errors-", ["q"]);
  if (findings) {
    Array.prototype.forEach.call(document.querySelectorAll("svg[data-filter] g.pick"), function (g) {
      g.addEventListener("click", function () {
        findings.box[g.parentNode.getAttribute("data-filter")].value = g.getAttribute("data-key");
        apply(findings);
        findings.table.scrollIntoView();
      });
    });
  }
  location.hash.slice(1).split("&").forEach(function (part) {
    var eq = part.indexOf("="), k = part.slice(0, eq);
    if (eq < 0) return;
    views.forEach(function (v) {
      var name = k.slice(v.prefix.length);
      if (k.indexOf(v.prefix) !== 0 || !v.box.hasOwnProperty(name)) return;
      try { v.box[name].value = decodeURIComponent(part.slice(eq + 1)); } catch (e) { /* not a filter */ }
    });
  });
  views.forEach(function (v) { apply(v); });
})();
"""
#: the status filter's pieces: "open" rows have neither data-waived nor data-baseline
_STATUS_JS = {
    "@STATUS_TEST@": '\n    if (k === "status") return want === "open" ? d.waived === undefined && d.baseline === undefined : d[want] !== undefined;',
    "@STATUS_KEY@": ', "status"',
}


def _js(status: bool) -> str:
    """The page's script, with the status filter or without."""
    out = _JS_TEMPLATE
    for mark, piece in _STATUS_JS.items():
        out = out.replace(mark, piece if status else "")
    return out


_JS = _js(False)
_JS_STATUS = _js(True)


def _e(value: Any) -> str:
    """Text or attribute value, escaped (quotes too)."""
    return escape("" if value is None else str(value), quote=True)


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most first; ties by name, so that the page is the same for the same report."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _bar_chart(chart_id: str, label: str, bars: list[tuple[str, str, int, bool]], filter_name: str | None) -> str:
    """A horizontal bar chart; bars are (key, label, count, others).

    The scale is the largest named bar's: "others" (the merchants beyond the top 20) can outweigh them all
    (a 50,000-document catalog: 969 merchants with 27,170 findings, the top merchant 184, whose bar was 2 px
    of 300 beside it). Longer than the scale, "others" is drawn to the full width, cut by two white strokes
    (`data-capped`), with its number written after it as every bar's is.
    """
    row, label_w, bar_w, width = 24, 190, 300, 560
    height = len(bars) * row + 6
    top = max((count for _, _, count, others in bars if not others), default=0) or 1
    out = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(label)}"' + (f' data-filter="{filter_name}"' if filter_name else "") + ">"
    ]
    for i, (key, text, count, others) in enumerate(bars):
        y = 3 + i * row
        capped = count > top  # only "others" can be
        w = bar_w if capped else round(count / top * bar_w, 1) if count else 0
        if count and w < 1:
            w = 1
        pick = filter_name is not None and not others and key != "" and count > 0
        short = text if len(text) <= 26 else text[:25] + "…"
        out.append(
            f'<g{" class=pick" if pick else ""} data-key="{_e(key)}" data-count="{count}"'
            + (" data-others" if others else "") + (" data-capped" if capped else "")
            + f"><title>{_e(text)}: {count}</title>"
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="16" rx="2"/>'
            # the break: two slanted strokes across the bar, a third of the way in
            + (f'<path d="M{label_w + 96} {y + 22}l6 -20m6 20l6 -20" stroke="#fff" stroke-width="3" fill="none"/>'
               if capped else "")
            + f'<text class="n" x="{label_w + w + 6}" y="{y + 16}">{count}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def _options(name: str, label: str, choices: Iterable[tuple[str, str]], prefix: str = "") -> str:
    opts = "".join(f'<option value="{_e(value)}">{_e(text)}</option>' for value, text in choices)
    return (f'<select id="{prefix}filter-{name}" aria-label="{_e(label)}"><option value="">{_e(label)}</option>'
            f"{opts}</select>")


def _filter_bar(prefix: str, placeholder: str, selects: str, total: int, count_id: str, words: dict[str, str]) -> str:
    """A filter bar over a paged table (the page's script): a text box, `selects`, reset, the count shown."""
    showing = words["showing"].format(visible=f'<b id="{count_id}">{total}</b>', total=total)
    return (
        f'<div class="filters"><input type="search" id="{prefix}filter-text" placeholder="{_e(placeholder)}" '
        f'aria-label="{_e(placeholder)}">{selects}'
        f'<button type="button" id="{prefix}filter-reset">{_e(words["reset"])}</button><output>{showing}</output></div>'
    )


def _more(prefix: str, words: dict[str, str]) -> str:
    """The "show more" button under a paged table: the script shows it when more rows match than it shows."""
    return f'<button type="button" class="more" id="{prefix}filter-more" data-label="{_e(words["more"])}" hidden></button>'


def render(report: Report, *, lang: str = "en", color: bool = False, pack: Any = None) -> str:
    words = _WORDS.get(lang, _WORDS["en"])

    def sev(name: str) -> str:
        return _SEVERITY_ZH.get(name, name) if lang == "zh" else name

    summary = report.summary()
    families = list(FAMILIES) + sorted(k for k in summary["by_family"] if k not in FAMILIES)
    merchants = _ranked(Counter(f.merchant_id or "" for f in report.findings))
    accepted = bool(summary["waived"] or summary["baselined"])
    return "".join(
        (
            _head(report.metadata, words, lang),
            _scan(summary, report.metadata, words, sev),
            _expired(report, words),
            _overview(report, summary, families, merchants, words, sev, getattr(pack, "pack", pack), lang),
            _findings(report, summary, families, merchants, words, sev),
            _unchecked(report, words),
            f"</main>\n<script>{_JS_STATUS if accepted else _JS}</script>\n</body>\n</html>\n",
        )
    )


def _head(meta: dict[str, Any], words: dict[str, str], lang: str) -> str:
    policy = meta.get("policy_pack") or {}
    parts = []
    if policy:
        parts.append(f"{words['pack']} {policy.get('name', '')} {policy.get('version', '')}".strip())
    if meta.get("as_of"):
        parts.append(f"{words['as_of']} {meta['as_of']}")
    line = " · ".join(parts)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
        "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(words['title'])}{' — ' + _e(line) if line else ''}</title>\n"
        '<script>document.documentElement.className = "js"</script>\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(words['title'])}</h1>" + (f"<p>{_e(line)}</p>" if line else "") + "</header>\n<main>\n"
    )


def _scan(summary: dict[str, Any], meta: dict[str, Any], words: dict[str, str], sev: Callable[[str], str]) -> str:
    """The counts, then what the scan was run with."""
    out = [f'<section id="scan"><h2>{_e(words["scan"])}</h2><div class="cards">']
    for key, word, bad in (
        ("findings", "findings", summary["findings"] > 0),
        ("documents", "documents", False),
        ("read", "read", False),
        ("errors", "errors_count", summary["errors"] > 0),
        ("not-evaluated", "not_evaluated_count", summary["not_evaluated"] > 0),
    ):
        value = summary[key.replace("-", "_")]
        out.append(f'<div class="stat{" bad" if bad else ""}"><b id="count-{key}">{value}</b>'
                   f"<span>{_e(words[word])}</span></div>")
    # accepted findings and expired waivers: shown when there are any (without --waivers or --baseline
    # there never are, and the page stays as it was)
    if summary["waived"] or summary["baselined"] or summary["expired_waivers"]:
        for key, word, bad in (
            ("waived", "waived_count", False),
            ("baselined", "baselined_count", False),
            ("expired-waivers", "expired_count", summary["expired_waivers"] > 0),
        ):
            value = summary[key.replace("-", "_")]
            out.append(f'<div class="stat{" bad" if bad else ""}"><b id="count-{key}">{value}</b>'
                       f"<span>{_e(words[word])}</span></div>")
    for name, count in summary["by_severity"].items():
        out.append(f'<div class="stat"><b id="count-severity-{_e(name)}">{count}</b><span>{_e(sev(name))}</span></div>')
    out.append('</div><div class="card"><dl class="meta" id="metadata">')
    policy = meta.get("policy_pack") or {}
    rows: list[tuple[str, str, str]] = []
    if meta.get("tool") or meta.get("version"):
        rows.append(("tool", words["tool"], f"{meta.get('tool', '')} {meta.get('version', '')}".strip()))
    if policy:
        rows.append(("pack", words["pack"], str(policy.get("name", ""))))
        rows.append(("pack_version", words["pack_version"], str(policy.get("version", ""))))
        rows.append(("content_hash", words["content_hash"], str(policy.get("content_hash", ""))))
    if meta.get("as_of"):
        rows.append(("as_of", words["as_of"], f"{meta['as_of']} ({words['orders_note']})"))
    if meta.get("generated_at"):
        rows.append(("generated_at", words["generated"], str(meta["generated_at"])))
    if meta.get("lang"):
        rows.append(("lang", words["lang"], str(meta["lang"])))
    known = {"tool", "version", "policy_pack", "as_of", "generated_at", "lang"}
    rows += [(key, key, str(meta[key])) for key in sorted(meta) if key not in known]
    for key, label, value in rows:
        body = f"<code>{_e(value)}</code>" if key == "content_hash" else _e(value)
        out.append(f'<dt>{_e(label)}</dt><dd data-meta="{_e(key)}">{body}</dd>')
    out.append("</dl></div></section>\n")
    return "".join(out)


def _overview(
    report: Report,
    summary: dict[str, Any],
    families: list[str],
    merchants: list[tuple[str, int]],
    words: dict[str, str],
    sev: Callable[[str], str],
    pack: Any,
    lang: str,
) -> str:
    """The three charts and the top rules."""
    by_family, by_severity = summary["by_family"], summary["by_severity"]
    merchant_bars = [(m, m or words["no_merchant"], n, False) for m, n in merchants[:TOP_MERCHANTS]]
    rest = merchants[TOP_MERCHANTS:]
    if rest:
        merchant_bars.append(("", words["others"].format(n=len(rest)), sum(n for _, n in rest), True))
    merchant_title = words["by_merchant"].format(n=TOP_MERCHANTS)
    out = [
        f'<section id="overview"><h2>{_e(words["overview"])}</h2><div class="grid">',
        f'<figure class="card"><h3>{_e(words["by_family"])}</h3>',
        _bar_chart("chart-family", words["by_family"], [(k, k, by_family.get(k, 0), False) for k in families], "family"),
        f'</figure><figure class="card"><h3>{_e(words["by_severity"])}</h3>',
        _bar_chart("chart-severity", words["by_severity"], [(k, sev(k), n, False) for k, n in by_severity.items()],
                   "severity"),
        f'<p class="hint">{_e(words["chart_hint"])}</p></figure><figure class="card"><h3>{_e(merchant_title)}</h3>',
        _bar_chart("chart-merchant", merchant_title, merchant_bars, "merchant"),
        "</figure>",
    ]
    rules = _ranked(Counter(f.rule for f in report.findings))
    first: dict[str, tuple[str, str]] = {}
    for f in report.findings:
        first.setdefault(f.rule, (f.family, f.severity))
    titled = pack is not None and hasattr(pack, "rule")
    out.append(
        f'<div class="card"><h3>{_e(words["top_rules"])}</h3><table id="top-rules"><thead><tr>'
        f'<th>{_e(words["rule"])}</th>' + (f'<th>{_e(words["rule_title"])}</th>' if titled else "")
        + f'<th>{_e(words["family"])}</th><th>{_e(words["severity"])}</th><th>{_e(words["count"])}</th></tr>'
        "</thead><tbody>"
    )
    for rule_id, count in rules[:TOP_RULES]:
        family, severity = first[rule_id]
        title = ""
        if titled:
            rule = pack.rule(rule_id)
            title = f"<td>{_e(rule.title.get(lang) if rule is not None else '')}</td>"
        out.append(f'<tr data-rule="{_e(rule_id)}"><td><code>{_e(rule_id)}</code></td>{title}<td>{_e(family)}</td>'
                   f"<td>{_e(sev(severity))}</td><td data-count>{count}</td></tr>")
    out.append("</tbody></table>")
    if len(rules) > TOP_RULES:
        more = rules[TOP_RULES:]
        out.append(f'<p class="note">{_e(words["more_rules"].format(n=len(more), count=sum(n for _, n in more)))}</p>')
    out.append("</div></div></section>\n")
    return "".join(out)


def _findings(
    report: Report,
    summary: dict[str, Any],
    families: list[str],
    merchants: list[tuple[str, int]],
    words: dict[str, str],
    sev: Callable[[str], str],
) -> str:
    """The filter bar and a row per finding, in the report's order."""
    selects = "".join((
        _options("family", words["all_families"], [(k, f"{k} ({summary['by_family'].get(k, 0)})") for k in families]),
        _options("severity", words["all_severities"], [(k, f"{sev(k)} ({n})") for k, n in summary["by_severity"].items()]),
        _options("merchant", words["all_merchants"], [(m, f"{m} ({n})") for m, n in merchants if m]),
        _status_options(summary, words),
    ))
    out = [
        f'<section id="findings-section"><h2>{_e(words["findings_table"])}</h2>',
        _filter_bar("", words["filter_text"], selects, len(report.findings), "count-visible", words),
        (
            '<table id="findings" class="paged"><colgroup><col><col><col><col><col><col><col></colgroup><thead><tr>'
            f'<th>#</th><th>{_e(words["severity"])}</th><th>{_e(words["rule"])}</th><th>{_e(words["document"])}</th>'
            f'<th>{_e(words["merchant"])}</th><th>{_e(words["path"])}</th><th>{_e(words["message"])}</th></tr>'
            "</thead><tbody>\n"
        ),
    ]
    fix, listing = _e(words["fix"]), _e(words["listing"])
    for n, f in enumerate(report.findings, 1):
        doc = f.document
        rule_note = _e(f.family) + (f" · {_e(f.penalty)}" if f.penalty else "")
        product = f" · {listing} {_e(f.product_id)}" if f.product_id is not None and f.product_id != doc.id else ""
        # accepted (--waivers, --baseline): shown as such, with why; not hidden
        accepted, mark = "", ""
        if f.waived is not None:
            w = f.waived
            accepted = f"<small data-waived>{_e(words['waived'])}: {_e(w['reason'])} ({_e(w['owner'])}, {_e(w['expires'])})</small>"
            mark = " data-waived"
        elif f.baseline:
            accepted, mark = f"<small data-baseline>{_e(words['baseline'])}</small>", " data-baseline"
        # one compact line per finding (100,000 of them make a page of ~70 MB); </td> is implied in HTML5
        out.append(
            f'<tr data-family="{_e(f.family)}" data-severity="{_e(f.severity)}" data-merchant="{_e(f.merchant_id)}"{mark}>'
            f"<td>{n}<td>{_e(sev(f.severity))}<td>{_e(f.rule)}<small>{rule_note}</small>"
            f"<td>{_e(doc.kind)} {_e(doc.id)}{product}<small>{_e(doc.source)}</small><td>{_e(f.merchant_id)}"
            f"<td>{_e(f.path)}<td>{_e(f.message)}<small>{fix}: {_e(f.remedy)}</small>{accepted}</tr>\n"
        )
    out.append("</tbody></table>" + _more("", words))
    if not report.findings:
        out.append(f'<p class="note">{_e(words["no_findings"])}</p>')
    out.append("</section>\n")
    return "".join(out)


def _status_options(summary: dict[str, Any], words: dict[str, str]) -> str:
    """The filter by whether a finding counts: only where some do not (a row is waived or baselined,
    never both: the waiver wins, as in the summary's counts)."""
    waived, baselined = summary["waived"], summary["baselined"]
    if not waived and not baselined:
        return ""
    return _options("status", words["all_statuses"], [
        ("open", f"{words['open']} ({summary['findings'] - waived - baselined})"),
        ("waived", f"{words['status_waived']} ({waived})"),
        ("baseline", f"{words['status_baseline']} ({baselined})"),
    ])


def _expired(report: Report, words: dict[str, str]) -> str:
    """The waivers that expired: they no longer waive, and their findings count again."""
    if not report.expired_waivers:
        return ""
    out = [(
        f'<section id="expired-waivers-section"><h2>{_e(words["expired_waivers"])}</h2>'
        f'<table id="expired-waivers"><thead><tr><th>{_e(words["waiver"])}</th><th>{_e(words["rule"])}</th>'
        f'<th>{_e(words["document"])}</th><th>{_e(words["expired_at"])}</th><th>{_e(words["reason"])}</th>'
        "</tr></thead><tbody>\n"
    )]
    for w in report.expired_waivers:
        entry = w.to_dict()
        out.append(f"<tr data-expired-waiver><td>{_e(w.where)}<td><code>{_e(w.rule)}</code><td>{_e(w.document)}"
                   + (f"<small>{_e(w.path)}</small>" if w.path else "")
                   + f"<td>{_e(entry['expires'])}<td>{_e(w.reason)}<small>{_e(w.owner)}</small></tr>\n")
    out.append(f'</tbody></table><p class="note">{_e(words["expired_note"])}</p></section>\n')
    return "".join(out)


#: how the engine says that a rule lacked the document's merchant (checker/engine.py, `_unevaluated`)
def _unevaluated_merchants(report: Report) -> list[str]:
    """The merchant of each rule not evaluated (the one it lacked, as a rule), "" when none is known."""
    return [entry.merchant_id or "" for entry in report.not_evaluated]


def _unchecked(report: Report, words: dict[str, str]) -> str:
    """What could not be read, and the rules that were not evaluated: paged and filtered as the findings
    are (a catalog without its merchants' file has a rule not evaluated per rule and listing, 44,786 of
    them for 50,000 documents)."""
    out = [f'<section id="errors-section"><h2>{_e(words["errors"])}</h2>']
    if report.errors:
        out.append(_filter_bar("errors-", words["filter_errors"], "", len(report.errors), "count-visible-errors", words))
        out.append(f'<table id="errors" class="paged"><thead><tr><th>{_e(words["file"])}</th><th>{_e(words["line"])}</th>'
                   f'<th>{_e(words["pointer"])}</th><th>{_e(words["reason"])}</th></tr></thead><tbody>\n')
        for err in report.errors:
            more = "".join(f"<small>{_e(m)}</small>" for m in err.more)
            out.append(f"<tr data-error><td>{_e(err.file)}<td>{_e(err.line)}<td>{_e(err.pointer)}"
                       f"<td>{_e(err.reason)}{more}</tr>\n")
        out.append("</tbody></table>" + _more("errors-", words))
    else:
        out.append(f'<p class="note" id="errors">{_e(words["no_errors"])}</p>')
    out.append(f'</section>\n<section id="not-evaluated-section"><h2>{_e(words["not_evaluated"])}</h2>')
    if report.not_evaluated:
        merchants = _unevaluated_merchants(report)
        failed = sum(1 for entry in report.not_evaluated if entry.failed)
        selects = "".join((
            _options("merchant", words["all_merchants"],
                     [(m, f"{m} ({n})") for m, n in _ranked(Counter(merchants)) if m], "not-evaluated-"),
            _options("outcome", words["all_outcomes"], [("failed", f"{words['failed']} ({failed})"),
                     ("lacked", f"{words['lacked']} ({len(merchants) - failed})")], "not-evaluated-"),
        ))
        out.append(_filter_bar("not-evaluated-", words["filter_not_evaluated"], selects, len(report.not_evaluated),
                               "count-visible-not-evaluated", words))
        out.append(f'<table id="not-evaluated" class="paged"><thead><tr><th>{_e(words["rule"])}</th>'
                   f'<th>{_e(words["document"])}</th><th>{_e(words["merchant"])}</th><th>{_e(words["outcome"])}</th>'
                   f'<th>{_e(words["reason"])}</th></tr></thead><tbody>\n')
        for entry, merchant in zip(report.not_evaluated, merchants, strict=True):
            doc = entry.document
            outcome = words["failed"] if entry.failed else words["lacked"]
            out.append(f'<tr data-not-evaluated{" data-failed" if entry.failed else ""} data-merchant="{_e(merchant)}">'
                       f"<td>{_e(entry.rule)}<small>{_e(entry.family)}</small><td>{_e(doc.kind)} {_e(doc.id)}"
                       f"<small>{_e(doc.source)}</small><td>{_e(merchant)}<td>{_e(outcome)}<td>{_e(entry.reason)}</tr>\n")
        out.append("</tbody></table>" + _more("not-evaluated-", words))
    else:
        out.append(f'<p class="note" id="not-evaluated">{_e(words["no_not_evaluated"])}</p>')
    out.append("</section>\n")
    return "".join(out)
