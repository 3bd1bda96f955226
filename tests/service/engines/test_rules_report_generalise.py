"""The report capabilities added for wording the first benchmark never used: repeated words,
voice commands, word boundaries, lay terms, the report's own exam line, implied contrast, lobes
that differ between sections, contradictions inside the findings, impossible ratios, sex codes,
more speech-recognition confusions and both sides in one statement. Each test puts the error into
a real IU report (the clean text passes) and checks what must stay silent."""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path

import pytest

from service.engines.rules import (
    _clinical,
    dictation,
    exam_mismatch,
    homophones,
    inconsistency,
    laterality,
    measurement,
    omission_findings,
    sex,
    terminology,
    typo,
)
from service.engines.rules._clinical import CONCEPTS
from service.engines.rules._exam import modality
from service.engines.rules._report import ReportView, whole_words
from service.engines.rules.sex import normalise_sex
from tests.service.engines.report_support import clean_views, iu_complete, quotes_match, report, run
from tests.service.engines.support import iu_text

# IU report CXR1, as the RIS sends it
NORMAL = (
    "FINDINGS: The cardiac silhouette and mediastinum size are within normal limits. There is no "
    "pulmonary edema. There is no focal consolidation. There are no XXXX of a pleural effusion. "
    "There is no evidence of pneumothorax.\nIMPRESSION: Normal chest x-XXXX."
)


@pytest.fixture(scope="module")
def iu(shared_data: Path) -> list[dict[str, str]]:
    return iu_complete(shared_data)[:300]


def _codes(check: object, text: str, **context: object) -> list[str]:
    found = run(check, text, **context)  # type: ignore[arg-type]
    quotes_match(text, found)
    return [f.code for f in found]


# -- repeated words, voice commands, word boundaries ----------------------------------------------
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("There is no evidence of", "There is no evidence of of"),
        ("mediastinum size are", "mediastinum size are are"),
    ],
)
def test_repeated_words(old: str, new: str) -> None:
    assert _codes(dictation.check_repeated_words, NORMAL) == []
    assert _codes(dictation.check_repeated_words, NORMAL.replace(old, new)) == ["report.typo"]


def test_deliberate_repeats_and_deid_tokens_are_not_repeated_words(
    iu: list[dict[str, str]],
) -> None:
    text = NORMAL.replace("There is no evidence", "The finding that that suggests no evidence")
    assert _codes(dictation.check_repeated_words, text) == []
    deid = [iu_text(r) for r in iu if "XXXX XXXX" in r["findings"]]
    assert deid
    assert all(_codes(dictation.check_repeated_words, t) == [] for t in deid[:20])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Normal chest x-XXXX.", "Normal chest x-XXXX scratch that."),
        ("pulmonary edema.", "pulmonary edema new paragraph."),
        ("of pneumothorax.", "of pneumothorax period."),
        ("no focal consolidation", "no focal comma consolidation"),
        ("pulmonary edema.", "pulmonary edema next line."),
        ("pulmonary edema.", "pulmonary edema full stop."),
    ],
)
def test_voice_commands(old: str, new: str) -> None:
    assert _codes(dictation.check_dictation_commands, NORMAL) == []
    found = _codes(dictation.check_dictation_commands, NORMAL.replace(old, new))
    assert found == ["report.typo"]


@pytest.mark.parametrize(
    "sentence",
    [
        "No complication in the postoperative period.",
        "A new line is seen in the SVC.",
        "A comma-shaped density.",
    ],
)
def test_command_words_used_as_words(sentence: str) -> None:
    text = NORMAL.replace("Normal chest x-XXXX.", sentence)
    assert _codes(dictation.check_dictation_commands, text) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a pleural effusion", "a pleuraleffusion"),
        ("focal consolidation", "focal consol idation"),
        ("The cardiac silhouette", "Thecardiac silhouette"),
    ],
)
def test_word_boundaries(old: str, new: str) -> None:
    assert _codes(dictation.check_word_boundaries, NORMAL) == []
    assert _codes(dictation.check_word_boundaries, NORMAL.replace(old, new)) == ["report.typo"]


