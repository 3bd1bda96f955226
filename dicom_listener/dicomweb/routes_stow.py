"""``POST /dicomweb/studies`` and ``POST /dicomweb/studies/{study}``: STOW-RS for the ``ingest``
role. The body is streamed to a temporary file as it arrives (never held in memory; the body
limit of the DICOMweb application ends it with 413), then stored part by part in a worker thread
(:class:`~dicom_listener.dicomweb.stow.StowService`); the answer is sent once every stored part and
its job are committed.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from dicom_listener.dicomweb.multipart import UnsupportedMediaType, stow_boundary
from dicom_listener.dicomweb.stow import StowService
from service.api.auth import Principal, require_roles
from service.api.errors import json_error
from service.dicom_receive import is_uid
from service.errors import InvalidInputError

logger = logging.getLogger(__name__)

router = APIRouter()
Ingest = Annotated[Principal, require_roles("ingest")]
DICOM_JSON = "application/dicom+json"

_DESCRIPTION = (
    'A `multipart/related; type="application/dicom"` body, one DICOM file (PS3.10) a part. '
    "200: every instance stored; 202: some failed; 409: none stored (the Store Instances Response "
    "lists each with its Failure Reason); 400: not a multipart body with that boundary; 413: "
    "larger than RADQC_DICOMWEB_MAX_BODY_BYTES; 415: another media type."
)


@router.post("/studies", summary="STOW-RS: store instances", description=_DESCRIPTION)
async def store_instances(request: Request, principal: Ingest) -> Response:
    return await _store(request, principal, None)


@router.post(
    "/studies/{study}", summary="STOW-RS: store instances of one study", description=_DESCRIPTION
)
async def store_study_instances(request: Request, principal: Ingest, study: str) -> Response:
    if not is_uid(study):
        return json_error(400, "the study in the URL is not a valid UID", [])
    return await _store(request, principal, study)


async def _store(request: Request, principal: Principal, study: str | None) -> Response:
    try:
        boundary = stow_boundary(request.headers.get("content-type"))
    except UnsupportedMediaType as exc:
        return json_error(415, str(exc), [])
    except InvalidInputError as exc:
        return json_error(400, str(exc), [])
    service: StowService = request.app.state.stow
    with service.spool() as spooled:
        try:
            async for chunk in request.stream():
                spooled.write(chunk)
        except ClientDisconnect:
            logger.info("STOW-RS from %s: the client left before its body ended", principal.name)
            return Response(status_code=400)
        try:
            result = await run_in_threadpool(
                service.store, spooled, boundary, study, principal.name
            )
        except InvalidInputError as exc:
            logger.warning("STOW-RS from %s refused: %s", principal.name, exc)
            return json_error(400, str(exc), [])
    response = JSONResponse(result.response(), result.http_status, media_type=DICOM_JSON)
    for warning in result.warnings():
        response.headers.append("Warning", warning)
    return response
