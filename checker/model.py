"""What a check produces: findings, input errors, rules not evaluated, the report.

Field names follow SNAPSHOTS.md "Findings out"; the report, not the CLI,
knows the exit status.
"""

from __future__ import annotations

from typing import Any

import attrs

#: Document kinds of SNAPSHOTS.md.
KINDS = ("product", "order", "merchant", "signup")
#: Severities from lowest to highest (SNAPSHOTS.md).
SEVERITIES = ("advice", "warning", "error")
#: The finding families of SNAPSHOTS.md, in the order of RULES.md.
FAMILIES = (
    "fake-price",
    "fake-moq",
    "tier-anomaly",
    "spec-anomaly",
    "epr",
    "discount-floor",
    "quality",
    "marketing",
    "star-level",
)
#: `--fail-on` thresholds.
FAIL_ON = (*reversed(SEVERITIES), "never")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNCHECKED = 2


class ScanStopped(Exception):
    """A scan could not go on for a reason that is not a defect (the input changed while it was read):
    `compliance` prints the reason and exits 2 (unchecked)."""


@attrs.frozen
class DocumentRef:
    """Which document a finding is about, and where it was read."""

    kind: str
    id: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "source": self.source}

    def file_and_line(self) -> tuple[str, int | None]:
        """The source as (file, line): "file" or "file:line" (JSON Lines)."""
        file, sep, line = self.source.rpartition(":")
        if sep and file and line.isdigit():
            return file, int(line)
        return self.source, None


@attrs.frozen
class Finding:
    rule: str
    family: str
    severity: str
    penalty: str | None
    document: DocumentRef
    merchant_id: str | None
    path: str
    message: str
    remedy: str
    #: the listing the finding is about: a product document's id, or the id of the listing embedded in
    #: the order item the path points into (/items/N/...); None when the finding is about no one listing
    product_id: str | None = None
    #: an active waiver's {reason, owner, expires} (waivers.py): reported, not counted for the exit status
    waived: dict[str, str] | None = attrs.field(default=None, eq=False)
    #: in the --baseline: reported, not counted for the exit status
    baseline: bool = False

    def fingerprint(self) -> str:
        """What identifies the finding across scans (baselines, SARIF): sha256 of rule, document id and JSON
        Pointer, not the file or line, which move, nor the message, whose numbers change."""
        import hashlib

        return hashlib.sha256("\0".join((self.rule, self.document.id or "", self.path)).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "family": self.family,
            "severity": self.severity,
            "penalty": self.penalty,
            "document": self.document.to_dict(),
            "merchant_id": self.merchant_id,
            "product_id": self.product_id,
            "path": self.path,
            "message": self.message,
            "remedy": self.remedy,
        }
        if self.waived is not None:
            out["waived"] = dict(self.waived)
        if self.baseline:
            out["baseline"] = True
        return out


@attrs.frozen
class InputError:
    """A document that could not be read, or is not a valid snapshot.

    `line` is set for JSON Lines and for syntax errors; `pointer` is a JSON
    Pointer into the document (or, in a JSON array file, into the file).
    """

    file: str
    line: int | None
    pointer: str
    reason: str
    more: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
            "reason": self.reason,
        }
        if self.more:
            out["more"] = list(self.more)
        return out

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.pointer}:" if self.pointer else ""
        return f"{where}:{field} {self.reason}"


@attrs.frozen
class NotEvaluated:
    """A rule that applies to a document but could not decide: it lacked data (the merchant is
    not in the scan), or it failed on the document."""

    rule: str
    family: str
    document: DocumentRef
    reason: str
    #: the rule raised on this document (a defect), rather than lacking data: exit status 2
    failed: bool = False
    #: the document's merchant (the one lacked, as a rule): for the HTML report's merchant filter; not in
    #: to_dict, whose shape SNAPSHOTS.md gives
    merchant_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "family": self.family,
            "document": self.document.to_dict(),
            "reason": self.reason,
            "failed": self.failed,
        }


