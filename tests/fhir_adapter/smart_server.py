"""A SMART Backend Services authorization server on the recording FHIR server (tests only).

Its token endpoint checks a client assertion the way a hospital's would: the signature with the
registered public key and algorithm, ``iss`` and ``sub`` the client id, ``aud`` the token URL,
``exp`` at most five minutes ahead, a ``jti`` never seen before, the grant and assertion types.
The FHIR endpoint then accepts only a bearer token it issued, unexpired and not revoked.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import jwt

from tests.fhir_adapter.fhir_server import RecordingFHIRServer

TOKEN_PATH = "/auth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class SmartAuthServer:
    def __init__(
        self,
        fhir: RecordingFHIRServer,
        *,
        client_id: str,
        public_key: Any,
        algorithm: str,
        key_id: str,
        expires_in: int = 300,
    ) -> None:
        self.fhir = fhir
        self.client_id = client_id
        self.public_key = public_key
        self.algorithm = algorithm
        self.key_id = key_id
        self.expires_in = expires_in
        self.lock = threading.Lock()
        self.issued: dict[str, float] = {}  # token -> expiry (time.time)
        self.revoked: set[str] = set()
        self.claims: list[dict[str, Any]] = []  # every accepted assertion's claims
        self.refusals: list[str] = []  # why assertions were refused
        self.jtis: set[str] = set()
        self.bearers_seen: list[str] = []
        self.reject_every_token = False
        fhir.routes[("POST", TOKEN_PATH)] = self.token
        fhir.routes[("GET", "/fhir/.well-known/smart-configuration")] = self.configuration
        fhir.authorize = self.authorized

    @property
    def token_url(self) -> str:
        return self.fhir.origin + TOKEN_PATH

    # -- the token endpoint ------------------------------------------------------------------
    def token(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        problem = self._check(form)
        if problem is not None:
            with self.lock:
                self.refusals.append(problem)
            return 400, {"error": "invalid_client", "error_description": problem}
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.issued[token] = time.time() + self.expires_in
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": form["scope"],
        }

    def _check(self, form: Mapping[str, str]) -> str | None:
        if form.get("grant_type") != "client_credentials":
            return "grant_type"
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return "client_assertion_type"
        if not form.get("scope"):
            return "scope"
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=[self.algorithm],
                audience=self.token_url,
                issuer=self.client_id,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return f"assertion: {type(exc).__name__}"
        if header.get("kid") != self.key_id or header.get("alg") != self.algorithm:
            return "kid or alg"
        if claims["sub"] != self.client_id:
            return "sub"
        if claims["exp"] > time.time() + 300 + 5:
            return "exp more than five minutes ahead"
        with self.lock:
            if claims["jti"] in self.jtis:
                return "jti replayed"
            self.jtis.add(claims["jti"])
            self.claims.append(claims)
        return None

    def configuration(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        return 200, {
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["client_credentials"],
        }

    # -- the FHIR server's check -------------------------------------------------------------
    def authorized(self, headers: Mapping[str, str]) -> bool:
        value = headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        with self.lock:
            self.bearers_seen.append(token)
            if self.reject_every_token or scheme.lower() != "bearer":
                return False
            expiry = self.issued.get(token)
            return expiry is not None and expiry > time.time() and token not in self.revoked

    def revoke_all(self) -> None:
        with self.lock:
            self.revoked.update(self.issued)

    @property
    def tokens_issued(self) -> int:
        with self.lock:
            return len(self.issued)
