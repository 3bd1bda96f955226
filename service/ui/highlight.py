"""Cutting report text into segments so each finding's evidence span can be highlighted.

Evidence of a text finding names character offsets and the quoted text. Offsets are trusted when
they still quote the same text; otherwise (a span given relative to its section, or text edited
since) the quote is looked up in the text. Overlapping spans split the text at every boundary,
and each segment lists the findings covering it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_QUOTE_KEYS = ("quote", "text")


@dataclass(frozen=True, slots=True)
class Mark:
    finding_id: int
    code: str


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    marks: tuple[Mark, ...]


def locate(text: str, evidence: Mapping[str, Any]) -> tuple[int, int] | None:
    """Where in ``text`` this evidence points, or None (image evidence, quote not found)."""
    quote = next((evidence[k] for k in _QUOTE_KEYS if isinstance(evidence.get(k), str)), None)
    start, end = evidence.get("start"), evidence.get("end")
    in_text = type(start) is int and type(end) is int and 0 <= start < end <= len(text)
    if in_text and (quote is None or text[start:end] == quote):
        return (start, end)  # type: ignore[return-value]
    if quote:
        found = text.find(quote)
        if found >= 0:
            return (found, found + len(quote))
    return None


def segments(text: str, spans: Iterable[tuple[int, int, Mark]]) -> list[Segment]:
    spans = list(spans)
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[Segment] = []
    for start, end in itertools.pairwise(cuts):
        if start >= end:
            continue
        marks = tuple(mark for s, e, mark in spans if s <= start and end <= e)
        out.append(Segment(text[start:end], marks))
    return out
