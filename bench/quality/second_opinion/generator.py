"""Second-opinion error generator: realistic errors of the 8 report codes in real CXR reports.

Written from the published error classes, not from radqc's detectors or its first benchmark:

- ReXErr (Rao et al. 2024, PSB 2025): false prediction, false negation, add contradiction,
  change severity, change location, change measurement, change to homophone, add typo, add
  repetitions, change device / position.
- Gertz et al. 2024 (Radiology, "GPT-4 for error detection in radiology reports"): omission,
  insertion, spelling, side confusion, "other" (inconsistencies, wrong sex, wrong exam).
- Speech-recognition error studies (Quint et al. 2008; Ringler et al. 2017):
  wrong-word / sound-alike substitutions, intrusions (dictation commands transcribed literally),
  omissions, word-boundary errors, unit errors (mm vs cm), laterality errors.

Every error case is one base report with exactly one error of one code and one kind; a clean
case is the base unchanged. Each kind has several phrasings, placed at varied positions.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

CODES = (
    "report.laterality",
    "report.sex",
    "report.inconsistency",
    "report.omission",
    "report.measurement",
    "report.typo",
    "report.exam_mismatch",
    "report.terminology",
)


# --------------------------------------------------------------------------- reports and bases


@dataclass(frozen=True)
class Report:
    """A report as the RIS would send it: text sections plus order and patient facts."""

    exam_line: str
    indication: str
    comparison: str
    findings: str | None
    impression: str | None
    exam_code: str
    exam_display: str
    patient_sex: str
    style: int = 0  # 0: "FINDINGS: text"; 1: header on its own line
    empty_impression_header: bool = False

    def text(self) -> str:
        sep = " " if self.style == 0 else "\n"
        parts = []
        if self.exam_line:
            parts.append(f"EXAMINATION:{sep}{self.exam_line}")
        if self.indication:
            parts.append(f"INDICATION:{sep}{self.indication}")
        if self.comparison:
            parts.append(f"COMPARISON:{sep}{self.comparison}")
        if self.findings is not None:
            parts.append(f"FINDINGS:{sep}{self.findings}")
        if self.impression is not None:
            parts.append(f"IMPRESSION:{sep}{self.impression}")
        elif self.empty_impression_header:
            parts.append("IMPRESSION:")
        return "\n\n".join(parts) if self.style == 1 else "\n".join(parts)


@dataclass(frozen=True)
class Base:
    base_id: str
    source: str
    report: Report
    sex_from_text: str | None  # what the base's own words say, else None


@dataclass(frozen=True)
class Case:
    case_id: str
    base_id: str
    code: str | None  # None: clean
    kind: str
    report: Report
    evidence: str = ""

    def payload(self) -> dict[str, str | None]:
        r = self.report
        return {
            "id": self.case_id,
            "text": r.text(),
            "patient_sex": r.patient_sex,
            "exam_code": r.exam_code,
            "exam_display": r.exam_display,
        }


def stable(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"so:{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(base_id: str, seed: int) -> str:
    return "test" if stable(base_id, seed) < 0.5 else "dev"


_FEMALE = re.compile(
    r"\b(woman|women|female|lady|she|her|hers|girl|mrs|ms|breasts?|mastectomy|lumpectomy"
    r"|ovar\w*|uter\w*|hysterectomy|pregnan\w*|gyn\w*|endometri\w*)\b",
    re.I,
)
_MALE = re.compile(
    r"\b(man|men|male|gentleman|he|his|him|boy|mr|prostat\w*|testi\w*|seminoma|scrot\w*)\b", re.I
)


def sex_in_words(text: str) -> str | None:
    f, m = bool(_FEMALE.search(text)), bool(_MALE.search(text))
    if f and m:
        return "both"
    return "female" if f else "male" if m else None


_TWO_VIEWS = re.compile(
    r"\b(2|two)\s*v|pa and lat|frontal and lat|frontal/lat|pa/lat|and lateral", re.I
)
_ONE_VIEW = re.compile(r"\b(1|one|single)\s*v|portable|\bap\b|frontal view of the chest", re.I)

CHEST_2V = [
    ("XRCH2V", "XR Chest 2 Views"),
    ("XRCHPAL", "XR Chest PA and Lateral"),
    ("RAD0071", "Chest X-ray, PA & lateral"),
]
CHEST_1V = [("XRCH1V", "XR Chest 1 View"), ("XRCHPORT", "XR Chest Portable AP")]
CHEST_ANY = [("XRCH", "XR Chest"), ("RAD0070", "Radiograph chest")]


def _order_for(exam_line: str, key: str) -> tuple[str, str]:
    if _TWO_VIEWS.search(exam_line):
        pool = CHEST_2V
    elif _ONE_VIEW.search(exam_line):
        pool = CHEST_1V
    else:
        pool = CHEST_ANY
    return pool[int(stable(key, 11) * len(pool))]


def load_iu(path: Path, source: str = "iu-even") -> list[Base]:
    """IU reports with findings and impression, as bases (sex from their words, else drawn)."""
    bases = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            findings, impression = row["findings"].strip(), row["impression"].strip()
            if not findings or not impression:
                continue
            words = " ".join([row["indication"], findings, impression])
            said = sex_in_words(words)
            if said == "both":
                continue
            bid = f"{source}-{row['uid']}"
            sex = said or ("female" if stable(bid, 5) < 0.5 else "male")
            exam_line = row.get("image", "").strip() or "Chest radiograph"
            code, display = _order_for(exam_line, bid)
            rep = Report(
                exam_line=exam_line,
                indication=row["indication"].strip(),
                comparison=row["comparison"].strip(),
                findings=findings,
                impression=impression,
                exam_code=code,
                exam_display=display,
                patient_sex=sex,
                style=int(stable(bid, 13) < 0.5),
            )
            bases.append(Base(bid, source, rep, said))
    return bases


# --------------------------------------------------------------------------- text helpers

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text.strip()) if s]


def join(sents: list[str]) -> str:
    return " ".join(s.strip() for s in sents if s.strip())


def insert_sentence(text: str, new: str, rng: random.Random) -> tuple[str, str]:
    """Insert ``new`` at a random sentence boundary; returns text and the position used."""
    sents = sentences(text)
    i = rng.randint(0, len(sents))
    where = "start" if i == 0 else "end" if i == len(sents) else "middle"
    return join([*sents[:i], new, *sents[i:]]), where


NEGATION = re.compile(
    r"\b(no|not|without|negative for|free of|resolved|clear of|absence of|nor)\b", re.I
)

# concepts: how the base may mention them (to avoid contradicting the base by accident)
_CLEAR = r"|\bclear\b|pleural spaces?"
CONCEPT_WORDS = {
    "effusion": r"effusion|costophrenic|pleural fluid|pleural spaces?",
    "pneumothorax": r"pneumothora|pleural line|pleural air|pleural spaces?",
    "consolidation": r"consolidat|airspace|air space|air-space|pneumonia|opacit|infiltrat"
    r"|density|densities" + _CLEAR,
    "atelectasis": r"atelecta|collapse|volume loss" + _CLEAR,
    "nodule": r"nodul|mass|lesion|granuloma|tumou?r|neoplas|cancer|carcinoma" + _CLEAR,
    "fracture": r"fractur|rib",
    "edema": r"edema|congestion|vascular|failure|chf",
    "cardiomegaly": r"cardiomegaly|heart|cardiac|cardiomediastinal",
}


# words that state a concept as present (``asserts``); neutral words such as "heart size" excluded
ASSERT_WORDS = {
    **CONCEPT_WORDS,
    "effusion": r"effusion",
    "pneumothorax": r"pneumothora",
    "consolidation": r"consolidat|airspace (disease|opacit)|pneumonia|infiltrat",
    "atelectasis": r"atelecta|collapse",
    "nodule": r"nodul|mass\b",
    "edema": r"edema|congestion|kerley",
    "cardiomegaly": r"cardiomegaly|heart is (mildly |moderately |markedly |severely )?enlarged"
    r"|enlarged heart|cardiac enlargement|enlarged cardiac",
}


def mentions(text: str, concept: str) -> bool:
    return re.search(CONCEPT_WORDS[concept], text, re.I) is not None


def negates(text: str, concept: str) -> bool:
    """Some sentence of ``text`` denies the concept (a negation cue before its word)."""
    for s in sentences(text):
        m = re.search(CONCEPT_WORDS[concept], s, re.I)
        if m and NEGATION.search(s[: m.start()]):
            return True
    return False


def asserts(text: str, concept: str) -> bool:
    for s in sentences(text):
        m = re.search(ASSERT_WORDS[concept], s, re.I)
        if m and not NEGATION.search(s):
            return True
    return False


def whole(rep: Report) -> str:
    return " ".join(x for x in [rep.indication, rep.findings or "", rep.impression or ""])


_NORMAL_IMPRESSION = re.compile(
    r"^\s*(1\.\s*)?(no acute|no active|normal|negative|no evidence of acute|no radiographic"
    r"|no significant|unremarkable|clear lungs|no acute)",
    re.I,
)


def normal_impression(imp: str) -> bool:
    return bool(_NORMAL_IMPRESSION.match(imp)) and len(imp) < 140


SIDES = ("left", "right")


def other(side: str) -> str:
    return "right" if side == "left" else "left"


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def flip_sides(s: str) -> str:
    def sub(m: re.Match[str]) -> str:
        w = m.group(0)
        o = other(w.lower())
        return o.upper() if w.isupper() else cap(o) if w[0].isupper() else o

    return re.sub(r"\b(left|right)\b", sub, s, flags=re.I)


# A new finding, phrased in findings style and in impression style; {s}: side, {S}: Side.
FIND = {
    "effusion": (
        [
            "There is a small {s} pleural effusion.",
            "Small {s} pleural effusion is present.",
            "Blunting of the {s} costophrenic angle consistent with a small pleural effusion.",
            "A {s}-sided pleural effusion layers posteriorly on the lateral view.",
        ],
        ["Small {s} pleural effusion.", "{S} pleural effusion.", "Small {s} effusion, new."],
    ),
    "pneumothorax": (
        [
            "There is a small {s} apical pneumothorax.",
            "A thin visceral pleural line is seen at the {s} apex, compatible with pneumothorax.",
            "Small {s} pneumothorax without mediastinal shift.",
        ],
        [
            "Small {s} apical pneumothorax.",
            "{S} pneumothorax.",
            "Small {s}-sided pneumothorax; clinical team notified.",
        ],
    ),
    "consolidation": (
        [
            "There is patchy airspace opacity in the {s} lower lobe.",
            "Focal consolidation is present at the {s} lung base.",
            "Ill-defined opacity in the {s} lower lobe, new from prior.",
        ],
        [
            "{S} lower lobe pneumonia.",
            "{S} basilar airspace disease, likely pneumonia.",
            "Consolidation in the {s} lower lobe concerning for infection.",
        ],
    ),
    "atelectasis": (
        [
            "Linear atelectasis at the {s} base.",
            "There is subsegmental atelectasis in the {s} lower lobe.",
            "Platelike opacity in the {s} mid lung, most likely atelectasis.",
        ],
        ["{S} basilar atelectasis.", "Subsegmental atelectasis in the {s} lower lobe."],
    ),
}
NEG_IMP = {
    "effusion": [
        "No pleural effusion.",
        "No evidence of pleural effusion.",
        "Costophrenic angles are clear; no effusion.",
    ],
    "pneumothorax": [
        "No pneumothorax.",
        "No evidence of pneumothorax.",
        "No pneumothorax is identified.",
    ],
    "consolidation": [
        "No focal consolidation.",
        "Lungs are clear without consolidation or pneumonia.",
        "No evidence of pneumonia.",
    ],
    "atelectasis": ["No atelectasis.", "Lungs are well expanded without atelectasis."],
}
NO_ACUTE = [
    "No acute cardiopulmonary process.",
    "No acute cardiopulmonary abnormality.",
    "No acute intrathoracic findings.",
    "Negative chest radiograph.",
    "No acute disease.",
]


def fill(t: str, side: str) -> str:
    return t.replace("{s}", side).replace("{S}", cap(side))


def new_concept(rep: Report, rng: random.Random, pool: tuple[str, ...] = tuple(FIND)) -> str | None:
    """A concept the base never mentions, so inserting it contradicts nothing in the base."""
    text = whole(rep)
    options = [c for c in pool if not mentions(text, c)]
    return rng.choice(options) if options else None


def set_impression(rep: Report, new: str, rng: random.Random) -> Report:
    """Put a new impression statement: replace a normal impression, else add to it."""
    imp = rep.impression or ""
    if normal_impression(imp):
        return replace(rep, impression=new)
    sents = sentences(imp)
    i = rng.randint(0, len(sents))
    return replace(rep, impression=join([*sents[:i], new, *sents[i:]]))


Result = tuple[Report, str] | None
Injector = Callable[[Report, random.Random, Base], Result]

# --------------------------------------------------------------------------- laterality


def lat_flip_one_section(rep: Report, rng: random.Random, base: Base) -> Result:
    """A sided finding stated in both sections; the side flipped in one of them only."""
    fs, ims = sentences(rep.findings or ""), sentences(rep.impression or "")
    pairs = []
    for i, s in enumerate(ims):
        sides = {w.lower() for w in re.findall(r"\b(left|right)\b", s, re.I)}
        if len(sides) != 1:
            continue
        side = sides.pop()
        words = {w.lower() for w in re.findall(r"[a-z]{5,}", s, re.I)} - {
            "right",
            "left",
            "there",
            "which",
            "lobe",
            "lung",
            "lungs",
            "small",
            "with",
            "again",
        }
        for j, f in enumerate(fs):
            fsides = {w.lower() for w in re.findall(r"\b(left|right)\b", f, re.I)}
            fwords = {w.lower() for w in re.findall(r"[a-z]{5,}", f, re.I)}
            if fsides == {side} and words & fwords:
                pairs.append((i, j))
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    if rng.random() < 0.5:
        ims[i]
        ims[i] = flip_sides(ims[i])
        return replace(rep, impression=join(ims)), f"IMPRESSION: {ims[i]} (findings: {fs[j]})"
    fs[j] = flip_sides(fs[j])
    return replace(rep, findings=join(fs)), f"FINDINGS: {fs[j]} (impression: {ims[i]})"


def lat_pair_opposite(rep: Report, rng: random.Random, base: Base) -> Result:
    """A new sided finding: one side in the findings, the other in the impression."""
    c = new_concept(rep, rng)
    if c is None:
        return None
    side = rng.choice(SIDES)
    f = fill(rng.choice(FIND[c][0]), side)
    i = fill(rng.choice(FIND[c][1]), other(side))
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    out = set_impression(replace(rep, findings=findings), i, rng)
    return out, f"{f} / IMPRESSION: {i}"


IMPOSSIBLE = [  # minor findings, which need not reach the impression
    ("nodule", "Calcified granuloma in the left middle lobe."),
    ("atelectasis", "Minimal linear scarring or atelectasis in the left middle lobe."),
    ("atelectasis", "Mild subsegmental atelectasis in the right lingula."),
    ("atelectasis", "Discoid atelectasis in the lingula of the right lung."),
    ("effusion", "Minimal fluid in the left minor fissure."),
    ("nodule", "Stable punctate calcified granuloma in the right lingula."),
    ("atelectasis", "Platelike atelectasis in the left middle lobe."),
]
IMPOSSIBLE_IMP = [
    (
        "consolidation",
        "Left middle lobe pneumonia.",
        "Patchy airspace opacity projects over the left heart border.",
    ),
    (
        "atelectasis",
        "Right lingular atelectasis.",
        "Linear opacity obscures the right heart border.",
    ),
]


def lat_impossible_anatomy(rep: Report, rng: random.Random, base: Base) -> Result:
    """A side that the structure does not have (left middle lobe, right lingula...)."""
    text = whole(rep)
    if rng.random() < 0.25:  # in the impression, over a finding described without the lobe
        opts = [(t, f) for c, t, f in IMPOSSIBLE_IMP if not mentions(text, c)]
        if not opts:
            return None
        t, f = rng.choice(opts)
        findings, _ = insert_sentence(rep.findings or "", f, rng)
        return set_impression(replace(rep, findings=findings), t, rng), f"{f} / IMPRESSION: {t}"
    opts = [t for c, t in IMPOSSIBLE if not mentions(text, c)]
    if not opts:
        return None
    t = rng.choice(opts)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return replace(rep, findings=findings), t


WITHIN = [
    (
        "effusion",
        "Blunting of the {s} costophrenic angle consistent with a small {o} pleural effusion.",
    ),
    ("consolidation", "Airspace opacity at the {s} base silhouettes the {o} hemidiaphragm."),
    ("consolidation", "{S} lower lobe consolidation obscuring the {o} heart border."),
    ("pneumothorax", "{S} apical pneumothorax, with the pleural line best seen at the {o} apex."),
    (
        "effusion",
        "Small {s} pleural effusion, meniscus seen at the {o} lateral costophrenic sulcus.",
    ),
]


WITHIN_IMP = {
    "effusion": "Small {s} pleural effusion.",
    "consolidation": "{S} lower lobe airspace disease, likely pneumonia.",
    "pneumothorax": "Small {s} apical pneumothorax.",
}
WITHIN_MINOR = [
    "Healed fracture of the {s} posterior sixth rib, projecting over the {o} hemithorax.",
    "{S} subclavian approach port, reservoir in the {o} chest wall, tip in the SVC.",
    "Old deformity of the {s} clavicle, consistent with a healed {o} clavicular fracture.",
]


def lat_within_statement(rep: Report, rng: random.Random, base: Base) -> Result:
    """One statement naming both sides for the same finding (restated on its first side in the
    impression when the finding would belong there, so that nothing else is missing)."""
    text = whole(rep)
    side = rng.choice(SIDES)
    if rng.random() < 0.35:
        if mentions(text, "fracture") or re.search(r"port|clavic", text, re.I):
            return None
        t = fill(rng.choice(WITHIN_MINOR).replace("{o}", other(side)), side)
        findings, _ = insert_sentence(rep.findings or "", t, rng)
        return replace(rep, findings=findings), t
    opts = [(c, t) for c, t in WITHIN if not mentions(text, c)]
    if not opts:
        return None
    c, t = rng.choice(opts)
    t = fill(t.replace("{o}", other(side)), side)
    i = fill(WITHIN_IMP[c], side)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return set_impression(replace(rep, findings=findings), i, rng), f"{t} / IMPRESSION: {i}"


EXAM_SIDED = [
    ("XRCHRIBL", "XR Chest PA and Ribs Left", "XRCHRIBR", "XR Chest PA and Ribs Right"),
    (
        "XRRIBL3",
        "XR Ribs Left 3 Views with PA chest",
        "XRRIBR3",
        "XR Ribs Right 3 Views with PA chest",
    ),
]
RIB_TEXT = [
    "Dedicated {s} rib views demonstrate no displaced rib fracture.",
    "No acute fracture of the {s} ribs is identified on the oblique views.",
    "Marker over the site of pain on the {s} lateral chest wall; no underlying rib fracture.",
]


def lat_exam_side(rep: Report, rng: random.Random, base: Base) -> Result:
    """The order names one side, the text examines the other."""
    if mentions(whole(rep), "fracture"):
        return None
    side = rng.choice(SIDES)
    lcode, ldisp, rcode, rdisp = rng.choice(EXAM_SIDED)
    code, disp = (lcode, ldisp) if side == "left" else (rcode, rdisp)
    t = fill(rng.choice(RIB_TEXT), other(side))
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    out = replace(rep, findings=findings, exam_code=code, exam_display=disp, exam_line=disp)
    return out, f"order {disp}; {t}"


# --------------------------------------------------------------------------- sex

FEMALE_FINDINGS = [
    "Bilateral breast implants are noted.",
    "Surgical clips in the left breast and axilla from prior lumpectomy.",
    "Postsurgical changes of right mastectomy.",
    "Overlying breast shadows partially obscure the lung bases.",
    "Left breast tissue expander is in place.",
]
FEMALE_HISTORY = [
    "History of left breast cancer, status post mastectomy.",
    "Ovarian cancer, evaluate for metastases.",
    "Pregnant, 24 weeks, shortness of breath.",
    "Status post hysterectomy, preoperative evaluation.",
]
MALE_FINDINGS = [
    "No suspicious osseous lesion in this patient with a history of prostate cancer.",
    "No mediastinal adenopathy in this patient with treated testicular seminoma.",
]
MALE_HISTORY = [
    "History of prostate cancer.",
    "Metastatic prostate carcinoma, restaging.",
    "Testicular cancer, evaluate for lung metastases.",
    "Preoperative for transurethral resection of the prostate.",
]


def _needs_sex(base: Base, sex: str) -> bool:
    """The base may carry a case whose patient is ``sex`` (its words say nothing else)."""
    return base.sex_from_text in (None, sex)


def _add_history(rep: Report, hist: str, rng: random.Random) -> Report:
    ind = rep.indication
    if not ind or ind.lower().startswith("none") or rng.random() < 0.4:
        return replace(rep, indication=hist)
    return replace(rep, indication=f"{ind.rstrip('.')}. {hist}")


def sex_female_anatomy(rep: Report, rng: random.Random, base: Base) -> Result:
    """Female-only anatomy or history for a male patient."""
    if not _needs_sex(base, "male"):
        return None
    rep = replace(rep, patient_sex="male")
    if rng.random() < 0.6:
        t = rng.choice(FEMALE_FINDINGS)
        findings, _ = insert_sentence(rep.findings or "", t, rng)
        return replace(rep, findings=findings), t
    t = rng.choice(FEMALE_HISTORY)
    return _add_history(rep, t, rng), f"INDICATION: {t}"


def sex_male_anatomy(rep: Report, rng: random.Random, base: Base) -> Result:
    """Male-only anatomy or history for a female patient."""
    if not _needs_sex(base, "female"):
        return None
    rep = replace(rep, patient_sex="female")
    if rng.random() < 0.35:
        t = rng.choice(MALE_FINDINGS)
        findings, _ = insert_sentence(rep.findings or "", t, rng)
        return replace(rep, findings=findings), t
    t = rng.choice(MALE_HISTORY)
    return _add_history(rep, t, rng), f"INDICATION: {t}"


WORDS = {
    "male": [
        "{a}-year-old man with {c}",
        "{a}-year-old male, {c}",
        "Elderly gentleman with {c}",
        "Mr. XXXX presents with {c}",
    ],
    "female": [
        "{a}-year-old woman with {c}",
        "{a}-year-old female, {c}",
        "Elderly lady with {c}",
        "Mrs. XXXX presents with {c}",
    ],
}
COMPLAINTS = [
    "cough",
    "chest pain",
    "shortness of breath",
    "fever",
    "dyspnea on exertion",
    "preoperative evaluation",
]


def _reason(rep: Report, rng: random.Random) -> str:
    ind = re.sub(r"(?i)\bx+-year-old\s+\w+(\s+with)?,?", "", rep.indication).strip(" .,")
    if (
        not ind
        or ind.lower().startswith("none")
        or len(ind) > 60
        or "XX" in ind
        or sex_in_words(ind)
    ):
        return rng.choice(COMPLAINTS)
    return ind[0].lower() + ind[1:] if ind[:2].isupper() is False else ind


def sex_words(rep: Report, rng: random.Random, base: Base) -> Result:
    """Words of the other sex about the patient (woman, gentleman, Mr./Mrs.)."""
    patient = rng.choice(["male", "female"])
    if not _needs_sex(base, patient):
        patient = base.sex_from_text or patient
    wrong = "female" if patient == "male" else "male"
    t = rng.choice(WORDS[wrong]).format(a=rng.randint(24, 88), c=_reason(rep, rng)) + "."
    t = cap(t)
    return replace(rep, patient_sex=patient, indication=t), f"INDICATION: {t} (patient {patient})"


PRONOUN = {
    "male": [
        "The patient was unable to raise his arms for the lateral view.",
        "Compared with his prior study, there is no significant change.",
        "Per the referring clinician, he has had fever for three days.",
    ],
    "female": [
        "The patient was unable to raise her arms for the lateral view.",
        "Compared with her prior study, there is no significant change.",
        "Per the referring clinician, she has had fever for three days.",
    ],
}


def sex_pronoun(rep: Report, rng: random.Random, base: Base) -> Result:
    """A pronoun of the other sex in the narrative."""
    patient = rng.choice(["male", "female"])
    if not _needs_sex(base, patient):
        patient = base.sex_from_text or patient
    wrong = "female" if patient == "male" else "male"
    t = rng.choice(PRONOUN[wrong])
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return replace(rep, patient_sex=patient, findings=findings), f"{t} (patient {patient})"


# --------------------------------------------------------------------------- inconsistency


def inc_finding_denied_in_impression(rep: Report, rng: random.Random, base: Base) -> Result:
    """A new finding in the findings; the impression denies it."""
    c = new_concept(rep, rng)
    if c is None:
        return None
    f = fill(rng.choice(FIND[c][0]), rng.choice(SIDES))
    n = rng.choice(NEG_IMP[c])
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    imp_s = sentences(rep.impression or "")
    i = rng.randint(0, len(imp_s))
    imp = join([*imp_s[:i], n, *imp_s[i:]])
    return replace(rep, findings=findings, impression=imp), f"{f} / IMPRESSION: {n}"


BASE_NEGATIONS = {
    "cardiomegaly": ["Normal heart size.", "Heart size is normal.", "No cardiomegaly."],
    "effusion": ["No pleural effusion.", "No effusion."],
    "atelectasis": ["No atelectasis."],
    "consolidation": ["Lungs are clear.", "No focal airspace disease."],
    "edema": ["No pulmonary edema.", "No vascular congestion."],
}


def inc_impression_negates_base(rep: Report, rng: random.Random, base: Base) -> Result:
    """The base's own positive finding, restated as absent in the impression."""
    fs = rep.findings or ""
    opts = []
    for c in BASE_NEGATIONS:
        if asserts(fs, c) and not negates(fs, c) and asserts(rep.impression or "", c):
            opts.append(c)
    if not opts:
        return None
    c = rng.choice(opts)
    ims = sentences(rep.impression or "")
    idx = [
        k
        for k, s in enumerate(ims)
        if re.search(ASSERT_WORDS[c], s, re.I) and not NEGATION.search(s)
    ]
    k = rng.choice(idx)
    new = rng.choice(BASE_NEGATIONS[c])
    old = ims[k]
    ims[k] = new
    if len(ims) == 1 and rng.random() < 0.5:
        ims.append(rng.choice(["No acute cardiopulmonary process.", "Otherwise negative."]))
    return replace(rep, impression=join(ims)), f"IMPRESSION: {new} (was: {old})"


