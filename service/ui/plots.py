"""Plots for the evaluation report as inline SVG, drawn here (no charting library, no CDN).

Each function takes the stored metrics and returns SVG markup safe to place in a page (every
label is escaped): per-code bars with their 95% intervals, F1 over time, confusion between codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

_SERIES = (("precision", "#2b6cb0"), ("recall", "#2f855a"), ("f1", "#b7791f"))


def per_code_bars(per_code: Mapping[str, Any]) -> Markup:
    """Precision, recall and F1 per code: bars with interval whiskers."""
    codes = sorted(per_code)
    if not codes:
        return Markup("<p class='empty'>No code occurs in this sample.</p>")
    row, left, width = 54, 190, 420
    height = row * len(codes) + 40
    parts = [_svg_open(left + width + 80, height, "Precision, recall and F1 per code")]
    for tick in range(0, 11, 2):
        x = left + width * tick / 10
        parts.append(f"<line x1='{x}' y1='20' x2='{x}' y2='{height - 20}' class='grid'/>")
        parts.append(f"<text x='{x}' y='14' class='tick'>{tick * 10}%</text>")
    for i, code in enumerate(codes):
        top = 24 + i * row
        parts.append(f"<text x='{left - 8}' y='{top + 26}' class='label'>{escape(code)}</text>")
        for j, (name, colour) in enumerate(_SERIES):
            figure = per_code[code].get(name) or {}
            value = figure.get("value")
            y = top + 4 + j * 15
            if value is None:
                continue
            parts.append(
                f"<rect x='{left}' y='{y}' width='{width * value:.1f}' height='11' "
                f"fill='{colour}'><title>{escape(code)} {name} {value:.3f}</title></rect>"
            )
            low, high = figure.get("low"), figure.get("high")
            if low is not None and high is not None:
                parts.append(
                    f"<line x1='{left + width * low:.1f}' y1='{y + 5.5}' "
                    f"x2='{left + width * high:.1f}' y2='{y + 5.5}' class='whisker'/>"
                )
    parts.append(_legend(left + width + 10, 30))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped


def over_time(months: Mapping[str, Any]) -> Markup:
    """Macro- and micro-F1 per month, with the micro-F1 interval as a band."""
    labels = sorted(months)
    if not labels:
        return Markup("<p class='empty'>No audited items.</p>")
    left, width, top, height = 50, max(120, 80 * len(labels)), 20, 200
    parts = [_svg_open(left + width + 40, top + height + 40, "F1 over time")]
    for tick in range(0, 11, 2):
        y = top + height * (1 - tick / 10)
        parts.append(f"<line x1='{left}' y1='{y}' x2='{left + width}' y2='{y}' class='grid'/>")
        parts.append(f"<text x='{left - 6}' y='{y + 4}' class='label'>{tick / 10:.1f}</text>")
    step = width / max(len(labels), 1)
    for name, colour in (("micro_f1", "#2b6cb0"), ("macro_f1", "#b7791f")):
        points = []
        for i, label in enumerate(labels):
            figure = months[label].get(name) or {}
            x = left + step * (i + 0.5)
            if figure.get("value") is None:
                continue
            points.append(f"{x:.1f},{top + height * (1 - figure['value']):.1f}")
            if figure.get("low") is not None and figure.get("high") is not None:
                y1, y2 = (top + height * (1 - figure[k]) for k in ("low", "high"))
                parts.append(
                    f"<line x1='{x:.1f}' y1='{y1:.1f}' x2='{x:.1f}' y2='{y2:.1f}' "
                    f"stroke='{colour}' class='whisker'/>"
                )
        if points:
            parts.append(
                f"<polyline points='{' '.join(points)}' fill='none' stroke='{colour}' "
                f"stroke-width='2'><title>{name}</title></polyline>"
            )
    for i, label in enumerate(labels):
        x = left + step * (i + 0.5)
        parts.append(
            f"<text x='{x:.1f}' y='{top + height + 18}' class='tick'>{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped


def confusion(pairs: Sequence[Mapping[str, Any]]) -> Markup:
    """A grid: code flagged wrongly (rows) against code missed on the same item (columns)."""
    if not pairs:
        return Markup("<p class='empty'>No item had a wrong flag and a missed error together.</p>")
    rows = sorted({p["flagged"] for p in pairs})
    cols = sorted({p["missed"] for p in pairs})
    counts = {(p["flagged"], p["missed"]): int(p["count"]) for p in pairs}
    top_count = max(counts.values())
    cell, left, top = 34, 180, 150
    parts = [_svg_open(left + cell * len(cols) + 20, top + cell * len(rows) + 20, "Confusion")]
    for j, code in enumerate(cols):
        x = left + cell * j + cell / 2
        parts.append(
            f"<text transform='translate({x},{top - 6}) rotate(-60)' class='col'>"
            f"{escape(code)}</text>"
        )
    for i, flagged in enumerate(rows):
        y = top + cell * i
        parts.append(f"<text x='{left - 6}' y='{y + cell / 2 + 4}' class='label'>")
        parts.append(f"{escape(flagged)}</text>")
        for j, missed in enumerate(cols):
            count = counts.get((flagged, missed), 0)
            shade = 0.1 + 0.9 * count / top_count if count else 0.0
            parts.append(
                f"<rect x='{left + cell * j}' y='{y}' width='{cell - 2}' height='{cell - 2}' "
                f"fill='#c53030' fill-opacity='{shade:.2f}'><title>flagged {escape(flagged)}, "
                f"missed {escape(missed)}: {count}</title></rect>"
            )
            if count:
                parts.append(
                    f"<text x='{left + cell * j + cell / 2 - 1}' y='{y + cell / 2 + 4}' "
                    f"class='count'>{count}</text>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='plot' role='img' width='{width:.0f}' "
        f"height='{height:.0f}' viewBox='0 0 {width:.0f} {height:.0f}'>"
        f"<title>{escape(title)}</title>"
    )


def _legend(x: float, y: float) -> str:
    parts = []
    for j, (name, colour) in enumerate(_SERIES):
        parts.append(f"<rect x='{x}' y='{y + j * 16}' width='10' height='10' fill='{colour}'/>")
        parts.append(f"<text x='{x + 14}' y='{y + j * 16 + 9}' class='legend'>{name}</text>")
    return "".join(parts)
