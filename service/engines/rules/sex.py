"""``report.sex``: anatomy or wording that contradicts the patient's sex.

The sex comes from the report's patient: FHIR ``male``/``female`` or the ``M``/``F`` of HL7 v2
PID-8 and DICOM (``other``, ``unknown``, ``O``, ``U`` are never checked) or, when the report has
none, from the PatientSex the image headers of the same accession agree on. Signals:
sex-specific organs and operations (prostate, uterus, ovaries, hysterectomy...), pregnancy,
the patient described as "a 54-year-old woman", "elderly gentleman", "Lady with cough" (an age,
an adjective of age, or the start of a sentence before the word) or "Mrs. Doe".
Breasts are not sex-specific (men have breast tissue, gynecomastia, breast cancer), but breast
implants, breast shadows over the lung bases or a mastectomy are rare enough in men to be
flagged in a man's report, with lower confidence. Pronouns of the other sex count only when the
text has none of the patient's own, with lower confidence (a history may speak of a relative).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from service.engines.base import Evidence, Finding
from service.engines.rules._findings import finding, tag_evidence, text_evidence
from service.engines.rules._report import ReportView, lowered, whole_words
from service.engines.rules.cross_source import header_sex
from service.taxonomy import Severity

CODE = "report.sex"
# the anatomy, breast and pronoun patterns are read in the lowered text (_report.lowered), hence
# in lower case and without re.IGNORECASE, which makes them several times slower
_MALE_ANATOMY = re.compile(
    r"\b(?:prostat(?:e|ic|ectomy|omegaly)|testis|testes|testic(?:le|les|ular)|scrot(?:um|al)|"
    r"seminal vesicles?|penis|penile|epididym(?:is|al|itis)|vas deferens|orchiectomy|"
    r"spermatic cord)"
)
_FEMALE_ANATOMY = re.compile(
    r"\b(?:uter(?:us|ine)|ovar(?:y|ies|ian)|endometri(?:um|al)|cervix|fallopian|vagina|"
    r"vaginal|hysterectomy|oophorectomy|salpingo\w*|pregnan(?:t|cy)|gravid|gestation(?:al)?|"
    r"intrauterine|postmenopausal|premenopausal|menstrua\w+)"
)
# what every word of the anatomy patterns contains: a text without any is not read further
_STEMS = {
    "male": (
        "prostat",
        "testi",
        "testes",
        "scrot",
        "seminal",
        "penis",
        "penile",
        "epididym",
        "vas deferens",
        "orchiectomy",
        "spermatic",
    ),
    "female": (
        "uter",
        "ovar",
        "endometri",
        "cervix",
        "fallopian",
        "vagina",
        "hysterectomy",
        "oophorectomy",
        "salpingo",
        "pregnan",
        "gravid",
        "gestation",
        "menopaus",
        "menstrua",
    ),
}
# the patient described as "a 54-year-old woman", "is a male": the word, then what precedes it.
# This, the titles and the pronouns are read in every report of a known sex, most of which have
# none of them: they open with the words' letters, not \b (_report.whole_words)
_PERSON = {  # read in the lower-case text
    "male": re.compile(whole_words("male", "man", "gentleman", "boy")),
    "female": re.compile(whole_words("female", "woman", "lady", "girl")),
}
_AGE = r"(?:\d{1,3}[- ]years?[- ]old|\d{1,3}[- ]?y/?o)"
_PERSON_BEFORE = re.compile(
    rf"(?:\b{_AGE}|\b(?:is|was) an?(?: \d{{1,3}}[- ]years?[- ]old)?|"
    r"\b(?:elderly|young|younger|older|old|middle[- ]aged|pleasant|adult|frail) |"
    r"(?:^|[.:;]\s*|\n\s*)(?:an? |the )?)$",
    re.IGNORECASE,
)
# titles: "Mrs. Doe" is a woman, "Mr. Doe" a man
_TITLES = {
    "male": re.compile(whole_words("Mrs", "Ms", "Miss") + r"\.?(?= [A-Z])"),
    "female": re.compile(whole_words("Mr") + r"\.?(?= [A-Z])"),
}
# Breast findings that are rare in men (about 1% of breast cancers): flagged in a man's report
# with lower confidence, never when the text speaks of gynecomastia or a male breast.
_MOSTLY_FEMALE = re.compile(
    r"\b(?:mastectom(?:y|ies)|lumpectom(?:y|ies)|breast (?:implants?|prosthes[ie]s|augmentation|"
    r"reconstruction|shadows?|cancer|carcinoma|tissue)|mammo\w+|(?:overlapping|overlying|"
    r"superimposed) breasts?)\b"
)
_MALE_BREAST = ("gynecomastia", "male breast")
_BREAST_STEMS = ("breast", "mammo", "mastectom", "lumpectom")
_ANATOMY = {"male": _MALE_ANATOMY, "female": _FEMALE_ANATOMY}
_OTHER = {"male": "female", "female": "male"}
_PRONOUNS = {
    "male": re.compile(whole_words("he", "his", "him", "himself")),
    "female": re.compile(whole_words("she", "her", "hers", "herself")),
}


# the codes a patient's sex arrives in: FHIR AdministrativeGender (male, female), HL7 v2 PID-8
# and DICOM PatientSex (M, F; O, U, A and N say nothing about anatomy)
_SEX_CODES = {"male": "male", "m": "male", "female": "female", "f": "female"}


def normalise_sex(value: object) -> str | None:
    """``male`` or ``female`` for the codes that say so; None for any other value."""
    if not isinstance(value, str):
        return None
    return _SEX_CODES.get(value.strip().lower())


def patient_sex(view: ReportView) -> tuple[str | None, Evidence | None]:
    """The patient's sex and, when it came from the images, the header evidence."""
    sex = normalise_sex(view.item.patient_sex)
    if sex is not None:
        return sex, None
    from_header = header_sex(view)
    if from_header is None:
        return None, None
    return from_header, tag_evidence("PatientSex", "M" if from_header == "male" else "F")