def test_voice_command_spelled_with_a_turkish_i_is_not_read() -> None:
    """The end-of-sentence commands are read only where the lowered text names one: "PERİOD",
    which re.IGNORECASE alone would take for "period", is not."""
    text = NORMAL.replace("of pneumothorax.", "of pneumothorax PERIOD.")
    assert _codes(dictation.check_dictation_commands, text) == ["report.typo"]
    for i in ("\u0130", "\u0131"):
        turkish = text.replace("PERIOD", f"PER{i}OD")
        assert _codes(dictation.check_dictation_commands, turkish) == []


def test_split_words_next_to_each_other_are_both_found() -> None:
    """A word pair's first word is taken and the search goes on from its second word, which
    starts the next pair: two split words in a row are two hits."""
    text = NORMAL.replace("Normal chest x-XXXX.", "A calc ified granu loma.")
    (found,) = run(dictation.check_word_boundaries, text)
    assert "'calc ified' ('calcified'?)" in found.message
    assert "'granu loma' ('granuloma'?)" in found.message


@pytest.mark.parametrize(
    "word", ["hydropneumothorax", "paraesophageal", "echotexture", "gyriform", "Sandimmune"]
)
def test_compounds_and_names_are_not_run_together(word: str) -> None:
    text = NORMAL.replace("Normal chest x-XXXX.", f"Stable {word} appearance.")
    assert _codes(dictation.check_word_boundaries, text) == []


# -- lay and obsolete terms ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "impression", ["No water on the lungs.", "No collapsed lung.", "Lungs look OK.", "Coin lesion."]
)
def test_informal_terms(impression: str) -> None:
    text = NORMAL.replace("Normal chest x-XXXX.", impression)
    assert _codes(terminology.check_informal_terms, NORMAL) == []
    assert _codes(terminology.check_informal_terms, text) == ["report.terminology"]


@pytest.mark.parametrize(
    "words", [("he", "his", "him", "himself"), ("she", "her", "hers", "herself"), ("Mr",)]
)
def test_whole_words_match_as_word_boundaries_do(words: tuple[str, ...]) -> None:
    """``_report.whole_words`` opens with the words' letters instead of \\b: the same matches."""
    text = (
        "he the he's he- _he 3he he3 hehe ché him himself himselfs hers her. Her, "
        "ShE sher she_ Mr. Mrs Mr_ Mr9 Mr\n\u0130he \u00e9he he\u00e9 his"
    )
    plain = re.compile(rf"\b(?:{'|'.join(words)})\b")
    fast = re.compile(whole_words(*words))
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in fast.finditer(text.lower())] == [
        m.span() for m in plain.finditer(text.lower())
    ]


