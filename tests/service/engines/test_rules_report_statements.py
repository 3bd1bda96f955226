"""Report checks for statements a radiologist would catch on reading: an impression that denies
what the findings hold (stable, or named as the likely explanation), a section that contradicts
itself, lobar collapse graded against minimal atelectasis, sides that anatomy binds within one
statement (an effusion and its costophrenic angle, an opacity and the border it silhouettes, a
port and its access vein, a rib and the hemithorax it projects over), the minor fissure on the
left, a rib series whose marker is on the other side, sections cut off after an adjective, and
misspellings of long or suffixed words. Each test also checks what must stay silent."""

from __future__ import annotations

import pytest

from service.engines.rules import (
    exam_mismatch,
    inconsistency,
    laterality,
    measurement,
    omission_findings,
    truncation,
    typo,
)
from service.engines.rules.negation import Polarity, polarity
from tests.service.engines.report_support import quotes_match, run

FINDINGS = (
    "FINDINGS: The cardiomediastinal silhouette is within normal limits. {finding} No "
    "pneumothorax. No acute bony abnormality.\nIMPRESSION: {impression}"
)


def _text(finding: str, impression: str) -> str:
    return FINDINGS.format(finding=finding, impression=impression)


def _codes(check: object, text: str, **context: object) -> list[str]:
    found = run(check, text, **context)  # type: ignore[arg-type]
    quotes_match(text, found)
    return [f.code for f in found]


# -- the impression denies what the findings hold --------------------------------------------------
@pytest.mark.parametrize(
    ("finding", "impression"),
    [
        ("Platelike opacity in the left mid lung, most likely atelectasis.", "No atelectasis."),
        (
            "Platelike opacity in the right mid lung, most likely atelectasis.",
            "Lungs are well expanded without atelectasis.",
        ),
        ("Stable mild cardiomegaly.", "1. No cardiomegaly. 2. No active disease."),
        (
            "Interval increased interstitial opacities, with probable left lower lobe infiltrate.",
            "No focal airspace disease.",
        ),
    ],
)
def test_impression_denies_a_stable_or_probable_finding(finding: str, impression: str) -> None:
    check = inconsistency.check_contradictions
    assert _codes(check, _text(finding, "No acute disease.")) == []
    assert _codes(check, _text(finding, impression)) == ["report.inconsistency"]


@pytest.mark.parametrize(
    ("finding", "impression"),
    [
        # open hedges leave the finding open
        ("Opacity at the right base may represent atelectasis versus scarring.", "No atelectasis."),
        ("Right basilar opacity, possibly atelectasis.", "No atelectasis."),
        # an old fracture is no answer to "no fracture" (the impression means a new one)
        ("Healed left rib fracture.", "No fracture."),
        # a qualified denial: "no new" atelectasis beside a stable one
        ("Stable left basilar atelectasis.", "No new atelectasis."),
        # "no focal" beside a diffuse, bibasilar process
        ("Streaky bibasilar opacities, likely atelectasis.", "No focal airspace disease."),
    ],
)
def test_hedged_old_or_qualified_statements_are_no_contradiction(
    finding: str, impression: str
) -> None:
    assert _codes(inconsistency.check_contradictions, _text(finding, impression)) == []


def test_a_denial_of_one_kind_of_finding_is_no_denial_of_another() -> None:
    text = (
        "FINDINGS: There is a rounded opacity in the right lower zone measuring 2.0 cm. No "
        "airspace disease, effusion or cavitary nodule.\nIMPRESSION: 2 cm noncalcified nodule in "
        "the right lower lobe."
    )
    assert _codes(inconsistency.check_contradictions, text) == []
    plain = text.replace("cavitary nodule", "nodule")
    assert _codes(inconsistency.check_contradictions, plain) == ["report.inconsistency"]


