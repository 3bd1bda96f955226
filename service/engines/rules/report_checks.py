"""The report checks the rules engine runs, in order."""

from __future__ import annotations

from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules import (
    cross_source,
    dictation,
    exam_mismatch,
    exam_views,
    inconsistency,
    laterality,
    measurement,
    omission_findings,
    placeholders,
    report_structure,
    sex,
    terminology,
    truncation,
    typo,
)
from service.engines.rules._report import ReportView

ReportCheck = Callable[[ReportView], list[Finding]]

REPORT_CHECKS: tuple[ReportCheck, ...] = (
    *report_structure.CHECKS,
    *truncation.CHECKS,
    *placeholders.CHECKS,
    *terminology.CHECKS,
    *omission_findings.CHECKS,
    *inconsistency.CHECKS,
    *laterality.CHECKS,
    *sex.CHECKS,
    *measurement.CHECKS,
    *typo.CHECKS,
    *dictation.CHECKS,
    *exam_mismatch.CHECKS,
    *exam_views.CHECKS,
    *cross_source.CHECKS,
)
