"""Security headers on every HTTP response, and more under prefixes that serve pages.

Every response says ``X-Content-Type-Options: nosniff`` (a JSON error is never sniffed into
HTML) and ``Referrer-Policy: no-referrer`` (no URL, with its ids and filters, leaks to another
site). Paths under a prefix given in ``per_prefix`` (the audit pages at ``/ui``) get that
prefix's headers too, e.g. a Content-Security-Policy. Headers the application set itself win.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_RESPONSE: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`EVERY_RESPONSE` and the headers of the path's prefix."""

    def __init__(
        self, app: ASGIApp, per_prefix: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self.app = app
        self.per_prefix = dict(per_prefix or {})

    def headers_for(self, path: str) -> dict[str, str]:
        headers = dict(EVERY_RESPONSE)
        for prefix, extra in self.per_prefix.items():
            if path == prefix or path.startswith(prefix + "/"):
                headers.update(extra)
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = self.headers_for(str(scope.get("path", "")))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
