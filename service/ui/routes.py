"""The audit pages under ``/ui/`` (DESIGN §1): sign-in, worklist, item page and its film.

The dashboard (:mod:`service.ui.dashboard`) and the QC lead's pages (:mod:`service.ui.qc_pages`)
are mounted here too.

Server-rendered with Jinja2; the only script is ``static/ui.js`` (no CDN, no build step). Pages
read through :mod:`service.ui.worklist`; verdicts are sent by the page to the REST API
(``POST /api/v1/items/{id}/audit``) with the auditor's bearer token, so the audit rules live in
one place.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi import status as http
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from service.api.deps import components
from service.api.items import check_code
from service.api.params import RowId
from service.errors import InvalidInputError
from service.models import Item
from service.storage import FileRemovedError
from service.taxonomy import CODES, codes_for
from service.ui import dashboard, errors, qc_pages, words
from service.ui.errors import PageError, parse_date_filter
from service.ui.evidence import film_size, finding_views, shapes
from service.ui.film_png import NoPixelData, Window, placeholder_png, render_png
from service.ui.pages import HERE, page
from service.ui.session import AUDIT_ROLES, LoginRequired, login_redirect, principal
from service.ui.worklist import WorklistFilters, item_page, next_pending, progress, worklist
from service.ui.writeback import writeback_rows

log = logging.getLogger(__name__)

router = APIRouter()
router.include_router(dashboard.router)
router.include_router(qc_pages.router)

# What the pages load: their one script (static/ui.js) and stylesheet, the X-ray PNG, and API
# calls, all from this origin; the worklist's filter form submits here. The templates hold no
# inline script, style attribute or event handler, so none is allowed; the plots and the
# evidence drawn over the film are inline SVG markup, which CSP does not govern. No page may be
# framed (clickjacking).
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
    """Mount the pages and their static files on ``app``; errors of page requests become
    pages (:mod:`service.ui.errors`), so install this after the API's error handlers."""
    app.include_router(router, prefix="/ui", include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")
    errors.install(app)

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc)


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/worklist", http.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login(request: Request, next: str = "/ui/worklist", why: str | None = None) -> HTMLResponse:
    target = next if next.startswith("/ui/") else "/ui/worklist"  # no open redirect
    return page(request, "login.html", next=target, why=why)


def _filters(
    kind: str | None, code: str | None, since: str | None, until: str | None, state: str
) -> WorklistFilters:
    back = "/ui/worklist"
    try:
        known = check_code(code or None)
    except InvalidInputError as exc:
        raise PageError(422, "That error type is not known.", back, "Back to the worklist") from exc
    return WorklistFilters(
        kind=kind if kind in ("image", "report") else None,
        code=known,
        since=parse_date_filter("since", "Received from", since, back),
        until=parse_date_filter("until", "until", until, back),
        state=state if state in ("pending", "audited", "all") else "pending",
    )


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
        done = progress(session)
    return page(
        request,
        "worklist.html",
        viewer=viewer,
        rows=rows,
        filters=filters,
        raw={"since": (since or "")[:10], "until": (until or "")[:10]},
        progress=done,
        codes=list(CODES.values()),
    )


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_view(request: Request, item_id: RowId) -> HTMLResponse:
    viewer = principal(request)
    comps = components(request)
    enabled = bool(comps.settings.fhir_writeback_url)
    with comps.db.reader() as session:
        found = item_page(session, item_id)
        if found is None:
            raise PageError(
                404,
                f"There is no item {item_id}. It may never have been received; "
                "pick one from the worklist or the dashboard.",
                "/ui/dashboard",
                "Open the dashboard",
            )
        following = next_pending(session, item_id)
        published = writeback_rows(session, item_id, enabled)
    item = found.item
    removed = item.instance.file_removed_at if item.instance else None
    stored = item.instance is not None and removed is None
    size = film_size(comps.files.path(item.instance.path)) if stored and item.instance else None
    drawn = shapes(item.findings, size)
    return page(
        request,
        "item.html",
        viewer=viewer,
        can_audit=viewer.role in AUDIT_ROLES,
        page=found,
        item=item,
        findings=finding_views(item.findings, drawn),
        film=size,
        removed=removed,
        shapes=drawn,
        next_item=following,
        writeback=published,
        writeback_enabled=enabled,
        legend=words,
        missed_codes=codes_for("image" if item.kind == "image" else "report"),
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
        item = session.get(Item, item_id)
        instance = item.instance if item is not None else None
        stored = instance.path if instance is not None else None
        removed = instance.file_removed_at if instance is not None else None
    if stored is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, f"item {item_id} has no image")
    if removed is not None:  # gone for good: 410, not a broken image or a 500
        raise HTTPException(http.HTTP_410_GONE, str(FileRemovedError(item_id, removed)))
    window = Window(center, width) if center is not None and width is not None else None
    try:
        rendered = render_png(comps.files.path(stored), window, invert=invert)
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