@pytest.mark.parametrize(
    "word",
    [
        "consoldation",
        "carrdiopulmonary",
        "plueral",
        "effsuion",
        "xatelectasis",
        "atelectasisx",
        "osseus",
        "firbosis",
        "pleural",
        "abc",
        "zzzzzzzz",
        "patient's",
        "withing",
    ],
)
def test_spelling_edits_are_pruned_without_losing_a_known_word(word: str) -> None:
    """typo._edits1 replaces or inserts a letter only where a known word can start and end so:
    the known words among its edits are those among all the 54n + 25."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    every = {a + b[1:] for a, b in splits if b}
    every |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    every |= {a + c + b[1:] for a, b in splits if b for c in letters}
    every |= {a + c + b for a, b in splits for c in letters}
    known = typo.vocabulary()
    assert typo._edits1(word) & known == every & known


@pytest.mark.parametrize("before", ["", "\u0130stanbul clinic. "])  # "İ".lower() is 2 characters
def test_informal_terms_quote_the_text_and_name_the_term(before: str) -> None:
    """Matched on the lowered text: the evidence quotes the report's own words at their offsets,
    also after a character whose lower case is longer, and the message names the right term."""
    text = NORMAL.replace("Normal chest x-XXXX.", f"{before}Lungs Look OK. Old Coin Lesion.")
    (found,) = run(terminology.check_informal_terms, text)
    quoted = [e["quote"] for e in found.evidence]
    assert quoted == ["Lungs Look OK", "Coin Lesion"]
    assert "'Lungs Look OK' -> normal, unremarkable" in found.message
    assert "'Coin Lesion' -> nodule" in found.message


def _capitals(pattern: str) -> set[str]:
    """Capital letters a pattern matches literally (not escapes such as \\b, \\S or \\W)."""
    literal = re.sub(r"\\[A-Za-z]|\(\?P<\w+>", "", pattern)
    return {ch for ch in literal if ch.isupper()}


def test_patterns_read_on_the_lowered_text_have_no_capitals() -> None:
    """These patterns are matched on ``_report.lowered`` without re.IGNORECASE: a capital
    letter in one (an acronym added as "PICC") would never match."""
    lowered_patterns = [
        *(c.regex for c in CONCEPTS),
        *(c.exclude for c in CONCEPTS if c.exclude is not None),
        *exam_mismatch._TECHNIQUE_REGEX.values(),
        *exam_mismatch._OTHER_TECHNIQUE.values(),
        laterality._IMPOSSIBLE,
        laterality._SELF_COMPARED,
        *sex._ANATOMY.values(),
        sex._MOSTLY_FEMALE,
        *sex._PRONOUNS.values(),
    ]
    for regex in lowered_patterns:
        assert not regex.flags & re.IGNORECASE, regex.pattern[:60]
        assert _capitals(regex.pattern) == set(), regex.pattern[:60]


@pytest.mark.parametrize("before", ["", "\u0130stanbul clinic. "])  # "İ".lower() is 2 characters
def test_capitalised_words_are_found_and_quoted_as_written(before: str) -> None:
    """Read on the lowered text, capitals are found all the same, and the messages and the
    evidence quote the report's own words at their offsets."""
    impossible = NORMAL.replace("Normal chest x-XXXX.", f"{before}Opacity in the LEFT MIDDLE LOBE.")
    (found,) = run(laterality.check_impossible_sides, impossible)
    quotes_match(impossible, [found])
    assert "'LEFT MIDDLE LOBE' does not exist" in found.message
    self_compared = NORMAL.replace(
        "Normal chest x-XXXX.", f"{before}Effusions, Left Greater Than Left."
    )
    (found,) = run(laterality.check_impossible_sides, self_compared)
    assert "'Left Greater Than Left' compares a side with itself" in found.message
    ct_words = NORMAL.replace("Normal chest x-XXXX.", f"{before}Axial CT Images were obtained.")
    (found,) = run(exam_mismatch.check_modality, ct_words, exam="XR CHEST 2 VIEWS")
    quotes_match(ct_words, [found])
    assert "('Axial CT Images')" in found.message
    female = NORMAL.replace("Normal chest x-XXXX.", f"{before}Status post HYSTERECTOMY.")
    assert _codes(sex.check_sex_specific_terms, female, sex="male") == ["report.sex"]
    assert _codes(sex.check_sex_specific_terms, female, sex="female") == []


def test_lay_words_outside_the_findings_and_anatomy_words_pass() -> None:
    text = "INDICATION: Water on the lungs per patient.\n" + NORMAL.replace(
        "Normal chest x-XXXX.", "Atrophy of the muscle belly."
    )
    assert _codes(terminology.check_informal_terms, text) == []


# -- sex: codes and wording -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("M", "male"),
        ("F", "female"),
        ("male", "male"),
        ("Female", "female"),
        ("O", None),
        ("U", None),
        ("unknown", None),
        (None, None),
    ],
)
def test_sex_codes(value: str | None, expected: str | None) -> None:
    assert normalise_sex(value) == expected


