"""Who may scrape ``GET /metrics`` (its counts tell how busy the hospital is and how QC fares).

- A bearer token is always checked when one is sent: ``RADQC_METRICS_TOKEN``, or an API token of
  role ``admin`` or ``reader`` (a dashboard may read the metrics it could read over REST). Any
  other token answers 401, a token of another role 403.
- Without one: if ``RADQC_METRICS_TOKEN`` is set, 401. Otherwise the metrics are served to
  loopback clients (127.0.0.0/8, ::1) only, or to anyone when ``RADQC_METRICS_OPEN`` is true;
  another client gets 403.

The client address is the one the server saw: uvicorn takes it from ``X-Forwarded-For`` only
when the connection comes from a trusted proxy (``--forwarded-allow-ips``, by default
127.0.0.1). A reverse proxy on the same host that does not send that header makes every client
look local: set a token there.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request, status

from service.api.auth import principal_of
from service.api.deps import components

METRICS_ROLES = frozenset({"admin", "reader"})
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; False for names and nothing."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _check_token(request: Request, presented: str, metrics_token: str) -> None:
    if metrics_token and hmac.compare_digest(metrics_token.encode(), presented.encode()):
        return
    principal = principal_of(request, presented)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown token", headers=_CHALLENGE)
    if principal.role not in METRICS_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "metrics need the metrics token or an admin or reader token"
        )


def require_metrics_access(request: Request) -> None:
    """A FastAPI dependency of ``/metrics``: the rule in the module docstring."""
    settings = components(request).settings
    presented = _bearer(request)
    if presented is not None:
        _check_token(request, presented, settings.metrics_token)
        return
    if settings.metrics_token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a bearer token is required", headers=_CHALLENGE
        )
    if settings.metrics_open or is_loopback(request.client.host if request.client else None):
        return
    raise HTTPException(
        status.HTTP_403_FORBIDDEN,
        "metrics are served to loopback clients only; set RADQC_METRICS_TOKEN to scrape "
        "from elsewhere (or RADQC_METRICS_OPEN=true)",
    )
