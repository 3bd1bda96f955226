"""Report checks (report.omission, report.terminology) on real IU and MTSamples reports, clean and
with known errors inserted."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.engines.base import Finding, ReportInput
from service.engines.rules import RulesEngine, placeholders, report_structure, truncation
from service.engines.rules._report import ReportView, report_view
from service.taxonomy import Severity
from tests.service.engines.support import iu_rows, iu_text, mtsamples_rows, report_input

ENGINE = RulesEngine()


def _check(check: Callable[[ReportView], list[Finding]], text: str) -> list[Finding]:
    return check(report_view(report_input(text)))


@pytest.fixture(scope="module")
def iu_complete(shared_data: Path) -> list[dict[str, str]]:
    """IU reports that have both findings and impression."""
    return [r for r in iu_rows(shared_data) if r["findings"].strip() and r["impression"].strip()]


# -- omission: the report and its sections ----------------------------------------------------
def test_no_text_is_one_critical_omission() -> None:
    for text in ("", "   \n\t "):
        found = ENGINE.review(report_input(text))
        assert [(f.code, f.severity) for f in found] == [("report.omission", Severity.CRITICAL)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FINDINGS: Clear lungs.\nIMPRESSION: Normal.", []),
        ("FINDINGS: Clear lungs.\nCONCLUSION: Normal.", []),
        ("FINDINGS/IMPRESSION: Clear lungs, normal study.", []),
        ("FINDINGS: Clear lungs.", [Severity.MAJOR]),
        ("IMPRESSION: Normal chest.", [Severity.MINOR]),
        ("Heart size normal. Lungs clear.", [Severity.MAJOR]),
    ],
)
def test_required_sections(text: str, expected: list[Severity]) -> None:
    found = _check(report_structure.check_required_sections, text)
    assert [f.severity for f in found] == expected


def test_empty_sections() -> None:
    empty_impression = _check(
        report_structure.check_empty_sections, "FINDINGS: Clear lungs.\nIMPRESSION:"
    )
    assert [f.severity for f in empty_impression] == [Severity.MAJOR]
    assert empty_impression[0].evidence[0]["quote"] == "IMPRESSION:"
    empty_findings = _check(report_structure.check_empty_sections, "FINDINGS:\nIMPRESSION: Normal.")
    assert [f.severity for f in empty_findings] == [Severity.MINOR]


def test_iu_reports_with_both_sections_pass_the_structure_checks(
    iu_complete: list[dict[str, str]],
) -> None:
    for row in iu_complete:
        view = report_view(report_input(iu_text(row)))
        for check in report_structure.CHECKS:
            assert check(view) == [], row["uid"]


def test_iu_reports_without_findings_get_a_minor_omission(shared_data: Path) -> None:
    rows = [
        r for r in iu_rows(shared_data) if r["impression"].strip() and not r["findings"].strip()
    ]
    assert len(rows) > 100
    for row in rows:
        found = _check(report_structure.check_required_sections, iu_text(row))
        assert [f.severity for f in found] == [Severity.MINOR], row["uid"]


def test_dropping_the_impression_is_detected(iu_complete: list[dict[str, str]]) -> None:
    for row in iu_complete:
        text = iu_text({**row, "impression": ""})
        found = _check(report_structure.check_required_sections, text)
        assert [(f.code, f.severity) for f in found] == [("report.omission", Severity.MAJOR)]


# -- omission: cut off -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ending",
    [
        "Normal chest x-XXXX.",
        "No acute cardiopulmonary abnormality",  # IU: no final full stop, not cut off
        "Stable XXXX XXXX",
        "1. No pneumothorax.,2. Stable heart size.,",  # MTSamples line ends
        "No change (stable since XXXX).",
        "BIRADS Classification 2 - Benign",
    ],
)
def test_complete_endings_pass(ending: str) -> None:
    assert _check(truncation.check_truncation, f"FINDINGS: Clear.\nIMPRESSION: {ending}") == []


@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        ("Findings consistent with", "'with'"),
        ("Small effusion and", "'and'"),
        ("Opacity in the right lower lobe,", "a comma"),
        ("Cervix:", "a label"),
        ("Nodule (measuring 5 mm", "bracket"),
        ("Possible infiltrate...", "ellipsis"),
    ],
)
def test_cut_off_impressions_are_critical(ending: str, reason: str) -> None:
    found = _check(truncation.check_truncation, f"FINDINGS: Clear.\nIMPRESSION: {ending}")
    assert len(found) == 1
    assert reason in found[0].message
    assert found[0].severity == Severity.CRITICAL
    text = f"FINDINGS: Clear.\nIMPRESSION: {ending}"
    evidence = found[0].evidence[0]
    assert evidence["section"] == "impression"
    assert text[evidence["start"] : evidence["end"]] == evidence["quote"]
    assert evidence["quote"].endswith(ending[-10:])


def test_cut_off_findings_before_the_impression_is_major() -> None:
    found = _check(
        truncation.check_truncation, "FINDINGS: The lungs are clear and\nIMPRESSION: Normal."
    )
    assert [(f.severity, f.evidence[0]["section"]) for f in found] == [(Severity.MAJOR, "findings")]


def test_iu_false_cut_off_rate(iu_complete: list[dict[str, str]]) -> None:
    flagged = [r["uid"] for r in iu_complete if _check(truncation.check_truncation, iu_text(r))]
    assert len(flagged) / len(iu_complete) < 0.03, flagged[:10]


_CONNECTIVE_CUT = re.compile(r"\b(?:and|or|of|with|the|in|to|for|without|is|are)\b|,")


def test_reports_cut_after_a_connective_or_comma_are_detected(
    iu_complete: list[dict[str, str]],
) -> None:
    rng = random.Random(7)
    tried = detected = 0
    for row in iu_complete:
        text = iu_text(row)
        start = text.index("IMPRESSION: ")
        cuts = [m.end() for m in _CONNECTIVE_CUT.finditer(text, start)]
        if not cuts:
            continue
        tried += 1
        cut = text[: rng.choice(cuts)]
        found = _check(truncation.check_truncation, cut)
        detected += any(f.severity == Severity.CRITICAL for f in found)
    assert tried > 300
    assert detected / tried >= 0.98


def test_mtsamples_truncated_notes_are_exactly_the_cut_off_ones(shared_data: Path) -> None:
    flagged = {
        row["note_id"]
        for row in mtsamples_rows(shared_data)
        if _check(truncation.check_truncation, row["transcription"])
    }
    # 1491/1495 end "FL:", 1493 "Cervix:", 1523 "STRESS TECHNIQUE:,", 1677 "L4-5:"
    assert flagged == {"1491", "1493", "1495", "1523", "1677"}


# -- terminology: template placeholders ----------------------------------------------------------
@pytest.mark.parametrize(
    "placeholder",
    [
        "[***]",
        "***",
        "___",
        "[ ]",
        "[]",
        "[INSERT SIZE]",
        "[blank]",
        "[left/right]",
        "<<side>>",
        "<size>",
        "{{measurement}}",
        "{LOBE}",
        "?? ",
        "XXX",
        "XXXXX",
        "xxx",
        "X cm",
        "X.X x X.X cm",
        "###",
        "TBD",
    ],
)
def test_placeholders_are_found(placeholder: str) -> None:
    text = f"FINDINGS: Nodule in the {placeholder} lobe.\nIMPRESSION: Nodule."
    found = _check(placeholders.check_placeholders, text)
    assert [f.severity for f in found] == [Severity.MAJOR], placeholder
    evidence = found[0].evidence[0]
    assert evidence["quote"].strip() == placeholder.strip()
    assert text[evidence["start"] : evidence["end"]] == evidence["quote"]


@pytest.mark.parametrize(
    "text",
    [
        "There are no XXXX of a pleural effusion.",
        "Normal chest x-XXXX.",
        "XXXX, XXXX XXXX steps",
        "Dr. XXXX<XXXX>technologist",
        "XXXXXXXX",
        "XXXX/XXXX",
        "nodules concerning for<BR>metastatic",
        "size < 5 mm and > 2 mm",
        "pt with ? h/o COPD",
        "Dr. XYZ",
        "image #25",
        "a 2 x 3 cm mass",
        "**Note**",
        "T-spine",
        "[image 5]",
    ],
)
def test_not_placeholders(text: str) -> None:
    assert placeholders.find_placeholders(text) == []


def test_placeholders_outside_findings_and_impression_are_minor() -> None:
    text = "COMPARISON: Most recently obtained __________.\nFINDINGS: Clear.\nIMPRESSION: Normal."
    found = _check(placeholders.check_placeholders, text)
    assert [(f.severity, f.evidence[0]["section"]) for f in found] == [
        (Severity.MINOR, "comparison")
    ]


def test_iu_deidentification_tokens_are_never_flagged(shared_data: Path) -> None:
    rows = iu_rows(shared_data)
    assert sum(iu_text(r).count("XXXX") for r in rows) > 4000
    flagged = [r["uid"] for r in rows if _check(placeholders.check_placeholders, iu_text(r))]
    assert len(flagged) / len(rows) < 0.02, flagged[:10]
    for row in rows:
        quotes = [iu_text(row)[s:e] for s, e, _ in placeholders.find_placeholders(iu_text(row))]
        assert not any(re.fullmatch(r"(XXXX)+", q) for q in quotes), row["uid"]


@pytest.mark.parametrize("inserted", ["[***]", "___", "{{size}}", "<<laterality>>", "XXX"])
def test_inserted_placeholders_are_detected(
    iu_complete: list[dict[str, str]], inserted: str
) -> None:
    rng = random.Random(inserted)
    for row in rng.sample(iu_complete, 200):
        text = iu_text(row)
        spaces = [m.start() for m in re.finditer(" ", text)]
        at = rng.choice(spaces)
        edited = f"{text[:at]} {inserted}{text[at:]}"
        found = _check(placeholders.check_placeholders, edited)
        assert len(found) == 1, (row["uid"], edited)
        quotes = [e["quote"] for e in found[0].evidence]
        assert inserted in quotes, (row["uid"], quotes)


def test_mtsamples_placeholders_are_the_two_blank_lines(shared_data: Path) -> None:
    flagged = {
        row["note_id"]
        for row in mtsamples_rows(shared_data)
        if _check(placeholders.check_placeholders, row["transcription"])
    }
    assert flagged == {"1627", "1633"}  # "cholecystic _______", "obtained __________"


# -- the report as the pipeline hands it over ---------------------------------------------------
def test_sections_stored_in_another_form_are_recomputed() -> None:
    text = "FINDINGS: Clear lungs.\nIMPRESSION: Normal."
    stored: dict[str, Any]
    for stored in (
        {"sections": []},
        {"FINDINGS": "clear."},
        {"sections": [{"name": "x"}]},
        {"sections": [{"name": "findings", "heading": "", "start": 0, "end": 999}]},
    ):
        item = ReportInput(item_id=1, report_id="r", version=1, text=text, sections=stored)
        view = report_view(item)
        assert [s.name for s in view.sections] == ["findings", "impression"]
        assert ENGINE.review(item) == []


def test_engine_on_a_clean_and_a_broken_iu_report(iu_complete: list[dict[str, str]]) -> None:
    row = iu_complete[0]
    assert ENGINE.review(report_input(iu_text(row))) == []
    broken = iu_text({**row, "impression": "Stable [***] consistent with"})
    codes = sorted((f.code, f.severity) for f in ENGINE.review(report_input(broken)))
    assert codes == [("report.omission", Severity.CRITICAL), ("report.terminology", Severity.MAJOR)]
