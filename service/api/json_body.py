"""The one parser of JSON request bodies, for the REST routes and the FHIR routes alike.

``json.loads`` alone accepts what radqc must not: a member given twice (the last one silently
wins, so two readers of one body can disagree), ``NaN`` and ``Infinity``, and strings that no
database column can hold: a NUL character (PostgreSQL text cannot store U+0000) or an unpaired
surrogate (``"\\ud800"`` is valid JSON but not Unicode, and fails when encoded for storage).
:func:`parse_json` refuses all of them, naming the element, never echoing its value.

REST routers use :class:`JSONBodyRoute` (``APIRouter(route_class=JSONBodyRoute)``): the request
body of their pydantic models is then parsed here. The FHIR routes read their bodies themselves
and call :func:`parse_json` directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from service.errors import InvalidInputError

MAX_DEPTH = 64
BAD_SYNTAX = 400  # not JSON at all, or JSON with a repeated member
BAD_TEXT = 422  # well-formed JSON holding a string radqc cannot store
_SAFE_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_\-$]{0,63}$")

Path = tuple[str | int, ...]


class JSONBodyError(InvalidInputError):
    """A body refused by :func:`parse_json`: ``status`` to answer, ``path`` of the element."""

    def __init__(self, status: int, reason: str, path: Path = ()) -> None:
        self.status = status
        self.reason = reason
        self.path = path
        super().__init__(reason, location=element(path) or None)


def element(path: Path, root: str = "", *, brackets: bool = True) -> str:
    """``root.a.b[0].c`` (FHIRPath), or ``root.a.b.0.c`` without ``brackets`` (as FastAPI
    names a body element). A member name that is not a plain identifier is shown as ``*``, so
    a name that is itself data never reaches an error message."""
    text = root
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]" if brackets else f".{part}"
        else:
            name = part if _SAFE_NAME.match(part) else "*"
            text += f".{name}" if text else name
    return text


class _Members(list[tuple[str, Any]]):
    """An object's members in order, before they are checked and made a dict."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL, an unpaired surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate: not valid Unicode text"
    return None


def _check_text(text: str, path: Path) -> None:
    problem = text_problem(text)
    if problem is not None:
        raise JSONBodyError(BAD_TEXT, problem, path)


def _checked(node: Any, path: Path) -> Any:
    if len(path) > MAX_DEPTH:
        raise JSONBodyError(BAD_SYNTAX, f"nested deeper than {MAX_DEPTH} levels", path)
    if isinstance(node, _Members):
        result: dict[str, Any] = {}
        for name, value in node:
            _check_text(name, path)  # the member name: point at the object that holds it
            if name in result:
                raise JSONBodyError(BAD_SYNTAX, "a member given twice", (*path, name))
            result[name] = _checked(value, (*path, name))
        return result
    if isinstance(node, list):
        return [_checked(value, (*path, index)) for index, value in enumerate(node)]
    if isinstance(node, str):
        _check_text(node, path)
    return node


def parse_json(body: bytes) -> Any:
    """The JSON value of a request body (UTF-8, a leading BOM dropped), checked as above."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise JSONBodyError(BAD_SYNTAX, "the body is not UTF-8 text") from exc
    try:
        raw = json.loads(text, object_pairs_hook=_Members, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JSONBodyError(BAD_SYNTAX, f"not valid JSON ({exc.msg} at {where})") from exc
    except ValueError as exc:  # NaN, Infinity
        raise JSONBodyError(BAD_SYNTAX, f"not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise JSONBodyError(BAD_SYNTAX, f"nested deeper than {MAX_DEPTH} levels") from exc
    return _checked(raw, ())


class _CheckedJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except JSONBodyError as exc:
                where = element(exc.path, "body", brackets=False)
                raise HTTPException(exc.status, f"{where}: {exc.reason}") from exc
        return self._json


class JSONBodyRoute(APIRoute):
    """A route whose JSON request body is parsed by :func:`parse_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(_CheckedJSONRequest(request.scope, request.receive))

        return checked
