"""Known errors inserted into real reports: the cases the report-quality benchmark runs.

Base reports: Indiana University chest X-ray reports with findings and impression (exam
"XR CHEST 2 VIEWS", LOINC 36643-5) and the MTSamples CT reports (exam from the sample name).
``half`` 0 or 1 takes every other report, so thresholds tuned on one half are reported on the
other. Each error code has several surface forms; a form that does not apply to a report (no
sided finding to swap, no word to misspell) returns None and another report is drawn.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

REPORT_CODES = (
    "report.laterality",
    "report.sex",
    "report.inconsistency",
    "report.omission",
    "report.measurement",
    "report.typo",
    "report.exam_mismatch",
    "report.terminology",
)
CXR_CODE, CXR_DISPLAY = "36643-5", "XR CHEST 2 VIEWS"


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    findings: str
    impression: str
    preamble: str  # indication / comparison lines
    exam_code: str | None
    exam_display: str | None
    patient_sex: str | None
    codes: frozenset[str]
    form: str

    @property
    def text(self) -> str:
        parts = [self.preamble.strip()] if self.preamble.strip() else []
        if self.findings.strip():
            parts.append(f"FINDINGS: {self.findings.strip()}")
        if self.impression.strip():
            parts.append(f"IMPRESSION: {self.impression.strip()}")
        return "\n".join(parts)


def base_reports(data: Path, half: int) -> list[Case]:
    """Clean real reports with findings and impression, every other one from ``half``."""
    cases: list[Case] = []
    with (data / "reports/iu_openi_cxr_reports.csv").open(newline="") as handle:
        for row in list(csv.DictReader(handle))[half::2]:
            if not (row["findings"].strip() and row["impression"].strip()):
                continue
            preamble = "\n".join(
                f"{h}: {row[c].strip()}"
                for h, c in (("COMPARISON", "comparison"), ("INDICATION", "indication"))
                if row[c].strip()
            )
            cases.append(
                Case(
                    f"iu-{row['uid']}",
                    row["findings"],
                    row["impression"],
                    preamble,
                    CXR_CODE,
                    CXR_DISPLAY,
                    None,
                    frozenset(),
                    "clean",
                )
            )
    with (data / "reports/mtsamples_radiology.csv").open(newline="") as handle:
        for row in list(csv.DictReader(handle))[half::2]:
            if row["modality_guess"] != "CT" or not row["impression"].strip():
                continue
            if not row["findings"].strip():
                continue
            cases.append(
                Case(
                    f"mt-{row['note_id']}",
                    row["findings"],
                    row["impression"],
                    "",
                    None,
                    row["sample_name"][:60],
                    None,
                    frozenset(),
                    "clean",
                )
            )
    return cases


Injector = Callable[[Case, random.Random], Case | None]
_SIDES = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}


def _err(case: Case, code: str, form: str, **changes: str | None) -> Case:
    return replace(case, codes=frozenset({code}), form=form, **changes)  # type: ignore[arg-type]


def _add_finding(case: Case, sentence: str) -> str:
    return f"{case.findings.rstrip()} {sentence}"


# -- laterality ------------------------------------------------------------------------------------
def lat_pair(case: Case, rng: random.Random) -> Case | None:
    side = rng.choice(["right", "left"])
    what = rng.choice(["pleural effusion", "upper lobe consolidation", "apical pneumothorax"])
    return _err(
        case,
        "report.laterality",
        "sides differ between sections",
        findings=_add_finding(case, f"There is a small {side} {what}."),
        impression=f"Small {_SIDES[side]} {what}. {case.impression}",
    )


def lat_impossible(case: Case, rng: random.Random) -> Case | None:
    phrase = rng.choice(["left middle lobe", "right lingula"])
    return _err(
        case,
        "report.laterality",
        "impossible side",
        findings=_add_finding(case, f"Patchy opacity in the {phrase}."),
        impression=f"Patchy {phrase} opacity, possibly atelectasis. {case.impression}",
    )


def lat_swap(case: Case, rng: random.Random) -> Case | None:
    """Swap a side in the impression whose "side + next word" also stands in the findings and
    whose opposite side appears nowhere in the report."""
    for match in re.finditer(r"\b(left|right|Left|Right) (\w+)", case.impression):
        side, word = match.group(1).lower(), match.group(2)
        if re.search(rf"\b{side} {word}\b", case.findings, re.I) and not re.search(
            rf"\b{_SIDES[side]}\b", case.findings + case.impression, re.I
        ):
            swapped = (
                case.impression[: match.start(1)]
                + _SIDES[match.group(1)]
                + case.impression[match.end(1) :]
            )
            return _err(case, "report.laterality", "side swapped in impression", impression=swapped)
    return None


# -- sex -------------------------------------------------------------------------------------------
def sex_anatomy(case: Case, rng: random.Random) -> Case | None:
    female_terms = [
        "Status post hysterectomy.",
        "Surgical clips in the pelvis from prior oophorectomy.",
        "The patient is pregnant; abdomen shielded.",
    ]
    male_terms = ["Status post prostatectomy.", "History of testicular cancer."]
    if rng.random() < 0.5:
        term, sex = rng.choice(female_terms), "male"
    else:
        term, sex = rng.choice(male_terms), "female"
    return _err(
        case,
        "report.sex",
        "sex-specific history",
        patient_sex=sex,
        preamble=f"{case.preamble}\nINDICATION: {term}".strip(),
    )


def sex_wording(case: Case, rng: random.Random) -> Case | None:
    age = rng.randint(25, 85)
    word, sex = rng.choice(
        [
            ("woman", "male"),
            ("female", "male"),
            ("man", "female"),
            ("male", "female"),
            ("gentleman", "female"),
        ]
    )
    return _err(
        case,
        "report.sex",
        "patient described",
        patient_sex=sex,
        preamble=f"INDICATION: {age}-year-old {word} with cough.\n{case.preamble}".strip(),
    )


def sex_pronoun(case: Case, rng: random.Random) -> Case | None:
    sentence, sex = rng.choice(
        [
            ("Cough for two weeks; she reports fever.", "male"),
            ("He was seen for chest pain.", "female"),
            ("Shortness of breath since her surgery.", "male"),
        ]
    )
    return _err(
        case,
        "report.sex",
        "pronoun",
        patient_sex=sex,
        preamble=f"{case.preamble}\nINDICATION: {sentence}".strip(),
    )


def inc_normal_statement(case: Case, rng: random.Random) -> Case | None:
    findings, impression = rng.choice(
        [
            ("Heart size is normal.", "Cardiomegaly."),
            ("The heart is enlarged.", "Normal heart size."),
            ("The lungs are clear.", "Right lower lobe pneumonia."),
        ]
    )
    return _err(
        case,
        "report.inconsistency",
        "normal statement against a finding",
        findings=_add_finding(case, findings),
        impression=f"{impression} {case.impression}",
    )


# -- inconsistency ---------------------------------------------------------------------------------
def inc_normal(case: Case, rng: random.Random) -> Case | None:
    finding = rng.choice(
        [
            "There is a large right pneumothorax.",
            "Focal consolidation in the left lower lobe.",
            "There is a displaced fracture of the right 6th rib.",
            "Diffuse pulmonary edema.",
        ]
    )
    return _err(
        case,
        "report.inconsistency",
        "normal impression over acute finding",
        findings=_add_finding(case, finding),
        impression="No acute cardiopulmonary abnormality.",
    )


def inc_negated(case: Case, rng: random.Random) -> Case | None:
    stated, denied = rng.choice(
        [
            ("Small left pleural effusion.", "No pleural effusion."),
            ("Right upper lobe mass.", "No mass."),
            ("Small right apical pneumothorax.", "No pneumothorax."),
            ("Consolidation in the right lower lobe.", "No focal consolidation."),
        ]
    )
    return _err(
        case,
        "report.inconsistency",
        "finding negated in impression",
        findings=_add_finding(case, stated),
        impression=f"{denied} {case.impression}",
    )


# -- omission --------------------------------------------------------------------------------------
def om_drop(case: Case, rng: random.Random) -> Case | None:
    return _err(case, "report.omission", "impression dropped", impression="")


def om_cut(case: Case, rng: random.Random) -> Case | None:
    cuts = [
        m.end()
        for m in re.finditer(r"\b(?:and|or|of|with|the|in|for|without)\b|,", case.impression)
    ]
    if not cuts:
        return None
    return _err(
        case,
        "report.omission",
        "impression cut off",
        impression=case.impression[: rng.choice(cuts)],
    )


def om_finding(case: Case, rng: random.Random) -> Case | None:
    if re.search(r"\bno acute\b", case.impression, re.I):
        sentence = rng.choice(
            ["There is a 3 cm mass in the right upper lobe.", "Lobulated left hilar mass."]
        )
    else:
        sentence = rng.choice(
            [
                "There is a 3 cm mass in the right upper lobe.",
                "Moderate right pleural effusion.",
                "Small left apical pneumothorax.",
            ]
        )
    return _err(
        case,
        "report.omission",
        "finding missing from impression",
        findings=_add_finding(case, sentence),
    )


# -- measurement -----------------------------------------------------------------------------------
def meas_units(case: Case, rng: random.Random) -> Case | None:
    size = rng.choice([4, 6, 8, 9])
    return _err(
        case,
        "report.measurement",
        "mm/cm confusion",
        findings=_add_finding(case, f"There is a {size} mm nodule in the right upper lobe."),
        impression=f"{size} cm right upper lobe nodule. {case.impression}",
    )


def meas_changed(case: Case, rng: random.Random) -> Case | None:
    a, b = rng.choice([(8, 14), (12, 20), (5, 9), (15, 25)])
    return _err(
        case,
        "report.measurement",
        "size differs between sections",
        findings=_add_finding(case, f"A {a} mm nodule is seen in the left lower lobe."),
        impression=f"{b} mm left lower lobe nodule. {case.impression}",
    )


def meas_implausible(case: Case, rng: random.Random) -> Case | None:
    sentence = rng.choice(
        [
            "There is a 95 cm mass in the right upper lobe.",
            "A 12 cm nodule is present in the left lung.",
            "The nodule measures 0.1 mm.",
        ]
    )
    return _err(
        case,
        "report.measurement",
        "implausible size",
        findings=_add_finding(case, sentence),
        impression=f"{sentence.split(' ', 1)[1]} {case.impression}",
    )


# -- typo ------------------------------------------------------------------------------------------
def _misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["delete", "swap", "double", "replace"])
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    letter = rng.choice("aeioutnrsl".replace(word[i], ""))
    return word[:i] + letter + word[i + 1 :]


def typo_edit(case: Case, rng: random.Random) -> Case | None:
    words = list(re.finditer(r"\b[a-z]{6,}\b", case.findings))
    if not words:
        return None
    m = rng.choice(words)
    wrong = _misspell(m.group(0), rng)
    edited = case.findings[: m.start()] + wrong + case.findings[m.end() :]
    return _err(case, "report.typo", "misspelt word", findings=edited)


def typo_homophone(case: Case, rng: random.Random) -> Case | None:
    for pattern, wrong in (
        (r"\bpleural\b", "plural"),
        (r"\bdiscrete\b", "discreet"),
        (r"\blung (?=fields|volumes|bases)", "long "),
        (r"\bheart size\b", "hearth size"),
    ):
        if re.search(pattern, case.findings) and rng.random() < 0.7:
            edited = re.sub(pattern, wrong, case.findings, count=1)
            return _err(case, "report.typo", "homophone", findings=edited)
    return _err(
        case, "report.typo", "homophone", findings=_add_finding(case, "No plural effusion.")
    )


# -- exam mismatch ---------------------------------------------------------------------------------
def exam_wrong_order(case: Case, rng: random.Random) -> Case | None:
    if case.exam_code != CXR_CODE:
        return None
    display = rng.choice(
        ["CT HEAD WO CONTRAST", "MRI BRAIN", "XR KNEE 3 VIEWS", "US ABDOMEN COMPLETE"]
    )
    return _err(
        case,
        "report.exam_mismatch",
        "report under another exam",
        exam_code=None,
        exam_display=display,
    )


def exam_technique(case: Case, rng: random.Random) -> Case | None:
    if case.exam_code != CXR_CODE:
        return None
    sentence = rng.choice(
        [
            "Axial CT images of the chest were obtained.",
            "Following administration of intravenous contrast, images were obtained.",
            "Images were acquired in the portal venous phase.",
        ]
    )
    return _err(
        case,
        "report.exam_mismatch",
        "technique of another modality",
        findings=f"{sentence} {case.findings}",
    )


# -- terminology -----------------------------------------------------------------------------------
def term_placeholder(case: Case, rng: random.Random) -> Case | None:
    token = rng.choice(["[***]", "___", "<<side>>", "[INSERT SIZE]", "XXX"])
    return _err(
        case,
        "report.terminology",
        "placeholder",
        findings=_add_finding(
            case,
            f"Nodule in the {token} lobe measures ___ mm."
            if token == "___"
            else f"Nodule in the {token} lobe.",
        ),
    )


def term_abbreviation(case: Case, rng: random.Random) -> Case | None:
    phrase = rng.choice(
        ["Heart size WNL.", "Findings c/w atelectasis.", "NAD.", "Lungs clear b/l."]
    )
    return _err(
        case, "report.terminology", "discouraged abbreviation", findings=_add_finding(case, phrase)
    )


INJECTORS: dict[str, tuple[Injector, ...]] = {
    "report.laterality": (lat_pair, lat_impossible, lat_swap),
    "report.sex": (sex_anatomy, sex_wording, sex_pronoun),
    "report.inconsistency": (inc_normal, inc_negated, inc_normal_statement),
    "report.omission": (om_drop, om_cut, om_finding),
    "report.measurement": (meas_units, meas_changed, meas_implausible),
    "report.typo": (typo_edit, typo_homophone),
    "report.exam_mismatch": (exam_wrong_order, exam_technique),
    "report.terminology": (term_placeholder, term_abbreviation),
}


def build_cases(data: Path, half: int, per_code: int, clean_share: float, seed: int) -> list[Case]:
    """``per_code`` error cases per code and enough clean ones to make ``clean_share``."""
    rng = random.Random(seed)
    bases = base_reports(data, half)
    cases: list[Case] = []
    for code, injectors in INJECTORS.items():
        made = 0
        while made < per_code:
            injector = injectors[made % len(injectors)]
            base = rng.choice(bases)
            case = injector(base, rng)
            if case is None:
                continue
            cases.append(
                replace(case, case_id=f"{base.case_id}-{code[7:].replace('_', '-')}-{made}")
            )
            made += 1
    n_clean = round(len(cases) * clean_share / (1 - clean_share))
    for index, base in enumerate(rng.sample(bases, n_clean)):
        cases.append(replace(base, case_id=f"{base.case_id}-clean-{index}"))
    rng.shuffle(cases)
    # every patient has a sex on record, as in a RIS; injected sex errors set the opposite one
    return [c if c.patient_sex else replace(c, patient_sex=_sex_for(c.text, rng)) for c in cases]


_MALE = re.compile(r"\b(?:prostat\w*|testic\w*|scrot\w*|male|man|gentleman|he|his|him)\b", re.I)
_FEMALE = re.compile(r"\b(?:uter\w*|ovar\w*|hysterectomy|pregnan\w*|female|woman|she|her)\b", re.I)


def _sex_for(text: str, rng: random.Random) -> str:
    """The sex a clean report's own wording implies, else a random one."""
    if _MALE.search(text) and not _FEMALE.search(text):
        return "male"
    if _FEMALE.search(text) and not _MALE.search(text):
        return "female"
    return rng.choice(("male", "female"))
