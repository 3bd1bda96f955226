"""Plots of the audit pages as inline SVG, drawn here (no charting library, no CDN).

Each function takes stored figures and returns SVG markup safe to place in a page (every label
is escaped): per-code bars with their 95% intervals, F1 over time, confusion between codes,
findings per code over time (dashboard), rolling precision and recall against their floors
(drift), and one bar per row with its interval (canaries). Every interval is drawn inside the
range of its figure (0 to 1): a bootstrap or Wilson end past it is clipped, never drawn beyond.
The SVGs have a viewBox, so the stylesheet scales them down to a phone's width.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from service.taxonomy import CODES

_SERIES = (("precision", "#2b6cb0"), ("recall", "#2f855a"), ("f1", "#b7791f"))


def per_code_bars(per_code: Mapping[str, Any]) -> Markup:
    """Precision, recall and F1 per code: each code's name above its three bars, each bar with
    its interval whisker; the legend on top. Narrow enough to stay legible on a phone."""
    codes = sorted(per_code)
    if not codes:
        return Markup("<p class='empty'>No code occurs in this sample.</p>")
    row, left, width, first = 64, 8, 420, 46
    height = first + row * len(codes) + 8
    parts = [_svg_open(left + width + 56, height, "Precision, recall and F1 per code")]
    parts.append(_legend(left, 4))
    for tick in range(0, 11, 2):
        x = left + width * tick / 10
        parts.append(f"<line x1='{x}' y1='{first - 8}' x2='{x}' y2='{height - 4}' class='grid'/>")
        anchor = " start" if tick == 0 else ""
        parts.append(f"<text x='{x}' y='{first - 12}' class='tick{anchor}'>{tick * 10}%</text>")
    for i, code in enumerate(codes):
        top = first + i * row
        parts.append(
            f"<text x='{left}' y='{top + 10}' class='row-label'>{escape(_name(code))}"
            f"<title>{escape(code)}</title></text>"
        )
        for j, (name, colour) in enumerate(_SERIES):
            figure = per_code[code].get(name) or {}
            value = _unit(figure.get("value"))
            y = top + 16 + j * 15
            if value is None:
                continue
            parts.append(
                f"<rect x='{left}' y='{y}' width='{width * value:.1f}' height='11' "
                f"fill='{colour}'><title>{escape(_name(code))} {name} {value:.3f}</title></rect>"
            )
            parts.append(
                f"<text x='{left + width + 6}' y='{y + 10}' class='total'>{value:.2f}</text>"
            )
            low, high = _unit(figure.get("low")), _unit(figure.get("high"))
            if low is not None and high is not None:
                parts.append(
                    f"<line x1='{left + width * low:.1f}' y1='{y + 5.5}' "
                    f"x2='{left + width * high:.1f}' y2='{y + 5.5}' class='whisker'/>"
                )
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
            y = top + height * (1 - (_unit(figure["value"]) or 0.0))
            points.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{colour}'>"
                f"<title>{escape(label)} {name} {figure['value']:.3f}</title></circle>"
            )
            if figure.get("low") is not None and figure.get("high") is not None:
                y1, y2 = (top + height * (1 - (_unit(figure[k]) or 0.0)) for k in ("low", "high"))
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
    width = left + cell * len(cols) + 110  # room for the slanted column names
    parts = [_svg_open(width, top + cell * len(rows) + 20, "Confusion between error types")]
    for j, code in enumerate(cols):
        x = left + cell * j + cell / 2
        parts.append(
            f"<text transform='translate({x},{top - 6}) rotate(-60)' class='col'>"
            f"{escape(_name(code))}</text>"
        )
    for i, flagged in enumerate(rows):
        y = top + cell * i
        parts.append(f"<text x='{left - 6}' y='{y + cell / 2 + 4}' class='label'>")
        parts.append(f"{escape(_name(flagged))}</text>")
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
    """The three series side by side, from ``(x, y)``."""
    parts = []
    for j, (name, colour) in enumerate(_SERIES):
        left = x + j * 96
        parts.append(f"<rect x='{left}' y='{y}' width='10' height='10' fill='{colour}'/>")
        parts.append(f"<text x='{left + 14}' y='{y + 9}' class='legend'>{name}</text>")
    return "".join(parts)


def _name(code: str) -> str:
    """The error type's plain name (the code stays in the tooltip and the tables)."""
    return CODES[code].display if code in CODES else code


