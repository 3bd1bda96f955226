"""Write-back a hospital can secure (issue 11): a static bearer token, basic auth, SMART Backend
Services against a loopback authorization server that checks the client assertion like a real
one, and mutual TLS with a CA made in the test. Secrets never reach a log line."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from fhir_adapter.writeback import WritebackClient
from fhir_adapter.writeback_auth import (
    SmartClient,
    TokenError,
    client_assertion,
    load_private_key,
    public_jwks,
)
from fhir_adapter.writeback_setup import build_writeback_client, writeback_state
from service.config import Settings, load_settings
from service.db import Database
from service.errors import ConfigurationError, DeliveryError
from service.models import OutboxEntry
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.fhir_adapter.smart_server import SmartAuthServer
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.fhir_adapter.tls_support import PKI, make_pki, write_signing_key
from tests.fhir_adapter.writeback_support import (
    PUBLISHER,
    all_delivered,
    assert_each_version_accepted_once,
    claim_writeback,
    publish_reports,
    release_writeback,
    running_worker,
    wait_until,
)

CLIENT_ID = "radqc-test-client"
KEY_ID = "radqc-key-1"
BEARER = "hospital-static-token-7f3a9c2e51"
PASSWORD = "hospital-basic-password-c0ffee"


@pytest.fixture
def server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as running:
        yield running


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return make_pki(tmp_path / "pki")


def writeback_settings(tmp_path: Path, url: str, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", fhir_writeback_url=url, **extra)


def smart_server(
    server: RecordingFHIRServer, tmp_path: Path, algorithm: str, expires_in: int = 300
) -> tuple[SmartAuthServer, Path]:
    key_file = tmp_path / f"smart-{algorithm}.pem"
    key = write_signing_key(key_file, algorithm)
    auth = SmartAuthServer(
        server,
        client_id=CLIENT_ID,
        public_key=key.public_key(),
        algorithm=algorithm,
        key_id=KEY_ID,
        expires_in=expires_in,
    )
    return auth, key_file


def smart_settings(
    tmp_path: Path, auth: SmartAuthServer, key_file: Path, algorithm: str, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "fhir_writeback_auth": "smart",
        "fhir_writeback_smart_client_id": CLIENT_ID,
        "fhir_writeback_smart_private_key_file": key_file,
        "fhir_writeback_smart_key_id": KEY_ID,
        "fhir_writeback_smart_algorithm": algorithm,
        "fhir_writeback_smart_token_url": auth.token_url,
        **extra,
    }
    return writeback_settings(tmp_path, auth.fhir.base_url, **values)


def client_for(db: Database, settings: Settings) -> WritebackClient:
    client = build_writeback_client(db, settings)
    assert client is not None
    return client


def assert_no_secret_logged(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in text


# -- SMART Backend Services ------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["RS384", "ES384"])
def test_smart_backend_services_token_is_checked_reused_and_renewed_on_401(
    db: Database,
    server: RecordingFHIRServer,
    tmp_path: Path,
    algorithm: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    auth, key_file = smart_server(server, tmp_path, algorithm)
    settings = smart_settings(tmp_path, auth, key_file, algorithm)
    publish_reports(db, 3)
    with client_for(db, settings) as client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
        assert auth.tokens_issued == 1  # one token for the nine PUTs
        auth.revoke_all()  # the hospital revokes it early: 401, renewed once, sent again
        item_id = add_report_item(db, "r-late", subject="Patient/p9")
        store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
        wait_until(lambda: all_delivered(db))
    assert auth.refusals == []
    assert auth.tokens_issued == 2
    assert [r.status for r in server.puts()].count(401) == 1
    assert_each_version_accepted_once(db, server)
    for claims in auth.claims:  # what the server checked, once more here
        assert claims["iss"] == claims["sub"] == CLIENT_ID
        assert claims["aud"] == auth.token_url
        assert claims["exp"] - claims["iat"] <= 300
    assert len({c["jti"] for c in auth.claims}) == len(auth.claims) == 2
    assertions = [r.body.decode() for r in server.requests if r.method == "POST"]
    assert_no_secret_logged(caplog, [*auth.issued, *assertions])


def test_a_token_is_renewed_before_it_expires(
    db: Database, server: RecordingFHIRServer, tmp_path: Path
) -> None:
    auth, key_file = smart_server(server, tmp_path, "ES384", expires_in=2)
    settings = smart_settings(tmp_path, auth, key_file, "ES384")
    publish_reports(db, 1)
    with client_for(db, settings) as client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
        assert auth.tokens_issued == 1
        time.sleep(1.1)  # past half its life: renewed before use, never sent expired
        store_findings(db, add_report_item(db, "r-next"), [], publisher=PUBLISHER)
        wait_until(lambda: all_delivered(db))
    assert auth.tokens_issued == 2
    assert all(r.status != 401 for r in server.puts())


def test_a_token_the_server_never_accepts_is_renewed_once_per_try_then_refused(
    db: Database, server: RecordingFHIRServer, tmp_path: Path
) -> None:
    auth, key_file = smart_server(server, tmp_path, "RS384")
    auth.reject_every_token = True
    settings = smart_settings(tmp_path, auth, key_file, "RS384", fhir_writeback_max_refusals=2)
    store_findings(db, add_report_item(db), [], publisher=PUBLISHER)
    with client_for(db, settings) as client:
        job = claim_writeback(db)
        with pytest.raises(DeliveryError, match="HTTP 401"):
            client.deliver(job)
        client.deliver(job)  # second refusal: refused
    assert [r.status for r in server.puts()] == [401, 401, 401, 401]
    assert auth.tokens_issued == 3  # the first, and one renewal per try
    with db.reader() as session:
        entry = session.scalars(select(OutboxEntry)).one()
    assert (entry.status, entry.http_status, entry.refusals) == ("refused", 401, 2)


def test_the_token_endpoint_is_discovered(
    db: Database, server: RecordingFHIRServer, tmp_path: Path
) -> None:
    auth, key_file = smart_server(server, tmp_path, "ES384")
    settings = smart_settings(tmp_path, auth, key_file, "ES384", fhir_writeback_smart_token_url="")
    publish_reports(db, 1)
    with client_for(db, settings) as client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
    assert auth.tokens_issued == 1
    assert any(r.path.endswith("/.well-known/smart-configuration") for r in server.requests)


def test_a_refused_assertion_is_an_outage_not_a_refusal_and_nothing_secret_is_logged(
    db: Database, server: RecordingFHIRServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth, _ = smart_server(server, tmp_path, "RS384")
    wrong_key = tmp_path / "not-registered.pem"
    write_signing_key(wrong_key, "RS384")  # a key the hospital does not know
    settings = smart_settings(tmp_path, auth, wrong_key, "RS384")
    store_findings(db, add_report_item(db), [], publisher=PUBLISHER)
    with client_for(db, settings) as client:
        job = claim_writeback(db)
        for _ in range(4):  # more than the refusals allowed: still pending
            with pytest.raises(TokenError, match=r"HTTP 400 \(invalid_client\)"):
                client.deliver(job)
    assert auth.refusals == ["assertion: InvalidSignatureError"] * 4
    assert not server.puts()
    with db.reader() as session:
        entry = session.scalars(select(OutboxEntry)).one()
    assert (entry.status, entry.attempts, entry.refusals) == ("pending", 4, 0)
    assertions = [r.body.decode() for r in server.requests if r.method == "POST"]
    assert_no_secret_logged(caplog, [*assertions, wrong_key.read_text()[30:90]])


def test_public_jwks_verifies_the_assertion(tmp_path: Path, server: RecordingFHIRServer) -> None:
    auth, key_file = smart_server(server, tmp_path, "ES384")
    settings = smart_settings(tmp_path, auth, key_file, "ES384")
    jwks = public_jwks(settings)
    (jwk,) = jwks["keys"]
    assert (jwk["kid"], jwk["alg"], jwk["kty"], jwk["crv"]) == (KEY_ID, "ES384", "EC", "P-384")
    assert "d" not in jwk  # the public half only
    client = SmartClient(CLIENT_ID, load_private_key(key_file, "ES384"), "ES384", KEY_ID, "s")
    token = client_assertion(client, auth.token_url, time.time())
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public, algorithms=["ES384"], audience=auth.token_url)
    assert claims["iss"] == CLIENT_ID


# -- static credentials ----------------------------------------------------------------------
def test_static_bearer_and_basic(
    db: Database, server: RecordingFHIRServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = "Basic " + base64.b64encode(f"radqc:{PASSWORD}".encode()).decode()
    server.authorize = lambda headers: headers.get("Authorization") in (f"Bearer {BEARER}", basic)
    publish_reports(db, 1)
    bearer = writeback_settings(
        tmp_path, server.base_url, fhir_writeback_auth="bearer", fhir_writeback_bearer_token=BEARER
    )
    with client_for(db, bearer) as client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
    store_findings(db, add_report_item(db, "r-basic"), [], publisher=PUBLISHER)
    basic_settings = writeback_settings(
        tmp_path,
        server.base_url,
        fhir_writeback_auth="basic",
        fhir_writeback_basic_user="radqc",
        fhir_writeback_basic_password=PASSWORD,
    )
    with client_for(db, basic_settings) as client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
    assert {r.status for r in server.puts()} <= {200, 201}
    assert len(server.accepted_puts()) == 4
    assert_no_secret_logged(caplog, [BEARER, PASSWORD, basic])


# -- TLS -------------------------------------------------------------------------------------
def test_mutual_tls_with_a_hospital_ca_and_smart(
    db: Database, tmp_path: Path, pki: PKI, caplog: pytest.LogCaptureFixture
) -> None:
    publish_reports(db, 1)
    with running_fhir_server(tls=pki.server_context(require_client_cert=True)) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        auth, key_file = smart_server(server, tmp_path, "RS384")
        tls = {
            "fhir_writeback_ca_bundle": pki.ca_cert,
            "fhir_writeback_client_cert": pki.client_cert,
            "fhir_writeback_client_key": pki.client_key,
        }
        without_cert = smart_settings(
            tmp_path, auth, key_file, "RS384", fhir_writeback_ca_bundle=pki.ca_cert
        )
        job = claim_writeback(db)
        # no client certificate: no handshake
        with client_for(db, without_cert) as client, pytest.raises(DeliveryError, match="token"):
            client.deliver(job)
        other_ca = smart_settings(
            tmp_path,
            auth,
            key_file,
            "RS384",
            **{**tls, "fhir_writeback_ca_bundle": pki.other_ca_cert},
        )
        # the server's certificate is not trusted
        with client_for(db, other_ca) as client, pytest.raises(DeliveryError, match="token"):
            client.deliver(job)
        assert not server.requests
        release_writeback(db, job)
        secured = smart_settings(tmp_path, auth, key_file, "RS384", **tls)
        with client_for(db, secured) as client, running_worker(db, client):
            wait_until(lambda: all_delivered(db))
        assert auth.tokens_issued == 1
        assert_each_version_accepted_once(db, server)
    assert "https://127.0.0.1" in writeback_state(
        smart_settings(tmp_path, auth, key_file, "RS384", **tls)
    )


def test_tls_without_the_ca_bundle_is_refused_by_the_client(
    db: Database, pki: PKI, tmp_path: Path
) -> None:
    publish_reports(db, 1)
    with running_fhir_server(tls=pki.server_context(require_client_cert=False)) as server:
        plain = writeback_settings(tmp_path, server.base_url)  # certifi's CAs only
        with (
            client_for(db, plain) as client,
            pytest.raises(DeliveryError, match=r"cannot reach.*ConnectError"),
        ):
            client.deliver(job := claim_writeback(db))
        release_writeback(db, job)
        trusted = writeback_settings(
            tmp_path, server.base_url, fhir_writeback_ca_bundle=pki.ca_cert
        )
        with client_for(db, trusted) as client, running_worker(db, client):
            wait_until(lambda: all_delivered(db))
        assert len(server.accepted_puts()) == 3


# -- settings and the start-up line ----------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"fhir_writeback_auth": "bearer"}, "needs RADQC_FHIR_WRITEBACK_BEARER_TOKEN"),
        (
            {"fhir_writeback_auth": "bearer", "fhir_writeback_bearer_token": "changeme"},
            "needs RADQC_FHIR_WRITEBACK_BEARER_TOKEN",
        ),
        (
            {"fhir_writeback_auth": "basic", "fhir_writeback_basic_user": "radqc"},
            "needs RADQC_FHIR_WRITEBACK_BASIC_PASSWORD",
        ),
        (
            {"fhir_writeback_auth": "smart", "fhir_writeback_smart_client_id": "c"},
            "needs RADQC_FHIR_WRITEBACK_SMART_PRIVATE_KEY_FILE",
        ),
        (
            {
                "fhir_writeback_url": "http://fhir.hospital.example/r4",
                "fhir_writeback_auth": "bearer",
                "fhir_writeback_bearer_token": BEARER,
            },
            "plain http:// to another host",
        ),
        ({"fhir_writeback_client_key": "{key}"}, "CLIENT_KEY needs"),
        ({"fhir_writeback_ca_bundle": "/nonexistent/ca.pem"}, "no such file"),
        ({"fhir_writeback_smart_token_url": "ftp://x"}, "SMART_TOKEN_URL must be"),
    ],
)
def test_insecure_or_incomplete_settings_are_refused_at_start(
    tmp_path: Path, values: dict[str, Any], problem: str
) -> None:
    key = tmp_path / "k.pem"
    write_signing_key(key, "ES384")
    values = {k: str(key) if v == "{key}" else v for k, v in values.items()}
    with pytest.raises(ConfigurationError, match=problem) as raised:
        load_settings(data_dir=tmp_path, **values)
    assert BEARER not in str(raised.value)


def test_a_key_that_does_not_fit_the_algorithm_is_refused(db: Database, tmp_path: Path) -> None:
    key = tmp_path / "rsa.pem"
    write_signing_key(key, "RS384")
    settings = writeback_settings(
        tmp_path,
        "https://fhir.hospital.example/r4",
        fhir_writeback_auth="smart",
        fhir_writeback_smart_client_id=CLIENT_ID,
        fhir_writeback_smart_private_key_file=key,
        fhir_writeback_smart_algorithm="ES384",
    )
    with pytest.raises(ConfigurationError, match="ES384 needs an EC key on the P-384 curve"):
        build_writeback_client(db, settings)


def test_the_start_up_line_names_the_target_and_auth_never_credentials(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fhir_adapter.writeback_setup")
    assert build_writeback_client(db, writeback_settings(tmp_path, "")) is None
    settings = writeback_settings(
        tmp_path,
        f"https://radqc:{PASSWORD}@fhir.hospital.example:8443/r4?tenant=x",
        fhir_writeback_auth="bearer",
        fhir_writeback_bearer_token=BEARER,
    )
    client = build_writeback_client(db, settings)
    assert client is not None
    client.close()
    off, on = (r.getMessage() for r in caplog.records if r.name == "fhir_adapter.writeback_setup")
    assert off.startswith("FHIR write-back off")
    assert on.startswith("FHIR write-back on: https://fhir.hospital.example:8443/r4, auth bearer")
    assert_no_secret_logged(caplog, [BEARER, PASSWORD, "tenant"])
    assert BEARER not in repr(settings)
