"""Who is looking at the audit pages: the bearer token kept in a cookie by the login page.

The pages are plain GETs rendered on the server, so they cannot send an Authorization header;
the login form stores the token in a cookie scoped to ``/ui`` (SameSite=Strict) and in
sessionStorage, from where the page's script sends it as a bearer token to the REST API. The
same token table and roles as the API are used, so an auditor's identity is their token's.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from service.api.auth import Principal, principal_of

COOKIE = "radqc_token"
PAGE_ROLES = frozenset({"auditor", "admin", "reader"})
AUDIT_ROLES = frozenset({"auditor", "admin"})


class LoginRequired(Exception):
    """No valid token: the page redirects to the login form."""

    def __init__(self, next_url: str, message: str) -> None:
        super().__init__(message)
        self.next_url = next_url


def principal(request: Request) -> Principal:
    """The page's viewer, or :class:`LoginRequired`."""
    token = request.cookies.get(COOKIE, "")
    found = principal_of(request, token) if token else None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if found is None and token:
        raise LoginRequired(target, "that token is not valid: check it and sign in again")
    if found is None:
        raise LoginRequired(target, "please sign in with your token")
    if found.role not in PAGE_ROLES:
        raise LoginRequired(target, f"role {found.role!r} may not use the audit pages")
    return found


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?next={quote(exc.next_url)}&why={quote(str(exc))}", 303)


def viewer_or_none(request: Request) -> Principal | None:
    """The signed-in viewer if there is one, for pages that also show to nobody (errors)."""
    token = request.cookies.get(COOKIE, "")
    found = principal_of(request, token) if token else None
    return found if found is not None and found.role in PAGE_ROLES else None
