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


@attrs.frozen
class DocumentRef:
    """Which document a finding is about, and where it was read."""

    kind: str
    id: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "source": self.source}


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

    def to_dict(self) -> dict[str, Any]:
        return {
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "family": self.family,
            "document": self.document.to_dict(),
            "reason": self.reason,
            "failed": self.failed,
        }


@attrs.frozen
class Report:
    findings: tuple[Finding, ...]
    errors: tuple[InputError, ...]
    not_evaluated: tuple[NotEvaluated, ...]
    documents: int
    metadata: dict[str, Any] = attrs.field(factory=dict)

    def summary(self) -> dict[str, Any]:
        by_family = dict.fromkeys(FAMILIES, 0)
        by_severity = dict.fromkeys(reversed(SEVERITIES), 0)
        for finding in self.findings:
            by_family[finding.family] = by_family.get(finding.family, 0) + 1
            by_severity[finding.severity] += 1
        return {
            "documents": self.documents,
            "read": self.documents + len(self.errors),
            "errors": len(self.errors),
            "not_evaluated": len(self.not_evaluated),
            "findings": len(self.findings),
            "by_family": by_family,
            "by_severity": by_severity,
        }

    def exit_code(self, fail_on: str = "error", strict: bool = False) -> int:
        """SNAPSHOTS.md "Exit status": 2 unchecked input, 1 findings at or above fail_on, else 0."""
        if fail_on not in FAIL_ON:
            raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
        if self.errors or any(n.failed for n in self.not_evaluated) or (strict and self.not_evaluated):
            return EXIT_UNCHECKED
        if fail_on != "never":
            floor = SEVERITIES.index(fail_on)
            if any(SEVERITIES.index(f.severity) >= floor for f in self.findings):
                return EXIT_FINDINGS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
            "not_evaluated": [n.to_dict() for n in self.not_evaluated],
            "summary": self.summary(),
            "metadata": dict(self.metadata),
        }
