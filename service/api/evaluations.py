"""Evaluation runs (DESIGN §6, §7): ``GET/POST /api/v1/evaluations``, ``GET .../{id}``.

A run is computed when it is posted (the request waits; 100k audited items take a few seconds)
and stored; the list shows summaries newest first, one run shows every figure.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from service.api import pagination
from service.api.auth import Principal, Reader, require_roles
from service.api.deps import components
from service.api.items import parse_time
from service.api.json_body import JSONBodyRoute
from service.api.params import RowId
from service.errors import InvalidInputError, NotFoundError
from service.loop.evaluation import EvaluationRequest, EvaluationService
from service.loop.models import EvaluationRun

router = APIRouter(route_class=JSONBodyRoute)

Evaluator = Annotated[Principal, require_roles("auditor")]

SUMMARY_KEYS = ("macro_f1", "micro_f1", "detection_rate", "additional_discovery_rate")

EVALUATION_RUNS = pagination.Keyset("evaluation-runs", (EvaluationRun.id,))
"""Stored runs, newest (highest id) first."""


class EvaluationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: str | None = Field(
        default=None,
        max_length=160,
        description="rules, llm, engine@version; omitted: every engine together",
    )
    kind: Literal["image", "report"] | None = None
    since: str | None = Field(default=None, description="items received at or after (ISO 8601)")
    until: str | None = Field(default=None, description="items received before (ISO 8601)")
    weighted: bool = Field(default=True, description="inverse-probability weights for sampling")


class EvaluationSummary(BaseModel):
    id: int
    created_at: dt.datetime
    created_by: str
    engine: str | None
    kind: str | None
    since: dt.datetime | None
    until: dt.datetime | None
    weighted: bool
    n_items: int
    macro_f1: dict[str, Any]
    micro_f1: dict[str, Any]
    detection_rate: dict[str, Any]
    additional_discovery_rate: dict[str, Any]

    @classmethod
    def of(cls, run: EvaluationRun) -> EvaluationSummary:
        return cls(
            id=run.id,
            created_at=run.created_at,
            created_by=run.created_by,
            engine=run.engine,
            kind=run.kind,
            since=run.since,
            until=run.until,
            weighted=run.weighted,
            n_items=run.n_items,
            **{key: run.metrics.get(key) or {} for key in SUMMARY_KEYS},
        )


class EvaluationOut(EvaluationSummary):
    """A run with every figure: ``per_code`` (tp, fp, fn, precision, recall, f1 with intervals),
    per engine configuration, slices by modality and month, and confusion between codes."""

    per_code: dict[str, Any]
    by_configuration: dict[str, Any]
    comparisons: list[dict[str, Any]] = Field(
        default_factory=list,
        description="pairs of configurations on the same items: micro-F1 difference, paired CI",
    )
    slices: dict[str, Any]
    confusion: dict[str, Any]

    @classmethod
    def full(cls, run: EvaluationRun) -> EvaluationOut:
        summary = EvaluationSummary.of(run)
        return cls(
            **summary.model_dump(),
            per_code=run.metrics.get("per_code", {}),
            by_configuration=run.metrics.get("by_configuration", {}),
            comparisons=run.metrics.get("comparisons", []),
            slices=run.metrics.get("slices", {}),
            confusion=run.metrics.get("confusion", {}),
        )


class EvaluationPage(BaseModel):
    runs: list[EvaluationSummary]
    next_cursor: str | None = Field(description="pass as cursor for older runs; null at the end")


def evaluation_service(request: Request) -> EvaluationService:
    service: EvaluationService = request.app.state.evaluations
    return service


@router.post(
    "/evaluations",
    response_model=EvaluationOut,
    status_code=http.HTTP_201_CREATED,
    summary="Evaluate the audited items and store the run",
    responses={422: {"description": "invalid kind or time window"}},
)
def post_evaluation(request: Request, principal: Evaluator, body: EvaluationBody) -> EvaluationOut:
    try:
        since, until = parse_time("since", body.since), parse_time("until", body.until)
    except InvalidInputError as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if since and until and since >= until:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, "since must be earlier than until")
    run = evaluation_service(request).run(
        EvaluationRequest(body.engine, body.kind, since, until, body.weighted), principal.name
    )
    return EvaluationOut.full(run)


@router.get(
    "/evaluations",
    response_model=EvaluationPage,
    summary="Stored runs, newest first",
    responses={400: {"description": "invalid cursor"}},
)
def list_evaluations(
    request: Request,
    _principal: Reader,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EvaluationPage:
    start = pagination.start_of(EVALUATION_RUNS, cursor)
    with components(request).db.reader() as session:
        page = EVALUATION_RUNS.read(session, select(EvaluationRun), start, limit)
        runs = [EvaluationSummary.of(run) for run in page.rows]
    return EvaluationPage(runs=runs, next_cursor=page.next_cursor)


@router.get(
    "/evaluations/{run_id}",
    response_model=EvaluationOut,
    summary="One stored run with every figure",
    responses={404: {"description": "no such run"}},
)
def get_evaluation(request: Request, _principal: Reader, run_id: RowId) -> EvaluationOut:
    try:
        return EvaluationOut.full(evaluation_service(request).get(run_id))
    except NotFoundError as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, str(exc)) from exc
