"""``POST /api/v1/audit-samples``: draw items for audit now, within today's quota (issue 5 §3).

The same sampler as ``radqc sample``; each drawn item's stratum and inclusion probability is
recorded, and the items appear on the audit worklist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from service.api.auth import Principal, require_roles
from service.api.items import parse_time
from service.api.json_body import JSONBodyRoute
from service.errors import InvalidInputError
from service.loop.audit_draw import AuditSampler

router = APIRouter(route_class=JSONBodyRoute)

Auditor = Annotated[Principal, require_roles("auditor")]


class SampleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(default=None, description="items received at or after (ISO 8601)")
    until: str | None = Field(default=None, description="items received before (ISO 8601)")
    seed: int | None = Field(default=None, description="for a reproducible draw")


class SampleOut(BaseModel):
    drawn: int
    by_stratum: dict[str, int]
    item_ids: list[int]


@router.post(
    "/audit-samples",
    response_model=SampleOut,
    status_code=http.HTTP_201_CREATED,
    summary="Draw items for audit now (within the daily quota)",
)
def post_sample(request: Request, _principal: Auditor, body: SampleBody) -> SampleOut:
    try:
        since, until = parse_time("since", body.since), parse_time("until", body.until)
    except InvalidInputError as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    sampler: AuditSampler = request.app.state.sampler
    drawn = sampler.run(since=since, until=until, seed=body.seed)
    counts: dict[str, int] = {}
    for entry in drawn:
        counts[entry.stratum] = counts.get(entry.stratum, 0) + 1
    return SampleOut(drawn=len(drawn), by_stratum=counts, item_ids=[d.item_id for d in drawn])
