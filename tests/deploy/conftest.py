"""Fixtures for the Kubernetes manifest tests: the rendered kustomization, the Dockerfile, and a
guard that fails any attempt to reach the network beyond this machine."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.manifests import Dockerfile, Resource, render


@pytest.fixture(scope="session")
def resources() -> list[Resource]:
    return render()


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return Dockerfile.read()


# What an operator writes into deploy/kubernetes/secrets.env (the example's values are refused).
VALID_SECRETS = {
    "RADQC_DATABASE_URL": "postgresql+psycopg://radqc:s3cret-password@postgres.radqc.svc/radqc",
    "RADQC_API_TOKENS": "ingest:0123456789abcdef0123,reader:fedcba9876543210fedc",
    "RADQC_METRICS_TOKEN": "metrics-0123456789abcdef",
}


@pytest.fixture
def configured(tmp_path: Path) -> list[Resource]:
    """The manifests with a secrets.env an operator would write."""
    path = tmp_path / "secrets.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in VALID_SECRETS.items()), encoding="utf-8")
    return render(secrets={"secrets.env": path})


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # a Unix socket path
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: resolving it would already leave the machine
        return False


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any connection beyond loopback raises (and is recorded): the schemas must be local."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_local(address):
            attempts.append(address)
            raise OSError(f"tests/deploy: no network access allowed ({address!r})")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_local(address):
            attempts.append(address)
            raise OSError(f"tests/deploy: no network access allowed ({address!r})")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "localhost") and not _is_local((host, 0)):
            attempts.append(host)
            raise OSError(f"tests/deploy: no name resolution allowed ({host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts
