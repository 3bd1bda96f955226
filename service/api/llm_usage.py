"""LLM metering (issue 4): ``GET /api/v1/llm/usage``, calls, tokens, latency and cost summed per
engine configuration (model + prompt hash + mode), optionally within a time window."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from service.api.auth import Reader
from service.api.deps import components
from service.api.items import parse_time
from service.components import Components
from service.models import LLMCall

router = APIRouter()


class EngineUsage(BaseModel):
    engine_version: str
    kind: str
    calls: int
    errors: int
    items: int
    tokens_in: int
    tokens_out: int
    cost: float
    mean_latency_ms: float


class UsageOut(BaseModel):
    engines: list[EngineUsage]


@router.get("/api/v1/llm/usage", response_model=UsageOut, tags=["llm"])
def llm_usage(
    _: Reader,
    comps: Annotated[Components, Depends(components)],
    since: Annotated[str | None, Query(description="calls at or after (ISO 8601)")] = None,
    until: Annotated[str | None, Query(description="calls before (ISO 8601)")] = None,
) -> UsageOut:
    query = select(
        LLMCall.engine_version,
        LLMCall.kind,
        func.count(LLMCall.id),
        func.count(LLMCall.error),
        func.count(func.distinct(LLMCall.item_id)),
        func.coalesce(func.sum(LLMCall.tokens_in), 0),
        func.coalesce(func.sum(LLMCall.tokens_out), 0),
        func.coalesce(func.sum(LLMCall.cost), 0.0),
        func.coalesce(func.avg(LLMCall.latency_ms), 0.0),
    ).group_by(LLMCall.engine_version, LLMCall.kind)
    start, end = parse_time("since", since), parse_time("until", until)
    if start is not None:
        query = query.where(LLMCall.created_at >= start)
    if end is not None:
        query = query.where(LLMCall.created_at < end)
    with comps.db.reader() as session:
        rows = session.execute(query.order_by(LLMCall.engine_version, LLMCall.kind)).all()
    return UsageOut(
        engines=[
            EngineUsage(
                engine_version=r[0],
                kind=r[1],
                calls=r[2],
                errors=r[3],
                items=r[4],
                tokens_in=int(r[5]),
                tokens_out=int(r[6]),
                cost=float(r[7]),
                mean_latency_ms=float(r[8]),
            )
            for r in rows
        ]
    )
