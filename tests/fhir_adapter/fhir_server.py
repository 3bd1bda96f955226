"""A recording FHIR server on loopback, standing in for the hospital's (tests only).

A threaded ``http.server`` that stores PUT resources by type and id and records every request
(method, path, body, the status it answered). It can be told to refuse for a while with
``503`` and ``Retry-After``, to drop connections without answering, or to reject with a ``400``
OperationOutcome; ``on_put`` runs a callback while a PUT is in flight.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
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


class RecordingFHIRServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
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

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/fhir"

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
        if self.server.on_put is not None:
            self.server.on_put(self.path)
        key = self.path.removeprefix("/fhir/")
        with self.server.lock:
            created = key not in self.server.resources
            self.server.resources[key] = json.loads(body)
        self._answer(body, 201 if created else 200, json.loads(body))

    def do_GET(self) -> None:
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
def running_fhir_server() -> Iterator[RecordingFHIRServer]:
    server = RecordingFHIRServer()
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
