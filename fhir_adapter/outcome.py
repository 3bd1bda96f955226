"""The one place that renders FHIR OperationOutcome resources."""

from __future__ import annotations

from typing import Any, Literal

IssueCode = Literal[
    "invalid", "structure", "required", "value", "not-found", "not-supported", "too-long",
    "security", "forbidden", "login", "processing", "exception", "transient", "conflict",
    "duplicate", "informational",
]
Severity = Literal["fatal", "error", "warning", "information"]

FHIR_JSON = "application/fhir+json"


def issue(
    code: IssueCode, diagnostics: str, *, expression: str | None = None,
    severity: Severity = "error",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        entry["expression"] = [expression]
    return entry


def operation_outcome(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}
