"""``report.terminology``: template placeholders left in the report text.

Placeholders: ``[***]``, ``***``, ``___``, ``[ ]``, ``[INSERT SIZE]``, ``[left/right]``,
``<<field>>``, ``<size>``, ``{{field}}``, ``{FIELD}``, ``?? ``, ``XXX``, ``X cm``, ``###``, ``TBD``.

Not placeholders: the de-identification token ``XXXX`` (exactly four X, repeated or inside words
such as ``x-XXXX``; the Indiana University reports carry ~5,000 of them), HTML tags such as
``<BR>``, comparisons such as ``< 5 mm``, and a single ``?`` (clinical shorthand for "query").

Placeholders in the findings or impression are major (the report says less than it should);
elsewhere (comparison, indication) they are minor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.engines.base import Finding
from service.engines.rules._findings import finding, text_evidence, words
from service.engines.rules._report import ReportView
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.terminology"
_MAX_EVIDENCE = 20
_PLACES = {
    "findings": "findings",
    "impression": "impression",
    "findings_impression": "findings",
    "comparison": "comparison section",
    "indication": "indication section",
    "technique": "technique section",
}

_DEID = re.compile(r"(?:XXXX)+")
_HTML_TAGS = words("br p b i u em strong div span hr li ul ol sup sub table tr td th font pre")
_FIELD_WORDS = re.compile(
    r"\b(?:insert|blank|fill|tbd|todo|enter|select|choose|specify|dictate|name|date|time|value|"
    r"number|size|measurement|side|level|location|finding|findings|text|here|option|"
    r"placeholder)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Pattern:
    name: str
    regex: re.Pattern[str]
    confidence: float
    keep: Callable[[re.Match[str]], bool] = lambda match: True
    # strings one of which every match contains: a text without any is not searched (``in`` is
    # tens of times faster than a pattern that opens with a repeat or a word boundary, and
    # almost no report has a placeholder)
    cues: tuple[str, ...] = ()


def _only_deid(content: str) -> bool:
    """``XXXX``, ``XXXX XXXX``, ``XXXX/XXXX``: de-identification tokens and separators."""
    return bool(content.strip()) and not re.sub(r"(?:XXXX)+|[\s/,.-]", "", content)


def _bracket_field(match: re.Match[str]) -> bool:
    content = match.group(1).strip()
    if _only_deid(content):
        return False
    return (
        not content
        or re.fullmatch(r"[*_.?xX#\s-]+", content) is not None
        or _FIELD_WORDS.search(content) is not None
        or re.fullmatch(r"[A-Za-z]+(?:\s*/\s*[A-Za-z]+)+", content) is not None
        or re.fullmatch(r"[A-Z][A-Z0-9 _]+", content) is not None
    )


def _angle_field(match: re.Match[str]) -> bool:
    content = match.group(1)
    if _only_deid(content) or not re.search(r"[A-Za-z]", content):
        return False
    tag = re.fullmatch(r"\s*/?\s*([A-Za-z0-9]+)(?:\s[^<>]*)?/?\s*", content)
    return not (tag and tag.group(1).lower() in _HTML_TAGS)


def _x_run(match: re.Match[str]) -> bool:
    run = match.group(0)
    return not (run.isupper() and len(run) % 4 == 0)


PATTERNS: tuple[Pattern, ...] = (
    Pattern("bracket", re.compile(r"\[([^\[\]\n]{0,40})\]"), 0.9, _bracket_field),
    Pattern("double angle", re.compile(r"<<([^<>\n]{0,60})>>"), 0.9),
    Pattern("angle", re.compile(r"<(?![\s<=])([^<>\n]{1,40})(?<![\s=])>"), 0.75, _angle_field),
    Pattern("double brace", re.compile(r"\{\{([^{}\n]{0,60})\}\}"), 0.9),
    Pattern("brace", re.compile(r"\{([A-Za-z][A-Za-z0-9 _.-]{0,38})\}"), 0.8),
    Pattern("stars", re.compile(r"\*{3,}"), 0.9, cues=("***",)),
    Pattern("underscores", re.compile(r"_{3,}"), 0.9, cues=("___",)),
    Pattern("hashes", re.compile(r"#{3,}"), 0.8, cues=("###",)),
    Pattern("question marks", re.compile(r"\?{2,}(?=\s|$)"), 0.7, cues=("??",)),
    # the two X patterns open with the letter and look behind it ("X(?<![\w.]X)" is
    # "(?<![\w.])X"): a pattern that opens with a literal is searched for with a fast scan
    Pattern("x run", re.compile(r"[Xx](?<![A-Za-z][Xx])[Xx]{2,}(?![A-Za-z])"), 0.8, _x_run),
    Pattern(
        "x measurement",
        re.compile(r"X(?<![\w.]X)(?:\.X)?(?: ?[x\u00d7] ?X(?:\.X)?){0,2} ?(?:mm|cm)\b"),
        0.85,
    ),
    Pattern("to do", re.compile(r"\b(?:TBD|TODO|FIXME)\b"), 0.8, cues=("TBD", "TODO", "FIXME")),
)


def find_placeholders(text: str) -> list[tuple[int, int, float]]:
    """Non-overlapping placeholder spans ``(start, end, confidence)`` in text order."""
    hits: list[tuple[int, int, float]] = []
    for pattern in PATTERNS:
        if pattern.cues and not any(cue in text for cue in pattern.cues):
            continue
        hits += [
            (m.start(), m.end(), pattern.confidence)
            for m in pattern.regex.finditer(text)
            if pattern.keep(m)
        ]
    hits.sort(key=lambda hit: (hit[0], -hit[1]))
    kept: list[tuple[int, int, float]] = []
    for hit in hits:
        if kept and hit[0] < kept[-1][1]:
            continue
        kept.append(hit)
    return kept


def check_placeholders(view: ReportView) -> list[Finding]:
    """Template placeholders anywhere in the text."""
    hits = find_placeholders(view.text)
    if not hits:
        return []
    main = FINDINGS_NAMES | IMPRESSION_NAMES
    sections = [view.section_at(start) for start, _, _ in hits]
    severity = Severity.MAJOR if any(name in main for name in sections) else Severity.MINOR
    evidence = [
        text_evidence(name, view.text, start, end)
        for (start, end, _), name in zip(hits, sections, strict=True)
    ][:_MAX_EVIDENCE]
    where = sorted({_PLACES.get(name or "", "report") for name in sections})
    count = f"{len(hits)} template placeholders" if len(hits) > 1 else "A template placeholder"
    message = (
        f"{count} left in the {' and '.join(where)}; complete or remove "
        f"{'them' if len(hits) > 1 else 'it'} before the report is final."
    )
    return [finding(CODE, severity, message, evidence, max(hit[2] for hit in hits))]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_placeholders,)
