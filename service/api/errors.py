"""Errors as JSON with a message, never a stack trace; the request-body size limit; and the
refusal of URLs holding a NUL character.

Paths under a prefix with its own renderer (``/fhir`` renders OperationOutcome) use that
renderer; everything else gets ``{"message": ..., "detail": ...}``. No error body and no log line
repeats a value the client sent (it may be patient data): validation errors name the element,
and a failed request is logged with its error class, its route and where it failed.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import InvalidInputError, NotFoundError

log = logging.getLogger(__name__)


class Renderer(Protocol):
    """(status, message, details) -> response; details are ``{"loc", "msg"}`` entries."""

    def __call__(self, status: int, message: str, details: list[dict[str, Any]], /) -> Response: ...


def json_error(status: int, message: str, details: list[dict[str, Any]]) -> Response:
    body: dict[str, Any] = {"message": message}
    if details:
        body["detail"] = details
    return JSONResponse(body, status_code=status)


def render(
    path: str,
    renderers: Mapping[str, Renderer],
    status: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
) -> Response:
    """The error response for a request to ``path``: its prefix's renderer, else JSON."""
    for prefix, renderer in renderers.items():
        if path == prefix or path.startswith(prefix + "/"):
            return renderer(status, message, details or [])
    return json_error(status, message, details or [])


_GENERIC = "invalid value"


def safe_message(error: Mapping[str, Any]) -> str:
    """A pydantic error's message, unless it quotes the value that was sent."""
    message = str(error.get("msg") or _GENERIC)
    value = error.get("input")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        shown = str(value)
        if len(shown) >= 2 and shown in message:
            return _GENERIC
    return message


def validation_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``{"loc", "msg"}`` per error: the element and what is wrong, never ``input`` or ``ctx``."""
    return [
        {"loc": ".".join(str(part) for part in err.get("loc", ())), "msg": safe_message(err)}
        for err in errors
    ]


def route_for_log(scope: Scope) -> str:
    """The request path with its path parameters' values replaced by their names."""
    params: Mapping[str, Any] = scope.get("path_params") or {}
    names = {str(value): name for name, value in params.items()}
    segments = str(scope.get("path", "")).split("/")
    return "/".join("{" + names[part] + "}" if part in names else part for part in segments)


def where_it_failed(exc: BaseException, frames: int = 4) -> str:
    """The exception's class, the classes it was raised from, and its innermost frames; no
    message (a database error's message may quote the values of the statement)."""
    classes = [type(exc).__name__]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(classes) < 4:
        classes.append(f"{type(cause).__module__}.{type(cause).__name__}")
        cause = cause.__cause__ or cause.__context__
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    places = " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in stack[::-1]
    )
    return f"{' from '.join(classes)} at {places or '?'}"


class ErrorDetail(BaseModel):
    loc: str = Field(description="the element: body.verdicts.0.finding_id, a parameter name")
    msg: str = Field(description="what is wrong with it (the value sent is not repeated)")


class ErrorBody(BaseModel):
    """Every error outside /fhir (where errors are OperationOutcomes)."""

    message: str
    detail: list[ErrorDetail] | None = None


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document describe the error bodies radqc sends: FastAPI documents its
    own validation error (``HTTPValidationError``) for every 422, which radqc does not send."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["HTTPValidationError"] = ErrorBody.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components["ErrorDetail"] = ErrorDetail.model_json_schema()
            components.pop("ValidationError", None)
            components["HTTPValidationError"].pop("$defs", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI, renderers: Mapping[str, Renderer]) -> None:
    document_errors(app)

    def respond(
        request: Request, status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> Response:
        return render(request.url.path, renderers, status, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = respond(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = validation_details(exc.errors())
        summary = "; ".join(f"{d['loc']}: {d['msg']}" for d in details) or "invalid request"
        return respond(request, 422, summary, details)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return respond(request, 404, str(exc))

    @app.exception_handler(InvalidInputError)
    async def invalid(request: Request, exc: InvalidInputError) -> Response:
        details = [{"loc": exc.location, "msg": str(exc)}] if exc.location else []
        return respond(request, 422, str(exc), details)


def install_request_guards(app: FastAPI, limit: int, renderers: Mapping[str, Renderer]) -> None:
    """The middleware every request passes, outermost first: :class:`UnexpectedErrors`,
    :class:`NulInURL`, :class:`BodySizeLimit` (inside, so its own signal reaches it first)."""
    app.add_middleware(BodySizeLimit, limit=limit, renderers=renderers)
    app.add_middleware(NulInURL, renderers=renderers)
    app.add_middleware(UnexpectedErrors, renderers=renderers)


async def _reject(
    scope: Scope,
    receive: Receive,
    send: Send,
    renderers: Mapping[str, Renderer],
    status: int,
    message: str,
) -> None:
    response = render(str(scope.get("path", "")), renderers, status, message)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with 413, streaming or not."""

    def __init__(self, app: ASGIApp, limit: int, renderers: Mapping[str, Renderer]) -> None:
        self.app = app
        self.limit = limit
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._reject(scope, receive, send, 400, "invalid Content-Length")
                return
            if int(declared) > self.limit:
                await self._reject(scope, receive, send, 413, self._message())
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, receive, send, 413, self._message())

    def _message(self) -> str:
        return f"request body larger than {self.limit} bytes"

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        await _reject(scope, receive, send, self.renderers, status, message)


class NulInURL:
    """ASGI middleware: 400 for a request whose path or query string holds a NUL character.

    No identifier, filter or search value of radqc's may hold one, and PostgreSQL cannot even
    compare text with it: such a request would fail in the database instead of being refused.
    """

    def __init__(self, app: ASGIApp, renderers: Mapping[str, Renderer]) -> None:
        self.app = app
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            message = "the URL contains a NUL character (%00)"
            await _reject(scope, receive, send, self.renderers, 400, message)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string") or b""
    path = str(scope.get("path", ""))
    return "\x00" in path or b"\x00" in unquote_to_bytes(query)


class UnexpectedErrors:
    """ASGI middleware, outside every other: an exception nothing handled becomes a 500 in the
    path's format and one log line without values (:func:`where_it_failed`).

    It is not raised on: the server would log it again with its message, and a database error's
    message can hold the statement's values. A response already started (a CSV export failing
    midway) is cut off; the client sees an incomplete body.
    """

    def __init__(self, app: ASGIApp, renderers: Mapping[str, Renderer]) -> None:
        self.app = app
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the last line of defence, logged below
            log.error(
                "request %s %s failed: %s",
                scope.get("method"),
                route_for_log(scope),
                where_it_failed(exc),
            )
            if not started:
                await _reject(scope, receive, send, self.renderers, 500, "internal error")
