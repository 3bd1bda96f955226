"""Errors of inbound FHIR input: an HTTP status and the OperationOutcome issues that explain it.

Every problem names the element it is about as a FHIRPath-like expression
(``DiagnosticReport.presentedForm[0].data``, ``Bundle.entry[3].resource.status``), so a RIS
developer can find it without reading our code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from fhir_adapter.outcome import IssueCode, issue, operation_outcome
from service.api.errors import safe_message
from service.errors import InvalidInputError

BAD_REQUEST = 400
UNSUPPORTED_MEDIA_TYPE = 415
UNPROCESSABLE = 422

_MAX_ISSUES = 20
_PYDANTIC_MESSAGES = {
    "json_invalid": "expected a JSON object",
    "extra_forbidden": "unknown element",
}


class FhirInputError(InvalidInputError):
    """Received FHIR content that radqc refuses; nothing was stored.

    ``status`` is the HTTP status to answer with, ``issues`` the OperationOutcome issues.
    """

    def __init__(self, status: int, issues: Sequence[dict[str, Any]]) -> None:
        if not issues:
            raise ValueError("a FhirInputError needs at least one issue")
        first = issues[0]
        expressions = first.get("expression") or [None]
        super().__init__(str(first["diagnostics"]), location=expressions[0])
        self.status = status
        self.issues = list(issues)

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(*self.issues)


def invalid(
    status: int, code: IssueCode, reason: str, expression: str | None = None
) -> FhirInputError:
    """One problem: ``reason`` is said of ``expression`` (the element) when there is one."""
    diagnostics = f"{expression}: {reason}" if expression else reason
    return FhirInputError(status, [issue(code, diagnostics, expression=expression)])


def fhirpath(root: str, loc: Sequence[int | str]) -> str:
    """A pydantic error location as a FHIRPath-like expression below ``root``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        elif part.startswith("function-") or part == "__root__":
            continue  # pydantic's names for validators, not elements
        else:
            path += f".{part}"
    return path


def _issue_code(error_type: str) -> IssueCode:
    if error_type == "missing" or error_type.endswith(".missing"):
        return "required"
    if error_type == "extra_forbidden":
        return "structure"
    return "value"


def from_validation(exc: ValidationError, root: str) -> FhirInputError:
    """Translate the model's validation errors (422), one issue per element (at most 20)."""
    issues = []
    for error in exc.errors(include_url=False)[:_MAX_ISSUES]:
        expression = fhirpath(root, error["loc"])
        error_type = str(error["type"])
        reason = _PYDANTIC_MESSAGES.get(error_type) or safe_message(error)
        if _issue_code(error_type) == "required":
            reason = "required element missing"
        issues.append(
            issue(_issue_code(error_type), f"{expression}: {reason}", expression=expression)
        )
    return FhirInputError(UNPROCESSABLE, issues)