ASSERT_IMP = {
    "effusion": ["Small {s} pleural effusion.", "Moderate {s} pleural effusion."],
    "pneumothorax": ["Small {s} pneumothorax.", "{S} apical pneumothorax."],
    "consolidation": ["{S} lower lobe pneumonia.", "Focal {s} basilar consolidation."],
    "edema": ["Mild pulmonary edema.", "Interstitial edema, likely fluid overload."],
}


def inc_denied_in_findings(rep: Report, rng: random.Random, base: Base) -> Result:
    """The findings deny a finding (the base's own words); the impression states it."""
    fs = rep.findings or ""
    opts = [c for c in ASSERT_IMP if negates(fs, c) and not asserts(whole(rep), c)]
    if not opts:
        return None
    c = rng.choice(opts)
    t = fill(rng.choice(ASSERT_IMP[c]), rng.choice(SIDES))
    return set_impression(rep, t, rng), f"IMPRESSION: {t} (findings deny {c})"


ACUTE = [
    (
        "pneumothorax",
        "There is a moderate right pneumothorax with partial collapse of the right upper lobe.",
    ),
    ("pneumothorax", "Small left apical pneumothorax is present."),
    ("consolidation", "Dense consolidation fills the right lower lobe with air bronchograms."),
    ("consolidation", "New patchy airspace opacities in the left lower lobe."),
    (
        "edema",
        "Diffuse interstitial and alveolar opacities with Kerley B lines, consistent with edema.",
    ),
    ("fracture", "Acute displaced fractures of the left sixth and seventh ribs."),
    ("effusion", "Large right pleural effusion with compressive atelectasis."),
]


