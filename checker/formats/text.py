"""`--format text`: findings grouped by document, for people at a terminal.

Streamed: a document's findings are written as the scan finds them (they
come together); the errors and rules not evaluated follow, then the summary.
"""

from __future__ import annotations

from typing import IO, Any

from ..model import Finding, InputError, NotEvaluated, Report
from ..values import format_time

_HEADINGS = {
    "en": {
        "errors": "Could not be checked",
        "not_evaluated": "Not evaluated",
        "fix": "fix",
        "summary": "{documents} document(s) checked, {findings} finding(s) ({sev}), {errors} unreadable or invalid, {not_evaluated} rule check(s) not evaluated",
        "clean": "no findings",
        "merchant": "merchant",
        "waived": "waived",
        "baseline": "in the baseline",
        "expired": "Expired waivers (no longer waive)",
        "excused": "{waived} waived, {baselined} in the baseline (not counted for the exit status)",
        "by_family": "by family: {families}",
        "grouped": "{count} of them: {reason}; e.g. {example}",
    },
    "zh": {
        "errors": "无法检查",
        "not_evaluated": "未评估",
        "fix": "整改",
        "summary": "已检查{documents}个文档，发现{findings}个问题（{sev}），{errors}个无法读取或无效，{not_evaluated}项规则检查未评估",
        "clean": "未发现问题",
        "merchant": "商家",
        "waived": "已豁免",
        "baseline": "基线内",
        "expired": "已过期的豁免（不再生效）",
        "excused": "{waived}个已豁免，{baselined}个在基线内（不计入退出状态）",
        "by_family": "按类别：{families}",
        "grouped": "其中{count}条：{reason}；例如 {example}",
    },
}
_SEVERITY_ZH = {"error": "错误", "warning": "警告", "advice": "建议"}
#: beyond this many rules not evaluated, the text groups them by reason (a catalog without its merchants' file:
#: one line per rule and document, 44,786 lines for 50,000 documents); --format json lists every one
GROUP_OVER = 20
_COLORS = {"error": "red", "warning": "yellow", "advice": "cyan"}


class Writer:
    def __init__(self, out: IO[str], *, lang: str = "en", color: bool = False, pack: Any = None) -> None:
        self.write = out.write
        self.lang = lang
        self.color = color
        self.words = _HEADINGS.get(lang, _HEADINGS["en"])
        #: severity -> its label as written (padded, perhaps coloured): made once, not for each finding (with
        #: the path styled only in colour, 0.4 us of 2.2 a finding less)
        self.labels: dict[str, str] = {}
        self.document: tuple[Any, ...] | None = None
        self.errors: list[InputError] = []
        self.skipped: list[NotEvaluated] = []

    def style(self, text: str, **kw: object) -> str:
        if not self.color:
            return text
        import click

        return click.style(text, **kw)  # type: ignore[arg-type]

    def severity(self, name: str) -> str:
        label = _SEVERITY_ZH[name] if self.lang == "zh" else name
        return self.style(f"{label:<7}", fg=_COLORS[name], bold=name == "error")

    def finding(self, f: Finding) -> None:
        self.encoded(self.key(f), self.encode(f))

    @staticmethod
    def key(f: Finding) -> tuple[Any, ...]:
        """The document a finding is grouped under."""
        return (f.document.source, f.document.kind, f.document.id, f.merchant_id)

    def encode(self, f: Finding) -> str:
        """A finding's lines, without its document's heading (parallel.py has the workers make them)."""
        label = self.labels.get(f.severity)
        if label is None:
            label = self.labels[f.severity] = self.severity(f.severity)
        path = self.style(f.path, dim=True) if self.color else f.path
        text = f"  {label} {f.rule}  {path}\n          {f.message}\n          {self.words['fix']}: {f.remedy}\n"
        if f.waived is not None:
            w = f.waived
            text += f"          {self.words['waived']}: {w['reason']} ({w['owner']}, {w['expires']})\n"
        elif f.baseline:
            text += f"          {self.words['baseline']}\n"
        return text

    def encoded(self, key: Any, text: str) -> None:
        if key != self.document:
            head = f"{key[0]}  {key[1]} {key[2]}"
            if key[3] and key[1] != "merchant":
                head += f"  ({self.words['merchant']} {key[3]})"
            text = ("\n" if self.document is not None else "") + self.style(head, bold=True) + "\n" + text
            self.document = key
        self.write(text)

    def error(self, error: InputError) -> None:
        self.errors.append(error)

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.skipped.append(entry)

    def end(self, report: Report) -> None:
        words, style = self.words, self.style
        out: list[str] = [""] if self.document is not None else []
        if self.errors:
            out.append(style(words["errors"], bold=True))
            for e in self.errors:
                out.append(f"  {e}")
                out.extend(f"      {more}" for more in e.more)
            out.append("")
        if self.skipped:
            out.append(style(words["not_evaluated"], bold=True))
            if len(self.skipped) <= GROUP_OVER:
                for n in self.skipped:
                    out.append(f"  {n.document.source}  {n.document.kind} {n.document.id}  {n.rule}: {n.reason}")
            else:
                by_reason: dict[str, list[NotEvaluated]] = {}
                for n in self.skipped:
                    by_reason.setdefault(n.reason, []).append(n)
                for reason, entries in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
                    n = entries[0]
                    example = f"{n.document.source} {n.document.kind} {n.document.id} ({n.rule})"
                    out.append("  " + words["grouped"].format(count=len(entries), reason=reason, example=example))
            out.append("")
        if report.expired_waivers:
            out.append(style(words["expired"], bold=True))
            for w in report.expired_waivers:
                out.append(f"  {w.where}  {w.rule} {w.document} {w.path or ''}  {w.owner}, {format_time(w.expires)}")
            out.append("")
        summary = report.summary()
        sev = ", ".join(
            f"{count} {_SEVERITY_ZH[name] if self.lang == 'zh' else name}"
            for name, count in summary["by_severity"].items() if count
        ) or words["clean"]
        out.append(words["summary"].format(sev=sev, **summary))
        if summary["findings"]:
            families = sorted(((c, f) for f, c in summary["by_family"].items() if c), key=lambda cf: (-cf[0], cf[1]))
            out.append(words["by_family"].format(families=", ".join(f"{f} {c:,}" for c, f in families)))
        if summary["waived"] or summary["baselined"]:
            out.append(words["excused"].format(**summary))
        self.write("\n".join(out) + "\n")