@attrs.define
class Tally:
    """The counts of a report, kept as findings go by: a scan that streams its findings to the
    output (the CLI's scan) does not keep them, and still knows its summary and exit status."""

    findings: int = 0
    by_family: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(FAMILIES, 0))
    by_severity: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(reversed(SEVERITIES), 0))
    errors: int = 0
    not_evaluated: int = 0
    #: not-evaluated entries with failed=True (exit status 2)
    failed: int = 0
    waived: int = 0
    baselined: int = 0
    #: waived or baselined findings by severity: reported, not counted for the exit status
    excused: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(reversed(SEVERITIES), 0))

    def finding(self, finding: Finding) -> None:
        self.findings += 1
        self.by_family[finding.family] = self.by_family.get(finding.family, 0) + 1
        self.by_severity[finding.severity] += 1
        if finding.waived is not None or finding.baseline:
            self.excused[finding.severity] += 1
            if finding.waived is not None:
                self.waived += 1
            else:
                self.baselined += 1

    def error(self, error: InputError) -> None:
        self.errors += 1

    def unevaluated(self, entry: NotEvaluated) -> None:
        self.not_evaluated += 1
        self.failed += entry.failed

    def add(self, other: Tally) -> None:
        self.findings += other.findings
        for name, count in other.by_family.items():
            self.by_family[name] = self.by_family.get(name, 0) + count
        for name, count in other.by_severity.items():
            self.by_severity[name] += count
        self.errors += other.errors
        self.not_evaluated += other.not_evaluated
        self.failed += other.failed
        self.waived += other.waived
        self.baselined += other.baselined
        for name, count in other.excused.items():
            self.excused[name] += count

    @classmethod
    def of(cls, findings: Any, errors: Any, not_evaluated: Any) -> Tally:
        tally = cls()
        for finding in findings:
            tally.finding(finding)
        for error in errors:
            tally.error(error)
        for entry in not_evaluated:
            tally.unevaluated(entry)
        return tally


@attrs.frozen
class Report:
    """What a check found. The lists hold everything, except in a scan that streamed its findings,
    errors and not-evaluated entries to an output as it went (then only `tally` counts them)."""

    findings: tuple[Finding, ...]
    errors: tuple[InputError, ...]
    not_evaluated: tuple[NotEvaluated, ...]
    documents: int
    metadata: dict[str, Any] = attrs.field(factory=dict)
    tally: Tally | None = attrs.field(default=None, eq=False, repr=False)
    #: waivers past their expiry (waivers.Waiver): they no longer waive, and are reported
    expired_waivers: tuple[Any, ...] = ()

    def counts(self) -> Tally:
        return self.tally if self.tally is not None else Tally.of(self.findings, self.errors, self.not_evaluated)

    def summary(self) -> dict[str, Any]:
        tally = self.counts()
        return {
            "documents": self.documents,
            "read": self.documents + tally.errors,
            "errors": tally.errors,
            "not_evaluated": tally.not_evaluated,
            "findings": tally.findings,
            "by_family": dict(tally.by_family),
            "by_severity": dict(tally.by_severity),
            "waived": tally.waived,
            "baselined": tally.baselined,
            "expired_waivers": len(self.expired_waivers),
        }

    def exit_code(self, fail_on: str = "error", strict: bool = False) -> int:
        """SNAPSHOTS.md "Exit status": 2 unchecked input, 1 findings at or above fail_on, else 0."""
        if fail_on not in FAIL_ON:
            raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
        tally = self.counts()
        if tally.errors or tally.failed or (strict and tally.not_evaluated):
            return EXIT_UNCHECKED
        if fail_on != "never":
            floor = SEVERITIES.index(fail_on)
            if any(tally.by_severity[name] - tally.excused[name] for name in SEVERITIES[floor:]):
                return EXIT_FINDINGS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        out = {
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
            "not_evaluated": [n.to_dict() for n in self.not_evaluated],
            "summary": self.summary(),
            "metadata": dict(self.metadata),
        }
        if self.expired_waivers:
            out["expired_waivers"] = [w.to_dict() for w in self.expired_waivers]
        return out