def inc_no_acute_over_acute(rep: Report, rng: random.Random, base: Base) -> Result:
    """An acute finding in the findings under a 'no acute abnormality' impression."""
    text = whole(rep)
    opts = [t for c, t in ACUTE if not mentions(text, c)]
    if not opts:
        return None
    t = rng.choice(opts)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    imp = rep.impression or ""
    if not (normal_impression(imp) and re.search(r"acute|normal|negative", imp, re.I)):
        imp = rng.choice(NO_ACUTE)
    return replace(rep, findings=findings, impression=imp), f"{t} / IMPRESSION: {imp}"


SEVERITY_PAIRS = [
    ("effusion", "There is a large {s} pleural effusion.", "Small {s} pleural effusion."),
    ("effusion", "Trace {s} pleural effusion.", "Large {s} pleural effusion."),
    (
        "pneumothorax",
        "Large {s} pneumothorax with mediastinal shift to the {o}.",
        "Tiny {s} apical pneumothorax.",
    ),
    ("cardiomegaly", "The heart is severely enlarged.", "Mild cardiomegaly."),
    ("edema", "Mild interstitial edema.", "Severe pulmonary edema."),
    ("atelectasis", "Minimal {s} basilar atelectasis.", "Extensive {s} lower lobe collapse."),
]


