"""`--format sarif`: the report as a SARIF 2.1.0 log, for code-scanning tools (GitHub, Azure DevOps, IDEs).

The mapping (one log, one run):

- `tool.driver`: name "compliance", `version` the checker's (report
  metadata). `rules`: one reportingDescriptor per rule of the policy pack,
  in pack order (without a pack: one per rule id the findings and the
  rules not evaluated name, sorted by id; a finding whose rule is not in the
  pack gets one appended). A descriptor has the rule `id`; `name` the id in
  PascalCase ("tier-anomaly/bait-tier" -> "TierAnomalyBaitTier": stable,
  and unique where the last part alone is not); `shortDescription` the
  title, `fullDescription` the description, and `help` the description
  followed by "Remedy:" and the rule's remedy template with each
  {placeholder} shown as "…" (a finding's own remedy, filled in, is in the
  result's properties), all in `lang`; `defaultConfiguration.level` from
  the severity (error -> error, warning -> warning, advice -> note);
  `properties` family, severity, penalty, document kind, the RULES.md
  source, the policy file and `tags` (family, severity, penalty).
  `notifications`: descriptors of the three kinds of notification below.
- `results`: one per finding, in report order. `ruleId`, `ruleIndex`,
  `level` as above, `message.text` the finding's message (in the language
  the report was made in). `locations[0].physicalLocation`: the snapshot
  file (`document.source` less the ":line" of JSON Lines; a relative path
  as given, percent-encoded; an absolute one as a file:// URI) and, for
  JSON Lines, `region.startLine` the line; a source that is no file
  ("<stdin>", "<input>") has no physical location. `logicalLocations[0]`:
  `fullyQualifiedName` "<kind>/<document id>#<JSON Pointer>" (e.g.
  "product/P-1#/price/tiers/3/price"), `name` the pointer, kind "member".
  `partialFingerprints["compliance/v1"]`: sha256 (hex) of rule id, document
  id and pointer (NUL-separated): the same problem matches across scans
  even when the file moves or the numbers in the message change.
  A waived finding (--waivers) has `suppressions` (kind external, status
  accepted, the reason, owner and expiry as justification); a finding in
  the --baseline has `baselineState` "unchanged".
  `properties`: every field of the JSON finding that SARIF has no place
  for: pointer, document {kind, id, source}, merchant_id, product_id,
  remedy, family, severity, penalty.
- `invocations[0]`: `executionSuccessful` is false when something could not
  be checked, as exit status 2 says: an input error, or a rule that failed
  on a document (rules that merely lacked data do not count).
  `toolExecutionNotifications`: each input error (level error, descriptor
  "input-error", the file and line, the pointer as a logical location, the
  entry of `errors` as properties), then each rule not evaluated (level
  note, descriptor "not-evaluated"; level error, descriptor "rule-failed",
  when the rule failed), with `associatedRule` and the document's location.
  `toolConfigurationNotifications` (only when a waiver of --waivers has
  expired: a condition of the scan's configuration, not of its run): one
  per expired waiver (level warning, descriptor "expired-waiver", appended
  to the driver's notifications only then), with `associatedRule`, the
  waiver file as location and the entry of `expired_waivers` as
  properties: a job that fails because a waiver expired says why.
- run `properties`: `metadata` (tool, version, policy pack name, version
  and content hash, as_of, lang: what it takes to reproduce the audit) and
  `summary`, both as in the JSON report (the summary counts the waived and
  baselined findings and the expired waivers); run `language` is `lang`.

Pure: the log is built from the report and the pack alone, and the same
report gives the same text.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

import orjson

from ..model import DocumentRef, Finding, InputError, NotEvaluated, Report

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "compliance/v1"
#: the second, third ... finding of one fingerprint (EPR: one a country at /composition/circuit): without it,
#: a code-scanning view takes them for one result
OCCURRENCE = "compliance-occurrence/v1"

#: severity -> SARIF level
LEVELS = {"error": "error", "warning": "warning", "advice": "note"}

_WORDS = {
    "en": {
        "remedy": "Remedy",
        "input-error": "A document could not be read, or is not a valid snapshot; it was not checked.",
        "not-evaluated": "A rule applies to a document but lacked the data to decide (e.g. the merchant was not in the scan).",
        "rule-failed": "A rule failed on a document (a defect of the rule); its other rules' findings still stand.",
        "expired-waiver": "A waiver of --waivers has expired: it no longer waives the findings it names.",
        "expired": "{rule} {document}{path}: the waiver expired {expires}; it no longer waives ({reason}; {owner})",
    },
    "zh": {
        "remedy": "整改方案",
        "input-error": "文档无法读取或不是有效的快照，未检查。",
        "not-evaluated": "规则适用于该文档，但缺少判定所需的数据（例如商家不在本次扫描中）。",
        "rule-failed": "规则在该文档上执行失败（规则缺陷）；其他规则的结果仍然有效。",
        "expired-waiver": "--waivers 中的豁免已过期：不再豁免其所列的问题。",
        "expired": "{rule} {document}{path}：豁免已于 {expires} 过期，不再生效（{reason}；{owner}）",
    },
}
_NOTIFICATIONS = (("input-error", "InputError", "error"), ("not-evaluated", "NotEvaluated", "note"),
                  ("rule-failed", "RuleFailed", "error"))
#: described only in a log that has one (a scan without waivers keeps its log as it was)
_EXPIRED = ("expired-waiver", "ExpiredWaiver", "warning")
_NOTIFICATION_INDEX = {id_: i for i, (id_, _, _) in enumerate((*_NOTIFICATIONS, _EXPIRED))}


def render(report: Report, *, lang: str = "en", color: bool = False, pack: Any = None) -> str:
    return orjson.dumps(sarif_log(report, lang=lang, pack=pack), option=orjson.OPT_INDENT_2).decode() + "\n"


def sarif_log(report: Report, *, lang: str = "en", pack: Any = None) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    words = _WORDS.get(lang, _WORDS["en"])
    rules, index = _rules(report, pack, lang, words)
    driver: dict[str, Any] = {"name": "compliance"}
    if report.metadata.get("version"):
        driver["version"] = str(report.metadata["version"])
    driver["rules"] = rules
    driver["notifications"] = [
        {"id": id_, "name": name, "shortDescription": {"text": words[id_]}, "defaultConfiguration": {"level": level}}
        for id_, name, level in (*_NOTIFICATIONS, *((_EXPIRED,) if report.expired_waivers else ()))
    ]
    notifications = [_error(e) for e in report.errors] + [_unevaluated(n, index) for n in report.not_evaluated]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.errors and not any(n.failed for n in report.not_evaluated),
        "toolExecutionNotifications": notifications,
    }
    if report.expired_waivers:
        invocation["toolConfigurationNotifications"] = [_expired(w, index, words) for w in report.expired_waivers]
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "language": lang,
        "results": _results(report.findings, index),
        "properties": {"metadata": dict(report.metadata), "summary": report.summary()},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


# -- rules ---------------------------------------------------------------------------------


def _rules(report: Report, pack: Any, lang: str, words: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The reporting descriptors, and rule id -> index among them."""
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in pack.rules if pack is not None else ():
        if rule.id not in index:
            index[rule.id] = len(descriptors)
            descriptors.append(_descriptor(rule, lang, words))
    seen: dict[str, Finding | NotEvaluated] = {}
    for item in (*report.findings, *report.not_evaluated):
        if item.rule not in index:
            seen.setdefault(item.rule, item)
    for rule_id in sorted(seen):
        index[rule_id] = len(descriptors)
        descriptors.append(_bare_descriptor(seen[rule_id]))
    return descriptors, index


