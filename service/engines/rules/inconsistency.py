"""``report.inconsistency``: findings and impression that contradict each other (DESIGN §4).

Signals: a finding affirmed in one section and only negated in the other ("small right
effusion" / "no effusion", "no consolidation" / "pneumonia"); a normal statement against the
finding in the other section ("heart size is normal" / "cardiomegaly", "the lungs are clear" /
"right lower lobe pneumonia"); and an impression of "no acute abnormality" or "normal chest" over an
acute finding affirmed in the findings. Old, chronic, stable or uncertain findings never count,
nor does a negation qualified as "no new" or "no acute" against an old finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._clinical import Mention, mentions
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.negation import Polarity
from service.taxonomy import Severity

CODE = "report.inconsistency"
_QUALIFIED = re.compile(
    r"\b(?:new|acute|additional|other|further|significant|large|displaced|residual|"
    r"definite|overt|frank|gross|recurrent|increas\w*|worsen\w*)\b",
    re.IGNORECASE,
)
_NORMAL = re.compile(
    r"\b(?:no acute (?:cardiopulmonary |cardiac or pulmonary |pulmonary |intrathoracic |chest |"
    r"radiographic |osseous )?(?:abnormalit(?:y|ies)|disease|process|findings?|pathology)|"
    r"normal (?:chest|study|examination|exam|radiograph)|negative (?:chest|study|examination)|"
    r"no (?:radiographic )?evidence of (?:acute )?(?:cardiopulmonary )?disease)\b",
    re.IGNORECASE,
)
# acute findings an impression of "no acute abnormality" cannot stand beside
_ACUTE_FOR_NORMAL = frozenset(
    {
        "pneumothorax",
        "consolidation",
        "pneumonia",
        "pulmonary edema",
        "fracture",
        "pneumoperitoneum",
    }
)


# findings that stand for one another: "no consolidation" denies "pneumonia"
_GROUPS = {
    "consolidation": "airspace disease",
    "pneumonia": "airspace disease",
    "infiltrate": "airspace disease",
}
_NORMAL_STATEMENTS = {
    "cardiomegaly": re.compile(
        r"\b(?:heart size (?:is )?(?:normal|within normal limits)|normal heart size|"
        r"heart is normal in size|(?:heart|cardiac silhouette|cardiac size) (?:is |are )?"
        r"(?:normal|within normal limits|not enlarged)|normal (?:cardiac|cardiomediastinal) "
        r"silhouette|normal-sized heart)\b",
        re.IGNORECASE,
    ),
    "airspace disease": re.compile(
        r"\b(?:(?:the )?lungs (?:are|remain) clear|clear lungs)\b(?![^.]{0,40}\bexcept)",
        re.IGNORECASE,
    ),
}


def _sides_compatible(a: Mention, b: Mention) -> bool:
    return a.side is None or b.side is None or a.side == b.side or "bilateral" in (a.side, b.side)


def _evidence(view: ReportView, *spans: Mention) -> list[Evidence]:
    """The sentences the mentions are in."""
    return [text_evidence(m.section, view.text, m.sentence_start, m.sentence_end) for m in spans]


def _contradiction(affirmed: list[Mention], other: list[Mention]) -> Mention | None:
    """A negation in ``other`` of what ``affirmed`` states, when ``other`` never affirms it."""
    if any(m.polarity is not Polarity.NEGATED for m in other):
        return None
    for negated in other:
        for stated in affirmed:
            if _sides_compatible(stated, negated):
                return negated
    return None


def _subject(section: str, verb: str = "reports") -> str:
    """'The findings report' / 'The impression reports'."""
    if section in ("findings", "findings_impression"):
        plural = {"reports": "report", "says": "say", "denies": "deny"}[verb]
        return f"The findings {plural}"
    return f"The {section.replace('_', ' ')} {verb}"


def _group(name: str) -> str:
    return _GROUPS.get(name, name)


def check_contradictions(view: ReportView) -> list[Finding]:
    """A finding affirmed in one section and negated in the other."""
    in_findings, in_impression = mentions(view)
    results: list[Finding] = []
    for concept in sorted({_group(m.concept.name) for m in in_findings + in_impression}):
        found = [m for m in in_findings if _group(m.concept.name) == concept]
        said = [m for m in in_impression if _group(m.concept.name) == concept]
        for affirmed_side, other_side in ((found, said), (said, found)):
            affirmed = [m for m in affirmed_side if m.polarity is Polarity.AFFIRMED and not m.old]
            if not affirmed or not other_side:
                continue
            negated = _contradiction(affirmed, other_side)
            if negated is None or _QUALIFIED.search(
                view.text[negated.sentence_start : negated.end]
            ):
                continue
            message = (
                f"{_subject(affirmed[0].section)} {affirmed[0].concept.name} but "
                f"{_subject(negated.section, 'denies').lower()} it; reconcile the two sections."
            )
            evidence = _evidence(view, affirmed[0], negated)
            results.append(finding(CODE, Severity.MAJOR, message, evidence, 0.8))
            break
    return results[:3]


def check_normal_statement(view: ReportView) -> list[Finding]:
    """ "Heart size is normal" in one section and cardiomegaly in the other; "the lungs are
    clear" in the findings and pneumonia or consolidation in the impression."""
    in_findings, in_impression = mentions(view)
    sections = {
        "findings": view.named({"findings"}),
        "impression": view.named({"impression"}),
    }
    for concept, regex in _NORMAL_STATEMENTS.items():
        for stated_in, normal_in in (("impression", "findings"), ("findings", "impression")):
            if concept == "airspace disease" and stated_in == "findings":
                continue  # "lungs are clear" in an impression may mean "no new disease"
            stated = [
                m
                for m in (in_impression if stated_in == "impression" else in_findings)
                if _group(m.concept.name) == concept and m.polarity is Polarity.AFFIRMED
            ]
            other = in_findings if normal_in == "findings" else in_impression
            if not stated or any(
                _group(m.concept.name) == concept and m.polarity is Polarity.AFFIRMED for m in other
            ):
                continue
            for span in sections[normal_in]:
                normal = regex.search(view.text, span.start, span.end)
                if normal is None:
                    continue
                message = (
                    f"{_subject(normal_in, 'says')} '{normal.group(0)}' but "
                    f"{_subject(stated_in).lower()} {stated[0].concept.name}; reconcile the two "
                    "sections."
                )
                evidence = [
                    *_evidence(view, stated[0]),
                    text_evidence(span.name, view.text, normal.start(), normal.end()),
                ]
                return [finding(CODE, Severity.MAJOR, message, evidence, 0.75)]
    return []


def check_normal_impression(view: ReportView) -> list[Finding]:
    """An impression of "no acute abnormality" over an acute finding in the findings."""
    in_findings, in_impression = mentions(view)
    impression_text = [(s.start, s.end, s.name) for s in view.sections if s.name == "impression"]
    for start, end, name in impression_text:
        normal = _NORMAL.search(view.text, start, end)
        if normal is None:
            continue
        if any(m.polarity is Polarity.AFFIRMED for m in in_impression):
            return []  # the impression names a finding itself: "no acute" qualifies the rest
        for stated in in_findings:
            if (
                stated.concept.name in _ACUTE_FOR_NORMAL
                and stated.polarity is Polarity.AFFIRMED
                and not stated.old
            ):
                message = (
                    f"The impression says '{normal.group(0)}' but the findings report "
                    f"{stated.concept.name}; correct the impression."
                )
                evidence = [
                    *_evidence(view, stated),
                    text_evidence(name, view.text, normal.start(), normal.end()),
                ]
                return [finding(CODE, Severity.CRITICAL, message, evidence, 0.85)]
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_contradictions,
    check_normal_statement,
    check_normal_impression,
)
