"""Engine configurations, champion and challenger (issue 5 §4).

``GET /api/v1/engines`` lists the configurations: which one live QC runs (the champion, whose
engines the workers pick up within ``RADQC_ENGINE_REFRESH_SECONDS`` of a promotion) and which
one this server's settings describe; ``POST /api/v1/engines`` registers a challenger (admin);
``GET .../engines/compare`` scores champion against challenger on the same audited items with
paired intervals; ``POST .../engines/{id}/promote`` makes a configuration the champion (admin),
recorded in the trail that ``GET .../engines/promotions`` shows; ``GET .../engines/{id}/results``
what a configuration found in shadow or replay; ``GET .../engines/canaries`` the canaries'
recall by configuration and code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from service.api import pagination
from service.api.auth import Principal, Reader, require_roles
from service.api.deps import components
from service.api.json_body import JSONBodyRoute
from service.api.params import RowId
from service.components import Components
from service.errors import NotFoundError
from service.loop.canary import canary_summary
from service.loop.compare import compare
from service.loop.engine_configs import EngineRegistry, settings_fingerprint
from service.loop.models import EngineConfig, ShadowResult

router = APIRouter(route_class=JSONBodyRoute)

Admin = Annotated[Principal, require_roles("admin")]
Comps = Annotated[Components, Depends(components)]

SHADOW_RESULTS = pagination.Keyset("shadow-results", (ShadowResult.id,))
"""A configuration's shadow and replay results, newest (highest id) first."""


@dataclass(frozen=True, slots=True)
class LiveView:
    settings_fingerprint: str
    champion_id: int | None


class EngineOut(BaseModel):
    id: int
    name: str
    version: int
    role: str
    running: bool = Field(
        description="live QC runs it: the champion (before one is recorded, the settings')"
    )
    from_settings: bool = Field(
        description="the configuration this server's settings describe (a candidate)"
    )
    kinds: list[str]
    rules_version: str | None
    llm_model: str | None
    prompt_version: str | None
    merge_policy: str | None
    engine_versions: list[str]
    parameters: dict[str, Any]
    created_by: str
    created_at: dt.datetime

    @classmethod
    def of(cls, config: EngineConfig, live: LiveView) -> EngineOut:
        from_settings = config.fingerprint == live.settings_fingerprint
        return cls(
            id=config.id,
            name=config.name,
            version=config.version,
            role=config.role,
            running=config.id == live.champion_id if live.champion_id else from_settings,
            from_settings=from_settings,
            kinds=list(config.kinds),
            rules_version=config.rules_version,
            llm_model=config.llm_model,
            prompt_version=config.prompt_version,
            merge_policy=config.merge_policy,
            engine_versions=list(config.engine_versions),
            parameters=config.parameters,
            created_by=config.created_by,
            created_at=config.created_at,
        )


class EngineList(BaseModel):
    engines: list[EngineOut]
    champion_id: int | None


class EngineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    parameters: dict[str, Any] = Field(description="rules and/or llm parameters (see README)")


class PromoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class PromotionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    from_config_id: int | None
    to_config_id: int
    promoted_by: str
    promoted_at: dt.datetime
    reason: str


class ShadowResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    source: str = Field(description="shadow (live traffic) or replay")
    codes: list[str]
    findings: list[dict[str, Any]]
    error: str | None
    created_at: dt.datetime


class ShadowPage(BaseModel):
    results: list[ShadowResultOut]
    next_cursor: str | None


def _live(comps: Components) -> LiveView:
    champion = EngineRegistry(comps.db).champion()
    return LiveView(settings_fingerprint(comps.settings), champion.id if champion else None)


@router.get("/engines", response_model=EngineList, summary="Engine configurations")
def list_engines(comps: Comps, _principal: Reader) -> EngineList:
    configs = EngineRegistry(comps.db).all()
    champion = next((c.id for c in configs if c.role == "champion"), None)
    live = LiveView(settings_fingerprint(comps.settings), champion)
    return EngineList(engines=[EngineOut.of(c, live) for c in configs], champion_id=champion)


@router.post(
    "/engines",
    response_model=EngineOut,
    status_code=http.HTTP_201_CREATED,
    summary="Register a challenger (the same parameters return the stored version)",
)
def add_engine(comps: Comps, principal: Admin, body: EngineBody) -> EngineOut:
    config = EngineRegistry(comps.db).record(body.name, body.parameters, principal.name)
    return EngineOut.of(config, _live(comps))


@router.get(
    "/engines/compare",
    summary="Champion against challenger on the same audited items, with paired intervals",
    responses={404: {"description": "no such configuration"}},
)
def compare_engines(
    comps: Comps,
    _principal: Reader,
    challenger: Annotated[RowId, Query(description="the configuration to compare")],
    champion: Annotated[RowId | None, Query(description="default: the current champion")] = None,
    weighted: bool = True,
) -> dict[str, Any]:
    if champion is None:
        current = EngineRegistry(comps.db).champion()
        if current is None:
            raise NotFoundError("there is no champion yet; pass champion=")
        champion = current.id
    return compare(comps.db, champion, challenger, weighted=weighted)


@router.get("/engines/promotions", response_model=list[PromotionOut], summary="The promotion trail")
def list_promotions(
    comps: Comps, _principal: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[PromotionOut]:
    return [PromotionOut.model_validate(row) for row in EngineRegistry(comps.db).promotions(limit)]


@router.get("/engines/canaries", summary="Canary recall by configuration and injected code")
def canaries(
    comps: Comps, _principal: Reader, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> dict[str, Any]:
    return {"days": days, "recall": canary_summary(comps.db, days)}


@router.get("/engines/{config_id}", response_model=EngineOut, summary="One configuration")
def get_engine(comps: Comps, _principal: Reader, config_id: RowId) -> EngineOut:
    return EngineOut.of(EngineRegistry(comps.db).get(config_id), _live(comps))


@router.get(
    "/engines/{config_id}/results",
    response_model=ShadowPage,
    summary="What a configuration found in shadow or replay (never published), newest first",
    responses={
        400: {"description": "invalid cursor"},
        404: {"description": "no such configuration"},
    },
)
def list_results(
    comps: Comps,
    _principal: Reader,
    config_id: RowId,
    item_id: RowId | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ShadowPage:
    EngineRegistry(comps.db).get(config_id)  # 404 for an unknown configuration
    start = pagination.start_of(SHADOW_RESULTS, cursor)
    stmt = select(ShadowResult).where(ShadowResult.config_id == config_id)
    if item_id is not None:
        stmt = stmt.where(ShadowResult.item_id == item_id)
    with comps.db.reader() as session:
        page = SHADOW_RESULTS.read(session, stmt, start, limit)
        results = [ShadowResultOut.model_validate(r) for r in page.rows]
    return ShadowPage(results=results, next_cursor=page.next_cursor)


@router.post(
    "/engines/{config_id}/promote",
    response_model=PromotionOut,
    status_code=http.HTTP_201_CREATED,
    summary="Make a configuration the champion (recorded in the trail); the workers run its "
    "engines from their next refresh (RADQC_ENGINE_REFRESH_SECONDS)",
    responses={404: {"description": "no such configuration"}},
)
def promote(comps: Comps, principal: Admin, config_id: RowId, body: PromoteBody) -> PromotionOut:
    row = EngineRegistry(comps.db).promote(config_id, principal.name, body.reason)
    return PromotionOut.model_validate(row)
