"""``report.omission``: a report, or its findings or impression, cut off mid-sentence.

Only endings that a finished sentence cannot have are signals: a trailing connective
("consistent with", "and"), a trailing comma or hyphen, a label with no value ("FL:"), an
unclosed bracket, an ellipsis. A missing final full stop is *not* a signal: 7% of the Indiana
University impressions end without one, and their ``XXXX`` de-identification tokens are words
like any other. MTSamples' ``".,"`` line ends are normal punctuation.

A cut-off impression is critical (the conclusion may be lost); elsewhere it is major.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._findings import MAX_FINDINGS_PER_CHECK, finding, text_evidence, words
from service.engines.rules._report import ReportView, Span
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.omission"
_QUOTE = 60
# Words a finished sentence does not end with.
CONNECTIVES = words(
    """and or but nor of the a an with without to in on at by for from into onto than that which
    who whose whom is are was were be been being has have had as if not including include
    includes involving measuring measures versus vs via per within between over under upon about
    along across through both either neither also whether because although while where when
    """
)
_DANGLING = {
    ",": "a comma",
    ";": "a semicolon",
    "-": "a hyphen",
    "/": "a slash",
    "&": "'&'",
    "+": "'+'",
    "=": "'='",
    "(": "an opening bracket",
    "[": "an opening bracket",
}
_WHAT = {
    "findings": "findings section",
    "findings_impression": "findings and impression",
    "body": "report",
    "preamble": "report",
}
# a sentence end; "1." of a numbered list is not one
_SENTENCE_END = re.compile(r"(?<!\b\d)[.!?](?=\s|$)")
_LAST_WORD = re.compile(r"([A-Za-z]+)$")
_SENTENCE_MARKS = tuple(".!?:;)]")


def cut_off_reason(tail: str) -> tuple[str, float] | None:
    """Why ``tail`` (the end of a section) looks cut off, and how sure that is; None if not."""
    tail = tail.rstrip()
    if tail.endswith(",") and tail[:-1].rstrip()[-1:] in _SENTENCE_MARKS:
        tail = tail[:-1].rstrip()  # MTSamples ends every line with ".,"
    if not tail:
        return None
    if tail.endswith(("...", "\u2026")):
        return "it ends with an ellipsis", 0.75
    if tail.endswith(":"):
        return "it ends with a label and no text after it", 0.8
    if tail[-1] in _DANGLING:
        return f"it ends with {_DANGLING[tail[-1]]}", 0.85
    last = _LAST_WORD.search(tail[-64:])
    if tail[-1].isalpha() and last and last.group(1).lower() in CONNECTIVES:
        return f"it ends with '{last.group(1)}'", 0.85
    sentences = _SENTENCE_END.split(tail)
    final = sentences[-1] if sentences else tail
    if final.count("(") > final.count(")") or final.count("[") > final.count("]"):
        return "a bracket is opened and never closed", 0.8
    return None


def _spans_to_check(view: ReportView) -> list[Span]:
    """The findings and impression sections, and whatever section ends the text."""
    spans = view.named(FINDINGS_NAMES | IMPRESSION_NAMES)
    if view.sections and view.sections[-1] not in spans:
        spans.append(view.sections[-1])
    return [span for span in spans if not span.empty]


def _tail_end(view: ReportView, span: Span) -> int:
    """Where the section's text ends, counting the trailing comma the section parser strips
    when it ends a line or the text (a comma directly before the next heading is MTSamples'
    line separator)."""
    comma = re.match(r"[ \t]*,(?=\s|$)", view.text[span.end :])
    return span.end + comma.end() if comma else span.end


def check_truncation(view: ReportView) -> list[Finding]:
    """The end of each checked section must be the end of a sentence."""
    findings: list[Finding] = []
    for span in _spans_to_check(view):
        end = _tail_end(view, span)
        found = cut_off_reason(view.text[span.start : end])
        if found is None:
            continue
        reason, confidence = found
        impression = span.name in IMPRESSION_NAMES
        what = _WHAT.get(span.name, "impression" if impression else f"{span.name} section")
        severity = Severity.CRITICAL if impression else Severity.MAJOR
        message = f"The {what} appears cut off ({reason}); complete the report."
        evidence = [text_evidence(span.name, view.text, max(span.start, end - _QUOTE), end)]
        findings.append(finding(CODE, severity, message, evidence, confidence))
    return findings[:MAX_FINDINGS_PER_CHECK]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_truncation,)
