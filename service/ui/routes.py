"""The audit pages under ``/ui/`` (DESIGN §1): worklist, item page, evaluation reports.

Server-rendered with Jinja2; the only script is ``static/ui.js`` (no CDN, no build step). Pages
read through :mod:`service.ui.worklist`; verdicts are sent by the page to the REST API
(``POST /api/v1/items/{id}/audit``) with the auditor's bearer token, so the audit rules live in
one place.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi import status as http
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from service.api.deps import components
from service.api.items import check_code, parse_time
from service.api.params import RowId
from service.errors import InvalidInputError
from service.loop.models import EvaluationRun
from service.taxonomy import CODES, codes_for
from service.ui import plots
from service.ui.render import NoPixelData, Window, placeholder_png, render_png
from service.ui.session import AUDIT_ROLES, LoginRequired, login_redirect, principal
from service.ui.worklist import WorklistFilters, item_page, next_pending, worklist

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["pct"] = lambda v: "-" if v is None else f"{100 * float(v):.1f}%"
templates.env.filters["num"] = lambda v: "-" if v is None else f"{float(v):.3f}"
router = APIRouter()

# What the pages load: their one script (static/ui.js) and stylesheet, the X-ray PNG, and API
# calls, all from this origin; the worklist's filter form submits here. The templates hold no
# inline script, style attribute or event handler, so none is allowed; the evaluation plots are
# inline SVG markup, which CSP does not govern. No page may be framed (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}


def install(app: FastAPI) -> None:
    """Mount the pages and their static files on ``app``."""
    app.include_router(router, prefix="/ui", include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc)


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context)


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/worklist", http.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login(request: Request, next: str = "/ui/worklist", why: str | None = None) -> HTMLResponse:
    target = next if next.startswith("/ui/") else "/ui/worklist"  # no open redirect
    return _page(request, "login.html", next=target, why=why, viewer=None)


def _filters(
    kind: str | None, code: str | None, since: str | None, until: str | None, state: str
) -> WorklistFilters:
    try:
        return WorklistFilters(
            kind=kind if kind in ("image", "report") else None,
            code=check_code(code or None),
            since=parse_time("since", since or None),
            until=parse_time("until", until or None),
            state=state if state in ("pending", "audited", "all") else "pending",
        )
    except InvalidInputError as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    kind: str | None = None,
    code: str | None = None,
    since: str | None = None,
    until: str | None = None,
    state: str = "pending",
) -> HTMLResponse:
    viewer = principal(request)
    filters = _filters(kind, code, since, until, state)
    with components(request).db.reader() as session:
        rows = worklist(session, filters)
    return _page(
        request,
        "worklist.html",
        viewer=viewer,
        rows=rows,
        filters=filters,
        raw={"since": since or "", "until": until or ""},
        codes=list(CODES),
    )


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_view(request: Request, item_id: RowId) -> HTMLResponse:
    viewer = principal(request)
    with components(request).db.reader() as session:
        page = item_page(session, item_id)
        if page is None:
            raise HTTPException(http.HTTP_404_NOT_FOUND, f"item {item_id} does not exist")
        following = next_pending(session, item_id)
    return _page(
        request,
        "item.html",
        viewer=viewer,
        can_audit=viewer.role in AUDIT_ROLES,
        page=page,
        item=page.item,
        next_item=following,
        missed_codes=codes_for("image" if page.item.kind == "image" else "report"),
    )


@router.get("/items/{item_id}/image.png")
def item_image(
    request: Request,
    item_id: RowId,
    center: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    width: Annotated[float | None, Query(gt=0, allow_inf_nan=False)] = None,
    invert: bool = False,
) -> Response:
    principal(request)
    comps = components(request)
    with comps.db.reader() as session:
        page = item_page(session, item_id)
    if page is None or page.item.instance is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, f"item {item_id} has no image")
    window = Window(center, width) if center is not None and width is not None else None
    try:
        rendered = render_png(comps.files.path(page.item.instance.path), window, invert=invert)
    except NoPixelData:  # a header-only object: a placeholder, not an error (issue 14)
        return Response(
            placeholder_png(),
            media_type="image/png",
            headers={"Cache-Control": "private, max-age=300", "X-No-Pixel-Data": "true"},
        )
    except InvalidInputError:
        raise
    except Exception as exc:  # pydicom/Pillow: a file that cannot be decoded here
        log.warning("item %s: cannot render image: %s", item_id, type(exc).__name__)
        raise HTTPException(
            http.HTTP_422_UNPROCESSABLE_CONTENT, "image cannot be rendered"
        ) from exc
    low, high = rendered.value_range
    return Response(
        rendered.png,
        media_type="image/png",
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Window-Center": f"{rendered.default_window.center:g}",
            "X-Window-Width": f"{rendered.default_window.width:g}",
            "X-Value-Range": f"{low:g},{high:g}",
        },
    )


@router.get("/evaluations", response_class=HTMLResponse)
def evaluations_page(request: Request) -> HTMLResponse:
    viewer = principal(request)
    runs = request.app.state.evaluations.list(100)
    return _page(
        request,
        "evaluations.html",
        viewer=viewer,
        runs=runs,
        can_run=viewer.role in AUDIT_ROLES,
    )


@router.get("/evaluations/{run_id}", response_class=HTMLResponse)
def evaluation_report(request: Request, run_id: RowId) -> HTMLResponse:
    viewer = principal(request)
    run: EvaluationRun = request.app.state.evaluations.get(run_id)
    metrics = run.metrics
    return _page(
        request,
        "evaluation.html",
        viewer=viewer,
        run=run,
        metrics=metrics,
        bars=plots.per_code_bars(metrics.get("per_code", {})),
        over_time=plots.over_time(metrics.get("slices", {}).get("month", {})),
        confusion=plots.confusion(metrics.get("confusion", {}).get("pairs", [])),
    )
