"""Bearer tokens with roles (DESIGN §6). ``admin`` may do everything."""

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


def principal_of(request: Request, presented: str) -> Principal | None:
    """The holder of ``presented`` among the app's tokens (``app.state.tokens`` and, for named
    holders, ``app.state.token_people``)."""
    people = getattr(request.app.state, "token_people", None)
    return authenticate(request.app.state.tokens, presented, people)


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
        principal = principal_of(request, credentials.credentials)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown token",
                headers={"WWW-Authenticate": "Bearer"},
            )
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