def _descriptor(rule: Any, lang: str, words: dict[str, str]) -> dict[str, Any]:
    description = rule.description.get(lang)
    remedy = _placeholders(rule.remedy.get(lang))
    properties: dict[str, Any] = {
        "family": rule.family,
        "severity": rule.severity,
        "penalty": rule.penalty,
        "kind": rule.kind,
    }
    if rule.source:
        properties["source"] = rule.source
    if rule.file:
        properties["file"] = rule.file
    properties["tags"] = _tags(rule.family, rule.severity, rule.penalty)
    return {
        "id": rule.id,
        "name": pascal_case(rule.id),
        "shortDescription": {"text": rule.title.get(lang)},
        "fullDescription": {"text": description},
        "help": {"text": f"{description}\n\n{words['remedy']}: {remedy}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": properties,
    }


def _bare_descriptor(item: Finding | NotEvaluated) -> dict[str, Any]:
    """A rule known only from a finding (or an entry of not_evaluated): no texts."""
    out: dict[str, Any] = {"id": item.rule, "name": pascal_case(item.rule)}
    properties: dict[str, Any] = {"family": item.family}
    if isinstance(item, Finding):
        out["defaultConfiguration"] = {"level": LEVELS[item.severity]}
        properties.update(severity=item.severity, penalty=item.penalty)
        properties["tags"] = _tags(item.family, item.severity, item.penalty)
    else:
        properties["tags"] = [item.family]
    out["properties"] = properties
    return out


def _tags(family: str, severity: str, penalty: str | None) -> list[str]:
    return [family, severity] + ([penalty] if penalty else [])


def pascal_case(rule_id: str) -> str:
    """"tier-anomaly/bait-tier" -> "TierAnomalyBaitTier"."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rule_id) if part)


def _placeholders(template: str) -> str:
    """A message or remedy template (docs/policies.md) with each {expression} shown as "…" and "{{",
    "}}" as the braces they stand for."""
    out = []
    i = 0
    while i < len(template):
        pair = template[i : i + 2]
        if pair in ("{{", "}}"):
            out.append(pair[0])
            i += 2
        elif template[i] == "{" and (end := template.find("}", i)) >= 0:
            out.append("…")
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


# -- results and notifications ---------------------------------------------------------------


def _results(findings: Any, index: dict[str, int]) -> list[dict[str, Any]]:
    results = []
    seen: dict[str, int] = {}
    for f in findings:
        result = _result(f, index)
        fingerprint = result["partialFingerprints"][FINGERPRINT]
        seen[fingerprint] = occurrence = seen.get(fingerprint, 0) + 1
        if occurrence > 1:
            result["partialFingerprints"][OCCURRENCE] = str(occurrence)
        results.append(result)
    return results


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    out = _plain_result(f, index)
    if f.waived is not None:  # reported, as SARIF says an accepted result is: suppressed, with the why
        w = f.waived
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": f"{w['reason']} ({w['owner']}, until {w['expires']})",
                                "properties": dict(w)}]
    if f.baseline:
        out["baselineState"] = "unchanged"
    return out


def _plain_result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [_location(*f.document.file_and_line(), f.document, f.path)],
        "partialFingerprints": {FINGERPRINT: f.fingerprint()},  # the baseline's fingerprint too
        "properties": {
            "pointer": f.path,
            "document": f.document.to_dict(),
            "merchant_id": f.merchant_id,
            "product_id": f.product_id,
            "remedy": f.remedy,
            "family": f.family,
            "severity": f.severity,
            "penalty": f.penalty,
        },
    }



def _error(e: InputError) -> dict[str, Any]:
    text = f"{e.pointer}: {e.reason}" if e.pointer else e.reason
    return {
        "descriptor": {"id": "input-error", "index": _NOTIFICATION_INDEX["input-error"]},
        "level": "error",
        "message": {"text": "\n".join((text, *e.more))},
        "locations": [_location(e.file, e.line, None, e.pointer)],
        "properties": e.to_dict(),
    }


def _unevaluated(n: NotEvaluated, index: dict[str, int]) -> dict[str, Any]:
    kind = "rule-failed" if n.failed else "not-evaluated"
    return {
        "descriptor": {"id": kind, "index": _NOTIFICATION_INDEX[kind]},
        "associatedRule": {"id": n.rule, "index": index[n.rule]},
        "level": "error" if n.failed else "note",
        "message": {"text": f"{n.rule}: {n.reason}"},
        "locations": [_location(*n.document.file_and_line(), n.document, "")],
        "properties": n.to_dict(),
    }


def _expired(w: Any, index: dict[str, int], words: dict[str, str]) -> dict[str, Any]:
    """An expired waiver (waivers.Waiver): not an error of the scan (the scan ran, and the findings it
    waived are results again), a warning about its configuration."""
    rule: dict[str, Any] = {"id": w.rule}
    if w.rule in index:  # always with the pack the waiver was checked against
        rule["index"] = index[w.rule]
    entry = w.to_dict()
    text = words["expired"].format(**{**entry, "path": f" {w.path}" if w.path else ""})
    out: dict[str, Any] = {
        "descriptor": {"id": "expired-waiver", "index": _NOTIFICATION_INDEX["expired-waiver"]},
        "associatedRule": rule,
        "level": "warning",
        "message": {"text": text},
    }
    location = _location(w.file or "", None, None, "")
    if location:
        out["locations"] = [location]
    out["properties"] = entry
    return out


def _location(file: str, line: int | None, document: DocumentRef | None, pointer: str) -> dict[str, Any]:
    location: dict[str, Any] = {}
    uri = file_uri(file)
    if uri is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        if line is not None and line >= 1:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    if document is not None:
        name = f"{document.kind}/{document.id or ''}" + (f"#{pointer}" if pointer else "")
        logical = {"name": pointer, "fullyQualifiedName": name, "kind": "member"} if pointer else \
            {"fullyQualifiedName": name, "kind": "object"}
        location["logicalLocations"] = [logical]
    elif pointer:
        location["logicalLocations"] = [{"name": pointer, "fullyQualifiedName": pointer, "kind": "member"}]
    return location


def file_uri(path: str) -> str | None:
    """A file's path as a URI reference: an absolute path as file:///..., a relative one as given
    (percent-encoded; ':' too, so that its first segment never reads as a scheme); None for what is
    not a file ("-", "<stdin>", "<input>")."""
    if not path or path == "-" or (path.startswith("<") and path.endswith(">")):
        return None
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(path.replace(os.sep, "/"), safe="/!$&'()*+,;=@~")
