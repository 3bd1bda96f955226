"""``report.sex``: anatomy or wording that contradicts the patient's sex.

The sex comes from the FHIR Patient (``male``/``female``; ``other`` and ``unknown`` are never
checked) or, when the report has none, from the PatientSex the image headers of the same
accession agree on. Signals: sex-specific organs and operations (prostate, uterus, ovaries,
hysterectomy...), pregnancy, and the patient described as "a 54-year-old woman". Breasts are
not sex-specific (men have breast tissue, gynecomastia, breast cancer). Pronouns of the other sex
count only when the text has none of the patient's own, with lower confidence (a history may
speak of a relative).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._findings import finding, tag_evidence, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.cross_source import header_sex
from service.taxonomy import Severity

CODE = "report.sex"
_MALE_ONLY = re.compile(
    r"\b(?:prostat(?:e|ic|ectomy|omegaly)|testis|testes|testic(?:le|les|ular)|scrot(?:um|al)|"
    r"seminal vesicles?|penis|penile|epididym(?:is|al|itis)|vas deferens|orchiectomy|"
    r"spermatic cord|(?:\d{1,3}[- ]years?[- ]old|\d{1,3}[- ]?y/?o) (?:male|man|gentleman|boy)|"
    r"(?:is|was) an? (?:\d{1,3}[- ]years?[- ]old )?(?:male|man|gentleman|boy)\b)",
    re.IGNORECASE,
)
_FEMALE_ONLY = re.compile(
    r"\b(?:uter(?:us|ine)|ovar(?:y|ies|ian)|endometri(?:um|al)|cervix|fallopian|vagina|"
    r"vaginal|hysterectomy|oophorectomy|salpingo\w*|pregnan(?:t|cy)|gravid|gestation(?:al)?|"
    r"intrauterine|postmenopausal|premenopausal|menstrua\w+|"
    r"(?:\d{1,3}[- ]years?[- ]old|\d{1,3}[- ]?y/?o) (?:female|woman|lady|girl)|"
    r"(?:is|was) an? (?:\d{1,3}[- ]years?[- ]old )?(?:female|woman|lady|girl)\b)",
    re.IGNORECASE,
)
_SEX_WORDS = {"male": (_FEMALE_ONLY, "female"), "female": (_MALE_ONLY, "male")}
_PRONOUNS = {
    "male": re.compile(r"\b(?:he|his|him|himself)\b", re.IGNORECASE),
    "female": re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE),
}


def patient_sex(view: ReportView) -> tuple[str | None, Evidence | None]:
    """The patient's sex and, when it came from the images, the header evidence."""
    sex = view.item.patient_sex
    if isinstance(sex, str) and sex.lower() in _SEX_WORDS:
        return sex.lower(), None
    from_header = header_sex(view)
    if from_header is None:
        return None, None
    return from_header, tag_evidence("PatientSex", "M" if from_header == "male" else "F")


def check_sex_specific_terms(view: ReportView) -> list[Finding]:
    sex, header = patient_sex(view)
    if sex is None:
        return []
    regex, other = _SEX_WORDS[sex]
    hits = list(regex.finditer(view.text))
    confidence = 0.85 if header is None else 0.8
    if not hits and not _PRONOUNS[sex].search(view.text):
        # only the other sex's pronouns: weaker, a history may speak of a relative
        hits = list(_PRONOUNS[other].finditer(view.text))
        confidence = 0.6
    if not hits:
        return []
    evidence = [
        text_evidence(view.section_at(m.start()), view.text, m.start(), m.end()) for m in hits[:5]
    ]
    source = "the image header (PatientSex)" if header else "the patient record"
    if header:
        evidence.append(header)
    words = ", ".join(sorted({m.group(0).lower() for m in hits[:5]}))
    message = (
        f"The report uses {other}-specific wording ({words}) but the patient is {sex} "
        f"according to {source}; check the patient and the text."
    )
    return [finding(CODE, Severity.MAJOR, message, evidence, confidence)]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_sex_specific_terms,)