def inc_severity(rep: Report, rng: random.Random, base: Base) -> Result:
    """The same finding graded differently in findings and impression."""
    text = whole(rep)
    opts = [p for p in SEVERITY_PAIRS if not mentions(text, p[0])]
    if not opts:
        return None
    _, f, i = rng.choice(opts)
    side = rng.choice(SIDES)
    f, i = (fill(x.replace("{o}", other(side)), side) for x in (f, i))
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    return set_impression(replace(rep, findings=findings), i, rng), f"{f} / IMPRESSION: {i}"


LOBE_PAIRS = [
    ("consolidation", "Focal consolidation in the {s} lower lobe.", "{S} upper lobe pneumonia."),
    (
        "nodule",
        "A 9 mm nodule projects over the {s} upper lobe.",
        "9 mm {s} lower lobe nodule; CT recommended.",
    ),
    ("atelectasis", "Atelectasis in the {s} upper lobe.", "{S} lower lobe atelectasis."),
    (
        "consolidation",
        "Patchy opacity in the {s} middle lung zone.",
        "{S} apical opacity, possibly infectious.",
    ),
]


def inc_location(rep: Report, rng: random.Random, base: Base) -> Result:
    """The same finding placed in different lobes in findings and impression (same side)."""
    text = whole(rep)
    opts = [p for p in LOBE_PAIRS if not mentions(text, p[0])]
    if not opts:
        return None
    _, f, i = rng.choice(opts)
    side = rng.choice(SIDES)
    if rng.random() < 0.5:  # upper and lower the other way round
        f, i = (
            x.replace("upper", "@").replace("lower", "upper").replace("@", "lower") for x in (f, i)
        )
    f, i = fill(f, side), fill(i, side)
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    return set_impression(replace(rep, findings=findings), i, rng), f"{f} / IMPRESSION: {i}"


