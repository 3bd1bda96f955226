"""One error per case, by code and kind; and the cases of a benchmark run.

Each injector takes a base :class:`Report` and a random generator and returns the changed report
with the words it put in, or None when its kind does not apply to that base (no sided phrase to
flip, no word to misspell): another base is then drawn. Imports nothing from ``service/``.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

from bench.quality import report_vocab as v
from bench.quality.report_errors import REPORT_CODES, Case, Injector, Report

Result = tuple[Report, str] | None


def _side(rng: random.Random) -> tuple[str, str]:
    side = rng.choice(("left", "right"))
    return side, v.SIDES[side]


def _fill(template: str, side: str) -> str:
    return template.format(s=side, S=side.capitalize())


_FINDING_NOUNS = (
    "effusion",
    "pneumothorax",
    "consolidation",
    "nodule",
    "mass",
    "fracture",
    "edema",
)


def _contradicts_base(base: Report, sentence: str) -> bool:
    """Whether the base already denies what ``sentence`` asserts ("No pleural effusion."): the
    inserted finding would then add a second error, of another code."""
    text = f"{base.findings} {base.impression}".lower()
    nouns = [n for n in _FINDING_NOUNS if n in sentence.lower()]
    return any(re.search(rf"\b(?:no|without|negative for)\b[^.]*\b{n}", text) for n in nouns)


# -- laterality ------------------------------------------------------------------------------
def lat_flip_one_section(base: Report, rng: random.Random) -> Result:
    """A side flipped in one section only, where both sections name the same sided structure."""
    sections = [
        ("impression", base.impression, base.findings),
        ("findings", base.findings, base.impression),
    ]
    rng.shuffle(sections)
    for name, text, other in sections:
        for m in re.finditer(r"\b(left|right|Left|Right)\b[ -](\w+)", text):
            side, word = m.group(1).lower(), m.group(2)
            same = re.search(rf"\b{side}\b[ -]{word}\b", other, re.I)
            flipped = re.search(rf"\b{v.SIDES[side]}\b[ -]{word}\b", other, re.I)
            if same and not flipped:
                new = text[: m.start(1)] + v.SIDES[m.group(1)] + text[m.end(1) :]
                changed = (
                    base.with_impression(new) if name == "impression" else base.with_findings(new)
                )
                return changed, v.SIDES[m.group(1)]
    return None


def lat_sided_pair(base: Report, rng: random.Random) -> Result:
    """A sided finding in the findings, restated with the other side in the impression."""
    side, other = _side(rng)
    finding, restated = rng.choice(v.SIDED_FINDINGS)
    if _contradicts_base(base, finding):
        return None
    return base.add_finding(_fill(finding, side)).state_in_impression(_fill(restated, other)), other


def lat_short_wrong_side(base: Report, rng: random.Random) -> Result:
    """A terse positive sided statement ("Left effusion.") that names the wrong side."""
    side, other = _side(rng)
    finding, short = rng.choice([p for p in v.SIDED_FINDINGS if len(p[1].split()) <= 3])
    if _contradicts_base(base, finding):
        return None
    return base.add_finding(_fill(finding, side)).state_in_impression(_fill(short, other)), other


def lat_impossible(base: Report, rng: random.Random) -> Result:
    finding, short = rng.choice(v.IMPOSSIBLE_SIDED)
    return base.add_finding(finding).state_in_impression(short), finding


def lat_exam_side(base: Report, rng: random.Random) -> Result:
    """The ordered exam names one side; the report describes the other."""
    if base.exam_code is None and "chest" not in (base.exam_display or "").lower():
        return None
    side, other = _side(rng)
    exam = rng.choice(v.SIDED_EXAMS).format(S=side.upper())
    finding, short = v.RIB_FINDING
    if _contradicts_base(base, finding):
        return None
    changed = base.add_finding(_fill(finding, other)).state_in_impression(_fill(short, other))
    return replace(changed, exam_code=None, exam_display=exam), other


# -- sex --------------------------------------------------------------------------------------
def sex_female_anatomy(base: Report, rng: random.Random) -> Result:
    sentence = _fill(rng.choice(v.FEMALE_ONLY), rng.choice(("left", "right")))
    return replace(base.add_finding(sentence), patient_sex="male"), sentence


def sex_male_history(base: Report, rng: random.Random) -> Result:
    sentence = rng.choice(v.MALE_ONLY)
    return replace(base.with_context(f"HISTORY: {sentence}"), patient_sex="female"), sentence


def sex_wording(base: Report, rng: random.Random) -> Result:
    sex = rng.choice(("male", "female"))
    word = rng.choice(v.SEX_WORDS[sex])
    line = f"HISTORY: {rng.randint(24, 88)}-year-old {word} with cough and fever."
    if word == "Mrs.":
        line = "HISTORY: Mrs. Doe, cough and fever for three days."
    return replace(base.with_context(line), patient_sex=sex), word


def sex_pronoun(base: Report, rng: random.Random) -> Result:
    sex = rng.choice(("male", "female"))
    sentence = rng.choice(v.PRONOUN_SENTENCES[sex])
    return replace(base.with_context(f"HISTORY: {sentence}"), patient_sex=sex), sentence


# -- inconsistency ----------------------------------------------------------------------------
def inc_present_then_negated(base: Report, rng: random.Random) -> Result:
    side, _ = _side(rng)
    positive, negated = rng.choice(v.POSITIVE_NEGATED)
    return base.add_finding(_fill(positive, side)).lead_impression(negated), negated


def inc_negated_then_present(base: Report, rng: random.Random) -> Result:
    """A negation already in the findings, contradicted by a positive impression statement."""
    side, _ = _side(rng)
    options = [(p, s) for p, s in v.NEGATION_TO_POSITIVE if re.search(p, base.findings, re.I)]
    if not options:
        return None
    _, positive = rng.choice(options)
    sentence = _fill(positive, side)
    return base.lead_impression(sentence), sentence


def inc_normal_over_acute(base: Report, rng: random.Random) -> Result:
    side, _ = _side(rng)
    finding = _fill(rng.choice(v.ACUTE_FINDINGS), side)
    normal = rng.choice(v.NORMAL_IMPRESSIONS)
    return base.add_finding(finding).with_impression(normal), normal


def inc_severity(base: Report, rng: random.Random) -> Result:
    side, _ = _side(rng)
    low, high = rng.choice(v.SEVERITY_PAIRS)
    first, second = (low, high) if rng.random() < 0.5 else (high, low)
    changed = base.add_finding(f"{first} {side} pleural effusion.")
    return changed.state_in_impression(f"{second} {side} pleural effusion."), second


# -- omission ---------------------------------------------------------------------------------
def om_no_impression(base: Report, rng: random.Random) -> Result:
    return base.without_impression(), ""


def om_truncated_impression(base: Report, rng: random.Random) -> Result:
    words = list(re.finditer(r"\S+", base.impression))
    if len(words) < 4:
        return None
    cut = words[rng.randrange(1, len(words) - 1)].end()
    return base.with_impression(base.impression[:cut].rstrip(".,;")), ""


def om_truncated_report(base: Report, rng: random.Random) -> Result:
    """The dictation cut off inside the findings: the rest, impression included, is lost."""
    words = list(re.finditer(r"\S+", base.findings))
    if len(words) < 8:
        return None
    cut = words[rng.randrange(len(words) // 3, len(words) - 2)].end()
    at = base.text.find(base.findings)
    text = base.text[:at] + base.findings[:cut].rstrip(".,;")
    return replace(base, text=text, findings=base.findings[:cut], impression=""), ""


def om_finding_missing(base: Report, rng: random.Random) -> Result:
    sentence = _fill(rng.choice(v.SIGNIFICANT_FINDINGS), rng.choice(("left", "right")))
    if _contradicts_base(base, sentence):
        return None
    return base.add_finding(sentence), sentence


# -- measurement ------------------------------------------------------------------------------
def meas_unit_swap(base: Report, rng: random.Random) -> Result:
    side = rng.choice(("left", "right"))
    n = rng.choice((4, 6, 7, 9, 12))
    if _contradicts_base(base, "nodule"):
        return None
    changed = base.add_finding(v.NODULE_SENTENCE.format(n=n, u="mm", s=side))
    restated = v.NODULE_IMPRESSION.format(n=n, u="cm", s=side)
    return changed.state_in_impression(restated), "cm"


def meas_size_changed(base: Report, rng: random.Random) -> Result:
    side = rng.choice(("left", "right"))
    a, b = rng.choice(((8, 14), (12, 21), (5, 11), (15, 26), (2.1, 3.4)))
    unit = "cm" if isinstance(a, float) else "mm"
    if _contradicts_base(base, "nodule"):
        return None
    changed = base.add_finding(v.NODULE_SENTENCE.format(n=a, u=unit, s=side))
    return changed.state_in_impression(v.NODULE_IMPRESSION.format(n=b, u=unit, s=side)), str(b)


def meas_impossible(base: Report, rng: random.Random) -> Result:
    sentence = _fill(rng.choice(v.IMPOSSIBLE_VALUES), rng.choice(("left", "right")))
    if _contradicts_base(base, sentence):
        return None
    return base.add_finding(sentence), sentence


def meas_base_unit_swap(base: Report, rng: random.Random) -> Result:
    """A size the report already gives in both sections, with its unit changed in one."""
    for m in re.finditer(r"\b(\d+(?:\.\d+)?) ?(mm|cm)\b", base.impression):
        if re.search(rf"\b{re.escape(m.group(1))} ?{m.group(2)}\b", base.findings):
            unit = "cm" if m.group(2) == "mm" else "mm"
            new = base.impression[: m.start(2)] + unit + base.impression[m.end(2) :]
            return base.with_impression(new), unit
    return None


# -- typo -------------------------------------------------------------------------------------
def _swap_word(base: Report, rng: random.Random, pairs: list[tuple[str, str]]) -> Result:
    rng.shuffle(pairs)
    for right, wrong in pairs:
        for name in rng.sample(["findings", "impression"], 2):
            text = getattr(base, name)
            hits = list(re.finditer(rf"\b{re.escape(right)}\b", text))
            if hits:
                m = rng.choice(hits)
                cased = wrong.capitalize() if m.group(0)[0].isupper() else wrong
                new = text[: m.start()] + cased + text[m.end() :]
                changed = (
                    base.with_findings(new) if name == "findings" else base.with_impression(new)
                )
                return changed, wrong
    return None


def typo_misspelling(base: Report, rng: random.Random) -> Result:
    table = v.misspellings()
    words = set(re.findall(r"\b[a-z]{4,}\b", base.findings + " " + base.impression))
    pairs = [(w, rng.choice(table[w])) for w in sorted(words) if w in table]
    return _swap_word(base, rng, pairs) if pairs else None


def typo_homophone(base: Report, rng: random.Random) -> Result:
    return _swap_word(base, rng, list(v.HOMOPHONES))


# -- exam mismatch ----------------------------------------------------------------------------
def _is_chest_radiograph(base: Report) -> bool:
    return base.exam_code is not None or base.source == "unseen"


def exam_other_region(base: Report, rng: random.Random) -> Result:
    exam = rng.choice(v.OTHER_REGION_EXAMS) if _is_chest_radiograph(base) else v.CHEST_EXAM
    return replace(base, exam_code=None, exam_display=exam), exam


def exam_other_modality(base: Report, rng: random.Random) -> Result:
    if not _is_chest_radiograph(base):
        return None
    line = rng.choice(v.OTHER_MODALITY_TECHNIQUE)
    return base.with_context(line), line


def exam_contrast(base: Report, rng: random.Random) -> Result:
    if not _is_chest_radiograph(base):
        return None
    line = rng.choice(v.CONTRAST_STATEMENTS)
    return base.with_context(line), line


def exam_views(base: Report, rng: random.Random) -> Result:
    if not _is_chest_radiograph(base):
        return None
    changed = base.with_context(v.TWO_VIEW_TECHNIQUE)
    return replace(changed, exam_code=None, exam_display=v.ONE_VIEW_EXAM), v.TWO_VIEW_TECHNIQUE


# -- terminology ------------------------------------------------------------------------------
def term_placeholder(base: Report, rng: random.Random) -> Result:
    token = rng.choice(v.PLACEHOLDERS)
    sentence = rng.choice(v.PLACEHOLDER_SENTENCES).format(p=token, s=rng.choice(("left", "right")))
    return base.add_finding(sentence), token


def term_abbreviation(base: Report, rng: random.Random) -> Result:
    options = list(v.ABBREVIATIONS)
    rng.shuffle(options)
    for pattern, short in options:
        for name in ("findings", "impression"):
            text = getattr(base, name)
            m = re.search(pattern, text, re.I)
            if m:
                new = text[: m.start()] + short + text[m.end() :]
                changed = (
                    base.with_findings(new) if name == "findings" else base.with_impression(new)
                )
                return changed, short
    sentence = rng.choice(v.ABBREVIATION_SENTENCES)
    return base.add_finding(sentence), sentence


INJECTORS: dict[str, dict[str, Injector]] = {
    "report.laterality": {
        "side flipped in one section": lat_flip_one_section,
        "sided finding, other side in impression": lat_sided_pair,
        "short statement, wrong side": lat_short_wrong_side,
        "side impossible for the structure": lat_impossible,
        "exam side vs text side": lat_exam_side,
    },
    "report.sex": {
        "female-only anatomy, male patient": sex_female_anatomy,
        "male-only history, female patient": sex_male_history,
        "words for the other sex": sex_wording,
        "pronouns of the other sex": sex_pronoun,
    },
    "report.inconsistency": {
        "finding present, negated in impression": inc_present_then_negated,
        "negated in findings, present in impression": inc_negated_then_present,
        "normal impression over acute finding": inc_normal_over_acute,
        "severity differs between sections": inc_severity,
    },
    "report.omission": {
        "impression missing": om_no_impression,
        "impression cut off": om_truncated_impression,
        "report cut off in the findings": om_truncated_report,
        "significant finding absent from impression": om_finding_missing,
    },
    "report.measurement": {
        "mm in findings, cm in impression": meas_unit_swap,
        "size changes between sections": meas_size_changed,
        "impossible value": meas_impossible,
        "report's own size, unit changed": meas_base_unit_swap,
    },
    "report.typo": {
        "misspelling (Wikipedia list)": typo_misspelling,
        "speech-recognition homophone": typo_homophone,
    },
    "report.exam_mismatch": {
        "other body region ordered": exam_other_region,
        "technique of another modality": exam_other_modality,
        "contrast in a radiograph": exam_contrast,
        "views differ from the order": exam_views,
    },
    "report.terminology": {
        "template placeholder left": term_placeholder,
        "non-standard abbreviation": term_abbreviation,
    },
}
assert set(INJECTORS) == set(REPORT_CODES)


def build_cases(bases: list[Report], per_kind: int, seed: int, prefix: str) -> list[Case]:
    """Every base once as a clean case, and ``per_kind`` error cases of every kind."""
    rng = random.Random(seed)
    cases = [Case(f"{prefix}-{b.report_id}-clean", b, frozenset(), "clean") for b in bases]
    for code, kinds in INJECTORS.items():
        for kind, injector in kinds.items():
            pool = list(bases)
            rng.shuffle(pool)
            made = 0
            for base in pool:
                if made == per_kind:
                    break
                result = injector(base, rng)
                if result is None:
                    continue
                report, inserted = result
                case_id = f"{prefix}-{base.report_id}-{code[7:]}-{made}-{len(cases)}"
                cases.append(Case(case_id, report, frozenset({code}), f"{code} / {kind}", inserted))
                made += 1
    rng.shuffle(cases)
    return cases
