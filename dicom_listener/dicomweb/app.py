"""DICOMweb under ``/dicomweb``: its own small FastAPI application, dispatched to by prefix in
front of the API's request guards.

Why not a router of the API: the API's body limit (``RADQC_MAX_BODY_BYTES``, 5 MB) guards every
route, and one chest X-ray is 10 MB. DICOMweb gets the same guards and error handling, built by the
same functions (:func:`service.api.errors.install_request_guards`), with its own limit
(``RADQC_DICOMWEB_MAX_BODY_BYTES``), and the API's tokens and roles.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from dicom_listener.dicomweb import qido, routes_stow
from dicom_listener.dicomweb.stow import StowService
from service.api.errors import install_error_handlers, install_request_guards
from service.api.oidc import OidcVerifier
from service.components import Components
from service.dicom_receive import DicomReceiver
from service.storage import INCOMING

PREFIX: Final = "/dicomweb"


class PrefixDispatch:
    """ASGI middleware: requests under ``prefix`` go to ``target``, the others on."""

    def __init__(self, app: ASGIApp, prefix: str, target: ASGIApp) -> None:
        self.app = app
        self.prefix = prefix
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.target(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def build(
    components: Components,
    tokens: dict[str, str],
    people: dict[str, str],
    oidc: OidcVerifier | None = None,
) -> FastAPI:
    """The DICOMweb application: STOW-RS (role ``ingest``) and QIDO-RS (reading roles), with the
    API's static tokens and OpenID provider."""
    settings = components.settings
    app = FastAPI(title="radqc DICOMweb", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.components = components
    app.state.tokens = tokens
    app.state.token_people = people
    app.state.oidc = oidc
    receiver = DicomReceiver(components.db, components.files, components.queue_options)
    app.state.stow = StowService(receiver, components.files.root / INCOMING)
    install_error_handlers(app, {})
    install_request_guards(app, settings.dicomweb_max_body_bytes, {})
    app.include_router(routes_stow.router, prefix=PREFIX, tags=["dicomweb"])
    app.include_router(qido.router, prefix=PREFIX, tags=["dicomweb"])
    return app


def mount(api: FastAPI, components: Components) -> None:
    """Serve DICOMweb under ``/dicomweb`` of ``api`` (after its tokens are resolved). Call it
    after the API's request guards are installed, so that it is dispatched to before them."""
    dicomweb = build(components, api.state.tokens, api.state.token_people, api.state.oidc)
    api.add_middleware(PrefixDispatch, prefix=PREFIX, target=dicomweb)