WITHIN_FINDINGS = {
    "pneumothorax": ["Small {s} apical pneumothorax.", "There is a tiny {s} pneumothorax."],
    "effusion": [
        "Small {s} pleural effusion.",
        "Minimal blunting of the {s} costophrenic angle from a small effusion.",
    ],
    "consolidation": [
        "Patchy {s} basilar airspace opacity.",
        "Focal consolidation in the {s} lower lobe.",
    ],
}


def inc_within_findings(rep: Report, rng: random.Random, base: Base) -> Result:
    """The findings describe a finding (the base's own) and deny it in another sentence."""
    fs = rep.findings or ""
    opts = [c for c in BASE_NEGATIONS if asserts(fs, c) and not negates(fs, c)]
    if not opts:
        return None
    c = rng.choice(opts)
    t = rng.choice(BASE_NEGATIONS[c])
    findings, _ = insert_sentence(fs, t, rng)
    return replace(rep, findings=findings), f"{t} (findings also state {c})"


# --------------------------------------------------------------------------- omission


def om_impression_missing(rep: Report, rng: random.Random, base: Base) -> Result:
    """No impression: the section dropped, or its header left empty."""
    empty = rng.random() < 0.5
    return replace(rep, impression=None, empty_impression_header=empty), (
        "IMPRESSION: (empty)" if empty else "no IMPRESSION section"
    )


def om_findings_missing(rep: Report, rng: random.Random, base: Base) -> Result:
    """No findings section: the report is the impression alone."""
    return replace(rep, findings=None), "no FINDINGS section"


def _cut(text: str, rng: random.Random) -> str | None:
    words = text.split()
    if len(words) < 5:
        return None
    k = rng.randint(2, len(words) - 2)
    cut = " ".join(words[:k]).rstrip(".,;:")
    # cut inside a sentence: the last kept word must not end one
    if words[k - 1].endswith("."):
        cut = " ".join(words[: k + 1]).rstrip(".,;:")
        if words[k].endswith(".") or k + 1 >= len(words):
            return None
    return cut


def om_truncated_impression(rep: Report, rng: random.Random, base: Base) -> Result:
    """The impression cut off mid-sentence (dictation stopped, text lost)."""
    cut = _cut(rep.impression or "", rng)
    if cut is None:
        return None
    return replace(rep, impression=cut), f"IMPRESSION: ...{cut[-50:]}"


def om_truncated_findings(rep: Report, rng: random.Random, base: Base) -> Result:
    """The findings cut off mid-sentence; the report ends there, or the impression follows."""
    cut = _cut(rep.findings or "", rng)
    if cut is None:
        return None
    if rng.random() < 0.6:
        return replace(
            rep, findings=cut, impression=None
        ), f"FINDINGS: ...{cut[-50:]} (end of report)"
    return replace(rep, findings=cut), f"FINDINGS: ...{cut[-50:]} (then impression)"


SIGNIFICANT = [
    ("nodule", "There is a 2.3 cm spiculated mass in the right upper lobe."),
    ("nodule", "A 1.4 cm nodule is present in the left mid lung."),
    ("nodule", "Lobulated right hilar mass measuring approximately 4 cm."),
    ("nodule", "Ill-defined nodular opacity in the left upper lobe, 15 mm."),
    ("fracture", "Lytic lesion in the posterior right fifth rib."),
    ("edema", "Widened mediastinum measuring 9 cm at the level of the aortic arch."),
]


def om_significant_not_in_impression(rep: Report, rng: random.Random, base: Base) -> Result:
    """A significant, non-acute finding in the findings, absent from the impression."""
    text = whole(rep)
    opts = [t for c, t in SIGNIFICANT if not mentions(text, c)]
    if not opts:
        return None
    t = rng.choice(opts)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return replace(rep, findings=findings), f"{t} / IMPRESSION: {rep.impression}"


# --------------------------------------------------------------------------- measurement

UNIT_PAIRS = [
    (
        "nodule",
        "There is a {n} mm nodule in the {s} upper lobe.",
        "{n} cm {s} upper lobe nodule, CT recommended.",
    ),
    (
        "nodule",
        "{S} lower lobe nodule measures {n} mm.",
        "{S} lower lobe pulmonary nodule measuring {n} cm.",
    ),
    ("nodule", "A {d} cm mass is seen in the {s} hilum.", "{S} hilar mass, {d} mm."),
    (
        "pneumothorax",
        "Small {s} apical pneumothorax measuring {d} cm.",
        "{S} apical pneumothorax, {d} mm.",
    ),
]
SIZE_PAIRS = [
    ("nodule", "A {x} cm nodule is noted in the {s} mid lung.", "{y} cm {s} midlung nodule."),
    ("nodule", "{S} upper lobe mass measures {x} x 2.0 cm.", "{S} upper lobe mass, {y} x 2.0 cm."),
    (
        "pneumothorax",
        "{S} apical pneumothorax with {x} cm pleural separation.",
        "{S} pneumothorax, {y} cm at the apex.",
    ),
    (
        "nodule",
        "Calcified granuloma in the {s} lower lobe, {xm} mm.",
        "{ym} mm calcified {s} lower lobe granuloma.",
    ),
]


def meas_unit_swap(rep: Report, rng: random.Random, base: Base) -> Result:
    """The same size given in mm in one section and cm in the other."""
    text = whole(rep)
    opts = [p for p in UNIT_PAIRS if not mentions(text, p[0])]
    if not opts:
        return None
    _, f, i = rng.choice(opts)
    side = rng.choice(SIDES)
    n, d = rng.randint(5, 14), f"{rng.randint(11, 39) / 10:.1f}"
    f, i = (fill(x.replace("{n}", str(n)).replace("{d}", d), side) for x in (f, i))
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    return set_impression(replace(rep, findings=findings), i, rng), f"{f} / IMPRESSION: {i}"


