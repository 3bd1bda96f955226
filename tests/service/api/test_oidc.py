"""OpenID Connect bearer tokens (issue 12 part 5) against a real OpenID provider.

The provider is panva's certified ``oidc-provider`` from npm (``oidc_provider.mjs``), issuing JWT
access tokens by client credentials; radqc finds it by discovery, fetches its keys and checks
every token: right role works, and an expired token, a wrong audience, a token without a role,
``alg: none``, an HMAC token made with the public key, a key nobody published, a rotated-out key
and an unreachable provider are each refused with their own answer. Auth does not touch the
database: SQLite only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.app import build_api
from service.config import Settings
from service.db import Database
from tests.conftest import IN_CI
from tests.service.api.conftest import READER, make_components
from tests.support.npm import npm_install
from tests.support.servers import free_port, serve_app

PROVIDER_VERSION = "9.13.3"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
AUDIENCE = "https://radqc.test/api"
ROLE_MAP = {
    "radqc-admin": "admin",
    "radqc-auditor": "auditor",
    "radqc-reader": "reader",
    "radqc-ingest": "ingest",
}


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    node = shutil.which("node")
    try:
        modules = npm_install("oidc-provider", PROVIDER_VERSION)
        if node is None:
            raise FileNotFoundError("node not found (apt-get install npm)")
    except (OSError, subprocess.SubprocessError) as exc:
        if IN_CI:
            pytest.fail(f"oidc-provider could not be installed: {exc}")
        pytest.skip(f"oidc-provider could not be installed: {exc}")
    port = free_port()
    env = {**os.environ, "OIDC_PROVIDER_ENTRY": str(modules / "oidc-provider" / "lib" / "index.js")}
    process = subprocess.Popen(
        [node, str(SCRIPT), str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        seen: list[str] = []
        for line in process.stdout:  # its warnings first, then "ready <issuer>"
            seen.append(line)
            if line.startswith("ready "):
                break
        else:
            pytest.fail(f"the OpenID provider did not start: {''.join(seen)}")
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def _settings(tmp_path: Path, sqlite_template: Path, issuer: str) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "radqc.sqlite3")
    return Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'radqc.sqlite3'}",
        api_tokens={READER: "reader"},
        oidc_issuer=issuer,
        oidc_audience=AUDIENCE,
        oidc_role_map=ROLE_MAP,
        oidc_leeway_seconds=0,
    )


@pytest.fixture
def api(tmp_path: Path, sqlite_template: Path, issuer: str) -> Iterator[tuple[str, Any]]:
    """radqc's API with the provider configured, and its verifier."""
    settings = _settings(tmp_path, sqlite_template, issuer)
    db = Database(settings.effective_database_url)
    app = build_api(make_components(settings, db))
    try:
        with serve_app(app) as url:
            yield url, app.state.oidc
    finally:
        db.dispose()