def test_hl7_and_dicom_sex_codes_are_checked() -> None:
    text = "INDICATION: History of hysterectomy.\n" + NORMAL
    assert _codes(sex.check_sex_specific_terms, text, sex="M") == ["report.sex"]
    assert _codes(sex.check_sex_specific_terms, text, sex="F") == []
    assert _codes(sex.check_sex_specific_terms, text, sex="U") == []


@pytest.mark.parametrize(
    ("indication", "patient"),
    [("Elderly gentleman with cough.", "female"), ("Lady with chest pain.", "male")],
)
def test_person_words_without_an_age(indication: str, patient: str) -> None:
    text = f"INDICATION: {indication}\n{NORMAL}"
    assert _codes(sex.check_sex_specific_terms, text, sex=patient) == ["report.sex"]
    own = "male" if patient == "male" else "female"
    other = "female" if own == "male" else "male"
    assert _codes(sex.check_sex_specific_terms, text, sex=other) == []


# -- the report's own exam line, images of another region, implied contrast -----------------------
@pytest.mark.parametrize(
    "line",
    [
        "CT Chest without contrast",
        "CT Angiogram Chest",
        "XR Lumbar Spine 2 views",
        "XR Abdomen 2 views",
        "MRI Thorax",
    ],
)
def test_exam_line_against_the_order(line: str) -> None:
    text = f"EXAMINATION: {line}\n{NORMAL}"
    assert _codes(exam_mismatch.check_exam_line, text) == ["report.exam_mismatch"]
    own = f"EXAMINATION: PA and lateral views of the chest\n{NORMAL}"
    assert _codes(exam_mismatch.check_exam_line, own) == []


def test_combined_reports_and_physical_examinations_are_not_exam_lines() -> None:
    combined = (
        "EXAMINATION: KNEE 1-2 VIEWS\nFINDINGS: Chest. Lungs are clear. Left knee. Marked "
        "narrowing of the joint space.\nIMPRESSION: 1. Chest. No active disease. 2. Left knee. "
        "Degenerative joint disease."
    )
    assert _codes(exam_mismatch.check_exam_line, combined) == []
    physical = (
        "EXAM: BP 120/70 HR 80 RR 16, alert and oriented, moves all extremities, lungs clear to "
        "auscultation, heart regular rate and rhythm, abdomen soft.\n" + NORMAL
    )
    assert _codes(exam_mismatch.check_exam_line, physical, exam="CT HEAD WO CONTRAST") == []


def test_ct_and_mr_angiograms_are_ct_and_mr() -> None:
    assert modality("CT ANGIOGRAM CHEST") == "CT"
    assert modality("MR ARTHROGRAM SHOULDER") == "MR"
    assert modality("FLUORO ESOPHAGRAM") == "RF"


def test_images_of_another_region(iu: list[dict[str, str]]) -> None:
    text = iu_text(iu[0]).replace(
        "FINDINGS: ", "FINDINGS: Frontal and lateral views of the right wrist show no fracture. ", 1
    )
    assert _codes(exam_mismatch.check_imaged_region, iu_text(iu[0])) == []
    assert _codes(exam_mismatch.check_imaged_region, text) == ["report.exam_mismatch"]
    knee = "Three views of the left knee show no fracture."
    assert _codes(exam_mismatch.check_imaged_region, f"FINDINGS: {knee}", exam="XR KNEE 3V") == []


@pytest.mark.parametrize(
    "sentence",
    ["No extravasation of oral contrast is seen.", "The pulmonary arteries are well opacified."],
)
def test_contrast_implied_in_a_radiograph(sentence: str) -> None:
    text = NORMAL.replace("There is no pulmonary edema.", sentence)
    assert _codes(exam_mismatch.check_contrast, text) == ["report.exam_mismatch"]
    assert _codes(exam_mismatch.check_contrast, text, exam="CT CHEST W CONTRAST") == []
    old = NORMAL.replace("There is no pulmonary edema.", "Retained oral contrast in the colon.")
    assert _codes(exam_mismatch.check_contrast, old) == []


