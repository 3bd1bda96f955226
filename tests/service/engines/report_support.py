"""Helpers for the report-check tests: real reports as ReportInputs with exam and sex."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydicom.dataset import Dataset

from service.engines.base import Finding, ReportInput
from service.engines.rules._report import ReportView, report_view
from service.reports.sections import sections_dict
from tests.service.engines.support import iu_rows, iu_text, mtsamples_rows

CXR = "XR CHEST 2 VIEWS"


def report(
    text: str,
    *,
    sex: str | None = None,
    exam: str | None = CXR,
    exam_code: str | None = None,
    headers: tuple[Dataset, ...] = (),
) -> ReportInput:
    return ReportInput(
        item_id=1,
        report_id="r1",
        version=1,
        text=text,
        sections=sections_dict(text),
        patient_sex=sex,
        exam_code=exam_code,
        exam_display=exam,
        image_headers=headers,
    )


def run(
    check: Callable[[ReportView], list[Finding]], text: str, **context: object
) -> list[Finding]:
    return check(report_view(report(text, **context)))  # type: ignore[arg-type]


def iu_complete(data: Path) -> list[dict[str, str]]:
    """IU reports with both findings and impression."""
    return [r for r in iu_rows(data) if r["findings"].strip() and r["impression"].strip()]


def clean_views(data: Path, half: int | None = None) -> dict[str, list[ReportView]]:
    """Clean real reports as views: IU (chest X-ray exam) and MTSamples (exam = sample name)."""
    iu = iu_rows(data)
    mt = mtsamples_rows(data)
    if half is not None:
        iu, mt = iu[half::2], mt[half::2]
    return {
        "iu": [report_view(report(iu_text(r))) for r in iu],
        "mt": [report_view(report(r["transcription"], exam=r["sample_name"])) for r in mt],
    }


def quotes_match(text: str, findings: list[Finding]) -> None:
    for found in findings:
        assert found.engine == "rules"
        for evidence in found.evidence:
            if "start" not in evidence:
                continue
            assert 0 <= evidence["start"] <= evidence["end"] <= len(text)
            assert text[evidence["start"] : evidence["end"]] == evidence["quote"]