def _different_size(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(1, 4), rng.randint(1, 9)
    x = f"{a}.{b}"
    transposed = a != b and rng.random() < 0.6  # digits swapped in dictation, else a wrong digit
    y = f"{b}.{a}" if transposed else f"{a + rng.choice([1, 2])}.{b}"
    return x, y


def meas_size_changed(rep: Report, rng: random.Random, base: Base) -> Result:
    """A size that changes between findings and impression (transposed or wrong digits)."""
    text = whole(rep)
    opts = [p for p in SIZE_PAIRS if not mentions(text, p[0])]
    if not opts:
        return None
    _, f, i = rng.choice(opts)
    side = rng.choice(SIDES)
    x, y = _different_size(rng)
    xm = rng.randint(3, 9)
    ym = xm * 10 if rng.random() < 0.5 else xm + rng.randint(3, 6)
    rep_ = {"{x}": x, "{y}": y, "{xm}": str(xm), "{ym}": str(ym)}
    for k, v in rep_.items():
        f, i = f.replace(k, v), i.replace(k, v)
    f, i = fill(f, side), fill(i, side)
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    return set_impression(replace(rep, findings=findings), i, rng), f"{f} / IMPRESSION: {i}"


IMPOSSIBLE_SIZES = [  # (concept, findings text, values, impression restating it or None)
    (None, "The endotracheal tube tip terminates {v} cm above the carina.", (28, 45), None),
    (None, "Cardiothoracic ratio measures {v}.", ("1.6", "2.1", "3.0"), None),
    ("nodule", "A calcified granuloma in the {s} upper lobe measures {v} cm.", (25, 40), None),
    (None, "The transverse cardiac diameter is {v} cm.", (38, 60), None),
    (
        "pneumothorax",
        "{S} apical pneumothorax measuring {v} cm from the apex.",
        (35, 80),
        "Small {s} apical pneumothorax.",
    ),
    (
        "nodule",
        "A {v} mm pulmonary nodule is seen in the {s} lower lobe.",
        ("0.1", "0.2"),
        "{S} lower lobe pulmonary nodule; CT recommended.",
    ),
]


def meas_impossible(rep: Report, rng: random.Random, base: Base) -> Result:
    """A value no chest radiograph can show (tube 40 cm above carina, 0.1 mm nodule...)."""
    text = whole(rep)
    opts = [p for p in IMPOSSIBLE_SIZES if p[0] is None or not mentions(text, p[0])]
    if re.search(r"endotracheal|ett\b", text, re.I):
        opts = [p for p in opts if "endotracheal" not in p[1]]
    t, vals, imp = rng.choice(opts)[1:]
    v = str(rng.randint(*vals)) if isinstance(vals[0], int) else rng.choice(vals)
    side = rng.choice(SIDES)
    t = fill(t.replace("{v}", v), side)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    out = replace(rep, findings=findings)
    if imp is not None:
        return set_impression(out, fill(imp, side), rng), f"{t} / IMPRESSION: {fill(imp, side)}"
    return out, t


def meas_decimal_slip(rep: Report, rng: random.Random, base: Base) -> Result:
    """A decimal point lost in one section (1.8 cm in findings, 18 cm in impression)."""
    if mentions(whole(rep), "nodule"):
        return None
    side = rng.choice(SIDES)
    a, b = rng.randint(1, 3), rng.randint(1, 9)
    good, bad = f"{a}.{b}", f"{a}{b}"
    pairs = [
        ("A {g} cm nodule in the {s} upper lobe.", "{b} cm {s} upper lobe nodule."),
        ("{S} hilar lymph node measuring {g} cm.", "Enlarged {s} hilar node, {b} cm."),
        (
            "Ill-defined {s} lower lobe mass, {g} cm.",
            "{S} lower lobe mass measuring {b} cm, suspicious for malignancy.",
        ),
    ]
    f, i = rng.choice(pairs)
    f, i = (fill(x.replace("{g}", good).replace("{b}", bad), side) for x in (f, i))
    if rng.random() < 0.4:  # the slip in the findings instead
        f, i = f.replace(good, bad), i.replace(bad, good)
    findings, _ = insert_sentence(rep.findings or "", f, rng)
    return set_impression(replace(rep, findings=findings), i, rng), f"{f} / IMPRESSION: {i}"


# --------------------------------------------------------------------------- typo

# speech-recognition confusions (sound-alikes; real words or near-words), written for this
# generator from the SR literature's examples and common dictation experience
SOUND_ALIKE = {
    "pleural": ["plural"],
    "effusion": ["infusion", "fusion"],
    "effusions": ["infusions"],
    "pneumonia": ["ammonia"],
    "tortuous": ["torturous"],
    "ectatic": ["ecstatic"],
    "nodule": ["module"],
    "nodules": ["modules"],
    "lesion": ["legion"],
    "lesions": ["legions"],
    "calcified": ["classified"],
    "granuloma": ["granola"],
    "lucency": ["lunacy"],
    "focal": ["vocal"],
    "disease": ["decease"],
    "degenerative": ["regenerative"],
    "contour": ["counter"],
    "contours": ["counters"],
    "acute": ["a cute"],
    "aorta": ["aura"],
    "hilar": ["hillary"],
    "osseous": ["osseus"],
    "lungs": ["lunges"],
    "clear": ["cleared"],
    "silhouette": ["silhouetted"],
    "mediastinal": ["medial steinal"],
    "heart": ["hurt"],
    "bony": ["bonny"],
    "intact": ["in tact"],
    "size": ["sighs"],
    "pulmonary": ["pulmonic"],
    "vascularity": ["muscularity"],
    "atelectasis": ["a telectasis"],
    "scarring": ["scaring"],
    "stable": ["staple"],
    "interstitial": ["interstate"],
    "emphysema": ["emphasema"],
    "sternotomy": ["stern autonomy"],
    "chest": ["chess"],
}


def _replace_word(text: str, word: str, new: str, rng: random.Random) -> str:
    spans = [m.span() for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.I)]
    a, b = rng.choice(spans)
    old = text[a:b]
    if old[0].isupper():
        new = cap(new)
    return text[:a] + new + text[b:]


def _pick_section(rep: Report, rng: random.Random, pred: Callable[[str], bool]) -> str | None:
    opts = [s for s in ("findings", "impression") if getattr(rep, s) and pred(getattr(rep, s))]
    return rng.choice(opts) if opts else None


def typo_sound_alike(rep: Report, rng: random.Random, base: Base) -> Result:
    """A speech-recognition sound-alike substituted for a word of the base."""

    def has(t: str) -> bool:
        return any(re.search(rf"\b{w}\b", t, re.I) for w in SOUND_ALIKE)

    sec = _pick_section(rep, rng, has)
    if sec is None:
        return None
    text = getattr(rep, sec)
    words = [w for w in SOUND_ALIKE if re.search(rf"\b{w}\b", text, re.I)]
    w = rng.choice(words)
    new = rng.choice(SOUND_ALIKE[w])
    out = _replace_word(text, w, new, rng)
    return replace(rep, **{sec: out}), f"{sec}: {w} -> {new}"


KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(c: str) -> str:
    for _r, row in enumerate(KEYS):
        if c in row:
            i = row.index(c)
            near = row[max(0, i - 1) : i] + row[i + 1 : i + 2]
            return near or c
    return c


def keyboard_slip(word: str, rng: random.Random) -> str:
    i = rng.randint(1, len(word) - 2)
    op = rng.choice(["swap", "drop", "double", "near"])
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_neighbours(word[i].lower())) + word[i + 1 :]


def typo_keyboard(rep: Report, rng: random.Random, base: Base) -> Result:
    """A typing slip (transposed, dropped, doubled or neighbouring key) in a long word."""
    sec = _pick_section(rep, rng, lambda t: re.search(r"\b[a-z]{7,}\b", t) is not None)
    if sec is None:
        return None
    text = getattr(rep, sec)
    spans = list(re.finditer(r"\b[a-z]{7,}\b", text))
    m = rng.choice(spans)
    for _ in range(10):
        new = keyboard_slip(m.group(0), rng)
        if new != m.group(0) and new.lower() not in VOCAB:
            out = text[: m.start()] + new + text[m.end() :]
            return replace(rep, **{sec: out}), f"{sec}: {m.group(0)} -> {new}"
    return None


def typo_word_boundary(rep: Report, rng: random.Random, base: Base) -> Result:
    """Two words run together, or one medical word split in two."""
    sec = _pick_section(rep, rng, lambda t: len(t.split()) >= 4)
    if sec is None:
        return None
    text = getattr(rep, sec)
    if rng.random() < 0.6:
        pairs = list(re.finditer(r"\b([A-Za-z]{3,}) ([a-z]{4,})\b", text))
        if not pairs:
            return None
        m = rng.choice(pairs)
        new = m.group(1) + m.group(2)
        if new.lower() in VOCAB:
            return None
    else:
        longs = list(re.finditer(r"\b[a-z]{9,}\b", text))
        if not longs:
            return None
        m = rng.choice(longs)
        w = m.group(0)
        k = rng.randint(3, len(w) - 4)
        new = w[:k] + " " + w[k:]
        if w[:k] in VOCAB and w[k:] in VOCAB:
            return None
    out = text[: m.start()] + new + text[m.end() :]
    return replace(rep, **{sec: out}), f"{sec}: {m.group(0)} -> {new}"


