"""Splitting report text into sections (FINDINGS, IMPRESSION, ...) with character offsets.

Recognises headings at the start of a line or after a sentence/comma boundary, in the forms
real reports use: ``FINDINGS:``, ``Findings -``, MTSamples' ``IMPRESSION:,``, and an upper-case
heading alone on its line (``IMPRESSION`` followed by a numbered list). CONCLUSION and OPINION
count as the impression (DESIGN §5). A combined ``FINDINGS/IMPRESSION:`` heading gives one section
named ``findings_impression``, which stands for both. Headings that are not in the table (``PMH:``,
``L4-5:``, ``LUNGS:`` in a structured findings block) stay part of the section they are in.
Offsets index into the text as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# heading words -> canonical section name
_ALIASES: dict[str, str] = {
    "FINDINGS": "findings",
    "FINDING": "findings",
    "REPORT": "findings",
    "TECHNIQUE AND FINDINGS": "findings",
    "FINDINGS AND IMPRESSION": "findings_impression",
    "FINDINGS/IMPRESSION": "findings_impression",
    "FINDINGS / IMPRESSION": "findings_impression",
    "IMPRESSION": "impression",
    "FINAL IMPRESSION": "impression",
    "CLINICAL IMPRESSION": "impression",
    "IN SUMMARY": "impression",
    "IMPRESSIONS": "impression",
    "CONCLUSION": "impression",
    "CONCLUSIONS": "impression",
    "OPINION": "impression",
    "SUMMARY": "impression",
    "RECOMMENDATION": "recommendation",
    "RECOMMENDATIONS": "recommendation",
    "COMPARISON": "comparison",
    "COMPARISONS": "comparison",
    "INDICATION": "indication",
    "INDICATIONS": "indication",
    "CLINICAL INDICATION": "indication",
    "CLINICAL INFORMATION": "indication",
    "CLINICAL HISTORY": "indication",
    "HISTORY": "indication",
    "REASON FOR EXAM": "indication",
    "REASON FOR EXAMINATION": "indication",
    "TECHNIQUE": "technique",
    "EXAM": "exam",
    "EXAMINATION": "exam",
    "PROCEDURE": "exam",
}
FINDINGS_NAMES = frozenset({"findings", "findings_impression"})
IMPRESSION_NAMES = frozenset({"impression", "findings_impression"})

_NAMES = "|".join(sorted((re.escape(k) for k in _ALIASES), key=len, reverse=True))
# "FINDINGS:" / "Findings -" / "IMPRESSION:," at a line start or after . , ; (optionally a space)
_HEADING = re.compile(
    r"(?:^|(?<=[\n.,;])|(?<=[.,;] ))[ \t]*(?P<name>"
    + _NAMES
    + r")[ \t]*(?::[ \t]*,?|[ \t]+-[ \t]+)",
    re.IGNORECASE | re.MULTILINE,
)
# an upper-case heading alone on its line, without a colon: "IMPRESSION\n1. ..."
_BARE_HEADING = re.compile(r"^[ \t]*(?P<name>" + _NAMES + r")[ \t]*$\n?", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    heading: str
    start: int  # offset of the body's first character
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "heading": self.heading, "start": self.start, "end": self.end}


def split_sections(text: str) -> list[Section]:
    """The sections found in ``text``, in order. Text before the first heading is ``preamble``;
    a text without any heading is one section called ``body``."""
    matches = _headings(text)
    sections: list[Section] = []
    if not matches:
        body = text.strip()
        if body:
            start = text.index(body)
            sections.append(Section("body", "", start, start + len(body), body))
        return sections
    first = matches[0].start("name")
    if text[:first].strip():
        sections.append(_section("preamble", "", text, 0, first))
    for i, match in enumerate(matches):
        end = matches[i + 1].start("name") if i + 1 < len(matches) else len(text)
        name = _ALIASES[_normalise(match.group("name"))]
        sections.append(_section(name, match.group("name"), text, match.end(), end))
    return sections


def _headings(text: str) -> list[re.Match[str]]:
    """Heading matches in text order; a bare heading only counts when it is upper-case."""
    found = [m for m in _HEADING.finditer(text) if _is_heading(m)]
    taken = {m.start("name") for m in found}
    found += [
        m
        for m in _BARE_HEADING.finditer(text)
        if m.group("name").isupper() and m.start("name") not in taken
    ]
    return sorted(found, key=lambda m: m.start("name"))


def _normalise(heading: str) -> str:
    return re.sub(r"[ \t]+", " ", heading.upper())


def _is_heading(match: re.Match[str]) -> bool:
    word = match.group("name")
    # A heading is upper-case or title-case ("Findings:"), not a word inside a sentence.
    return word.isupper() or word.istitle()


def _section(name: str, heading: str, text: str, start: int, end: int) -> Section:
    raw = text[start:end]
    stripped = raw.strip(" \t\r\n,")
    offset = start + (raw.index(stripped) if stripped else 0)
    return Section(name, heading, offset, offset + len(stripped), stripped)


def sections_dict(text: str) -> dict[str, Any]:
    """JSON-ready summary stored with a report version: the sections with their offsets."""
    return {"sections": [s.as_dict() for s in split_sections(text)]}


def section_text(text: str, sections: dict[str, Any], name: str) -> str | None:
    """The joined text of every section called ``name``, or None if there is none."""
    parts = [text[s["start"] : s["end"]] for s in sections.get("sections", []) if s["name"] == name]
    return "\n".join(parts) if parts else None
