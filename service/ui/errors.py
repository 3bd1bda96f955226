"""Errors on the audit pages as pages: what went wrong in words, what to do, and the navigation.

A person who follows a stale link, mistypes an item number or a date gets an HTML page with
the site's navigation instead of the REST API's JSON. The API's handlers stay in charge of
everything else: each page handler here wraps the one the application already has and hands it
every request that is not for a page (``/api``, ``/fhir``, ``/ui/static``, the film PNG).
No page repeats a value the person sent (it may be patient data), as the JSON errors do not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.errors import validation_details
from service.api.items import parse_time
from service.errors import InvalidInputError, NotFoundError
from service.ui.pages import page
from service.ui.session import viewer_or_none

Handler = Callable[[Request, Any], Awaitable[Response]]

TITLES = {
    400: "The request could not be read",
    403: "Not allowed",
    404: "Not found",
    405: "Not available here",
    413: "Too large",
    422: "This cannot be shown",
}
# Path parameters of the pages, and what a person should type there.
_IDS = {
    "item_id": "an item number",
    "run_id": "an evaluation run number",
    "config_id": "an engine configuration number",
}


class PageError(Exception):
    """A page cannot be shown: ``message`` says why and what to do; ``back`` is where to go."""

    def __init__(self, status: int, message: str, back: str, back_label: str) -> None:
        super().__init__(message)
        self.status = status
        self.back = back
        self.back_label = back_label


def is_page(path: str) -> bool:
    """Whether a request's error is shown as a page: paths under ``/ui`` except the static
    files and the film's PNG, which a script or an image element reads."""
    if not (path == "/ui" or path.startswith("/ui/")):
        return False
    return not (path.startswith("/ui/static/") or path.endswith(".png"))


def error_page(
    request: Request,
    status: int,
    message: str,
    back: str | None = None,
    back_label: str | None = None,
) -> Response:
    return page(
        request,
        "error.html",
        status_code=status,
        viewer=viewer_or_none(request),
        status=status,
        title=TITLES.get(status, "Something went wrong"),
        message=message,
        back=back,
        back_label=back_label,
    )


def _validation_message(exc: RequestValidationError) -> str:
    for detail in validation_details(exc.errors()):
        name = detail["loc"].rsplit(".", 1)[-1]
        if name in _IDS:
            return (
                f"The address does not hold {_IDS[name]}: it must end in a whole number "
                "from 1 up, such as 42. Check the link or pick the item from a list."
            )
    parts = [f"{d['loc'].rsplit('.', 1)[-1]}: {d['msg']}" for d in validation_details(exc.errors())]
    return "Part of the address is not valid (" + "; ".join(parts) + ")."


def _http_message(exc: StarletteHTTPException) -> str:
    if exc.status_code == 404 and exc.detail == "Not Found":
        return "There is no page at this address. Use the links above to find what you need."
    if exc.status_code == 405:
        return "This address is not a page. Use the links above."
    return str(exc.detail)


def _message(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, _http_message(exc)
    if isinstance(exc, RequestValidationError):
        return 422, _validation_message(exc)
    if isinstance(exc, NotFoundError):
        return 404, f"{str(exc).capitalize()}. It may have been removed, or the link is wrong."
    return 422, str(exc)


def install(app: FastAPI) -> None:
    """Show errors of page requests as pages; leave every other request's to the app's own
    handlers (installed before this)."""
    for exc_class in (StarletteHTTPException, RequestValidationError, NotFoundError):
        _wrap(app, exc_class)
    _wrap(app, InvalidInputError)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return error_page(request, exc.status, str(exc), exc.back, exc.back_label)


def _wrap(app: FastAPI, exc_class: type[Exception]) -> None:
    previous: Handler | None = app.exception_handlers.get(exc_class)  # type: ignore[assignment]

    async def handler(request: Request, exc: Exception) -> Response:
        if is_page(request.url.path):
            status, message = _message(exc)
            return error_page(request, status, message)
        if previous is None:
            raise exc
        return await previous(request, exc)

    app.add_exception_handler(exc_class, handler)


def parse_date_filter(name: str, label: str, value: str | None, back: str) -> dt.datetime | None:
    """A date filter of a page's form: a date (``until``: that whole day) or an ISO date-time.
    A value that is neither is refused with a page that says how to write one."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = parse_time(name, text)
    except InvalidInputError as exc:
        raise PageError(
            422,
            f"“{label}” is not a date. Pick one with the date picker or type it as YYYY-MM-DD "
            "(for example 2024-05-01).",
            back,
            "Back to the list without filters",
        ) from exc
    if parsed is not None and name == "until" and len(text) == 10:
        parsed += dt.timedelta(days=1)  # a date alone: up to the end of that day
    return parsed
