"""The report checks one by one: real reports that pass, the same reports with an error inserted,
and the evidence and severity each finding carries."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from service.engines.rules import (
    cross_source,
    exam_mismatch,
    inconsistency,
    laterality,
    measurement,
    omission_findings,
    sex,
    terminology,
    typo,
)
from service.engines.rules._report import report_view
from service.engines.rules.negation import Polarity, polarity
from service.taxonomy import Severity
from tests.service.engines.report_support import iu_complete, quotes_match, report, run
from tests.service.engines.support import iu_text

NORMAL = (
    "FINDINGS: The cardiac silhouette and mediastinum size are within normal limits. There is no "
    "pulmonary edema. There is no focal consolidation. There are no XXXX of a pleural effusion. "
    "There is no evidence of pneumothorax.\nIMPRESSION: Normal chest x-XXXX."
)


@pytest.fixture(scope="module")
def iu(shared_data: Path) -> list[dict[str, str]]:
    return iu_complete(shared_data)[:300]


# -- negation -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "term", "expected"),
    [
        (
            "No pneumonia, effusions, edema, pneumothorax, adenopathy, nodules or masses.",
            "masses",
            Polarity.NEGATED,
        ),
        (
            "The lungs are clear of focal airspace disease, pneumothorax, or pleural effusion.",
            "pneumothorax",
            Polarity.NEGATED,
        ),
        ("Small right pleural effusion.", "effusion", Polarity.AFFIRMED),
        ("The pneumothorax has resolved.", "pneumothorax", Polarity.NEGATED),
        ("Possible early pneumonia.", "pneumonia", Polarity.UNCERTAIN),
        (
            "No effusion but there is a right apical pneumothorax.",
            "pneumothorax",
            Polarity.AFFIRMED,
        ),
        ("Pneumonia cannot be excluded.", "Pneumonia", Polarity.UNCERTAIN),
    ],
)
def test_polarity(sentence: str, term: str, expected: Polarity) -> None:
    start = sentence.index(term)
    assert polarity(sentence, start, start + len(term)) is expected


# -- inconsistency --------------------------------------------------------------------------------
def test_normal_impression_over_an_acute_finding(iu: list[dict[str, str]]) -> None:
    normal = {**iu[0], "impression": "No acute cardiopulmonary abnormality."}
    rows = [
        r
        for r in iu[:120]
        if not run(
            inconsistency.check_normal_impression,
            iu_text({**r, "impression": normal["impression"]}),
        )
    ]
    assert len(rows) > 100
    for row in rows:
        findings = row["findings"] + " There is a large right pneumothorax."
        text = iu_text(
            {**row, "findings": findings, "impression": "No acute cardiopulmonary abnormality."}
        )
        found = run(inconsistency.check_normal_impression, text)
        assert [(f.code, f.severity) for f in found] == [
            ("report.inconsistency", Severity.CRITICAL)
        ], row["uid"]
        quotes_match(text, found)
        assert "pneumothorax" in found[0].evidence[0]["quote"]


def test_finding_denied_in_the_impression() -> None:
    text = NORMAL.replace("IMPRESSION: Normal chest x-XXXX.", "IMPRESSION: No pneumothorax.")
    text = text.replace("There is no evidence of pneumothorax.", "Small left pneumothorax.")
    found = run(inconsistency.check_contradictions, text)
    assert [f.code for f in found] == ["report.inconsistency"]
    quotes_match(text, found)


def test_old_findings_and_qualified_negations_are_consistent() -> None:
    text = (
        "FINDINGS: Old healed left rib fracture. Stable small left effusion.\n"
        "IMPRESSION: No acute fracture. No new effusion."
    )
    assert run(inconsistency.check_contradictions, text) == []
    assert run(inconsistency.check_normal_impression, text) == []


# -- omission of a significant finding ------------------------------------------------------------
def test_mass_missing_from_the_impression(iu: list[dict[str, str]]) -> None:
    row = iu[0]
    text = iu_text({**row, "findings": row["findings"] + " There is a 3 cm right upper lobe mass."})
    found = run(omission_findings.check_missing_from_impression, text)
    assert [(f.code, f.severity) for f in found] == [("report.omission", Severity.MAJOR)]
    assert found[0].evidence[1]["missing"] is True
    summarised = iu_text(
        {
            **row,
            "findings": row["findings"] + " Right upper lobe mass.",
            "impression": "Right upper lobe mass; CT recommended.",
        }
    )
    assert run(omission_findings.check_missing_from_impression, summarised) == []


def test_joint_effusions_are_not_pleural() -> None:
    text = "FINDINGS: Small suprapatellar joint effusion.\nIMPRESSION: Meniscal tear."
    assert run(omission_findings.check_missing_from_impression, text) == []


# -- laterality -----------------------------------------------------------------------------------
def test_side_differs_between_sections() -> None:
    text = (
        "FINDINGS: Heart size normal. There is a small right pleural effusion.\n"
        "IMPRESSION: Small left pleural effusion."
    )
    found = run(laterality.check_between_sections, text)
    assert [(f.code, f.severity) for f in found] == [("report.laterality", Severity.CRITICAL)]
    quotes_match(text, found)
    both = text.replace("IMPRESSION: Small left", "IMPRESSION: Small right and left")
    assert run(laterality.check_between_sections, both) == []


def test_location_swapped_in_the_impression() -> None:
    text = (
        "FINDINGS: Right lower lobe patchy opacities noted. No pleural effusions.\n"
        "IMPRESSION: Patchy left lower lobe opacities, infectious infiltrate."
    )
    assert [f.code for f in run(laterality.check_location_sides, text)] == ["report.laterality"]


@pytest.mark.parametrize("phrase", ["left middle lobe", "right lingula"])
def test_impossible_lobes(phrase: str) -> None:
    found = run(
        laterality.check_impossible_sides,
        f"FINDINGS: Opacity in the {phrase}.\nIMPRESSION: Atelectasis.",
    )
    assert found and found[0].evidence[0]["quote"].lower() == phrase


def test_side_against_the_exam_and_the_image() -> None:
    text = "FINDINGS: Fracture of the distal right radius.\nIMPRESSION: Right radius fracture."
    assert run(laterality.check_against_exam, text, exam="XR WRIST LEFT 3 VIEWS")
    assert run(laterality.check_against_exam, text, exam="XR WRIST RIGHT 3 VIEWS") == []
    header = Dataset()
    header.ImageLaterality = "L"
    found = run(laterality.check_against_exam, text, exam="XR WRIST", headers=(header,))
    assert found and found[0].evidence[1]["keyword"] == "ImageLaterality"


# -- sex ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inserted", "patient"),
    [
        ("Status post hysterectomy.", "male"),
        ("65-year-old woman with cough.", "male"),
        ("History of prostate cancer.", "female"),
        ("54-year-old male with fever.", "female"),
    ],
)
def test_sex_specific_wording(inserted: str, patient: str) -> None:
    text = f"INDICATION: {inserted}\n{NORMAL}"
    found = run(sex.check_sex_specific_terms, text, sex=patient)
    assert [(f.code, f.severity) for f in found] == [("report.sex", Severity.MAJOR)]
    quotes_match(text, found)
    other = "female" if patient == "male" else "male"
    assert run(sex.check_sex_specific_terms, text, sex=other) == []
    assert run(sex.check_sex_specific_terms, text, sex="unknown") == []


def test_sex_from_the_image_header_when_the_patient_has_none() -> None:
    header = Dataset()
    header.PatientSex = "M"
    text = f"INDICATION: Status post hysterectomy.\n{NORMAL}"
    found = run(sex.check_sex_specific_terms, text, headers=(header,))
    assert found and found[0].evidence[-1]["keyword"] == "PatientSex"


# -- measurement ----------------------------------------------------------------------------------
def test_mm_cm_confusion_between_sections() -> None:
    text = (
        "FINDINGS: There is a 6 mm nodule in the right upper lobe.\n"
        "IMPRESSION: 6 cm right upper lobe nodule."
    )
    found = run(measurement.check_between_sections, text)
    assert found and "mm/cm" in found[0].message
    quotes_match(text, found)
    same = text.replace("6 cm", "0.6 cm")
    assert run(measurement.check_between_sections, same) == []


@pytest.mark.parametrize(
    "sentence", ["There is a 95 cm mass.", "A 12 cm nodule.", "The nodule measures 0.1 mm."]
)
def test_implausible_sizes(sentence: str) -> None:
    found = run(measurement.check_implausible, f"FINDINGS: {sentence}\nIMPRESSION: Nodule.")
    assert [f.code for f in found] == ["report.measurement"]


def test_ordinary_sizes_pass() -> None:
    text = "FINDINGS: A 2.5 x 1.8 cm mass and a 4-mm nodule.\nIMPRESSION: 2.5 cm mass."
    assert run(measurement.check_implausible, text) == []
    assert run(measurement.check_between_sections, text) == []


# -- typo -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("pnuemothorax", "pneumothorax"),
        ("effsion", "effusion"),
        ("silhoette", "silhouette"),
        ("thhorax", "thorax"),
        ("consoldation", "consolidation"),
    ],
)
def test_misspellings(wrong: str, right: str) -> None:
    text = NORMAL.replace("There is no focal", f"There is no {wrong} or focal")
    found = run(typo.check_spelling, text)
    assert found and found[0].evidence[0]["suggestion"] == right
    assert found[0].evidence[0]["quote"] == wrong


@pytest.mark.parametrize(
    "text",
    [
        "No plural effusion.",
        "A discreet nodule.",
        "Clear long fields.",
        "Fracture of the left ileum near the iliac crest.",
        "Hearth size is normal.",
    ],
)
def test_homophones(text: str) -> None:
    found = run(typo.check_homophones, f"FINDINGS: {text}\nIMPRESSION: Normal.")
    assert [(f.code, f.severity) for f in found] == [("report.typo", Severity.MAJOR)]


def test_names_abbreviations_and_deid_tokens_are_not_typos() -> None:
    text = (
        "FINDINGS: Dr. Smithee reviewed. XXXX XXXX opacities. COPD. Coumadin given. "
        "Status post CABG. x-XXXX.\nIMPRESSION: Normal heart size."
    )
    assert run(typo.check_spelling, text) == []


# -- exam mismatch --------------------------------------------------------------------------------
@pytest.mark.parametrize("exam", ["CT HEAD WO CONTRAST", "MRI BRAIN", "XR KNEE 3 VIEWS RIGHT"])
def test_chest_report_under_another_exam(iu: list[dict[str, str]], exam: str) -> None:
    text = iu_text(iu[0])
    found = run(exam_mismatch.check_region, text, exam=exam)
    assert [f.code for f in found] == ["report.exam_mismatch"]
    assert run(exam_mismatch.check_region, text) == []


def test_technique_and_contrast_against_the_exam() -> None:
    text = f"Axial CT images of the chest were obtained.\n{NORMAL}"
    assert run(exam_mismatch.check_modality, text)
    assert run(exam_mismatch.check_modality, text, exam="CT CHEST") == []
    given = (
        f"TECHNIQUE: Following administration of intravenous contrast, images obtained.\n{NORMAL}"
    )
    assert run(exam_mismatch.check_contrast, given, exam="CT HEAD WO CONTRAST")
    assert run(exam_mismatch.check_contrast, given, exam="CT CHEST W CONTRAST") == []
    recommended = NORMAL.replace("Normal chest x-XXXX.", "CT chest with contrast is recommended.")
    assert run(exam_mismatch.check_modality, recommended) == []
    assert run(exam_mismatch.check_contrast, recommended) == []


def test_view_against_the_image_header() -> None:
    header = Dataset()
    header.ViewPosition = "AP"
    text = f"EXAM: PA and lateral views of the chest.\n{NORMAL}"
    found = run(cross_source.check_view, text, headers=(header,))
    assert found and found[0].evidence[1]["keyword"] == "ViewPosition"
    header.ViewPosition = "PA"
    assert run(cross_source.check_view, text, headers=(header,)) == []


# -- terminology ----------------------------------------------------------------------------------
def test_discouraged_abbreviations_in_findings_only() -> None:
    found = run(
        terminology.CHECKS[0], "INDICATION: r/o pneumonia\nFINDINGS: Heart WNL.\nIMPRESSION: NAD."
    )
    assert [f.code for f in found] == ["report.terminology"]
    assert [e["quote"] for e in found[0].evidence] == ["WNL", "NAD"]
    custom = terminology.make_abbreviation_check({"CXR": "chest radiograph"})
    assert custom(report_view(report("FINDINGS: CXR clear.\nIMPRESSION: WNL."))) != []
    assert terminology.make_abbreviation_check({})(report_view(report(NORMAL))) == []


@pytest.mark.parametrize(
    ("findings", "impression"),
    [
        ("Heart size is normal.", "Cardiomegaly."),
        ("The heart is enlarged.", "Normal heart size."),
        ("The lungs are clear.", "Right lower lobe pneumonia."),
        ("There is no focal consolidation.", "Right lower lobe pneumonia."),
    ],
)
def test_normal_statement_against_a_finding(findings: str, impression: str) -> None:
    text = f"FINDINGS: {findings} No pneumothorax.\nIMPRESSION: {impression}"
    found = [f for check in inconsistency.CHECKS for f in run(check, text)]
    assert [f.code for f in found] == ["report.inconsistency"]
    quotes_match(text, found)
    agreed = f"FINDINGS: {findings}\nIMPRESSION: {findings}"
    assert [f for check in inconsistency.CHECKS for f in run(check, agreed)] == []


def test_pronouns_of_the_other_sex_only_when_none_of_the_patients() -> None:
    text = f"INDICATION: Cough; she reports fever.\n{NORMAL}"
    found = run(sex.check_sex_specific_terms, text, sex="male")
    assert found and found[0].confidence < 0.7
    mixed = f"INDICATION: He reports cough since his wife had a cold; she is well.\n{NORMAL}"
    assert run(sex.check_sex_specific_terms, mixed, sex="male") == []
