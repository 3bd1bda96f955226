"""QC documents sent to PACS over REST (issue 12 part 4), for admins: what the PACS answered
for each SR and KOS, and sending a study's results again. The data layer is the core's
:mod:`service.pacs.results`; these routes only translate it to HTTP."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import status as http
from pydantic import BaseModel, Field

from service.api import pagination
from service.api.auth import Principal, require_roles
from service.api.deps import components
from service.api.params import RowId
from service.errors import NotFoundError
from service.pacs.models import PacsDelivery
from service.pacs.results import deliveries_query, send_again

log = logging.getLogger(__name__)
router = APIRouter()
Admin = Annotated[Principal, require_roles("admin")]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
DELIVERIES = pagination.Keyset("pacs", (PacsDelivery.id,))
"""Deliveries, newest (highest id) first."""


class PacsDeliveryOut(BaseModel):
    """One QC document (SR or KOS) and what the PACS answered."""

    id: int
    study_id: int
    document: Literal["sr", "kos"]
    sop_instance_uid: str
    status: Literal["delivered", "refusing", "refused"] = Field(
        description="refusing: refused fewer than RADQC_PACS_MAX_REFUSALS times, sent again"
    )
    dimse_status: int | None = Field(description="the PACS's C-STORE status")
    detail: str | None = Field(description="the PACS's error comment, if it sent one")
    attempts: int
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: PacsDelivery) -> PacsDeliveryOut:
        return cls(
            id=row.id,
            study_id=row.study_id,
            document=row.document,  # "sr" or "kos", else a validation error
            sop_instance_uid=row.sop_instance_uid,
            status=row.status,  # "delivered", "refusing" or "refused"
            dimse_status=row.dimse_status,
            detail=row.detail,
            attempts=row.attempts,
            updated_at=row.updated_at,
        )


class PacsDeliveryPage(BaseModel):
    """Deliveries newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    deliveries: list[PacsDeliveryOut]
    next_cursor: str | None = Field(description="null on the last page")


class PacsSendOut(BaseModel):
    study_id: int
    refused_forgotten: int = Field(description="refused documents that will be tried afresh")


@router.get(
    "/pacs/deliveries",
    response_model=PacsDeliveryPage,
    summary="QC documents sent to PACS and its answers, newest first (admin)",
    responses={400: {"description": "invalid cursor"}},
)
def list_deliveries(
    request: Request,
    _principal: Admin,
    status: Annotated[Literal["delivered", "refusing", "refused"] | None, Query()] = None,
    study_id: Annotated[RowId | None, Query(description="only this study's documents")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PacsDeliveryPage:
    start = pagination.start_of(DELIVERIES, cursor)
    with components(request).db.reader() as session:
        page = DELIVERIES.read(session, deliveries_query(status, study_id), start, limit)
        rows = [PacsDeliveryOut.of(row) for row in page.rows]
    return PacsDeliveryPage(deliveries=rows, next_cursor=page.next_cursor)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such study"},
    409: {"description": "no PACS is configured (RADQC_PACS_HOST)"},
}


@router.post(
    "/pacs/studies/{study_id}/send",
    response_model=PacsSendOut,
    summary="Send a study's QC results to PACS again, now (admin)",
    responses=_RESPONSES,
)
def send_study(request: Request, principal: Admin, study_id: RowId) -> PacsSendOut:
    comps = components(request)
    if not comps.settings.pacs_host:
        raise HTTPException(http.HTTP_409_CONFLICT, "no PACS is configured (RADQC_PACS_HOST)")
    try:
        with comps.db.transaction() as session:
            forgotten = send_again(session, study_id)
    except NotFoundError as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, str(exc)) from exc
    log.info("PACS results of study %d queued again by %s", study_id, principal.name)
    return PacsSendOut(study_id=study_id, refused_forgotten=forgotten)
