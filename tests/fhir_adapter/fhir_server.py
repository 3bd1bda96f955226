"""A recording FHIR server on loopback, standing in for the hospital's (tests only).

A threaded ``http.server`` that stores PUT resources by type and id and records every request
(method, path, body, the status it answered). It can be told to refuse for a while with
``503`` and ``Retry-After``, to drop connections without answering, or to reject with a ``400``
OperationOutcome; ``on_put`` runs a callback while a PUT is in flight.

For issue 11 it can also: answer a given status to given Observation ids (``refuse_ids``);
refuse, like a server that enforces references, an Observation whose ``hasMember`` it does not
hold (``strict_members``); require credentials (``authorize``: 401 without them); serve extra
routes (``routes``: a token endpoint, ``.well-known/smart-configuration``); and speak TLS
(``tls``: a server-side ``ssl.SSLContext``).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    content_type: str | None
    status: int | None  # None: the connection was dropped without an answer
    at: float = field(default_factory=time.monotonic)

    @property
    def accepted(self) -> bool:
        return self.status in (200, 201)

    def json(self) -> Any:
        return json.loads(self.body)


Route = Callable[[Mapping[str, str], bytes], tuple[int, dict[str, Any]]]
"""(headers, body) -> (status, JSON answer), for ``routes``."""


class RecordingFHIRServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.refuse_until = 0.0
        self.refuse_left = 0
        self.refuse_lock = threading.Lock()
        self.retry_after: int | None = 1
        self.drop_until = 0.0
        self.reject = False
        self.on_put: Callable[[str], None] | None = None
        self.refuse_ids: dict[str, tuple[int, str]] = {}  # id -> (status, diagnostics)
        self.strict_members = False
        self.authorize: Callable[[Mapping[str, str]], bool] | None = None
        self.routes: dict[tuple[str, str], Route] = {}  # (method, path) -> route

    @property
    def origin(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/fhir"

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The TLS handshake in the request's thread; a client that fails it is dropped."""
        if self.tls is not None:
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def refuse_for(self, seconds: float, retry_after: int | None = 1) -> None:
        """Answer 503 (with ``Retry-After``) for the next ``seconds``."""
        self.retry_after = retry_after
        self.refuse_until = time.monotonic() + seconds

    def refuse_next(self, count: int, retry_after: int | None = 1) -> None:
        """Answer 503 (with ``Retry-After``) to the next ``count`` requests, however late."""
        self.retry_after = retry_after
        with self.refuse_lock:
            self.refuse_left = count

    def take_refusal(self) -> bool:
        with self.refuse_lock:
            if self.refuse_left > 0:
                self.refuse_left -= 1
                return True
        return False

    def drop_for(self, seconds: float) -> None:
        """Close every connection without an answer for the next ``seconds``."""
        self.drop_until = time.monotonic() + seconds

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def puts(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "PUT"]

    def accepted_puts(self, resource_id: str | None = None) -> list[Request]:
        return [
            r
            for r in self.puts()
            if r.accepted and (resource_id is None or r.path.endswith(f"/{resource_id}"))
        ]


class _Handler(BaseHTTPRequestHandler):
    server: RecordingFHIRServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output quiet

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.authorize is not None and not self.server.authorize(self.headers):
            headers = {"WWW-Authenticate": "Bearer"}
            self._answer(body, 401, _outcome("login", "not authorised"), headers)
            return
        now = time.monotonic()
        if now < self.server.drop_until:
            self._record(body, None)
            self.close_connection = True
            return
        if now < self.server.refuse_until or self.server.take_refusal():
            headers = {}
            if self.server.retry_after is not None:
                headers["Retry-After"] = str(self.server.retry_after)
            self._answer(body, 503, _outcome("transient", "try again later"), headers)
            return
        if self.server.reject:
            self._answer(body, 400, _outcome("invalid", "Observation.code: unknown system"))
            return
        refusal = self._refusal(body)
        if refusal is not None:
            self._answer(body, refusal[0], _outcome("processing", refusal[1]))
            return
        if self.server.on_put is not None:
            self.server.on_put(self.path)
        key = self.path.removeprefix("/fhir/")
        with self.server.lock:
            created = key not in self.server.resources
            self.server.resources[key] = json.loads(body)
        self._answer(body, 201 if created else 200, json.loads(body))

    def _refusal(self, body: bytes) -> tuple[int, str] | None:
        resource_id = self.path.rsplit("/", 1)[-1]
        if resource_id in self.server.refuse_ids:
            return self.server.refuse_ids[resource_id]
        if self.server.strict_members:
            for member in json.loads(body).get("hasMember", []):
                with self.server.lock:
                    known = member["reference"] in self.server.resources
                if not known:
                    return 422, f"hasMember: {member['reference']} does not exist"
        return None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._route(body)

    def _route(self, body: bytes) -> bool:
        route = self.server.routes.get((self.command, self.path))
        if route is None:
            return False
        status, payload = route(self.headers, body)
        self._answer(body, status, payload)
        return True

    def do_GET(self) -> None:
        if self._route(b""):
            return
        key = self.path.removeprefix("/fhir/")
        with self.server.lock:
            resource = self.server.resources.get(key)
        if resource is None:
            self._answer(b"", 404, _outcome("not-found", "unknown"))
        else:
            self._answer(b"", 200, resource)

    def _record(self, body: bytes, status: int | None) -> None:
        self.server.record(
            Request(self.command, self.path, body, self.headers.get("Content-Type"), status)
        )

    def _answer(
        self,
        body: bytes,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self._record(body, status)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _outcome(code: str, diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


@contextmanager
def running_fhir_server(tls: ssl.SSLContext | None = None) -> Iterator[RecordingFHIRServer]:
    server = RecordingFHIRServer(tls)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
