"""The QC lead's pages: evaluation runs and one run's report, drift, engine configurations
(champion, challengers, their comparison) and canaries.

Every figure comes from the loop's own functions (:mod:`service.loop`), read-only: the pages
start nothing and change nothing except what the REST API does when the page's script calls it
(starting an evaluation run).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from service.api.deps import components
from service.api.params import RowId
from service.errors import InvalidInputError, NotFoundError
from service.loop.audited_sample import CODE_LIST, SampleQuery, load_sample
from service.loop.canary import canary_summary
from service.loop.compare import compare
from service.loop.engine_configs import EngineRegistry, settings_fingerprint
from service.loop.models import EvaluationRun
from service.loop.stats import Estimate, ratio
from service.models import utcnow
from service.taxonomy import display
from service.ui import plots, words
from service.ui.errors import PageError
from service.ui.pages import page
from service.ui.session import AUDIT_ROLES, principal

router = APIRouter()

Days = Annotated[int | None, Query(ge=1, le=365)]


@router.get("/evaluations", response_class=HTMLResponse)
def evaluations_page(request: Request) -> HTMLResponse:
    viewer = principal(request)
    runs = request.app.state.evaluations.list(100)
    return page(
        request,
        "evaluations.html",
        viewer=viewer,
        runs=runs,
        can_run=viewer.role in AUDIT_ROLES,
        explain=words.METRICS,
    )


@router.get("/evaluations/{run_id}", response_class=HTMLResponse)
def evaluation_report(request: Request, run_id: RowId) -> HTMLResponse:
    viewer = principal(request)
    try:
        run: EvaluationRun = request.app.state.evaluations.get(run_id)
    except NotFoundError as exc:
        raise PageError(
            404,
            f"There is no evaluation run {run_id}. Pick one from the list, or start a new run.",
            "/ui/evaluations",
            "Open the evaluation runs",
        ) from exc
    metrics = run.metrics
    return page(
        request,
        "evaluation.html",
        viewer=viewer,
        run=run,
        metrics=metrics,
        explain=words.METRICS,
        bars=plots.per_code_bars(metrics.get("per_code", {})),
        over_time=plots.over_time(metrics.get("slices", {}).get("month", {})),
        confusion=plots.confusion(metrics.get("confusion", {}).get("pairs", [])),
    )


# -- drift --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DriftRow:
    code: str
    precision: Estimate
    recall: Estimate
    states: dict[str, str]  # metric -> below floor | ok | too few audits | no data


def _state(figure: Estimate, floor: float, min_count: int) -> str:
    if figure.value is None:
        return "no data"
    if figure.n < min_count:
        return "too few audits"
    return "below floor" if figure.value < floor else "ok"


def drift_rows(request: Request, days: int) -> list[DriftRow]:
    """Rolling precision and recall per code over the last ``days``, every engine together and
    weighted, as the drift alert (:class:`service.loop.drift.DriftMonitor`) computes them."""
    comps = components(request)
    settings = comps.settings
    now = utcnow()
    with comps.db.reader() as session:
        sample = load_sample(session, SampleQuery(since=now - dt.timedelta(days=days), until=now))
    truth, flags = sample.truth.astype(float), sample.flags(None).astype(float)
    floors = {"precision": settings.drift_precision_floor, "recall": settings.drift_recall_floor}
    out = []
    for j, code in enumerate(CODE_LIST):
        hits = truth[:, j] * flags[:, j]
        precision = ratio(hits, flags[:, j], sample.weights)
        recall = ratio(hits, truth[:, j], sample.weights)
        if precision.value is None and recall.value is None:
            continue
        states = {
            name: _state(figure, floors[name], settings.drift_min_count)
            for name, figure in (("precision", precision), ("recall", recall))
        }
        out.append(DriftRow(code, precision, recall, states))
    return out


@router.get("/drift", response_class=HTMLResponse)
def drift_page(request: Request, days: Days = None) -> HTMLResponse:
    viewer = principal(request)
    settings = components(request).settings
    window = days or settings.drift_window_days
    rows = drift_rows(request, window)
    floors = {"precision": settings.drift_precision_floor, "recall": settings.drift_recall_floor}
    figures = {
        metric: plots.interval_rows(
            [
                (display(row.code), fig.value, fig.low, fig.high)
                for row in rows
                for fig in [getattr(row, metric)]
                if fig.value is not None
            ],
            f"Rolling {metric} per error type, last {window} days",
            floor=floors[metric],
        )
        for metric in ("precision", "recall")
    }
    return page(
        request,
        "drift.html",
        viewer=viewer,
        rows=rows,
        days=window,
        floors=floors,
        min_count=settings.drift_min_count,
        plots=figures,
        explain=words.METRICS,
    )


# -- engine configurations ----------------------------------------------------------------------


def _comparison(request: Request, champion: Any, challenger: int | None) -> dict[str, Any]:
    if challenger is None:
        return {}
    if champion is None:
        return {"error": "There is no champion yet: promote a configuration first."}
    try:
        return {"report": compare(components(request).db, champion.id, challenger)}
    except (NotFoundError, InvalidInputError) as exc:
        return {"error": f"Cannot compare: {exc}."}


@router.get("/engines", response_class=HTMLResponse)
def engines_page(request: Request, challenger: RowId | None = None) -> HTMLResponse:
    viewer = principal(request)
    comps = components(request)
    registry = EngineRegistry(comps.db)
    configs = registry.all()
    champion = next((c for c in configs if c.role == "champion"), None)
    return page(
        request,
        "engines.html",
        viewer=viewer,
        configs=configs,
        champion=champion,
        settings_fingerprint=settings_fingerprint(comps.settings),
        promotions=registry.promotions(50),
        names={c.id: f"{c.name} v{c.version}" for c in configs},
        chosen=challenger,
        comparison=_comparison(request, champion, challenger),
        explain=words.METRICS,
    )


# -- canaries -----------------------------------------------------------------------------------


@router.get("/canaries", response_class=HTMLResponse)
def canaries_page(request: Request, days: Days = None) -> HTMLResponse:
    viewer = principal(request)
    comps = components(request)
    window = days or 30
    rows = canary_summary(comps.db, window)
    names = {c.id: f"{c.name} v{c.version} ({c.role})" for c in EngineRegistry(comps.db).all()}
    plot = plots.interval_rows(
        [
            (
                f"{names.get(r['config_id'], r['config_id'])}: {display(r['code'])}",
                r["recall"]["value"],
                r["recall"]["low"],
                r["recall"]["high"],
            )
            for r in rows
        ],
        f"Canaries caught, by configuration and injected error, last {window} days",
    )
    return page(
        request,
        "canaries.html",
        viewer=viewer,
        rows=rows,
        names=names,
        days=window,
        plot=plot,
    )