COMMANDS = ["period", "comma", "new paragraph", "scratch that", "next line", "full stop"]


def typo_dictation_command(rep: Report, rng: random.Random, base: Base) -> Result:
    """A dictation command transcribed as text ('... normal in size period')."""
    sec = _pick_section(rep, rng, lambda t: len(sentences(t)) >= 1)
    text = getattr(rep, sec or "findings")
    sents = sentences(text)
    k = rng.randrange(len(sents))
    cmd = rng.choice(COMMANDS)
    s = sents[k].rstrip(".")
    if cmd == "comma":
        words = s.split()
        if len(words) < 4:
            return None
        j = rng.randint(2, len(words) - 1)
        s = " ".join([*words[:j], "comma", *words[j:]]) + "."
    else:
        s = f"{s} {cmd}."
    sents[k] = s
    return replace(rep, **{sec or "findings": join(sents)}), f"{sec}: {s}"


def typo_repeated_word(rep: Report, rng: random.Random, base: Base) -> Result:
    """A word repeated by the recogniser ('There is is no', 'the the')."""
    sec = _pick_section(
        rep, rng, lambda t: re.search(r"\b(the|is|no|of|and|are|in)\b", t) is not None
    )
    if sec is None:
        return None
    text = getattr(rep, sec)
    spans = list(re.finditer(r"\b(the|is|no|of|and|are|in)\b", text))
    m = rng.choice(spans)
    out = text[: m.end()] + " " + m.group(0) + text[m.end() :]
    lo = max(0, m.start() - 25)
    return replace(rep, **{sec: out}), f"{sec}: ...{out[lo : m.end() + len(m.group(0)) + 15]}"


# --------------------------------------------------------------------------- exam mismatch

OTHER_REGION_TEXT = [
    "Three views of the left knee demonstrate no acute fracture or joint effusion.",
    "The visualized bowel gas pattern is nonobstructive with stool throughout the colon.",
    "No acute fracture or malalignment of the cervical spine.",
    "Frontal and lateral views of the right wrist show no fracture.",
]
OTHER_REGION_EXAM = [
    "XR Abdomen 2 views",
    "XR Knee Left 3 views",
    "XR Lumbar Spine 2 views",
    "XR Pelvis AP",
]


def exam_other_region(rep: Report, rng: random.Random, base: Base) -> Result:
    """Text of another body region in a chest report (template or copy-paste from another exam)."""
    if rng.random() < 0.4:
        e = rng.choice(OTHER_REGION_EXAM)
        return replace(rep, exam_line=e), f"EXAMINATION: {e}"
    t = rng.choice(OTHER_REGION_TEXT)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return replace(rep, findings=findings), t


MODALITY_TEXT = [
    "Axial CT images of the chest were obtained without intravenous contrast.",
    "Coronal and sagittal reformatted images were reviewed.",
    "Multiplanar multisequence MR images of the thorax were obtained.",
    "Grayscale and color Doppler ultrasound images were obtained.",
    "Lung windows demonstrate no suspicious pulmonary nodule on axial images.",
]
MODALITY_EXAM = ["CT Chest without contrast", "MRI Thorax", "CT Angiogram Chest"]


def exam_modality(rep: Report, rng: random.Random, base: Base) -> Result:
    """Technique of another modality (CT, MR, US) in a radiograph report."""
    if rng.random() < 0.3:
        e = rng.choice(MODALITY_EXAM)
        return replace(rep, exam_line=e), f"EXAMINATION: {e}"
    t = rng.choice(MODALITY_TEXT)
    if rng.random() < 0.6:
        return replace(rep, findings=join([t, *sentences(rep.findings or "")])), t
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return replace(rep, findings=findings), t


CONTRAST_TEXT = [
    "Following intravenous administration of 80 mL of Omnipaque 350, images were obtained.",
    "The pulmonary arteries are well opacified without filling defect.",
    "No extravasation of oral contrast is seen.",
    "Arterial and delayed phase images demonstrate no enhancing lesion.",
    "Contrast was administered without complication.",
]


def exam_contrast(rep: Report, rng: random.Random, base: Base) -> Result:
    """Contrast or contrast phases described in a plain chest radiograph report."""
    t = rng.choice(CONTRAST_TEXT)
    findings, _ = insert_sentence(rep.findings or "", t, rng)
    return replace(rep, findings=findings), t


def exam_views(rep: Report, rng: random.Random, base: Base) -> Result:
    """The views reported differ from the views ordered."""
    if _TWO_VIEWS.search(rep.exam_line):
        code, disp = rng.choice(CHEST_1V)
        if rng.random() < 0.5:
            t = rng.choice(
                [
                    "The lateral view shows no retrocardiac opacity.",
                    "On the lateral view, the posterior costophrenic sulci are sharp.",
                ]
            )
            findings, _ = insert_sentence(rep.findings or "", t, rng)
            return replace(
                rep, findings=findings, exam_code=code, exam_display=disp
            ), f"order {disp}; {t}"
        return replace(
            rep, exam_code=code, exam_display=disp
        ), f"order {disp}; EXAMINATION: {rep.exam_line}"
    if _ONE_VIEW.search(rep.exam_line) or not _TWO_VIEWS.search(rep.exam_line):
        code, disp = rng.choice(CHEST_2V)
        e = rng.choice(["Single portable AP view of the chest.", "AP portable chest, 1 view."])
        return replace(
            rep, exam_line=e, exam_code=code, exam_display=disp
        ), f"order {disp}; EXAMINATION: {e}"
    return None


ORDER_OTHER = [
    ("XRKNEL3", "XR Knee Left 3 Views"),
    ("XRABD2", "XR Abdomen 2 Views"),
    ("CTHEADWO", "CT Head without contrast"),
    ("USABDCOMP", "US Abdomen Complete"),
    ("XRLSP2", "XR Lumbar Spine 2 Views"),
    ("MRBRWWO", "MRI Brain with and without contrast"),
]


def exam_order_other(rep: Report, rng: random.Random, base: Base) -> Result:
    """A chest report filed against an order for another exam."""
    code, disp = rng.choice(ORDER_OTHER)
    return replace(rep, exam_code=code, exam_display=disp), f"order {disp}"


# --------------------------------------------------------------------------- terminology

PLACEHOLDERS = [
    "***",
    "[ ]",
    "___",
    "<<>>",
    "[***]",
    "{finding}",
    "[LEFT/RIGHT]",
    "XX mm",
    "[insert]",
]


def term_placeholder(rep: Report, rng: random.Random, base: Base) -> Result:
    """A template field left unfilled (***, [ ], ___, [LEFT/RIGHT])."""
    how = rng.random()
    p = rng.choice(PLACEHOLDERS)
    sec = rng.choice(["findings", "impression"])
    text = getattr(rep, sec) or ""
    sents = sentences(text)
    if how < 0.4 and p != "XX mm":
        t = rng.choice(
            [f"Comparison with prior dated {p}.", f"{p}", f"Recommend follow-up in {p}."]
        )
        k = rng.randint(0, len(sents))
        sents = [*sents[:k], t, *sents[k:]]
        return replace(rep, **{sec: join(sents)}), f"{sec}: {t}"
    # replace a word of a sentence by the placeholder (a side, an adjective, a number)
    cands = list(re.finditer(r"\b(left|right|small|mild|normal|stable|clear|\d+)\b", text, re.I))
    if not cands:
        k = rng.randint(0, len(sents))
        t = f"Heart size is {p}."
        return replace(rep, **{sec: join([*sents[:k], t, *sents[k:]])}), f"{sec}: {t}"
    m = rng.choice(cands)
    out = text[: m.start()] + p + text[m.end() :]
    lo = max(0, m.start() - 25)
    return replace(rep, **{sec: out}), f"{sec}: ...{out[lo : m.start() + len(p) + 20]}"


