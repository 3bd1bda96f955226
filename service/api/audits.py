"""``POST /api/v1/items/{id}/audit`` (DESIGN §6): an auditor's verdicts and missed errors.

The auditor's identity comes from the bearer token and the time from the server; the body holds
only what the auditor decided. The work is done by :class:`service.loop.audit.AuditService`,
created once at start-up and kept on ``app.state.audits``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from service.api.auth import Principal, require_roles
from service.api.json_body import JSONBodyRoute
from service.api.params import RowId
from service.api.schemas import AuditOut
from service.errors import InvalidInputError, NotFoundError
from service.loop.audit import AuditRequest, AuditService, MissedIn, VerdictIn

router = APIRouter(route_class=JSONBodyRoute)

Auditor = Annotated[Principal, require_roles("auditor")]


class VerdictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding_id: RowId = Field(description="the id of one of this item's findings")
    verdict: Literal["confirmed", "rejected"]
    reason: str | None = Field(default=None, max_length=2000)


class MissedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="a code of the taxonomy for the item's kind", max_length=64)
    evidence: Any = Field(default=None, description="free text or an evidence object")


class AuditBody(BaseModel):
    """What the auditor decided. Both lists empty means: nothing was wrong with this item."""

    model_config = ConfigDict(extra="forbid")

    verdicts: list[VerdictBody] = Field(default_factory=list, max_length=200)
    missed: list[MissedBody] = Field(default_factory=list, max_length=100)

    def to_request(self) -> AuditRequest:
        return AuditRequest(
            verdicts=[VerdictIn(v.finding_id, v.verdict, v.reason) for v in self.verdicts],
            missed=[MissedIn(m.code, m.evidence) for m in self.missed],
        )


def audit_service(request: Request) -> AuditService:
    service: AuditService = request.app.state.audits
    return service


@router.post(
    "/items/{item_id}/audit",
    response_model=AuditOut,
    status_code=http.HTTP_201_CREATED,
    summary="Record an audit of one item",
    responses={
        404: {"description": "no such item"},
        422: {"description": "unknown finding, a finding of another item, or an unknown code"},
    },
)
def post_audit(request: Request, principal: Auditor, item_id: RowId, body: AuditBody) -> AuditOut:
    try:
        audit = audit_service(request).submit(item_id, principal.name, body.to_request())
    except NotFoundError as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, str(exc)) from exc
    except InvalidInputError as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return AuditOut.of(audit)
