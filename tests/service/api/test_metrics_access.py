"""Who may scrape ``/metrics`` (issue 10): with ``metrics_token`` set, a bearer token is needed
(the metrics token, or an admin or reader API token); without it, loopback clients only unless
``metrics_open``. Real HTTP on loopback; another client address through the ASGI transport,
which hands the app the address a server would. ``/healthz`` and ``/readyz`` stay open."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from service.api.metrics_access import is_loopback
from service.components import Components
from service.config import Settings
from service.db import Database
from tests.service.api.conftest import ADMIN, AUDITOR, INGEST, READER, make_app, make_components
from tests.support.servers import serve_app

METRICS_TOKEN = "scrape-token-0123456789abcdef"
REMOTE = ("203.0.113.7", 40123)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def components_with(settings: Settings, db: Database, **changes: object) -> Components:
    return make_components(settings.model_copy(update=changes), db)


def from_client(
    comps: Components, client: tuple[str, int], path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """One request to the app as if it came from ``client`` (host, port)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=make_app(comps), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://radqc") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(call())


@pytest.fixture
def with_token(settings: Settings, db: Database) -> Iterator[str]:
    with serve_app(make_app(components_with(settings, db, metrics_token=METRICS_TOKEN))) as url:
        yield url


def test_with_a_metrics_token_a_scrape_must_send_it(with_token: str) -> None:
    url = f"{with_token}/metrics"
    refused = httpx.get(url)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["message"] == "a bearer token is required"
    assert httpx.get(url, headers=bearer("wrong-token")).status_code == 401
    for token in (METRICS_TOKEN, READER, ADMIN):
        response = httpx.get(url, headers=bearer(token))
        assert response.status_code == 200, token
        assert "radqc_database_up 1.0" in response.text
    for token in (INGEST, AUDITOR):
        response = httpx.get(url, headers=bearer(token))
        assert response.status_code == 403, token
        assert response.json()["message"]
    assert httpx.get(f"{with_token}/healthz").status_code == 200
    assert httpx.get(f"{with_token}/readyz").status_code == 200


def test_with_a_metrics_token_another_host_needs_it_too(settings: Settings, db: Database) -> None:
    comps = components_with(settings, db, metrics_token=METRICS_TOKEN)
    assert from_client(comps, REMOTE, "/metrics").status_code == 401
    assert from_client(comps, REMOTE, "/metrics", bearer(METRICS_TOKEN)).status_code == 200


def test_without_a_token_loopback_may_scrape_and_other_hosts_may_not(
    settings: Settings, db: Database
) -> None:
    comps = make_components(settings, db)
    with serve_app(make_app(comps)) as url:  # a real connection from 127.0.0.1
        assert httpx.get(f"{url}/metrics").status_code == 200
    for client in (("::1", 5000), ("127.0.0.2", 5000), ("::ffff:127.0.0.1", 5000)):
        assert from_client(comps, client, "/metrics").status_code == 200, client
    refused = from_client(comps, REMOTE, "/metrics")
    assert refused.status_code == 403
    assert "loopback" in refused.json()["message"]
    assert from_client(comps, REMOTE, "/metrics", bearer(READER)).status_code == 200
    assert from_client(comps, REMOTE, "/metrics", bearer(INGEST)).status_code == 403
    for path in ("/healthz", "/readyz"):
        assert from_client(comps, REMOTE, path).status_code == 200, path


def test_metrics_open_serves_every_host(settings: Settings, db: Database) -> None:
    comps = components_with(settings, db, metrics_open=True)
    assert from_client(comps, REMOTE, "/metrics").status_code == 200
    assert from_client(comps, REMOTE, "/metrics", bearer("wrong")).status_code == 401


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        ("localhost", False),  # a name, not an address the server saw
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback
