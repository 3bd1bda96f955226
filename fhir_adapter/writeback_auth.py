"""How write-back authenticates to the hospital FHIR server, and its TLS (issue 11).

- ``bearer``: a static token in ``Authorization: Bearer``.
- ``basic``: HTTP basic authentication.
- ``smart``: SMART Backend Services (HL7 SMART App Launch, "Backend Services"): an OAuth 2.0
  client-credentials grant authenticated by a JWT client assertion (RFC 7523) that radqc signs
  with its private key (RS384 or ES384, PyJWT). The access token is cached, renewed shortly
  before it expires, and renewed once when the FHIR server answers 401 (a token revoked early).
- TLS: a CA bundle verifying the server, a client certificate for mutual TLS.

Secrets (tokens, passwords, assertions, keys) are never logged nor put in an error message; the
token endpoint's refusal is reported by its OAuth ``error`` code only.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from service.config import Settings
from service.errors import ConfigurationError, DeliveryError

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 300  # SMART: no more than five minutes in the future
DEFAULT_TOKEN_LIFETIME_SECONDS = 300  # when the token response has no expires_in
_MIN_RSA_BITS = 2048

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class TokenError(DeliveryError):
    """No access token: the token endpoint refused, was unreachable, or answered nonsense.

    Not the Observation's fault: write-back retries with backoff, as for an outage."""


# -- TLS -------------------------------------------------------------------------------------
def tls_context(
    ca_bundle: Path | None = None,
    client_cert: Path | None = None,
    client_key: Path | None = None,
) -> ssl.SSLContext:
    """A client TLS context: the CA bundle (else certifi's public CAs) verifies the server; the
    client certificate (and key) is presented when the server asks for one."""
    context = ssl.create_default_context(cafile=str(ca_bundle or certifi.where()))
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert, client_key)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(
                "RADQC_FHIR_WRITEBACK_CLIENT_CERT/_CLIENT_KEY: cannot load the client "
                f"certificate and its key ({type(exc).__name__})"
            ) from exc
    return context


