"""The report checks the rules engine runs, in order."""

from __future__ import annotations

from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules import placeholders, report_structure, truncation
from service.engines.rules._report import ReportView

ReportCheck = Callable[[ReportView], list[Finding]]

REPORT_CHECKS: tuple[ReportCheck, ...] = (
    *report_structure.CHECKS,
    *truncation.CHECKS,
    *placeholders.CHECKS,
)
