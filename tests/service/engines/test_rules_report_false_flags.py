"""How often each report check fires on clean real reports (IU Open-i chest X-rays, MTSamples).

These reports carry no error labels, and some do contain real errors ("osseus", "Marrow
pneumothorax"), so the limits are rates, not zero. A check that fires on many clean reports is
worse than none: each limit below is what a QC lead can live with. The structure checks
(missing sections, truncation, placeholders) are bounded in test_rules_reports.py; MTSamples'
notes are longer and include non-radiology formats (obstetric tables), hence looser limits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.engines.base import Finding
from service.engines.rules import (
    cross_source,
    dictation,
    exam_mismatch,
    inconsistency,
    laterality,
    measurement,
    omission_findings,
    sex,
    terminology,
    typo,
)
from service.engines.rules._report import ReportView, report_view
from tests.service.engines.report_support import clean_views, quotes_match, report
from tests.service.engines.support import iu_rows, iu_text

CHECKS = {
    "inconsistency": inconsistency.CHECKS,
    "omission_findings": omission_findings.CHECKS,
    "laterality": laterality.CHECKS,
    "sex": sex.CHECKS,
    "measurement": measurement.CHECKS,
    "typo": typo.CHECKS,
    "exam_mismatch": exam_mismatch.CHECKS,
    "terminology": terminology.CHECKS,
    "cross_source": cross_source.CHECKS,
    "dictation": dictation.CHECKS,
}
# per check group: the largest share of clean reports it may flag
LIMITS = {
    # measured on all 1,979 IU reports: inconsistency 0.9%, omission 0.8%, laterality 0.15%,
    # typo 0.15% ("osseus", real), others 0
    "iu": {
        "inconsistency": 0.015,
        "omission_findings": 0.015,
        "laterality": 0.005,
        "sex": 0.0,
        "measurement": 0.005,
        "typo": 0.005,
        "exam_mismatch": 0.003,
        "terminology": 0.003,
        "cross_source": 0.0,
        # 7 of 1,979 (0.35%), all real: doubled words ("is is", "study study", "to to") and
        # "thoraco lumbar"
        "dictation": 0.005,
    },
    # 138 MTSamples notes (one note is 0.7%): typo 2.9% (newpaper, aneursym, qweek: real typos)
    "mt": {
        "inconsistency": 0.02,
        "omission_findings": 0.02,
        "laterality": 0.02,
        "sex": 0.0,
        "measurement": 0.02,
        "typo": 0.04,
        "exam_mismatch": 0.02,
        "terminology": 0.02,
        "cross_source": 0.0,
        "dictation": 0.02,
    },
}


@pytest.fixture(scope="module")
def views(shared_data: Path) -> dict[str, list[ReportView]]:
    return clean_views(shared_data)


def _rate(views: list[ReportView], checks: tuple[object, ...]) -> tuple[float, list[str]]:
    flagged: list[str] = []
    for view in views:
        found: list[Finding] = []
        for check in checks:
            found += check(view)  # type: ignore[operator]
        quotes_match(view.text, found)
        if found:
            flagged.append(found[0].message[:90])
    return len(flagged) / len(views), flagged


@pytest.mark.parametrize("collection", ["iu", "mt"])
@pytest.mark.parametrize("group", sorted(CHECKS))
def test_false_flag_rate(views: dict[str, list[ReportView]], collection: str, group: str) -> None:
    rate, flagged = _rate(views[collection], CHECKS[group])
    assert rate <= LIMITS[collection][group], (rate, flagged[:5])


def test_the_sex_check_runs_on_the_clean_reports_with_a_sex(shared_data: Path) -> None:
    """With the sex the text itself implies, no IU report is flagged; with the opposite, the
    reports that name sex-specific anatomy are (a check that never fires proves nothing)."""

    texts = [iu_text(r) for r in iu_rows(shared_data)]
    hysterectomy = [t for t in texts if "hysterectomy" in t.lower()]
    assert hysterectomy
    for text in hysterectomy:
        assert sex.check_sex_specific_terms(report_view(report(text, sex="female"))) == []
        assert sex.check_sex_specific_terms(report_view(report(text, sex="male")))
