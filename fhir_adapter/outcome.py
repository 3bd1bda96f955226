"""The one place that renders FHIR OperationOutcome resources (and the FHIR JSON response and
its ETag comparison, which every FHIR route shares)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse, Response

IssueCode = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "not-found",
    "not-supported",
    "too-long",
    "security",
    "forbidden",
    "login",
    "processing",
    "exception",
    "transient",
    "conflict",
    "duplicate",
    "informational",
]
Severity = Literal["fatal", "error", "warning", "information"]

FHIR_JSON = "application/fhir+json"


class FHIRResponse(JSONResponse):
    """A JSON response of media type ``application/fhir+json`` (documented as such too)."""

    media_type = FHIR_JSON


def etag_matches(if_none_match: str | None, version: int) -> bool:
    """Whether an ``If-None-Match`` header names this version (weak comparison, or ``*``)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or f'"{version}"' in tags


def issue(
    code: IssueCode,
    diagnostics: str,
    *,
    expression: str | None = None,
    severity: Severity = "error",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        entry["expression"] = [expression]
    return entry


def operation_outcome(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


_CODE_FOR_STATUS: dict[int, IssueCode] = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    429: "transient",
    503: "transient",
}


def error_response(status: int, message: str, details: list[dict[str, Any]]) -> Response:
    """An HTTP error on a FHIR path, as an OperationOutcome (used by the app's error handlers)."""
    code = _CODE_FOR_STATUS.get(status, "exception" if status >= 500 else "processing")
    issues = [
        issue(code, d.get("msg") or message, expression=d.get("loc") or None) for d in details
    ] or [issue(code, message)]
    return FHIRResponse(operation_outcome(*issues), status_code=status)
