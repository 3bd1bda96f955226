"""The embedded rules engine: deterministic checks of DICOM headers, stored files and report text.

Each check module holds small functions that take one input and return findings, and a
``CHECKS`` tuple naming them; this package runs them in order. A new group of checks (pixel
metrics, laterality, sex) is a new module whose ``CHECKS`` are added to the tuples in
:mod:`.image_checks` (images and studies) or :mod:`.report_checks` (reports).

- images (``ImageInput``): :mod:`.header`, :mod:`.subject`, :mod:`.acquisition`,
  :mod:`.annotation` read the header only; :mod:`.stored_object` also reads the stored file;
  the pixel checks (:mod:`.photometric`, :mod:`.orientation`, :mod:`.exposure`,
  :mod:`.geometry`, :mod:`.artifacts`, :mod:`.positioning`) read the decoded image once
  (:mod:`.pixels`), a lung-field proxy measured on it (:mod:`.lungs`), the anatomy model's
  masks (:mod:`.anatomy`) and measures built on them (:mod:`.objects`: foreign bodies;
  :mod:`.text_lines`: burned-in text; :mod:`._morphology`: top-hat and connected pieces).
- reports (``ReportInput``, seen through :class:`._report.ReportView`): the modules listed in
  :mod:`.report_checks` (structure, truncation, placeholders, terminology, omission,
  inconsistency, laterality, sex, measurement, typo and homophones, exam mismatch and views,
  the headers of the same accession), reading the findings the text names through
  :mod:`._clinical` and the ordered exam through :mod:`._exam`.
- studies (``StudyInput``): :mod:`.study`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from service.engines.base import Finding, ImageInput, QCInput, ReportInput, StudyInput
from service.engines.rules._findings import ENGINE_NAME, RULES_VERSION
from service.engines.rules._report import report_view
from service.engines.rules.image_checks import (
    HEADER_CHECKS,
    IMAGE_CHECKS,
    STUDY_CHECKS,
    ImageCheck,
    StudyCheck,
)
from service.engines.rules.report_checks import REPORT_CHECKS, ReportCheck
from service.errors import EngineError
from service.taxonomy import Kind

log = logging.getLogger(__name__)
_T = TypeVar("_T")

__all__ = [
    "HEADER_CHECKS",
    "IMAGE_CHECKS",
    "REPORT_CHECKS",
    "RULES_VERSION",
    "STUDY_CHECKS",
    "RulesEngine",
    "StudyRulesEngine",
]


def _failed(check: Callable[..., object], what: str, exc: Exception) -> EngineError:
    name = getattr(check, "__name__", repr(check))
    log.exception("rules check %s failed on %s", name, what)
    return EngineError(f"rules check {name} failed: {type(exc).__name__}: {exc}")


class RulesEngine:
    """Runs the image checks on images and the report checks on reports."""

    name = ENGINE_NAME
    version = RULES_VERSION
    kinds: frozenset[Kind] = frozenset({"image", "report"})

    def __init__(
        self,
        image_checks: Sequence[ImageCheck] = IMAGE_CHECKS,
        report_checks: Sequence[ReportCheck] = REPORT_CHECKS,
    ) -> None:
        self.image_checks = tuple(image_checks)
        self.report_checks = tuple(report_checks)

    def review(self, item: QCInput) -> list[Finding]:
        if isinstance(item, ImageInput):
            return self._run(self.image_checks, item, f"image item {item.item_id}")
        if isinstance(item, ReportInput):
            return self._run(self.report_checks, report_view(item), f"report item {item.item_id}")
        raise EngineError(f"the rules engine cannot review {type(item).__name__}")

    @staticmethod
    def _run(
        checks: Sequence[Callable[[_T], list[Finding]]], subject: _T, what: str
    ) -> list[Finding]:
        findings: list[Finding] = []
        for check in checks:
            try:
                findings.extend(check(subject))
            except EngineError:
                raise
            except Exception as exc:
                raise _failed(check, what, exc) from exc
        return findings


class StudyRulesEngine:
    """Runs the study checks when a study is stable; findings carry scope ``study``."""

    name = ENGINE_NAME
    version = RULES_VERSION

    def __init__(self, checks: Sequence[StudyCheck] = STUDY_CHECKS) -> None:
        self.checks = tuple(checks)

    def review_study(self, study: StudyInput) -> dict[int, list[Finding]]:
        results: dict[int, list[Finding]] = {}
        for check in self.checks:
            try:
                per_item = check(study)
            except Exception as exc:
                raise _failed(check, f"study {study.study_instance_uid}", exc) from exc
            for item_id, findings in per_item.items():
                results.setdefault(item_id, []).extend(findings)
        return results