# -- a section that contradicts itself -------------------------------------------------------------
@pytest.mark.parametrize(
    "impression",
    [
        "Right lower lobe infiltrate. No focal airspace disease.",
        "Patchy right lower lobe airspace disease. Lungs are clear.",
        "1. No effusion. 2. Small left pleural effusion appears unchanged.",
    ],
)
def test_impression_contradicts_itself(impression: str) -> None:
    finding = "There is an infiltrate in the right lower lobe. Small left pleural effusion."
    check = inconsistency.check_within_findings
    assert _codes(check, _text(finding, "Right lower lobe infiltrate.")) == []
    assert _codes(check, _text(finding, impression)) == ["report.inconsistency"]


@pytest.mark.parametrize(
    "finding",
    [
        "There is an infiltrate in the right lower lobe. Lungs are clear.",
        "No focal airspace disease. Patchy airspace disease is present in the right middle lobe.",
    ],
)
def test_findings_contradict_themselves(finding: str) -> None:
    text = _text(finding, "Right lung pneumonia.")
    assert _codes(inconsistency.check_within_findings, text) == ["report.inconsistency"]


@pytest.mark.parametrize(
    "finding",
    [
        "There is an infiltrate in the right lower lobe. The lungs are otherwise clear.",
        "There is an infiltrate in the right lower lobe. Remainder of the lungs are clear.",
        "No focal airspace disease. Streaky bibasilar airspace opacities.",
    ],
)
def test_the_rest_of_the_lungs_and_diffuse_processes_pass(finding: str) -> None:
    text = _text(finding, "Right lung pneumonia.")
    assert _codes(inconsistency.check_within_findings, text) == []


def test_an_opacity_put_down_to_soft_tissue_is_a_pseudo_finding() -> None:
    sentence = "Left basilar airspace opacity XXXX secondary to epicardial fat and soft tissues."
    at = sentence.index("airspace opacity")
    assert polarity(sentence, at, at + len("airspace opacity")) is Polarity.NEGATED
    plain = "Left basilar airspace opacity secondary to aspiration."
    assert polarity(plain, at, at + len("airspace opacity")) is Polarity.AFFIRMED
    text = _text(sentence, "Stable cardiomegaly. Clear lungs.")
    assert _codes(inconsistency.check_normal_statement, text) == []


# -- grades: lobar collapse is atelectasis ---------------------------------------------------------
def test_lobar_collapse_graded_against_minimal_atelectasis() -> None:
    text = _text("Minimal right basilar atelectasis.", "Extensive right lower lobe collapse.")
    assert _codes(inconsistency.check_severity, text) == ["report.inconsistency"]
    same = _text("Moderate right basilar atelectasis.", "Right lower lobe collapse.")
    assert _codes(inconsistency.check_severity, same) == []


# -- widened mediastinum: a significant sign, not an acute finding ---------------------------------
def test_widened_mediastinum_missing_from_a_normal_impression_is_an_omission() -> None:
    finding = "Widened mediastinum measuring 9 cm at the level of the aortic arch."
    text = _text(finding, "No acute cardiopulmonary disease.")
    assert _codes(inconsistency.check_normal_impression, text) == []
    assert _codes(omission_findings.check_missing_from_impression, text) == ["report.omission"]
    named = _text(finding, "Widened mediastinum; CT angiography is advised.")
    assert _codes(omission_findings.check_missing_from_impression, named) == []


# -- sides -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        ("Minimal fluid in the right minor fissure.", "Minimal fluid in the left minor fissure."),
        (
            "Discoid atelectasis in the lingula of the left lung.",
            "Discoid atelectasis in the lingula of the right lung.",
        ),
        (
            "Consolidation in the middle lobe of the right lung.",
            "Consolidation in the middle lobe of the left lung.",
        ),
    ],
)
def test_structures_of_one_side_only(right: str, wrong: str) -> None:
    check = laterality.check_impossible_sides
    assert _codes(check, _text(right, "Normal.")) == []
    assert _codes(check, _text(wrong, "Normal.")) == ["report.laterality"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Left subclavian approach port, reservoir in the right chest wall, tip in the SVC.",
        "Healed fracture of the left posterior sixth rib, projecting over the right hemithorax.",
        "Small left pleural effusion, meniscus seen at the right lateral costophrenic sulcus.",
        "Airspace opacity at the right base silhouettes the left hemidiaphragm.",
    ],
)
def test_sides_that_anatomy_binds_in_one_statement(sentence: str) -> None:
    check = laterality.check_within_statement
    consistent = sentence.replace("right", "left")
    assert _codes(check, _text(consistent, "Normal.")) == []
    assert _codes(check, _text(sentence, "Normal.")) == ["report.laterality"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Right IJ catheter, left chest port in place.",
        "Left chest wall pacemaker and right subclavian line.",
        "Left rib fractures, right pleural effusion is small.",
    ],
)
def test_two_things_on_two_sides_pass(sentence: str) -> None:
    assert _codes(laterality.check_within_statement, _text(sentence, "Normal.")) == []


