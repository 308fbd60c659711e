"""`--format github`: GitHub Actions workflow commands, one a line, that annotate the files of a run.

The mapping, in report order:

- a finding: `::error|warning|notice file=F,line=L,title=RULE::DATA`, the
  command from the severity (error -> error, warning -> warning, advice ->
  notice); F the snapshot file (`document.source` less the ":line" of JSON
  Lines), L the line for JSON Lines (absent for a .json file); RULE the rule
  id; DATA three lines: the message, "<kind> <id> <JSON Pointer>", and
  "fix: <remedy>";
- an input error: `::error file=F,line=L,title=invalid input::[<pointer>: ]<reason>`
  (the document's other problems on the lines after);
- a rule not evaluated: `::notice file=F,line=L,title=RULE not evaluated::<reason>`,
  or `::error ... title=RULE failed::<reason>` when the rule failed on the
  document (exit status 2);
- an expired waiver (--waivers; the report's `expired_waivers`):
  `::warning file=W,title=waiver expired: RULE::<rule> <document> [<path>]: expired
  <time>, no longer waives`, its reason and owner on the lines after; W the
  waiver file. A warning, not an error: the findings it no longer waives
  are errors (or warnings) of their own, and this line says why they are back;
- last, one plain line (no command): "compliance: N document(s) checked, ...",
  the summary of `--format text`, and, when findings were waived or
  baselined or a waiver expired, a second: "compliance: W waived, B in the
  baseline (not counted for the exit status), E waiver(s) expired".

`file` and `line` are left out where there is no file ("<stdin>", "<input>").
Escaping as GitHub's toolkit does: in the data, % -> %25, CR -> %0D, LF ->
%0A (so every command is one line, and the annotation shows the line
breaks); in property values also : -> %3A and , -> %2C. The labels
("fix", "invalid input", the summary) follow `lang`; the messages are the
report's own. GitHub shows a limited number of annotations per step; the
lines are all written. Pure: the same report gives the same text.
"""

from __future__ import annotations

from typing import Any

from ..model import Report

COMMANDS = {"error": "error", "warning": "warning", "advice": "notice"}

_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "fix": "fix",
        "invalid": "invalid input",
        "not_evaluated": "{rule} not evaluated",
        "failed": "{rule} failed",
        "summary": "compliance: {documents} document(s) checked, {findings} finding(s) ({sev}), "
                   "{errors} unreadable or invalid, {not_evaluated} rule check(s) not evaluated",
        "clean": "no findings",
        "severity": {"error": "error", "warning": "warning", "advice": "advice"},
        "expired_title": "waiver expired: {rule}",
        "expired": "{rule} {document}{path}: expired {expires}, no longer waives\nreason: {reason}\nowner: {owner}",
        "excused": "compliance: {waived} waived, {baselined} in the baseline (not counted for the exit status), "
                   "{expired_waivers} waiver(s) expired",
    },
    "zh": {
        "fix": "整改",
        "invalid": "输入无效",
        "not_evaluated": "{rule} 未评估",
        "failed": "{rule} 执行失败",
        "summary": "compliance：已检查{documents}个文档，发现{findings}个问题（{sev}），{errors}个无法读取或无效，"
                   "{not_evaluated}项规则检查未评估",
        "clean": "未发现问题",
        "severity": {"error": "错误", "warning": "警告", "advice": "建议"},
        "expired_title": "豁免已过期：{rule}",
        "expired": "{rule} {document}{path}：已于 {expires} 过期，不再豁免\n原因：{reason}\n负责人：{owner}",
        "excused": "compliance：{waived}个已豁免，{baselined}个在基线内（不计入退出状态），{expired_waivers}个豁免已过期",
    },
}


def render(report: Report, *, lang: str = "en", color: bool = False, pack: Any = None) -> str:
    words = _WORDS.get(lang, _WORDS["en"])
    lines = []
    for f in report.findings:
        data = f"{f.message}\n{f.document.kind} {f.document.id} {f.path}\n{words['fix']}: {f.remedy}"
        name = COMMANDS[f.severity]
        if f.waived is not None or f.baseline:  # accepted: a notice, not a failure
            name = "notice"
            data += "\n" + (f"waived: {f.waived['reason']} ({f.waived['owner']}, {f.waived['expires']})"
                            if f.waived is not None else "in the baseline")
        lines.append(command(name, data, *f.document.file_and_line(), title=f.rule))
    for e in report.errors:
        text = f"{e.pointer}: {e.reason}" if e.pointer else e.reason
        lines.append(command("error", "\n".join((text, *e.more)), e.file, e.line, title=words["invalid"]))
    for n in report.not_evaluated:
        title = words["failed" if n.failed else "not_evaluated"].format(rule=n.rule)
        lines.append(command("error" if n.failed else "notice", n.reason, *n.document.file_and_line(), title=title))
    for w in report.expired_waivers:
        entry = w.to_dict()
        data = words["expired"].format(**{**entry, "path": f" {w.path}" if w.path else ""})
        lines.append(command("warning", data, w.file, None, title=words["expired_title"].format(rule=w.rule)))
    summary = report.summary()
    sev = ", ".join(
        f"{count} {words['severity'][name]}" for name, count in summary["by_severity"].items() if count
    ) or words["clean"]
    lines.append(words["summary"].format(sev=sev, **summary))
    if summary["waived"] or summary["baselined"] or summary["expired_waivers"]:
        lines.append(words["excused"].format(**summary))
    return "\n".join(lines) + "\n"


def command(name: str, data: str, file: str | None, line: int | None, *, title: str) -> str:
    """One workflow command line: `::name file=...,line=...,title=...::data`."""
    props = []
    if file and file != "-" and not (file.startswith("<") and file.endswith(">")):
        props.append(f"file={escape_property(file)}")
        if line is not None:
            props.append(f"line={line}")
    props.append(f"title={escape_property(title)}")
    return f"::{name} {','.join(props)}::{escape_data(data)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")