# -- inconsistency: lobes, and contradictions inside the findings ---------------------------------
LOBE = (
    "FINDINGS: A 9 mm nodule projects over the right upper lobe. The heart is normal in size. "
    "No pleural effusion.\nIMPRESSION: 9 mm right {lobe} lobe nodule; CT recommended."
)


def test_lobe_differs_between_sections() -> None:
    assert _codes(inconsistency.check_location, LOBE.format(lobe="upper")) == []
    found = _codes(inconsistency.check_location, LOBE.format(lobe="lower"))
    assert found == ["report.inconsistency"]
    both = LOBE.format(lobe="lower").replace("right upper lobe", "right upper and lower lobes")
    assert _codes(inconsistency.check_location, both) == []
    other_side = LOBE.format(lobe="lower").replace("right lower", "left lower")
    assert _codes(inconsistency.check_location, other_side) == []


@pytest.mark.parametrize(
    "sentence", ["No atelectasis.", "No pleural effusion.", "Heart size is normal."]
)
def test_contradiction_within_the_findings(sentence: str) -> None:
    base = (
        "FINDINGS: Mild cardiomegaly. Small left pleural effusion with adjacent left basilar "
        "atelectasis. No pneumothorax.\nIMPRESSION: Cardiomegaly. Small left pleural effusion."
    )
    assert _codes(inconsistency.check_within_findings, base) == []
    text = base.replace("No pneumothorax.", f"No pneumothorax. {sentence}")
    assert _codes(inconsistency.check_within_findings, text) == ["report.inconsistency"]


@pytest.mark.parametrize(
    "sentence",
    [
        "No other atelectasis.",
        "No right pleural effusion.",
        "No large pleural effusion.",
        "The lungs are otherwise clear of focal airspace disease.",
        "No masses in the lungs.",
    ],
)
def test_qualified_denials_within_the_findings(sentence: str) -> None:
    base = (
        "FINDINGS: Mediastinal mass. Small left pleural effusion with adjacent left basilar "
        "atelectasis and airspace disease. {s}\nIMPRESSION: Mediastinal mass. Small left "
        "pleural effusion."
    )
    assert _codes(inconsistency.check_within_findings, base.format(s=sentence)) == []


def test_real_reports_have_no_contradiction_within_the_findings(
    iu: list[dict[str, str]],
) -> None:
    assert sum(bool(run(inconsistency.check_within_findings, iu_text(r))) for r in iu) <= 1


def test_airspace_opacity_explained_in_the_impression_is_no_omission() -> None:
    text = (
        "FINDINGS: Pulmonary vascular congestion with mild patchy airspace opacities. No "
        "pneumothorax.\nIMPRESSION: Cardiomegaly with vascular congestion and pulmonary edema."
    )
    assert _codes(omission_findings.check_missing_from_impression, text) == []


# -- measurement: ratios ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "flagged"),
    [("3.0", True), ("1.6", True), ("0.48", False), ("55%", False), ("160%", True)],
)
def test_cardiothoracic_ratio(value: str, flagged: bool) -> None:
    text = NORMAL.replace("There is no pulmonary edema.", f"Cardiothoracic ratio measures {value}.")
    assert bool(_codes(measurement.check_ratios, text)) is flagged


# -- speech recognition ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Normal chest x-XXXX.", "No a cute cardiopulmonary process."),
        ("Normal chest x-XXXX.", "No active decease."),
        ("no focal consolidation", "no vocal consolidation"),
        ("Normal chest x-XXXX.", "Torturous aorta."),
        ("Normal chest x-XXXX.", "Mild regenerative changes of the spine."),
    ],
)
def test_more_sound_alikes(old: str, new: str) -> None:
    text = NORMAL.replace(old, new)
    assert [f.code for f in run(homophones.check_homophones, text)] == ["report.typo"]


