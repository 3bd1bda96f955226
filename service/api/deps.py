"""What routers get from the application: the components created once at start-up."""

from __future__ import annotations

from fastapi import Request

from service.components import Components


def components(request: Request) -> Components:
    comps: Components = request.app.state.components
    return comps
