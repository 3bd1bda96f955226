"""``report.omission``: a report, or its findings or impression, cut off mid-sentence.

Only endings that a finished sentence cannot have are signals: a trailing connective
("consistent with", "and"), a trailing comma or hyphen, a label with no value ("FL:"), an
unclosed bracket, an ellipsis. A missing final full stop alone is *not* a signal: 7% of the
Indiana University impressions end without one ("No acute cardiopulmonary disease"), and their
``XXXX`` de-identification tokens are words like any other. It is one when the last word cannot
end a statement either: a determiner or hedge waiting for what follows ("No acute", "which
may", "7 mm"), or an adjective with no verb in its clause ("No acute cardiopulmonary"; "the
fracture is acute" is complete). MTSamples' ``".,"`` line ends are normal punctuation.

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
# Words that cannot end a statement without its punctuation: a determiner or a hedge waiting
# for its noun or clause ("No acute", "which may", "7 mm"), always; an adjective only when the
# last clause has no verb ("No acute cardiopulmonary" is cut off, "The fracture is acute" is not).
_HEADLESS = words(
    """no any evidence may might could would should can will represent represents representing
    suggest suggests suggesting suggestive concerning worrisome compatible consistent likely
    possibly probably secondary due related versus mm cm there these this"""
)
_ADJECTIVES = words(
    """acute active cardiopulmonary cardiac pulmonary intrathoracic radiographic preoperative
    focal definite significant airspace osseous bony visible obvious apparent suspicious mild
    mildly moderate moderately severe small large new left right bilateral upper lower mid
    subsegmental ectatic prominent minimal trace tiny patchy streaky hazy bibasilar low high
    indeterminate"""
)
# an adjective by its ending ("thoracic", "interstitial", "metastatic", "pulmonary"), when the
# word is long enough not to be a noun like "scar"; predicates that end statements are excluded
_ADJECTIVE_ENDING = re.compile(r"(?:ic|al|ary|ous|ive|ar|ate)$")
_PREDICATES = words(
    """normal abnormal clear stable unchanged negative positive intact unremarkable similar
    satisfactory appropriate adequate limited present seen noted identified visualized
    interval hospital removal arrival trial signal material total capillary boundary summary
    collateral vascular clinical medical surgical"""
)
_VERB = re.compile(
    r"\b(?:is|are|was|were|appears?|seems?|remains?|looks?|becomes?|measures?)\b", re.IGNORECASE
)
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
    return _headless(tail, final)


def _headless(tail: str, final: str) -> tuple[str, float] | None:
    """An unpunctuated end on a word that needs more after it."""
    if not tail[-1].isalnum() or last_word(tail) is None:
        return None
    word = last_word(tail) or ""
    if word in _HEADLESS:
        return f"it ends with '{word}' and no full stop", 0.75
    clause = re.split(r"[,;:]|\b(?:and|but|with|without)\b", final)[-1]
    adjective = word in _ADJECTIVES or (
        len(word) >= 6 and word not in _PREDICATES and _ADJECTIVE_ENDING.search(word) is not None
    )
    after_article = re.search(r"\b(?:a|an|the|of|no)\s+\w+$", clause, re.IGNORECASE) is not None
    if adjective and (after_article or not _VERB.search(clause)):
        return f"it ends with '{word}' and no full stop", 0.7
    if _modifiers_only(clause) or _lone_modifier(final):
        return f"it ends with '{word}' and no full stop", 0.7
    if re.match(r"\s*(?:\d+\.\s*)?if\b", final, re.IGNORECASE) and "," not in final:
        return "it ends inside an 'if' clause and no full stop", 0.7
    return None


def _adjective(word: str) -> bool:
    return word in _ADJECTIVES or (
        len(word) >= 6 and word not in _PREDICATES and _ADJECTIVE_ENDING.search(word) is not None
    )


def _modifiers_only(clause: str) -> bool:
    """The words after the clause's last determiner or preposition are all adjectives: the
    noun they describe is missing ("no evidence of acute cardiopulmonary")."""
    tokens = re.findall(r"[A-Za-z-]+", clause.lower())
    heads = [i for i, w in enumerate(tokens) if w in _DETERMINERS]
    if not heads:
        return False
    tail = tokens[heads[-1] + 1 :]
    return len(tail) >= 2 and all(_adjective(w) for w in tail)


_DETERMINERS = words("a an the of no for with without")
# past participles that can stand alone as a statement ("2. Improved")
_STATES = words(
    """improved resolved increased decreased worsened enlarged unchanged calcified noted seen
    stabilized expanded cleared removed repositioned healed progressed"""
)


def _lone_modifier(final: str) -> bool:
    """A last sentence of one word that only describes ("2. Associated", "1. Scattered")."""
    body = re.sub(r"^\s*(?:\d+[.)]\s*)?", "", final).strip()
    if not re.fullmatch(r"[A-Za-z]+", body):
        return False
    word = body.lower()
    if word in _PREDICATES or word in _STATES:
        return False
    return _adjective(word) or (len(word) >= 6 and word.endswith("ed"))


def last_word(text: str) -> str | None:
    m = _LAST_WORD.search(text[-64:])
    return m.group(1).lower() if m else None


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
