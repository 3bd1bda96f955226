"""``report.omission``: the report is there, and has its FINDINGS and IMPRESSION (DESIGN §4).

Severities: no text at all is critical (there is no report); a missing or empty impression is
major, because the impression is what the referring clinician acts on; a missing findings
section is minor, because short radiograph reports often state everything in the impression
(12% of the Indiana University reports do) and an auditor may accept that.
"""

from __future__ import annotations

from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._findings import MAX_FINDINGS_PER_CHECK, finding, text_evidence
from service.engines.rules._report import ReportView
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.omission"


def check_empty_report(view: ReportView) -> list[Finding]:
    """A report without any text."""
    if view.text.strip():
        return []
    message = "The report has no text; the examination is unreported until the report is sent."
    evidence = [text_evidence(None, view.text, 0, len(view.text))]
    return [finding(CODE, Severity.CRITICAL, message, evidence, 0.99)]


def _end_evidence(view: ReportView) -> list[Evidence]:
    """Where a missing section would go: the end of the text, with the last section named."""
    end = len(view.text.rstrip())
    last = view.sections[-1].name if view.sections else None
    return [{**text_evidence(last, view.text, end, end), "missing": True}]


def check_required_sections(view: ReportView) -> list[Finding]:
    """FINDINGS and IMPRESSION (or CONCLUSION/OPINION) must both be present."""
    if not view.text.strip():
        return []
    has_findings = bool(view.named(FINDINGS_NAMES))
    has_impression = bool(view.named(IMPRESSION_NAMES))
    evidence = _end_evidence(view)
    if not has_findings and not has_impression:
        message = (
            "The report has neither a FINDINGS nor an IMPRESSION section; structure it with "
            "the findings and a conclusion."
        )
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.85)]
    if not has_impression:
        message = (
            "The report has no IMPRESSION (or CONCLUSION) section; add the conclusion the "
            "referring clinician will act on."
        )
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.9)]
    if not has_findings:
        message = (
            "The report has no FINDINGS section; describe what was seen, not only the conclusion."
        )
        return [finding(CODE, Severity.MINOR, message, evidence, 0.7)]
    return []


def check_empty_sections(view: ReportView) -> list[Finding]:
    """A FINDINGS or IMPRESSION heading with nothing under it: an unfinished template."""
    findings: list[Finding] = []
    for span in view.named(FINDINGS_NAMES | IMPRESSION_NAMES):
        if not span.empty:
            continue
        heading = span.heading.upper() or span.name.upper()
        impression = span.name in IMPRESSION_NAMES
        severity = Severity.MAJOR if impression else Severity.MINOR
        message = f"The {heading} section is empty; complete it before the report is final."
        found = view.text.rfind(span.heading, 0, span.start) if span.heading else -1
        heading_start = found if found >= 0 else span.start
        evidence = [text_evidence(span.name, view.text, heading_start, span.end)]
        findings.append(finding(CODE, severity, message, evidence, 0.95 if impression else 0.9))
    return findings[:MAX_FINDINGS_PER_CHECK]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_empty_report,
    check_required_sections,
    check_empty_sections,
)