# -- static credentials ----------------------------------------------------------------------
class BearerToken(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


# -- SMART Backend Services ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SmartClient:
    """What radqc is to the hospital's authorization server."""

    client_id: str
    private_key: PrivateKey
    algorithm: str  # RS384 | ES384
    key_id: str
    scope: str


def load_private_key(path: Path, algorithm: str) -> PrivateKey:
    """The PEM private key, checked against the algorithm (RSA >= 2048 bits, or EC P-384)."""
    setting = "RADQC_FHIR_WRITEBACK_SMART_PRIVATE_KEY_FILE"
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigurationError(
            f"{setting}: not an unencrypted PEM private key ({type(exc).__name__})"
        ) from exc
    if algorithm == "RS384" and isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ConfigurationError(f"{setting}: an RSA key needs {_MIN_RSA_BITS} bits or more")
        return key
    if (
        algorithm == "ES384"
        and isinstance(key, ec.EllipticCurvePrivateKey)
        and isinstance(key.curve, ec.SECP384R1)
    ):
        return key
    wanted = "an RSA key" if algorithm == "RS384" else "an EC key on the P-384 curve"
    raise ConfigurationError(f"{setting}: {algorithm} needs {wanted}")


def client_assertion(client: SmartClient, token_url: str, now: float) -> str:
    """The signed JWT that authenticates radqc to the token endpoint (RFC 7523, SMART)."""
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": token_url,
        "iat": int(now),
        "exp": int(now) + ASSERTION_LIFETIME_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    headers = {"typ": "JWT", **({"kid": client.key_id} if client.key_id else {})}
    return jwt.encode(claims, client.private_key, algorithm=client.algorithm, headers=headers)


def public_jwks(settings: Settings) -> dict[str, object]:
    """The public half of the SMART key as a JWKS: what the hospital's authorization server
    registers for radqc (or serves from a JWKS URL)."""
    path = settings.fhir_writeback_smart_private_key_file
    if path is None:
        raise ConfigurationError("RADQC_FHIR_WRITEBACK_SMART_PRIVATE_KEY_FILE is not set")
    algorithm = settings.fhir_writeback_smart_algorithm
    key = load_private_key(path, algorithm)
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(alg=algorithm, use="sig", key_ops=["verify"])
    if settings.fhir_writeback_smart_key_id:
        jwk["kid"] = settings.fhir_writeback_smart_key_id
    return {"keys": [jwk]}


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float  # time.time() after which it is renewed before use


class SmartTokens:
    """The access token: fetched on first use, reused until shortly before it expires.

    ``http`` is a client for the authorization server (the same TLS settings as write-back);
    ``token_url`` empty: discovered from ``{fhir_base}/.well-known/smart-configuration``.
    Thread-safe: one fetch at a time, and a token renewed by one thread is used by the others.
    """

    def __init__(
        self,
        client: SmartClient,
        http: httpx.Client,
        *,
        fhir_base: str,
        token_url: str = "",
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.http = http
        self.fhir_base = fhir_base.rstrip("/")
        self.token_url = token_url
        self.refresh_margin = refresh_margin
        self.clock = clock
        self.fetched = 0  # tokens obtained so far (tests, and the start-up log)
        self._token: _Token | None = None
        self._lock = threading.Lock()

    def current(self) -> str:
        """A token that is not about to expire."""
        with self._lock:
            if self._token is None or self.clock() >= self._token.renew_at:
                self._token = self._fetch()
            return self._token.value

    def renew(self, rejected: str) -> str:
        """A new token after the FHIR server refused ``rejected`` (unless another thread renewed
        it meanwhile)."""
        with self._lock:
            if self._token is None or self._token.value == rejected:
                self._token = self._fetch()
            return self._token.value

    def close(self) -> None:
        self.http.close()

    def _fetch(self) -> _Token:
        url = self.token_url or self._discover()
        now = self.clock()
        form = {
            "grant_type": "client_credentials",
            "scope": self.client.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(self.client, url, now),
        }
        try:
            response = self.http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise TokenError(f"cannot reach the token endpoint: {type(exc).__name__}") from exc
        token = _read_token(response, now, self.refresh_margin)
        self.fetched += 1
        log.info("SMART access token obtained (valid until %s)", _clock_time(token.renew_at))
        return token

    def _discover(self) -> str:
        """The token endpoint from the FHIR server's SMART configuration (cached)."""
        where = f"{self.fhir_base}/.well-known/smart-configuration"
        try:
            response = self.http.get(where, headers={"Accept": "application/json"})
            document = response.json() if response.is_success else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenError(f"cannot read the SMART configuration: {type(exc).__name__}") from exc
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        secure = isinstance(endpoint, str) and (
            endpoint.lower().startswith("https://") or _is_loopback(endpoint)
        )
        if not secure or not isinstance(endpoint, str):
            raise TokenError(
                f"the SMART configuration (HTTP {response.status_code}) names no https "
                "token_endpoint: set RADQC_FHIR_WRITEBACK_SMART_TOKEN_URL"
            )
        self.token_url = endpoint
        log.info("SMART token endpoint discovered: %s", without_credentials(endpoint))
        return endpoint


def _read_token(response: httpx.Response, now: float, margin: float) -> _Token:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.is_success:
        error = body.get("error") if isinstance(body, dict) else None
        code = error if isinstance(error, str) and error.isascii() and len(error) < 64 else "?"
        raise TokenError(f"the token endpoint refused: HTTP {response.status_code} ({code})")
    if not isinstance(body, dict):
        raise TokenError("the token endpoint answered something other than JSON")
    value = body.get("access_token")
    kind = body.get("token_type")
    if not isinstance(value, str) or not value or str(kind).lower() != "bearer":
        raise TokenError("the token endpoint answered no bearer access_token")
    expires_in = body.get("expires_in", DEFAULT_TOKEN_LIFETIME_SECONDS)
    if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
        expires_in = DEFAULT_TOKEN_LIFETIME_SECONDS
    return _Token(value, now + expires_in - min(margin, expires_in / 2))


def _clock_time(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


class SmartAuth(httpx.Auth):
    """A SMART access token on every request; on 401 the token is renewed and the request is
    sent once more (the second answer stands, whatever it is)."""

    def __init__(self, tokens: SmartTokens) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.tokens.current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == httpx.codes.UNAUTHORIZED:
            log.info("FHIR server answered 401: renewing the SMART access token once")
            request.headers["Authorization"] = f"Bearer {self.tokens.renew(token)}"
            yield request


# -- from the settings -----------------------------------------------------------------------
@dataclass(frozen=True)
class WritebackSecurity:
    """What the write-back client needs: the ``httpx`` auth (None: none) and the TLS context;
    ``tokens`` when the auth is SMART (closed with it)."""

    auth: httpx.Auth | None
    verify: ssl.SSLContext
    tokens: SmartTokens | None = None

    def close(self) -> None:
        if self.tokens is not None:
            self.tokens.close()


def security_from_settings(settings: Settings) -> WritebackSecurity:
    """Build the auth and TLS of write-back; a bad key or certificate is a
    :class:`~service.errors.ConfigurationError` at start-up, not at the first PUT."""
    verify = tls_context(
        settings.fhir_writeback_ca_bundle,
        settings.fhir_writeback_client_cert,
        settings.fhir_writeback_client_key,
    )
    kind = settings.fhir_writeback_auth
    auth: httpx.Auth | None = None
    tokens = None
    if kind == "bearer":
        auth = BearerToken(settings.fhir_writeback_bearer_token.get_secret_value())
    elif kind == "basic":
        auth = httpx.BasicAuth(
            settings.fhir_writeback_basic_user,
            settings.fhir_writeback_basic_password.get_secret_value(),
        )
    elif kind == "smart":
        tokens = _smart_tokens(settings, verify)
        auth = SmartAuth(tokens)
    return WritebackSecurity(auth, verify, tokens)


def _smart_tokens(settings: Settings, verify: ssl.SSLContext) -> SmartTokens:
    assert settings.fhir_writeback_smart_private_key_file is not None  # checked by Settings
    algorithm = settings.fhir_writeback_smart_algorithm
    client = SmartClient(
        client_id=settings.fhir_writeback_smart_client_id,
        private_key=load_private_key(settings.fhir_writeback_smart_private_key_file, algorithm),
        algorithm=algorithm,
        key_id=settings.fhir_writeback_smart_key_id,
        scope=settings.fhir_writeback_smart_scope,
    )
    http = httpx.Client(
        timeout=settings.fhir_writeback_timeout,
        verify=verify,
        headers={"User-Agent": "radqc-writeback"},
    )
    return SmartTokens(
        client,
        http,
        fhir_base=settings.fhir_writeback_url,
        token_url=settings.fhir_writeback_smart_token_url,
        refresh_margin=settings.fhir_writeback_token_refresh_seconds,
    )


def describe_security(settings: Settings) -> str:
    """The auth and TLS settings in a few words, for the start-up log (no secrets)."""
    parts = [f"auth {settings.fhir_writeback_auth}"]
    if settings.fhir_writeback_auth == "smart":
        parts.append(
            f"client {settings.fhir_writeback_smart_client_id} "
            f"{settings.fhir_writeback_smart_algorithm}"
        )
    if settings.fhir_writeback_ca_bundle is not None:
        parts.append(f"CA bundle {settings.fhir_writeback_ca_bundle}")
    if settings.fhir_writeback_client_cert is not None:
        parts.append("client certificate")
    return ", ".join(parts)


def without_credentials(url: str) -> str:
    """``url`` without a user or password, a query or a fragment: safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