def token(issuer: str, client: str, resource: str = AUDIENCE) -> str:
    answer = httpx.post(
        f"{issuer}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": f"{client}-secret",
            "resource": resource,
            "scope": "api",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def get(url: str, path: str, bearer: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(
        f"{url}{path}", headers={"Authorization": f"Bearer {bearer}"}, timeout=10, **kwargs
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(issuer: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "mallory",
        "iat": now,
        "exp": now + 600,
        "roles": ["radqc-admin"],
        **extra,
    }


def test_roles_from_the_provider_decide_what_a_token_may_do(
    api: tuple[str, Any], issuer: str
) -> None:
    url, verifier = api
    reader, admin, auditor = (token(issuer, c) for c in ("reader", "admin", "auditor"))
    assert jwt.get_unverified_header(reader)["kid"]  # a real signed JWT, not an opaque token
    assert get(url, "/api/v1/items", reader).status_code == 200
    refused = get(url, "/api/v1/outbox", reader)
    assert refused.status_code == 403 and "admin" in refused.text
    assert get(url, "/api/v1/outbox", admin).status_code == 200
    assert get(url, "/api/v1/outbox", auditor).status_code == 403
    assert get(url, "/api/v1/items", READER).status_code == 200  # static tokens still work
    # the audit pages keep the token in their cookie, as with a static token
    page = httpx.get(f"{url}/ui/worklist", cookies={"radqc_token": auditor}, timeout=10)
    assert page.status_code == 200 and "sign in" not in page.text.lower()[:2000]
    # DICOMweb (its own application) trusts the same provider
    qido = get(url, "/dicomweb/studies", reader)
    assert qido.status_code == 200 and qido.json() == []
    assert verifier.fetches == 1  # the keys were fetched once and cached


def test_an_expired_token_is_refused(api: tuple[str, Any], issuer: str) -> None:
    url, _ = api
    short = token(issuer, "expired")  # lives three seconds
    assert get(url, "/api/v1/items", short).status_code == 200
    time.sleep(3.5)
    answer = get(url, "/api/v1/items", short)
    assert answer.status_code == 401 and "expired" in answer.json()["message"]
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_a_token_for_another_audience_is_refused(api: tuple[str, Any], issuer: str) -> None:
    url, _ = api
    other = token(issuer, "admin", resource="https://pacs.test/api")
    assert jwt.decode(other, options={"verify_signature": False})["aud"] == "https://pacs.test/api"
    answer = get(url, "/api/v1/items", other)
    assert answer.status_code == 401 and "audience" in answer.json()["message"]


def test_a_valid_token_without_a_role_is_forbidden(api: tuple[str, Any], issuer: str) -> None:
    url, _ = api
    answer = get(url, "/api/v1/items", token(issuer, "norole"))
    assert answer.status_code == 403 and "no radqc role" in answer.json()["message"]


def test_unsigned_and_forged_tokens_are_refused(api: tuple[str, Any], issuer: str) -> None:
    url, verifier = api
    assert get(url, "/api/v1/items", token(issuer, "reader")).status_code == 200
    kid = next(iter(verifier._keys))
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(issuer))}."
    answer = get(url, "/api/v1/items", unsigned)
    assert answer.status_code == 401 and "'none'" in answer.json()["message"]
    # HS256 with the provider's public key as the secret (the classic key-confusion forgery)
    public_pem = verifier._keys[kid].key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(issuer))}"
    mac = hmac.new(public_pem, signed.encode(), hashlib.sha256).digest()  # PyJWT will not do it
    confused = f"{signed}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    answer = get(url, "/api/v1/items", confused)
    assert answer.status_code == 401 and "HS256" in answer.json()["message"]
    # a key nobody published, with every claim right
    mallory = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(issuer), mallory, algorithm="RS256", headers={"kid": "mallory"})
    answer = get(url, "/api/v1/items", forged)
    assert answer.status_code == 401 and "unknown key" in answer.json()["message"]
    # ... signed with mallory's key under the provider's key id: the signature fails
    forged = jwt.encode(_claims(issuer), mallory, algorithm="RS256", headers={"kid": kid})
    assert get(url, "/api/v1/items", forged).status_code == 401
    # made-up key ids do not make radqc fetch the keys again and again
    before = verifier.fetches
    for n in range(20):
        made_up = jwt.encode(_claims(issuer), mallory, algorithm="RS256", headers={"kid": f"k{n}"})
        assert get(url, "/api/v1/items", made_up).status_code == 401
    assert verifier.fetches - before <= 1


def test_a_rotated_key_is_fetched_and_the_old_one_refused(
    api: tuple[str, Any], issuer: str
) -> None:
    url, verifier = api
    old = token(issuer, "reader")
    assert get(url, "/api/v1/items", old).status_code == 200
    verifier.refresh_interval_seconds = 0.5  # production: REFRESH_INTERVAL
    new_kid = httpx.post(f"{issuer}/_test/rotate", timeout=10).text
    new = token(issuer, "reader")
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    time.sleep(0.6)
    assert get(url, "/api/v1/items", new).status_code == 200  # unknown kid: keys fetched again
    answer = get(url, "/api/v1/items", old)  # its key is no longer published
    assert answer.status_code == 401 and "unknown key" in answer.json()["message"]


def test_an_unreachable_provider_answers_503(tmp_path: Path, sqlite_template: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = _settings(tmp_path, sqlite_template, nowhere)
    db = Database(settings.effective_database_url)
    mallory = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    some_jwt = jwt.encode(_claims(nowhere), mallory, algorithm="RS256", headers={"kid": "k"})
    try:
        with serve_app(build_api(make_components(settings, db))) as url:
            answer = get(url, "/api/v1/items", some_jwt)
            assert answer.status_code == 503 and "cannot be reached" in answer.json()["message"]
            assert get(url, "/api/v1/items", READER).status_code == 200  # static tokens work
    finally:
        db.dispose()


def test_settings_refuse_symmetric_algorithms_and_half_a_configuration() -> None:
    with pytest.raises(ValueError, match="HS256"):
        Settings(oidc_issuer="https://idp", oidc_audience="radqc", oidc_algorithms="RS256,HS256")
    with pytest.raises(ValueError, match="together"):
        Settings(oidc_issuer="https://idp")