def _spans(matches: Iterable[re.Match[str]]) -> list[tuple[int, int]]:
    return [m.span() for m in matches]


def _other_sex_words(text: str, lower: str, other: str) -> list[tuple[int, int]]:
    """Where the text names anatomy or describes a person of the ``other`` sex (``lower`` is
    the lowered text, whose offsets are the text's)."""
    hits: list[tuple[int, int]] = []
    if any(stem in lower for stem in _STEMS[other]):
        hits += _spans(_ANATOMY[other].finditer(lower))
    for m in _PERSON[other].finditer(lower):
        before = _PERSON_BEFORE.search(text, max(0, m.start() - 24), m.start())
        if before is not None:
            hits.append((before.start(), m.end()))
    return sorted(hits)


def check_sex_specific_terms(view: ReportView) -> list[Finding]:
    sex, header = patient_sex(view)
    if sex is None:
        return []
    text = view.text
    other = _OTHER[sex]
    lower = lowered(view)
    hits = _other_sex_words(text, lower, other)
    hits += _spans(_TITLES[sex].finditer(text))
    confidence = 0.85 if header is None else 0.8
    if (
        not hits
        and sex == "male"
        and any(stem in lower for stem in _BREAST_STEMS)
        and not any(words in lower for words in _MALE_BREAST)
    ):
        hits = _spans(_MOSTLY_FEMALE.finditer(lower))
        confidence = 0.6
    if not hits and not _PRONOUNS[sex].search(lower):
        # only the other sex's pronouns: weaker, a history may speak of a relative
        hits = _spans(_PRONOUNS[other].finditer(lower))
        confidence = 0.6
    if not hits:
        return []
    evidence = [text_evidence(view.section_at(a), text, a, b) for a, b in hits[:5]]
    source = "the image header (PatientSex)" if header else "the patient record"
    if header:
        evidence.append(header)
    words = ", ".join(sorted({text[a:b].lower() for a, b in hits[:5]}))
    message = (
        f"The report uses {other}-specific wording ({words}) but the patient is {sex} "
        f"according to {source}; check the patient and the text."
    )
    return [finding(CODE, Severity.MAJOR, message, evidence, confidence)]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_sex_specific_terms,)