def test_rib_series_marker_on_the_other_side() -> None:
    sentence = (
        "Marker over the site of pain on the right lateral chest wall; no underlying rib fracture."
    )
    text = _text(sentence, "No rib fracture.")
    assert _codes(laterality.check_against_exam, text, exam="XR Chest PA and Ribs Right") == []
    assert _codes(laterality.check_against_exam, text, exam="XR Chest PA and Ribs Left") == [
        "report.laterality"
    ]
    # the ribs themselves decide when the text names them
    ribs = _text(
        "Acute fracture of the left lateral seventh rib. Device overlying the right chest wall.",
        "Left rib fracture.",
    )
    assert _codes(laterality.check_against_exam, ribs, exam="XR Ribs Left 3 Views") == []


# -- measurements, exam ----------------------------------------------------------------------------
def test_an_impression_summing_up_two_lesions_repeats_their_sizes() -> None:
    text = (
        "FINDINGS: There is an oval, 17 mm nodular opacity projecting between the left 5th and "
        "6th ribs. There is a 10 mm nodular density projecting over the right 4th rib.\n"
        "IMPRESSION: 17 mm nodular opacity in the left lung and 10 mm nodular opacity in the "
        "right lung."
    )
    assert _codes(measurement.check_between_sections, text) == []
    changed = text.replace("and 10 mm nodular opacity", "and 12 mm nodular opacity")
    assert _codes(measurement.check_between_sections, changed) == ["report.measurement"]


def test_a_study_ordered_elsewhere_is_no_technique() -> None:
    finding = "A CT of the lumbar spine was already ordered at the time of this dictation."
    text = _text(finding, "No acute cardiopulmonary disease.")
    assert _codes(exam_mismatch.check_modality, text) == []
    done = _text("A CT of the chest was performed.", "No acute cardiopulmonary disease.")
    assert _codes(exam_mismatch.check_modality, done) == ["report.exam_mismatch"]


# -- cut off ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tail",
    [
        "There is no evidence of acute cardiopulmonary",
        "1. Right lower lobe pneumonia. 2. Associated",
        "1. Scattered",
    ],
)
def test_sections_cut_off_after_a_modifier(tail: str) -> None:
    assert truncation.cut_off_reason(tail) is not None


@pytest.mark.parametrize(
    "tail",
    ["No acute cardiopulmonary disease", "2. Improved", "Stable", "Negative", "Lungs are clear"],
)
def test_complete_endings_pass(tail: str) -> None:
    assert truncation.cut_off_reason(tail) is None


# -- misspellings ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("carrdiopulmonary", "cardiopulmonary"),  # a long word, rare in general English
        ("cardipulmonary", "cardiopulmonary"),
        ("firbosis", "fibrosis"),  # a medical ending, a radiology word one edit away
        ("osseus", "osseous"),
        ("processs", "process"),  # no plural "-s" after a sibilant
        ("emmphysematous", "emphysematous"),  # "-ous" is English, not the Latin "-us"
    ],
)
def test_misspellings_of_long_and_suffixed_words(word: str, meant: str) -> None:
    assert typo.correction(word) == meant


@pytest.mark.parametrize("word", ["processes", "glasses", "soleus", "teres", "hilus"])
def test_real_words_with_those_endings_pass(word: str) -> None:
    assert typo.correction(word) is None
