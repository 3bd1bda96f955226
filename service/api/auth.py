"""Bearer tokens with roles (DESIGN §6): static tokens, and JWTs of the hospital's OpenID
provider (:mod:`service.api.oidc`). ``admin`` may do everything."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.oidc import OidcRefused, OidcUnavailable, OidcVerifier, looks_like_jwt
from service.config import Role, Settings

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)
TOKEN_FILE = "api-token"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    # A stable, non-secret label for audit trails: the person the token was issued to
    # (``role@person:token``), else the role and a fingerprint of the token.
    name: str


def resolve_tokens(settings: Settings) -> dict[str, Role]:
    """The configured tokens; with none, an admin token generated once and kept in the data
    folder (printed to the console the first time only)."""
    if settings.api_tokens:
        return dict(settings.api_tokens)
    path: Path = settings.data_dir / TOKEN_FILE
    if path.exists():
        return {path.read_text().strip(): "admin"}
    token = secrets.token_urlsafe(24)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(0o600)
    print(
        f"radqc: no RADQC_API_TOKENS set; generated an admin token (kept in {path}):\n  {token}",
        flush=True,
    )
    return {token: "admin"}


def _fingerprint(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:8]


def authenticate(
    tokens: Mapping[str, Role], presented: str, people: Mapping[str, str] | None = None
) -> Principal | None:
    for token, role in tokens.items():
        if hmac.compare_digest(token.encode(), presented.encode()):
            person = (people or {}).get(token)
            return Principal(role=role, name=person or f"{role}:{_fingerprint(token)}")
    return None


def identify(request: Request, presented: str) -> Principal:
    """The holder of ``presented``: one of the app's static tokens (``app.state.tokens`` and, for
    named holders, ``app.state.token_people``), else a JWT of the hospital's OpenID provider when
    one is configured (``app.state.oidc``, :mod:`service.api.oidc`). Raises 401 for an unknown or
    invalid token, 403 for a valid JWT without a radqc role, 503 when the provider's keys cannot
    be fetched."""
    people = getattr(request.app.state, "token_people", None)
    found = authenticate(request.app.state.tokens, presented, people)
    if found is not None:
        return found
    verifier: OidcVerifier | None = getattr(request.app.state, "oidc", None)
    if verifier is None or not looks_like_jwt(presented):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown token", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        identity = verifier.verify(presented)
    except OidcUnavailable as exc:
        log.warning("OIDC: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except OidcRefused as exc:
        if exc.forbidden:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
        challenge = f'Bearer error="invalid_token", error_description="{exc}"'
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": challenge}
        ) from exc
    return Principal(role=identity.role, name=f"{identity.role}@oidc:{identity.name}")


def principal_of(request: Request, presented: str) -> Principal | None:
    """:func:`identify`, or None where it refuses (the audit pages ask to sign in again)."""
    try:
        return identify(request, presented)
    except HTTPException:
        return None


def require_roles(*roles: Role) -> object:
    """A FastAPI dependency: the caller's :class:`Principal`, if its role is allowed."""
    allowed = set(roles) | {"admin"}

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = identify(request, credentials.credentials)
        if principal.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role!r} may not do this "
                f"(needs one of: {', '.join(sorted(allowed))})",
            )
        return principal

    return Depends(dependency)


# Who may read dashboards' data (items, engines, evaluations, usage, Observations): readers and
# auditors (and admins). One definition for every router.
READ_ACCESS = require_roles("reader", "auditor")
Reader = Annotated[Principal, READ_ACCESS]
