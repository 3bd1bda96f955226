"""Errors as JSON with a message, never a stack trace; and the request-body size limit.

Paths under a prefix with its own renderer (``/fhir`` renders OperationOutcome) use that
renderer; everything else gets ``{"message": ..., "detail": ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import InvalidInputError, NotFoundError, RadqcError

log = logging.getLogger(__name__)

# (status, message, details) -> response
Renderer = Callable[[int, str, list[dict[str, Any]]], Response]


def json_error(status: int, message: str, details: list[dict[str, Any]]) -> Response:
    body: dict[str, Any] = {"message": message}
    if details:
        body["detail"] = details
    return JSONResponse(body, status_code=status)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": ".".join(str(part) for part in err.get("loc", ())), "msg": err.get("msg", "")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI, renderers: Mapping[str, Renderer]) -> None:
    def render(
        request: Request, status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> Response:
        for prefix, renderer in renderers.items():
            if request.url.path == prefix or request.url.path.startswith(prefix + "/"):
                return renderer(status, message, details or [])
        return json_error(status, message, details or [])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = render(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        summary = "; ".join(f"{d['loc']}: {d['msg']}" for d in details) or "invalid request"
        return render(request, 422, summary, details)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return render(request, 404, str(exc))

    @app.exception_handler(InvalidInputError)
    async def invalid(request: Request, exc: InvalidInputError) -> Response:
        details = [{"loc": exc.location, "msg": str(exc)}] if exc.location else []
        return render(request, 422, str(exc), details)

    @app.exception_handler(RadqcError)
    async def radqc_error(request: Request, exc: RadqcError) -> Response:
        log.error("request %s %s failed: %s", request.method, request.url.path, exc)
        return render(request, 500, "internal error")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("request %s %s failed", request.method, request.url.path)
        return render(request, 500, "internal error")


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
        path = str(scope.get("path", ""))
        response: Response | None = None
        for prefix, renderer in self.renderers.items():
            if path == prefix or path.startswith(prefix + "/"):
                response = renderer(status, message, [])
        if response is None:
            response = json_error(status, message, [])
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
