"""Spans found by the detectors of :mod:`service.phi.scrub`; how they are merged and replaced."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    """``text[start:end]`` is to be replaced by ``replacement``."""

    start: int
    end: int
    replacement: str


Detector = Callable[[str, int], Iterator[Hit]]


def resolve(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits; earlier detectors win, an overlap widens the winner."""
    chosen: list[Hit] = []
    for hit in hits:
        clash = [c for c in chosen if c.start < hit.end and hit.start < c.end]
        if not clash:
            chosen.append(hit)
        elif any(hit.start < c.start or hit.end > c.end for c in clash):
            for c in clash:
                chosen.remove(c)
            start = min(hit.start, *(c.start for c in clash))
            end = max(hit.end, *(c.end for c in clash))
            winner = clash[0].replacement
            chosen.append(Hit(start, end, winner if winner.startswith("[") else "[REDACTED]"))
    return sorted(chosen, key=lambda h: h.start)


def replace(text: str, hits: list[Hit]) -> str:
    out, last = [], 0
    for hit in hits:
        out += [text[last : hit.start], hit.replacement]
        last = hit.end
    out.append(text[last:])
    return "".join(out)


def sub(
    pattern: re.Pattern[str], text: str, repl: Callable[[re.Match[str]], str | None], group: int = 0
) -> Iterator[Hit]:
    """A hit for each match of ``pattern`` for which ``repl`` gives a replacement."""
    for m in pattern.finditer(text):
        new = repl(m)
        if new is not None:
            yield Hit(m.start(group), m.end(group), new)