def test_sound_alikes_in_their_own_sense_pass() -> None:
    text = NORMAL.replace("Normal chest x-XXXX.", "Vocal cord paralysis noted clinically.")
    assert run(homophones.check_homophones, text) == []


# -- laterality: one statement, both sides ---------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Left apical pneumothorax, with the pleural line best seen at the right apex.",
        "Old deformity of the left clavicle, consistent with a healed right clavicular fracture.",
    ],
)
def test_one_statement_both_sides(sentence: str) -> None:
    text = NORMAL.replace("There is no pulmonary edema.", sentence)
    assert _codes(laterality.check_within_statement, text) == ["report.laterality"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Right and left apical pleural thickening.",
        "The right hemidiaphragm is higher than the left hemidiaphragm.",
        "Right IJ catheter crossing to the left hemithorax.",
    ],
)
def test_statements_about_both_sides_on_purpose(sentence: str) -> None:
    text = NORMAL.replace("There is no pulmonary edema.", sentence)
    assert _codes(laterality.check_within_statement, text) == []


def test_report_view_with_hl7_sex_reaches_the_checks() -> None:
    item = report("INDICATION: Prostate cancer.\n" + NORMAL, sex="F")
    assert item.patient_sex == "F"


@pytest.mark.parametrize(
    ("pattern", "stems"),
    [
        (r"(?:pleural )?effusions?", ("effusion",)),
        (r"pneumonias?|nodular opacit(?:y|ies)", ("pneumonia", "nodular opacit")),
        (r"mediastinum|mediastinum (?:is|appears) widened", ("mediastinum",)),
        (r"(?:lytic|blastic) (?:lesions?|metasta\w+)", ("lesion", "metasta")),
        (r"(?:hydro)?pneumothora(?:x|ces)", ("pneumothora",)),
        (r"(?:a|b)+c", ("c",)),
        (r"edema|\w+", None),
        (r"edema|\w+ness", ("edema", "ness")),
        (r"(?:mass)?", None),
    ],
)
def test_concept_stems_are_read_from_the_pattern(
    pattern: str, stems: tuple[str, ...] | None
) -> None:
    assert _clinical._stems(pattern) == stems


def test_every_concept_match_holds_one_of_its_stems(shared_data: Path) -> None:
    """The stems are a filter only: a sentence without them has no match of the concept."""
    views = clean_views(shared_data)
    texts = [v.text.lower() for vs in views.values() for v in vs] + [
        "hydropneumothorax, pneumothoraces; pleural line at the apex with absent lung markings. "
        "mediastinum appears widened, widening of the superior mediastinum. collapse of the left "
        "lower lobe, lobar collapse. lytic or sclerotic osseous metastases. free intraperitoneal "
        "air. heart is mildly enlarged. bulky hilar lymph nodes, hilar masses. granulomata."
    ]
    matched = set()
    for concept in CONCEPTS:
        assert concept.stems, concept.name
        for text in texts:
            for match in concept.regex.finditer(text):
                matched.add(concept.name)
                assert any(s in match.group(0) for s in concept.stems), (concept.name, match)
    assert matched == {c.name for c in CONCEPTS}


def test_the_stems_change_no_mention(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every concept read in every sentence gives the same mentions (concepts compared by name:
    the copies without stems are other objects)."""
    views = [v for vs in clean_views(shared_data).values() for v in vs]

    def plain(view: ReportView) -> list[tuple[object, ...]]:
        found = _clinical._compute_mentions(view)
        return [
            (m.concept.name, m.section, m.start, m.end, m.polarity, m.side, m.old)
            for part in found
            for m in part
        ]

    fast = [plain(v) for v in views]
    unfiltered = tuple(dataclasses.replace(c, stems=None) for c in CONCEPTS)
    monkeypatch.setattr(_clinical, "CONCEPTS", unfiltered)
    assert [plain(v) for v in views] == fast
    assert sum(map(len, fast)) > 1000
