"""What every audit page shares: the Jinja2 environment, its filters, and rendering a page.

Kept apart from the routes so the page modules (worklist and item, dashboard, QC lead pages,
error pages) render the same way without importing each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.taxonomy import CODES
from service.ui import words

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# Where each bounded figure may lie: an interval is never drawn or written outside it.
UNIT = (0.0, 1.0)
DIFFERENCE = (-1.0, 1.0)


def clip(value: float | None, low: float | None = 0.0, high: float | None = 1.0) -> float | None:
    """``value`` inside ``[low, high]`` (None stays None; a None bound is open)."""
    if value is None:
        return None
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return float(value)


def _figure(value: object) -> float | None:
    """A stored figure as a number; anything else (None, missing) as None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _pct(value: object) -> str:
    number = _figure(value)
    return "-" if number is None else f"{100 * number:.1f}%"


def _num(value: object) -> str:
    number = _figure(value)
    return "-" if number is None else f"{number:.3f}"


def _interval(
    figure: Any, kind: str = "num", low: float | None = 0.0, high: float | None = 1.0
) -> str:
    """``[low, high]`` of a figure, each end clipped to the metric's range."""
    if not isinstance(figure, dict):
        return ""
    show = _pct if kind == "pct" else _num
    ends = (
        clip(_figure(figure.get("low")), low, high),
        clip(_figure(figure.get("high")), low, high),
    )
    if ends[0] is None and ends[1] is None:
        return ""
    return f"[{show(ends[0])}, {show(ends[1])}]"


def _code_name(code: str) -> str:
    entry = CODES.get(code)
    return entry.display if entry else code


def _code_definition(code: str) -> str:
    entry = CODES.get(code)
    return entry.definition if entry else ""


templates.env.filters.update(
    pct=_pct,
    num=_num,
    interval=_interval,
    code_name=_code_name,
    code_definition=_code_definition,
    plain=words.plain_message,
    when=lambda t: "-" if t is None else t.strftime("%Y-%m-%d %H:%M"),
)
templates.env.globals.update(
    NAV=(
        ("/ui/worklist", "Worklist"),
        ("/ui/dashboard", "Dashboard"),
        ("/ui/evaluations", "Evaluations"),
        ("/ui/drift", "Drift"),
        ("/ui/engines", "Engines"),
        ("/ui/canaries", "Canaries"),
    )
)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("viewer", None)
    return templates.TemplateResponse(request, name, context, status_code=status_code)