ABBREV = [
    (r"\bbilateral\b", "b/l"),
    (r"\bwithout\b", "w/o"),
    (r"\bpneumothorax\b", "ptx"),
    (r"\bpneumonia\b", "PNA"),
    (r"\bconsistent with\b", "c/w"),
    (r"\bsecondary to\b", "2/2"),
    (r"\batelectasis\b", "atx"),
    (r"\bcardiomegaly\b", "CMG"),
    (r"\bnormal\b", "nml"),
    (r"\bno acute (cardiopulmonary )?(disease|abnormality|process)\b", "NAD"),
    (r"\beffusions?\b", "eff"),
    (r"\bapproximately\b", "approx"),
    (r"\bhistory\b", "hx"),
    (r"\bwith\b", "w/"),
    (r"\bchange\b", "chg"),
    (r"\bfracture\b", "fx"),
    (r"\bcardiopulmonary\b", "CP"),
    (r"\bunremarkable\b", "unremark."),
]


def term_abbreviation(rep: Report, rng: random.Random, base: Base) -> Result:
    """A non-standard abbreviation (b/l, w/o, ptx, c/w, NAD...) in place of the words."""
    opts = []
    for sec in ("findings", "impression"):
        t = getattr(rep, sec) or ""
        for pat, ab in ABBREV:
            for m in re.finditer(pat, t, re.I):
                opts.append((sec, m.start(), m.end(), ab))
    if not opts:
        return None
    sec, a, b, ab = rng.choice(opts)
    t = getattr(rep, sec)
    out = t[:a] + ab + t[b:]
    return replace(rep, **{sec: out}), f"{sec}: {t[a:b]} -> {ab}"


INFORMAL = [
    ("consolidation", "Lungs look OK.", "findings"),
    ("consolidation", "Heart and lungs look fine.", "impression"),
    ("nodule", "Possible coin lesion in the right mid lung.", "findings"),
    ("effusion", "No water on the lungs.", "impression"),
    ("pneumothorax", "No collapsed lung.", "impression"),
    ("consolidation", "Shadow on the left lung, ? infection.", "findings"),
]


def term_informal(rep: Report, rng: random.Random, base: Base) -> Result:
    """A lay or deprecated term instead of standard wording (collapsed lung, coin lesion)."""
    text = whole(rep)
    opts = [(t, s) for c, t, s in INFORMAL if not (mentions(text, c) and c in ("nodule",))]
    t, sec = rng.choice(opts)
    cur = getattr(rep, sec) or ""
    sents = sentences(cur)
    k = rng.randint(0, len(sents))
    return replace(rep, **{sec: join([*sents[:k], t, *sents[k:]])}), f"{sec}: {t}"


# --------------------------------------------------------------------------- registry

KINDS: dict[str, tuple[str, Injector]] = {
    "lat_flip_one_section": ("report.laterality", lat_flip_one_section),
    "lat_pair_opposite": ("report.laterality", lat_pair_opposite),
    "lat_impossible_anatomy": ("report.laterality", lat_impossible_anatomy),
    "lat_within_statement": ("report.laterality", lat_within_statement),
    "lat_exam_side": ("report.laterality", lat_exam_side),
    "sex_female_anatomy": ("report.sex", sex_female_anatomy),
    "sex_male_anatomy": ("report.sex", sex_male_anatomy),
    "sex_words": ("report.sex", sex_words),
    "sex_pronoun": ("report.sex", sex_pronoun),
    "inc_finding_denied_in_impression": ("report.inconsistency", inc_finding_denied_in_impression),
    "inc_impression_negates_base": ("report.inconsistency", inc_impression_negates_base),
    "inc_denied_in_findings": ("report.inconsistency", inc_denied_in_findings),
    "inc_no_acute_over_acute": ("report.inconsistency", inc_no_acute_over_acute),
    "inc_severity": ("report.inconsistency", inc_severity),
    "inc_location": ("report.inconsistency", inc_location),
    "inc_within_findings": ("report.inconsistency", inc_within_findings),
    "om_impression_missing": ("report.omission", om_impression_missing),
    "om_findings_missing": ("report.omission", om_findings_missing),
    "om_truncated_impression": ("report.omission", om_truncated_impression),
    "om_truncated_findings": ("report.omission", om_truncated_findings),
    "om_significant_not_in_impression": ("report.omission", om_significant_not_in_impression),
    "meas_unit_swap": ("report.measurement", meas_unit_swap),
    "meas_size_changed": ("report.measurement", meas_size_changed),
    "meas_impossible": ("report.measurement", meas_impossible),
    "meas_decimal_slip": ("report.measurement", meas_decimal_slip),
    "typo_sound_alike": ("report.typo", typo_sound_alike),
    "typo_keyboard": ("report.typo", typo_keyboard),
    "typo_word_boundary": ("report.typo", typo_word_boundary),
    "typo_dictation_command": ("report.typo", typo_dictation_command),
    "typo_repeated_word": ("report.typo", typo_repeated_word),
    "exam_other_region": ("report.exam_mismatch", exam_other_region),
    "exam_modality": ("report.exam_mismatch", exam_modality),
    "exam_contrast": ("report.exam_mismatch", exam_contrast),
    "exam_views": ("report.exam_mismatch", exam_views),
    "exam_order_other": ("report.exam_mismatch", exam_order_other),
    "term_placeholder": ("report.terminology", term_placeholder),
    "term_abbreviation": ("report.terminology", term_abbreviation),
    "term_informal": ("report.terminology", term_informal),
}

# kinds an auditor might not count as an error of that code (reported apart as a sensitivity check)
BORDERLINE = frozenset({"typo_repeated_word", "term_informal", "om_findings_missing"})

# kinds with no counterpart in the first benchmark's table of kinds (bench/quality/README.md)
NOVEL = frozenset(
    {
        "lat_within_statement",
        "inc_impression_negates_base",
        "inc_location",
        "inc_within_findings",
        "om_findings_missing",
        "meas_decimal_slip",
        "typo_word_boundary",
        "typo_dictation_command",
        "typo_repeated_word",
        "exam_other_region",
        "term_informal",
    }
)

VOCAB: frozenset[str] = frozenset()


def set_vocab(bases: list[Base]) -> None:
    """Words of all the bases: a typo must not land on a word the reports themselves use."""
    global VOCAB
    words: set[str] = set()
    for b in bases:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", whole(b.report)))
    VOCAB = frozenset(words)


def build_cases(
    bases: list[Base], per_kind: int, seed: int, kinds: list[str] | None = None
) -> list[Case]:
    """Every base clean, plus ``per_kind`` error cases per kind on bases drawn in a seeded order."""
    if not VOCAB:
        set_vocab(bases)
    cases = [Case(f"clean-{b.base_id}", b.base_id, None, "clean", b.report) for b in bases]
    for kind in kinds or list(KINDS):
        code, fn = KINDS[kind]
        order = sorted(bases, key=lambda b: stable(f"{kind}:{b.base_id}", seed))
        made = 0
        for b in order:
            if made >= per_kind:
                break
            rng = random.Random(f"{seed}:{kind}:{b.base_id}")
            out = fn(b.report, rng, b)
            if out is None:
                continue
            rep, evidence = out
            if rep == b.report:
                continue
            cases.append(Case(f"{kind}-{b.base_id}", b.base_id, code, kind, rep, evidence))
            made += 1
    return cases
