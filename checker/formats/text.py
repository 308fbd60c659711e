"""`--format text`: findings grouped by document, for people at a terminal."""

from __future__ import annotations

from itertools import groupby

from ..model import Report

_HEADINGS = {
    "en": {
        "errors": "Could not be checked",
        "not_evaluated": "Not evaluated",
        "fix": "fix",
        "summary": "{documents} document(s) checked, {findings} finding(s) ({sev}), {errors} unreadable or invalid, {not_evaluated} rule(s) not evaluated",
        "clean": "no findings",
        "merchant": "merchant",
    },
    "zh": {
        "errors": "无法检查",
        "not_evaluated": "未评估",
        "fix": "整改",
        "summary": "已检查{documents}个文档，发现{findings}个问题（{sev}），{errors}个无法读取或无效，{not_evaluated}条规则未评估",
        "clean": "未发现问题",
        "merchant": "商家",
    },
}
_SEVERITY_ZH = {"error": "错误", "warning": "警告", "advice": "建议"}
_COLORS = {"error": "red", "warning": "yellow", "advice": "cyan"}


def render(report: Report, *, lang: str = "en", color: bool = False) -> str:
    words = _HEADINGS.get(lang, _HEADINGS["en"])

    def style(text: str, **kw: object) -> str:
        if not color:
            return text
        import click

        return click.style(text, **kw)  # type: ignore[arg-type]

    def severity(name: str) -> str:
        label = _SEVERITY_ZH[name] if lang == "zh" else name
        return style(f"{label:<7}", fg=_COLORS[name], bold=name == "error")

    out: list[str] = []
    for (source, kind, doc_id, merchant), group in groupby(
        report.findings, key=lambda f: (f.document.source, f.document.kind, f.document.id, f.merchant_id)
    ):
        head = f"{source}  {kind} {doc_id}"
        if merchant and kind != "merchant":
            head += f"  ({words['merchant']} {merchant})"
        out.append(style(head, bold=True))
        for f in group:
            out.append(f"  {severity(f.severity)} {f.rule}  {style(f.path, dim=True)}")
            out.append(f"          {f.message}")
            out.append(f"          {words['fix']}: {f.remedy}")
        out.append("")
    if report.errors:
        out.append(style(words["errors"], bold=True))
        for e in report.errors:
            out.append(f"  {e}")
            out.extend(f"      {more}" for more in e.more)
        out.append("")
    if report.not_evaluated:
        out.append(style(words["not_evaluated"], bold=True))
        for n in report.not_evaluated:
            out.append(f"  {n.document.source}  {n.document.kind} {n.document.id}  {n.rule}: {n.reason}")
        out.append("")
    summary = report.summary()
    sev = ", ".join(
        f"{count} {_SEVERITY_ZH[name] if lang == 'zh' else name}" for name, count in summary["by_severity"].items() if count
    ) or words["clean"]
    out.append(words["summary"].format(sev=sev, **summary))
    return "\n".join(out) + "\n"
