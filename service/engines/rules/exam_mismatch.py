"""``report.exam_mismatch``: content that does not fit the ordered exam (DESIGN §4).

The exam's modality, body region and contrast come from its code and display ("XR CHEST 2V",
"CT ABDOMEN PELVIS W CONTRAST", LOINC 36643-5). The text is compared on three axes:

- region: the anatomy the findings describe (distinct terms per region); a mismatch needs none
  of the exam region's terms and three or more of another region's (five for a neighbouring
  region: an abdominal report may mention the lung bases);
- modality: technique wording ("axial CT images", "T2-weighted", "sonographic", "PA and lateral
  views") that belongs to another modality, outside recommendations and comparisons;
- contrast: a contrast phase in a non-contrast exam, or "without contrast" in a contrast exam.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._clinical import main_spans, sentences
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView, per_view
from service.taxonomy import Severity

CODE = "report.exam_mismatch"
LOINC: dict[str, str] = {
    "36643-5": "XR CHEST 2 VIEWS",
    "36554-4": "XR CHEST 1 VIEW",
    "30745-4": "XR CHEST 2 VIEWS",
    "24627-2": "CT CHEST",
    "36813-4": "CT ABDOMEN AND PELVIS W CONTRAST",
    "30799-1": "CT HEAD WO CONTRAST",
    "24590-2": "MR BRAIN",
    "24558-9": "US ABDOMEN",
}
_MODALITY = {
    "XR": r"\b(?:XR|X-?RAY|RADIOGRAPH\w*|DX|CR|PLAIN FILM|CXR)\b",
    "CT": r"\b(?:CT|CTA|COMPUTED TOMOGRAPHY|CAT SCAN)\b",
    "MR": r"\b(?:MR|MRI|MRA|MAGNETIC RESONANCE)\b",
    "US": r"\b(?:US|ULTRASOUND|SONOGRA\w*|DOPPLER|ECHO\w*)\b",
}
_TECHNIQUE = {
    "CT": r"\b(?:helical|spiral|multidetector|MDCT)\b[^.]{0,40}\b(?:images?|CT|scans?|"
    r"sections?|slices?)\b|\baxial CT\b|\bCT (?:of|scan of|images of)\b|\bHounsfield\b|"
    r"\bcomputed tomograph",
    "MR": r"\bT[12][- ]weighted\b|\bFLAIR\b|\bgadolinium\b|\bdiffusion[- ]weighted\b|"
    r"\bMRI (?:of|scan)\b|\bmagnetic resonance\b",
    "US": r"\b(?:sonographic\w*|hypoechoic|hyperechoic|anechoic|echogenic\w*|transducer|"
    r"ultrasound (?:of|examination))\b",
    "XR": r"\b(?:(?:PA|AP|frontal|lateral|oblique)(?: and lateral)? (?:views?|radiographs?)|"
    r"radiographs? of)\b",
}
_REGION_EXAM = {
    "chest": r"CHEST|THORA\w*|LUNG|CXR|RIB",
    "abdomen": r"ABD\w*|PELVI\w*|LIVER|KIDNEY|RENAL",
    "head": r"HEAD|BRAIN|SKULL|CRAN\w*",
    "spine": r"SPINE|LUMBAR|CERVICAL|THORACIC SPINE|L-SPINE|C-SPINE",
    "knee": r"KNEE",
    "shoulder": r"SHOULDER",
}
_REGION_TERMS = {
    "chest": r"lungs?|pleural|mediastin\w+|cardiac silhouette|cardiomediastinal|hilar|hila|"
    r"costophrenic|pneumothorax|hemithorax|pulmonary|heart|cardiac|cardiomegaly|aort\w+|"
    r"hemidiaphragms?|thoracic|ribs?|atelectasis|airspace|effusions?",
    "abdomen": r"liver|spleen|pancreas|kidneys?|gallbladder|bowel|adrenals?|appendix|"
    r"hepatic|splenic|renal|ascites|bladder",
    "head": r"brain|ventricles|sulci|intracranial|cerebral|cerebell\w+|gray[- ]white|"
    r"midline shift|calvari\w+|basal ganglia",
    "spine": r"vertebral bod\w+|disc (?:space|height|bulge|herniation)|thecal sac|"
    r"neural foramin\w+|spinal canal|spinous process\w*|facet joints?",
    "knee": r"menisc\w+|cruciate|patella\w*|tibial plateau|femoral condyles?",
    "shoulder": r"rotator cuff|glenohumeral|acromi\w+|supraspinatus|glenoid|humeral head",
}
_REGION_REGEX = {
    name: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
    for name, pattern in _REGION_TERMS.items()
}
_TECHNIQUE_REGEX = {name: re.compile(p, re.IGNORECASE) for name, p in _TECHNIQUE.items()}
# per exam modality: one pattern for every other modality's technique, so that a sentence
# without any is read once (the patterns have no groups, so the alternation is exact)
_OTHER_TECHNIQUE = {
    name: re.compile("|".join(f"(?:{p})" for n, p in _TECHNIQUE.items() if n != name), re.I)
    for name in _TECHNIQUE
}
_NEIGHBOURS = {
    "chest": {"abdomen", "spine", "shoulder"},
    "abdomen": {"chest", "spine"},
    "spine": {"abdomen", "chest"},
}
_ASIDE = re.compile(
    r"\b(?:recommend\w*|suggest\w*|consider\w*|compar\w*|prior|previous|correlat\w*|follow[- ]?up|"
    r"further evaluation|if clinically|could|may be|dated|outside|however|same day|also)\b",
    re.IGNORECASE,
)
_CONTRAST_GIVEN = re.compile(
    r"\b(?:(?:with|after|following|post)[- ](?:the )?(?:administration of )?(?:intravenous |IV "
    r"|oral )?contrast|contrast[- ]enhanced|post[- ]?contrast|(?:arterial|portal venous|delayed|"
    r"nephrographic) phase)\b",
    re.IGNORECASE,
)
_CONTRAST_NONE = re.compile(
    r"\b(?:without (?:intravenous |IV |oral )?contrast|non[- ]?contrast|unenhanced)\b",
    re.IGNORECASE,
)
_EXAM_WITH = re.compile(r"\b(?:W|WITH|W/)\s*(?:IV\s*)?(?:CONTRAST|CON)\b|\bCTA\b", re.IGNORECASE)
_EXAM_WITHOUT = re.compile(
    r"\b(?:WO|W/O|WITHOUT|NON)[- ]?(?:IV\s*)?(?:CONTRAST|CON)\b", re.IGNORECASE
)


def exam_text(view: ReportView) -> str:
    code = view.item.exam_code or ""
    display = view.item.exam_display or ""
    return f"{display} {LOINC.get(code, '')}".upper().strip()


def _first(patterns: dict[str, str], text: str) -> set[str]:
    return {key for key, pattern in patterns.items() if re.search(pattern, text, re.IGNORECASE)}


def _exam_evidence(view: ReportView) -> Evidence:
    return {
        "field": "exam",
        "code": view.item.exam_code,
        "value": (view.item.exam_display or "")[:64],
    }


def check_region(view: ReportView) -> list[Finding]:
    regions = _first(_REGION_EXAM, exam_text(view))
    if len(regions) != 1:
        return []
    (region,) = regions
    body = [(s, view.text[s.start : s.end]) for s in main_spans(view)]
    seen: dict[str, set[str]] = {}
    first: dict[str, tuple[str, int, int]] = {}
    for span, text in body:
        for name, regex in _REGION_REGEX.items():
            for m in regex.finditer(text):
                seen.setdefault(name, set()).add(m.group(0).lower())
                first.setdefault(name, (span.name, span.start + m.start(), span.start + m.end()))
    if seen.get(region):
        return []
    allowed = _NEIGHBOURS.get(region, set())
    other = [n for n, terms in seen.items() if len(terms) >= (5 if n in allowed else 3)]
    if not other:
        return []
    name = max(other, key=lambda n: len(seen[n]))
    section, start, end = first[name]
    message = (
        f"The report describes the {name} ({', '.join(sorted(seen[name])[:4])}) but the exam is "
        f"'{exam_text(view)[:40]}'; check the exam or the report."
    )
    evidence = [text_evidence(section, view.text, start, end), _exam_evidence(view)]
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.85)]


@per_view  # two checks read them
def _technique_sentences(view: ReportView) -> list[tuple[str, int, int]]:
    return _find_technique_sentences(view)


def _find_technique_sentences(view: ReportView) -> list[tuple[str, int, int]]:
    spans = [*view.named({"exam", "technique", "preamble", "body"}), *main_spans(view)]
    found: list[tuple[str, int, int]] = []
    for span in spans:
        for start, end in sentences(view.text, span):
            if not _ASIDE.search(view.text, start, end):
                found.append((span.name, start, end))
    return found


def check_modality(view: ReportView) -> list[Finding]:
    modalities = _first(_MODALITY, exam_text(view))
    if len(modalities) != 1:
        return []
    (modality,) = modalities
    any_other = _OTHER_TECHNIQUE.get(modality)
    for section, start, end in _technique_sentences(view):
        sentence = view.text[start:end]
        if any_other is not None and any_other.search(sentence) is None:
            continue
        for other, regex in _TECHNIQUE_REGEX.items():
            if other == modality:
                continue
            m = regex.search(sentence)
            if m is None or _TECHNIQUE_REGEX[modality].search(sentence):
                continue
            message = (
                f"The text describes {other} technique ('{m.group(0)}') but the exam is "
                f"{modality}; check the exam or the report."
            )
            evidence = [
                text_evidence(section, view.text, start + m.start(), start + m.end()),
                _exam_evidence(view),
            ]
            return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    return []


def check_contrast(view: ReportView) -> list[Finding]:
    exam = exam_text(view)
    if not exam:
        return []
    modality = _first(_MODALITY, exam)
    without = bool(_EXAM_WITHOUT.search(exam)) or modality == {"XR"}
    with_contrast = bool(_EXAM_WITH.search(exam)) and not _EXAM_WITHOUT.search(exam)
    regex = _CONTRAST_GIVEN if without else _CONTRAST_NONE if with_contrast else None
    if regex is None:
        return []
    for section, start, end in _technique_sentences(view):
        m = regex.search(view.text, start, end)
        if m is None:
            continue
        expected = "without contrast" if without else "with contrast"
        message = (
            f"The text says '{m.group(0)}' but the exam is ordered {expected}; check the "
            "protocol or the exam."
        )
        evidence = [text_evidence(section, view.text, m.start(), m.end()), _exam_evidence(view)]
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_region,
    check_modality,
    check_contrast,
)