def _unit(value: float | None) -> float | None:
    """A figure's end inside 0..1, the range of every proportion and F1."""
    return None if value is None else min(1.0, max(0.0, float(value)))


def code_counts(counts: Mapping[str, Mapping[str, int]], buckets: Sequence[str]) -> Markup:
    """Items with a finding of each code per period: one row of bars per code (small
    multiples sharing one scale), the code's name above its row and its total at the end."""
    codes = [c for c in sorted(counts, key=lambda c: -sum(counts[c].values())) if counts[c]]
    if not codes or not buckets:
        return Markup("<p class='empty'>No findings in this period.</p>")
    top_count = max(max(row.values()) for row in (counts[c] for c in codes))
    left, width, row, bar_h = 8, 440, 46, 24
    step = width / len(buckets)
    height = 20 + row * len(codes) + 24
    title = "Items with findings, per error type and period"
    parts = [_svg_open(left + width + 60, height, title)]
    for i, code in enumerate(codes):
        top = 20 + i * row
        name = _name(code)
        total = sum(counts[code].values())
        parts.append(
            f"<text x='{left}' y='{top + 12}' class='row-label'>{escape(name)} "
            f"<tspan class='code'>{escape(code)}</tspan></text>"
        )
        base = top + 16 + bar_h
        parts.append(
            f"<line x1='{left}' y1='{base}' x2='{left + width}' y2='{base}' class='axis'/>"
        )
        for j, bucket in enumerate(buckets):
            count = counts[code].get(bucket, 0)
            if not count:
                continue
            h = max(1.5, bar_h * count / top_count)
            parts.append(
                f"<rect x='{left + j * step + 0.5:.1f}' y='{base - h:.1f}' "
                f"width='{max(step - 1, 1):.1f}' height='{h:.1f}' class='bar'>"
                f"<title>{escape(name)}, {escape(bucket)}: {count}</title></rect>"
            )
        parts.append(f"<text x='{left + width + 8}' y='{base - 4}' class='total'>{total}</text>")
    bottom = 20 + row * len(codes) + 14
    for j in sorted({0, len(buckets) // 2, len(buckets) - 1}):
        x = left + j * step + step / 2
        anchor = " start" if j == 0 else " end" if j == len(buckets) - 1 else ""
        x = left if j == 0 else left + width if j == len(buckets) - 1 else x
        parts.append(
            f"<text x='{x:.1f}' y='{bottom}' class='tick{anchor}'>{escape(buckets[j])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped


def interval_rows(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    title: str,
    floor: float | None = None,
) -> Markup:
    """One bar per row with its 95% interval clipped to 0..1, and an optional floor line."""
    if not rows:
        return Markup("<p class='empty'>Nothing to plot yet.</p>")
    left, width, row = 8, 420, 40
    height = 24 + row * len(rows) + 8
    parts = [_svg_open(left + width + 70, height, title)]
    for tick in range(0, 11, 2):
        x = left + width * tick / 10
        parts.append(f"<line x1='{x}' y1='16' x2='{x}' y2='{height - 6}' class='grid'/>")
        anchor = " start" if tick == 0 else ""
        parts.append(f"<text x='{x}' y='12' class='tick{anchor}'>{tick * 10}%</text>")
    for i, (label, value, low, high) in enumerate(rows):
        top = 20 + i * row
        parts.append(f"<text x='{left}' y='{top + 12}' class='row-label'>{escape(label)}</text>")
        y = top + 16
        shown = _unit(value)
        if shown is not None:
            parts.append(
                f"<rect x='{left}' y='{y}' width='{width * shown:.1f}' height='12' class='bar'>"
                f"<title>{escape(label)}: {100 * shown:.1f}%</title></rect>"
            )
            parts.append(
                f"<text x='{left + width + 8}' y='{y + 10}' class='total'>{100 * shown:.0f}%</text>"
            )
        a, b = _unit(low), _unit(high)
        if a is not None and b is not None:
            parts.append(
                f"<line x1='{left + width * a:.1f}' y1='{y + 6}' x2='{left + width * b:.1f}' "
                f"y2='{y + 6}' class='whisker'/>"
            )
    if floor is not None:
        x = left + width * (_unit(floor) or 0.0)
        parts.append(
            f"<line x1='{x:.1f}' y1='16' x2='{x:.1f}' y2='{height - 6}' class='floor'>"
            f"<title>floor {100 * floor:.0f}%</title></line>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped
