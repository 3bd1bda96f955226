"""The report checks read in context: each error in words a radiologist might dictate, and the
near miss that must pass (rules-0.3.0: views, technique of another modality, contrast, severity,
sided places, the pneumothorax sign, dictation homophones, cut-off impressions, implausible
sizes, breast findings in a man's report)."""

from __future__ import annotations

import pytest

from service.engines.base import Finding
from service.engines.rules import RulesEngine, exam_views, homophones, inconsistency, truncation
from service.engines.rules._report import report_view
from service.engines.rules.negation import Polarity, polarity
from tests.service.engines.report_support import quotes_match, report

NORMAL = (
    "FINDINGS: The heart size is normal. The lungs are clear. No pleural effusion or "
    "pneumothorax.\nIMPRESSION: No acute cardiopulmonary abnormality."
)
ENGINE = RulesEngine()


def _codes(text: str, **context: object) -> set[str]:
    found: list[Finding] = ENGINE.review(report(text, **context))  # type: ignore[arg-type]
    quotes_match(text, found)
    return {f.code for f in found}


@pytest.mark.parametrize(
    ("text", "context", "code"),
    [
        # views against the order
        (f"EXAM: Single portable AP view of the chest.\n{NORMAL}", {}, "report.exam_mismatch"),
        (
            f"TECHNIQUE: Frontal and lateral radiographs of the chest.\n{NORMAL}",
            {"exam": "XR CHEST PORTABLE"},
            "report.exam_mismatch",
        ),
        (
            "EXAM: Two views of the right ankle.\nFINDINGS: No fracture. The mortise is intact.\n"
            "IMPRESSION: No acute osseous abnormality.",
            {"exam": "XR ANKLE RIGHT 3+ VIEWS"},
            "report.exam_mismatch",
        ),
        # technique and contrast of another modality
        (
            "TECHNIQUE: Contiguous axial images were obtained with coronal and sagittal "
            f"reformats.\n{NORMAL}",
            {},
            "report.exam_mismatch",
        ),
        (
            "TECHNIQUE: Sagittal T1 and T2-weighted images.\nFINDINGS: No hemorrhage.\n"
            "IMPRESSION: Normal brain.",
            {"exam": "CT HEAD WO CONTRAST"},
            "report.exam_mismatch",
        ),
        (
            "FINDINGS: Real-time grayscale images show no effusion. The lungs are clear.\n"
            "IMPRESSION: Normal.",
            {},
            "report.exam_mismatch",
        ),
        (
            f"TECHNIQUE: 100 mL of Omnipaque 350 was given intravenously.\n{NORMAL}",
            {},
            "report.exam_mismatch",
        ),
        (f"TECHNIQUE: IV contrast was administered.\n{NORMAL}", {}, "report.exam_mismatch"),
        # severity between sections
        (
            "FINDINGS: Trace left pleural effusion.\nIMPRESSION: Large left pleural effusion.",
            {},
            "report.inconsistency",
        ),
        (
            "FINDINGS: No large pleural effusion.\nIMPRESSION: Moderate right pleural effusion.",
            {},
            "report.inconsistency",
        ),
        (
            "FINDINGS: Right lower lobe consolidation.\nIMPRESSION: Lungs are clear.",
            {},
            "report.inconsistency",
        ),
        (
            "FINDINGS: Small right apical pneumothorax.\nIMPRESSION: No active disease.",
            {},
            "report.inconsistency",
        ),
        # sided places and the pneumothorax sign
        (
            "FINDINGS: Patchy opacity in the right lung base.\nIMPRESSION: Left basilar pneumonia.",
            {},
            "report.laterality",
        ),
        (
            "FINDINGS: Opacification of the left costophrenic angle.\n"
            "IMPRESSION: Blunted right costophrenic angle.",
            {},
            "report.laterality",
        ),
        (
            "FINDINGS: Visceral pleural line at the left apex with absent lung markings beyond "
            "it.\nIMPRESSION: Right apical pneumothorax.",
            {},
            "report.laterality",
        ),
        (
            "FINDINGS: Nondisplaced fracture of the left 6th rib.\nIMPRESSION: Left rib fracture.",
            {"exam": "XR RIBS RIGHT 3 VIEWS"},
            "report.laterality",
        ),
        (
            "FINDINGS: Consolidation in the right lower lobe.\n"
            "IMPRESSION: Left lower lobe pneumonia.",
            {},
            "report.laterality",
        ),
        (
            "FINDINGS: The lungs are clear. There is a small\nIMPRESSION: Normal chest.",
            {},
            "report.omission",
        ),
        (
            "FINDINGS: Bilateral effusions, left greater than left.\nIMPRESSION: Effusions.",
            {},
            "report.laterality",
        ),
        # dictation, sex, cut-off, sizes, shorthand
        ("FINDINGS: Opacity in the write upper lobe.\nIMPRESSION: Pneumonia.", {}, "report.typo"),
        ("FINDINGS: The hurt is enlarged.\nIMPRESSION: Cardiomegaly.", {}, "report.typo"),
        (
            f"FINDINGS: Status post left mastectomy. The lungs are clear.\n{NORMAL[-52:]}",
            {"sex": "male"},
            "report.sex",
        ),
        (f"HISTORY: Mr. Smith with cough.\n{NORMAL}", {"sex": "female"}, "report.sex"),
        (
            "FINDINGS: The lungs are clear.\nIMPRESSION: No acute cardiopulmonary",
            {},
            "report.omission",
        ),
        (
            "FINDINGS: 9 mm noncalcified nodule in the right upper lobe.\n"
            "IMPRESSION: No acute disease.",
            {},
            "report.omission",
        ),
        (
            "FINDINGS: Lytic lesion of the left humeral head. The lungs are clear.\n"
            "IMPRESSION: No acute cardiopulmonary process.",
            {},
            "report.omission",
        ),
        (
            "FINDINGS: Endotracheal tube tip is 25 cm above the carina.\nIMPRESSION: Tube.",
            {},
            "report.measurement",
        ),
        (
            "FINDINGS: The cardiac silhouette measures 45 cm across.\nIMPRESSION: Cardiomegaly.",
            {},
            "report.measurement",
        ),
        ("FINDINGS: No PTX.\nIMPRESSION: No acute disease.", {}, "report.terminology"),
    ],
)
def test_error_in_context_is_found(text: str, context: dict[str, object], code: str) -> None:
    assert code in _codes(text, **context)


@pytest.mark.parametrize(
    ("text", "context"),
    [
        (f"EXAM: PA and lateral views of the chest.\n{NORMAL}", {}),
        (f"COMPARISON: Single view chest radiograph dated last week.\n{NORMAL}", {}),
        (f"FINDINGS: Right chest infusion port, tip in the SVC.\n{NORMAL[9:]}", {}),
        (
            "FINDINGS: Small left pleural effusion, previously large.\n"
            "IMPRESSION: Left pleural effusion has decreased, now small.",
            {},
        ),
        (
            "FINDINGS: Small right pleural effusion. No large pleural effusion.\n"
            "IMPRESSION: Small right pleural effusion.",
            {},
        ),
        (
            "FINDINGS: Bilateral basilar atelectasis, left greater than right.\n"
            "IMPRESSION: Left basilar atelectasis.",
            {},
        ),
        (
            "FINDINGS: Nondisplaced fracture of the right 6th rib. The left lung is clear.\n"
            "IMPRESSION: Right 6th rib fracture.",
            {"exam": "XR RIBS RIGHT 3 VIEWS"},
        ),
        (
            "FINDINGS: Gynecomastia with prominent breast tissue. The lungs are clear.\n"
            "IMPRESSION: No acute disease.",
            {"sex": "male"},
        ),
        ("FINDINGS: The lungs are clear.\nIMPRESSION: No acute cardiopulmonary disease", {}),
        ("FINDINGS: The lungs are clear.\nIMPRESSION: Heart size normal", {}),
        (
            "FINDINGS: 9 mm calcified granuloma in the right upper lobe.\n"
            "IMPRESSION: No acute disease.",
            {},
        ),
        (
            "FINDINGS: Endotracheal tube tip is 4 cm above the carina.\n"
            "IMPRESSION: Satisfactory tube position.",
            {},
        ),
        (
            "TECHNIQUE: Axial images without injection of intravenous contrast.\n"
            "FINDINGS: No hemorrhage.\nIMPRESSION: Normal brain.",
            {"exam": "CT HEAD WO CONTRAST"},
        ),
    ],
)
def test_near_miss_passes(text: str, context: dict[str, object]) -> None:
    assert _codes(text, **context) == set()


@pytest.mark.parametrize(
    ("exam", "expected"),
    [
        ("XR CHEST 2 VIEWS", (2, False)),
        ("XR CHEST 1 VIEW PORTABLE", (1, False)),
        ("CHEST 2V FRONTAL/LATERAL", (2, False)),
        ("Xray Chest PA and Lateral", (2, False)),
        ("XR ANKLE RIGHT 3+ VIEWS", (3, True)),
        ("XR CHEST PORTABLE", (1, False)),
        ("CT CHEST", None),
    ],
)
def test_views_the_order_names(exam: str, expected: tuple[int, bool] | None) -> None:
    assert exam_views.ordered_views(exam.upper()) == expected


@pytest.mark.parametrize(
    ("sentence", "term", "expected"),
    [
        ("The nodule is not well seen on this study.", "nodule", Polarity.UNCERTAIN),
        ("Near-complete resolution of the right effusion.", "effusion", Polarity.AFFIRMED),
        ("There is know pneumothorax.", "pneumothorax", Polarity.NEGATED),
    ],
)
def test_hedges_and_partial_resolution(sentence: str, term: str, expected: Polarity) -> None:
    start = sentence.index(term)
    assert polarity(sentence, start, start + len(term)) is expected


def test_severity_names_both_grades() -> None:
    text = "FINDINGS: Mild right pleural effusion.\nIMPRESSION: Severe right pleural effusion."
    (found,) = inconsistency.check_severity(report_view(report(text)))
    assert "Mild right pleural effusion" in found.message
    assert [e["section"] for e in found.evidence] == ["findings", "impression"]


@pytest.mark.parametrize(
    ("tail", "cut"),
    [
        ("No acute", True),
        ("Right basilar opacity which may", True),
        ("7 mm", True),
        ("No acute thoracic", True),
        ("The fracture is acute", False),
        ("Clear lungs", False),
        ("Normal chest", False),
    ],
)
def test_unpunctuated_ends(tail: str, cut: bool) -> None:
    assert (truncation.cut_off_reason(tail) is not None) is cut


def test_homophones_only_in_the_findings_and_impression() -> None:
    text = "INDICATION: Chest hurt and cough.\nFINDINGS: Lungs clear.\nIMPRESSION: Normal."
    assert homophones.check_homophones(report_view(report(text))) == []
