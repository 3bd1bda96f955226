"""Bearer JWTs from the hospital's OpenID provider (issue 12 part 5), besides the static tokens.

An access token is accepted when PyJWT verifies it against the provider's published keys:

- the provider is found by OpenID Connect discovery (``<issuer>/.well-known/openid-configuration``
  gives ``jwks_uri``), on first use, so radqc starts while the provider is down;
- the keys (JWKS) are cached for ``RADQC_OIDC_JWKS_CACHE_SECONDS``; a token signed with a key not
  in the cache makes radqc fetch the set again (the provider rotated its key), at most once per
  ``REFRESH_INTERVAL`` seconds, so that made-up key ids cannot make it hammer the provider;
- the signature algorithm must be an asymmetric one radqc allows (``alg: none`` and the HMAC
  family never: a public key must not become a shared secret), the issuer must be
  ``RADQC_OIDC_ISSUER``, the audience ``RADQC_OIDC_AUDIENCE``, and ``exp`` must be in the future
  (``RADQC_OIDC_LEEWAY_SECONDS`` for clock skew);
- the radqc role comes from the claim ``RADQC_OIDC_ROLES_CLAIM`` (a dotted path such as Keycloak's
  ``realm_access.roles``; a list or one string). With ``RADQC_OIDC_ROLE_MAP`` set, only the values
  it maps count; without it, values that are radqc role names. A token naming several roles acts
  as the most trusted: admin, auditor, reader, ingest. A valid token without one is refused (403).

PyJWT does the cryptography (signature, claims, JWK parsing); this module adds discovery, the key
cache policy and the role mapping. The provider's answers are fetched with httpx (the CA bundle of
``RADQC_OIDC_CA_BUNDLE`` if set).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import jwt

from service.config import OIDC_ALGORITHMS, Role, Settings

log = logging.getLogger(__name__)

REFRESH_INTERVAL: Final = 10.0  # seconds between two forced JWKS fetches (unknown key ids)
ROLE_ORDER: Final[tuple[Role, ...]] = ("admin", "auditor", "reader", "ingest")
_NEVER: Final = frozenset({"none", "HS256", "HS384", "HS512"})


class OidcRefused(Exception):
    """The token is not acceptable (401), or it is valid but carries no radqc role (403)."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


class OidcUnavailable(Exception):
    """The provider's discovery document or keys cannot be fetched (503: try again later)."""


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    role: Role
    name: str  # the token's preferred_username, else its subject


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


@dataclass
class OidcVerifier:
    issuer: str
    audience: str
    roles_claim: str = "roles"
    role_map: Mapping[str, Role] = field(default_factory=dict)
    algorithms: Sequence[str] = OIDC_ALGORITHMS
    leeway_seconds: float = 30.0
    jwks_cache_seconds: float = 300.0
    ca_bundle: str | None = None
    timeout_seconds: float = 5.0
    refresh_interval_seconds: float = REFRESH_INTERVAL
    fetches: int = field(default=0, init=False)  # JWKS fetches so far (for the metrics and tests)
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, init=False, repr=False)
    _jwks_uri: str | None = field(default=None, init=False, repr=False)
    _fetched_at: float = field(default=-1e9, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcVerifier | None:
        if not settings.oidc_issuer or not settings.oidc_audience:
            return None
        return cls(
            issuer=settings.oidc_issuer.rstrip("/"),
            audience=settings.oidc_audience,
            roles_claim=settings.oidc_roles_claim,
            role_map=dict(settings.oidc_role_map),
            algorithms=tuple(settings.oidc_algorithms),
            leeway_seconds=settings.oidc_leeway_seconds,
            jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
            ca_bundle=str(settings.oidc_ca_bundle) if settings.oidc_ca_bundle else None,
        )

    def __post_init__(self) -> None:
        refused = _NEVER.intersection(self.algorithms)
        if refused:
            raise ValueError(f"OIDC algorithms may not include {sorted(refused)}")

    # -- verification ------------------------------------------------------------------------
    def verify(self, token: str) -> OidcIdentity:
        """The identity a valid token carries; :class:`OidcRefused` or :class:`OidcUnavailable`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise OidcRefused(f"not a valid JWT: {exc}") from exc
        algorithm = str(header.get("alg"))
        if algorithm not in self.algorithms:
            raise OidcRefused(f"signature algorithm {algorithm!r} is not accepted")
        key = self._key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise OidcRefused("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise OidcRefused("the token is not meant for radqc (audience)") from exc
        except jwt.InvalidIssuerError as exc:
            raise OidcRefused("the token was issued by another provider") from exc
        except jwt.InvalidTokenError as exc:
            raise OidcRefused(f"the token is not valid: {exc}") from exc
        role = self.role_of(claims)
        name = str(claims.get("preferred_username") or claims.get("sub") or "unknown")
        return OidcIdentity(role=role, name=name)

    def role_of(self, claims: Mapping[str, Any]) -> Role:
        value: Any = claims
        for part in self.roles_claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        roles: set[Role] = set()
        for raw in values:
            if not isinstance(raw, str):
                continue
            if self.role_map:
                if raw in self.role_map:
                    roles.add(self.role_map[raw])
            elif raw in ROLE_ORDER:
                roles.add(raw)
        for role in ROLE_ORDER:
            if role in roles:
                return role
        message = f"the token carries no radqc role in {self.roles_claim!r}"
        raise OidcRefused(message, forbidden=True)

    # -- keys --------------------------------------------------------------------------------
    def _key(self, kid: str | None) -> jwt.PyJWK:
        with self._lock:
            now = time.monotonic()
            if now - self._fetched_at > self.jwks_cache_seconds:
                self._refresh(now)
            found = self._find(kid)
            if found is None and now - self._fetched_at >= self.refresh_interval_seconds:
                self._refresh(now)  # the provider may have rotated its key
                found = self._find(kid)
        if found is None:
            raise OidcRefused(f"the token was signed with an unknown key ({kid!r})")
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get(kid)
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    def _refresh(self, now: float) -> None:
        try:
            with httpx.Client(
                timeout=self.timeout_seconds, verify=self.ca_bundle or True, follow_redirects=False
            ) as http:
                if self._jwks_uri is None:
                    discovery = _json(http, f"{self.issuer}/.well-known/openid-configuration")
                    if discovery.get("issuer", "").rstrip("/") != self.issuer:
                        raise OidcUnavailable("the discovery document names another issuer")
                    self._jwks_uri = str(discovery["jwks_uri"])
                jwks = _json(http, self._jwks_uri)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise OidcUnavailable(f"the OpenID provider cannot be reached: {exc}") from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.get("keys", []):
            if entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type or algorithm PyJWT cannot use: skip it, keep the others
            keys[str(entry.get("kid", ""))] = key
        self._keys, self._fetched_at = keys, now
        self.fetches += 1
        log.info("OIDC: %d signing keys from %s", len(keys), self._jwks_uri)


def _json(http: httpx.Client, url: str) -> dict[str, Any]:
    response = http.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return data
