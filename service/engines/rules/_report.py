"""A report as the text checks see it: its text and its sections as validated spans.

The sections stored with a report version (``{"sections": [{name, heading, start, end}]}``) are
used when they describe the text; when they are missing, malformed or out of range they are
computed again from the text, so a check never indexes past the text.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from service.engines.base import ReportInput
from service.reports.sections import split_sections


@dataclass(frozen=True, slots=True)
class Span:
    """A section body: ``text[start:end]``."""

    name: str
    heading: str
    start: int
    end: int

    @property
    def empty(self) -> bool:
        return self.start >= self.end


@dataclass(frozen=True, slots=True)
class ReportView:
    item: ReportInput
    text: str
    sections: tuple[Span, ...]
    starts: tuple[int, ...] = ()  # the sections' start offsets, for bisection

    def named(self, names: Iterable[str]) -> list[Span]:
        wanted = set(names)
        return [span for span in self.sections if span.name in wanted]

    def section_at(self, offset: int) -> str | None:
        """The name of the section an offset falls in (the last one starting at or before it)."""
        index = bisect.bisect_right(self.starts, offset)
        return self.sections[index - 1].name if index else None


_R = TypeVar("_R")


def per_view(compute: Callable[[ReportView], _R]) -> Callable[[ReportView], _R]:
    """Remember ``compute``'s result for the last view it was given, per thread: several checks
    read the same derived data of one report, and the engine runs a report's checks in a row."""
    last = threading.local()

    @functools.wraps(compute)
    def cached(view: ReportView) -> _R:
        entry = getattr(last, "entry", None)
        if entry is not None and entry[0] is view:
            result: _R = entry[1]
            return result
        result = compute(view)
        last.entry = (view, result)
        return result

    return cached


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


@per_view
def lowered(view: ReportView) -> str:
    """The report's text in lower case with every offset kept (``str.lower`` lengthens a few
    characters, such as dotted capital I: then only ASCII letters are lowered). Matching a
    lower-case pattern here is several times faster than ``re.IGNORECASE`` on the text."""
    low = view.text.lower()
    return low if len(low) == len(view.text) else view.text.translate(_ASCII_LOWER)


def whole_words(*words: str) -> str:
    r"""A pattern for ``\b(?:word|word...)\b`` (literal words of word characters) that opens with
    the words' first letters: Python's ``re`` then skips to the next such letter, while a pattern
    that opens with ``\b`` is tried at every position of the text (several times slower). The
    boundary before a word is a look-behind after it; the alternatives keep their order, so the
    matches are the same."""
    return "(?:" + "|".join(rf"{w}(?<!\w{w})" for w in words) + r")\b"


def report_view(item: ReportInput) -> ReportView:
    text = item.text if isinstance(item.text, str) else ""
    spans = _stored_spans(item.sections, text)
    if spans is None:
        spans = tuple(Span(s.name, s.heading, s.start, s.end) for s in split_sections(text))
    return ReportView(item, text, spans, tuple(span.start for span in spans))


def _stored_spans(sections: Any, text: str) -> tuple[Span, ...] | None:
    """The stored sections as spans, or None when they do not describe ``text``."""
    if not isinstance(sections, dict) or not isinstance(sections.get("sections"), list):
        return None
    spans: list[Span] = []
    for entry in sections["sections"]:
        span = _span(entry, len(text))
        if span is None:
            return None
        spans.append(span)
    if text.strip() and not spans:
        return None
    if any(b.start < a.start for a, b in itertools.pairwise(spans)):
        return None
    return tuple(spans)


def _span(entry: Any, length: int) -> Span | None:
    if not isinstance(entry, dict):
        return None
    name, heading = entry.get("name"), entry.get("heading", "")
    start, end = entry.get("start"), entry.get("end")
    if not isinstance(name, str) or not isinstance(heading, str):
        return None
    if type(start) is not int or type(end) is not int or not 0 <= start <= end <= length:
        return None
    return Span(name, heading, start, end)
