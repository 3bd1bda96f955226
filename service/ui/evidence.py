"""Evidence as an auditor sees it: shapes drawn over the film, values in words, related items.

Image evidence names a place in original pixel coordinates (what the rules engine writes, see
``service/engines/rules/_pixel_findings.py``):

- ``region``: ``[x0, y0, x1, y1]``, a box; a box spanning the whole width (or height) is drawn
  as a band, one with no width or height as a line;
- ``point``: ``[x, y]``, a point (drawn as a ring);
- ``band``: ``[from, to]`` with ``axis`` ``rows`` (default) or ``columns``, a band across.

The page draws the shapes in an SVG laid over the image whose viewBox is the film's own size, so
they scale with the image at every zoom. Evidence that names another item
(``duplicate_of_item``) becomes a link.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom

from service.ui import words

_TEXT_KEYS = frozenset({"section", "start", "end", "quote", "text"})
_PLACE_KEYS = frozenset({"region", "point", "band", "axis"})
_TAG_KEYS = frozenset({"tag", "keyword", "value"})
_RELATED_KEYS = ("duplicate_of_item", "other_item", "related_item")


@dataclass(frozen=True, slots=True)
class Shape:
    """One place on the film, in original pixels; ``number`` is the finding's place in the list."""

    kind: str  # box | band | line | point
    finding_id: int
    number: int
    x: float
    y: float
    width: float
    height: float

    @property
    def label(self) -> str:
        return {"box": "area", "band": "band", "line": "line", "point": "point"}[self.kind]


def film_size(path: Path) -> tuple[int, int] | None:
    """``(columns, rows)`` of a stored image, read from its header; None when unknown."""
    try:
        header = pydicom.dcmread(
            path, stop_before_pixels=True, force=True, specific_tags=["Rows", "Columns"]
        )
        columns, rows = int(header.get("Columns", 0)), int(header.get("Rows", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return (columns, rows) if columns > 0 and rows > 0 else None


def _numbers(value: Any, count: int) -> list[float] | None:
    if not isinstance(value, list | tuple) or len(value) != count:
        return None
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return None
        out.append(float(v))
    return out


def shape_of(entry: Any, finding_id: int, number: int, size: tuple[int, int]) -> Shape | None:
    """The shape one evidence entry names, clipped to the film, or None."""
    if not isinstance(entry, dict):
        return None
    cols, rows = size
    region = _numbers(entry.get("region"), 4)
    if region is not None:
        x0, x1 = sorted((min(max(region[0], 0), cols), min(max(region[2], 0), cols)))
        y0, y1 = sorted((min(max(region[1], 0), rows), min(max(region[3], 0), rows)))
        across = (x0 <= 0 and x1 >= cols) or (y0 <= 0 and y1 >= rows)
        whole = x0 <= 0 and x1 >= cols and y0 <= 0 and y1 >= rows
        kind = "line" if x1 == x0 or y1 == y0 else "band" if across and not whole else "box"
        return Shape(kind, finding_id, number, x0, y0, x1 - x0, y1 - y0)
    point = _numbers(entry.get("point"), 2)
    if point is not None:
        x, y = min(max(point[0], 0), cols), min(max(point[1], 0), rows)
        return Shape("point", finding_id, number, x, y, 0, 0)
    band = _numbers(entry.get("band"), 2)
    if band is not None:
        columns = entry.get("axis") == "columns"
        limit = cols if columns else rows
        a, b = sorted(min(max(v, 0), limit) for v in band)
        if columns:
            return Shape("band", finding_id, number, a, 0, b - a, rows)
        return Shape("band", finding_id, number, 0, a, cols, b - a)
    return None


def shapes(findings: Sequence[Any], size: tuple[int, int] | None) -> list[Shape]:
    """Every drawable place of the findings (numbered as the page lists them)."""
    if size is None:
        return []
    out = []
    for number, finding in enumerate(findings, start=1):
        for entry in finding.evidence or []:
            shape = shape_of(entry, finding.id, number, size)
            if shape is not None:
                out.append(shape)
    return out


def _metric(name: str) -> str:
    return name.replace("_", " ")


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)[:120]


def describe(entry: Any) -> list[str]:
    """What one evidence entry says, in words: the quoted text and where it is, the measured
    value against its limit, the place on the film, and anything else it records."""
    if not isinstance(entry, dict):
        return [_scalar(entry)] if entry not in (None, "") else []
    lines: list[str] = []
    quote = entry.get("quote") if isinstance(entry.get("quote"), str) else entry.get("text")
    if isinstance(quote, str) and quote:
        where = entry.get("section") or "text"
        lines.append(f"{where}: “{quote[:200]}”")
    metric = entry.get("metric")
    if isinstance(metric, str) and "value" in entry:
        line = f"measured {_metric(metric)} {_scalar(entry['value'])}"
        if entry.get("threshold") is not None:
            line += f" (limit {_scalar(entry['threshold'])})"
        lines.append(line)
    lines.extend(_place(entry))
    for key, value in entry.items():
        known = _TEXT_KEYS | _PLACE_KEYS | _TAG_KEYS | {"metric", "threshold", *_RELATED_KEYS}
        if key in known or value is None or isinstance(value, dict | list):
            continue
        lines.append(f"{_metric(key)}: {_scalar(value)}")
    return lines


def _place(entry: dict[str, Any]) -> list[str]:
    region = _numbers(entry.get("region"), 4)
    if region is not None:
        x0, y0, x1, y1 = (round(v) for v in region)
        return [f"on the film: x {x0} to {x1}, y {y0} to {y1} px"]
    point = _numbers(entry.get("point"), 2)
    if point is not None:
        return [f"on the film: point x {round(point[0])}, y {round(point[1])} px"]
    band = _numbers(entry.get("band"), 2)
    if band is not None:
        axis = "x" if entry.get("axis") == "columns" else "y"
        return [f"on the film: band {axis} {round(band[0])} to {round(band[1])} px"]
    return []


def related_ids(evidence: Iterable[Any]) -> list[int]:
    """Items the evidence names (a duplicate of this image)."""
    out: list[int] = []
    for entry in evidence:
        if not isinstance(entry, dict):
            continue
        for key in _RELATED_KEYS:
            value = entry.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value not in out:
                out.append(value)
    return out


@dataclass(frozen=True, slots=True)
class FindingView:
    """A finding as the item page lists it."""

    finding: Any
    number: int
    message: str
    details: list[str]
    values: list[str]
    related: list[int]
    on_film: bool


def finding_views(findings: Sequence[Any], drawn: Sequence[Shape]) -> list[FindingView]:
    on_film = {s.finding_id for s in drawn}
    views = []
    for number, f in enumerate(findings, start=1):
        evidence = list(f.evidence or [])
        views.append(
            FindingView(
                finding=f,
                number=number,
                message=words.plain_message(f.message),
                details=words.tag_details(f.message, evidence),
                values=[line for entry in evidence for line in describe(entry)],
                related=related_ids(evidence),
                on_film=f.id in on_film,
            )
        )
    return views
