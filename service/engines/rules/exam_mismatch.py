"""``report.exam_mismatch``: content that does not fit the ordered exam (DESIGN §4).

The exam's modality, body region and contrast come from its code and display (:mod:`._exam`).
The text is compared on three axes (the views, a fourth, are in :mod:`.exam_views`):

- region: the anatomy the findings describe (distinct terms per region); a mismatch needs none
  of the exam region's terms and three or more of another region's (five for a neighbouring
  region that the exam shows in part: an abdominal CT the lung bases, a shoulder film the upper
  chest);
- modality: technique wording that belongs to another modality ("axial CT images",
  "multiplanar", "T2-weighted", "sonographic", "color Doppler", "Tc-99m", "PA and lateral
  views"), outside recommendations and comparisons;
- contrast: contrast given (intravenous or iodinated contrast, gadolinium, an arterial or portal
  venous phase) in a plain radiograph or a non-contrast exam, or "without contrast" in a contrast
  exam.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans, sentences
from service.engines.rules._exam import contrast_ordered, exam_evidence, exam_text, modality
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView, lowered, per_view
from service.taxonomy import Severity

CODE = "report.exam_mismatch"
# matched on the lowered text (_report.lowered), hence in lower case: several times faster than
# re.IGNORECASE on the text, and the check reads every sentence of a long report
_TECHNIQUE = {
    "CT": r"\b(?:helical|spiral|multidetector|mdct)\b[^.]{0,40}\b(?:images?|ct|scans?|"
    r"sections?|slices?)\b|\baxial (?:ct )?(?:images?|sections?|slices?)\b|"
    r"\bct (?:of|scan of|images of)\b|\bhounsfield\b|\bcomputed tomograph|"
    r"\b(?:coronal|sagittal)(?: and (?:coronal|sagittal))? reformat\w*|"
    r"\bmultiplanar (?:reformat\w*|reconstruct\w*)|\bslice thickness\b|\bdlp\b|\bctdi",
    "MR": r"\bt[12][- ]weighted\b|\bflair\b|\bgadolinium\b|\bdiffusion[- ]weighted\b|"
    r"\bmri (?:of|scan)\b|\bmagnetic resonance\b|\bmulti-?sequence\b|\bsequences\b|"
    r"\bmr (?:images?|imaging)\b|\bfat[- ](?:saturated|suppressed)\b|\bstir\b",
    "US": r"\b(?:sonographic\w*|sonography|hypoechoic|hyperechoic|anechoic|echogenic\w*|"
    r"transducer|ultrasound (?:of|examination|images?)|gr[ae]y[- ]?scale|"
    r"(?:color|colour|spectral|power) (?:flow )?doppler|real[- ]time (?:imaging|images))\b",
    "NM": r"\b(?:tc-?99m|99m-?tc|technetium|radiotracer|radiopharmaceutical|radionuclide|"
    r"scintigra\w+|spect|fdg|f-18|gamma camera|maa|sestamibi|mci|mbq|suv(?:max)?)\b",
    "XR": r"\b(?:(?:pa|ap|frontal|lateral|oblique)(?: and lateral)? (?:views?|radiographs?)|"
    r"radiographs? of)\b",
}
# techniques an exam of the key's modality may describe besides its own
_COMPATIBLE = {
    "NM": {"CT"},  # PET/CT and SPECT/CT: the CT is for attenuation correction and anatomy
    "CT": {"NM"},
    "RF": {"XR"},
    "MG": {"XR", "US"},
}
_REGION_EXAM = {
    "chest": r"CHEST|THORA\w*|LUNG|CXR|RIBS?",
    "abdomen": r"ABD\w*|LIVER|KIDNEYS?|RENAL|KUB",
    "pelvis": r"PELVI\w*|TRANSVAGINAL|UTERUS|OVAR\w*|BLADDER",
    "head": r"HEAD|BRAIN|SKULL|CRAN\w*",
    "spine": r"SPINE|LUMBAR|CERVICAL|L-SPINE|C-SPINE|T-SPINE|SACRUM|COCCYX",
    "knee": r"KNEE",
    "shoulder": r"SHOULDER",
}
_REGION_TERMS = {
    "chest": r"lungs?|pleural|mediastin\w+|cardiac silhouette|cardiomediastinal|hilar|hila|"
    r"costophrenic|pneumothorax|hemithorax|pulmonary|heart|cardiac|cardiomegaly|aort\w+|"
    r"hemidiaphragms?|thoracic|ribs?|atelectasis|airspace|effusions?|lobes?|infiltrates?|"
    r"pneumonia|vascularity|vasculature|cardiothymic|granulomas?|emphysema|diaphragms",
    "abdomen": r"liver|spleen|pancreas|kidneys?|gallbladder|bowel|adrenals?|appendix|"
    r"hepatic|splenic|renal|ascites",
    "pelvis": r"uterus|uterine|ovar(?:y|ies|ian)|adnexa\w*|endometri\w+|bladder|"
    r"pubic symphysis|acetabul\w+|sacroiliac",
    "head": r"brain|ventricles|sulci|intracranial|cerebral|cerebell\w+|gray[- ]white|"
    r"midline shift|calvari\w+|basal ganglia",
    "spine": r"vertebra\w*|dis[ck]s?|dis[ck] (?:space|height|bulge|herniation)|thecal sac|"
    r"neural foramin\w+|neuro ?foram\w+|spinal canal|central canal|spinous process\w*|"
    r"facet joints?|spine|spondyl\w+|[CTL]\d-\d",
    "knee": r"menisc\w+|cruciate|patella\w*|tibial plateau|femoral condyles?",
    "shoulder": r"rotator cuff|glenohumeral|acromi\w+|supraspinatus|glenoid|humeral head",
}
_OWN_REGION = {
    name: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
    for name, pattern in _REGION_TERMS.items()
}
# every region's terms in one pattern, one named group per region: the text is read once
_REGION_REGEX = re.compile(
    "|".join(rf"(?P<{name}>\b(?:{pattern})\b)" for name, pattern in _REGION_TERMS.items()),
    re.IGNORECASE,
)
_TECHNIQUE_REGEX = {name: re.compile(p) for name, p in _TECHNIQUE.items()}
# per exam modality: one pattern for every technique it may not describe, so that a sentence
# without any is read once (the patterns have no groups, so the alternation is exact)
_OTHER_TECHNIQUE = {
    name: re.compile(
        "|".join(
            f"(?:{p})"
            for n, p in _TECHNIQUE.items()
            if n != name and n not in _COMPATIBLE.get(name, set())
        )
    )
    for name in (*_TECHNIQUE, "RF", "MG")
}
# regions an exam shows in part: the text may describe them at some length
_NEIGHBOURS = {
    "chest": {"abdomen", "spine", "shoulder"},
    "abdomen": {"chest", "spine", "pelvis"},
    "pelvis": {"abdomen", "spine"},
    "spine": {"abdomen", "pelvis"},
}
# regions an exam shows whole or in part, so that the text may describe them at any length: a
# shoulder film shows the upper chest, and chest and shoulder are often reported together
_SEEN = {"shoulder": {"chest"}}
_THORACIC_SPINE = re.compile(r"\bTHORACIC|T-SPINE|DORSAL\b", re.IGNORECASE)
_ASIDE = re.compile(
    r"\b(?:recommend\w*|suggest\w*|consider\w*|compar\w*|prior|previous|correlat\w*|follow[- ]?up|"
    r"further evaluation|if clinically|if not|could|would|should|may be|dated|outside|however|"
    r"same day|also|ordered|scheduled|planned|pending|please see|see|separately|reported "
    r"separately|dictated separately)\b",
    re.IGNORECASE,
)
# contrast given: the agent, its route or its phases
_CONTRAST_GIVEN = re.compile(
    r"\b(?:(?:intravenous|IV|iodinated|low[- ]osmolar) (?:\w+ ){0,2}contrast|contrast[- ]enhanced|"
    r"post[- ]?contrast|(?:with|after|following) (?:the )?(?:administration of )?(?:\w+ ){0,3}"
    r"contrast|administration of (?:\w+ ){0,4}contrast|contrast (?:bolus|material was|was "
    r"(?:given|administered|injected))|gadolinium|gadobutrol|gadoterate|(?:enhanced|dynamic) "
    r"sequences|(?:arterial|portal venous|venous|delayed|nephrographic|excretory|equilibrium) "
    r"phases?|(?:omnipaque|isovue|visipaque|iohexol|iopamidol|iodixanol|optiray|magnevist|"
    r"gadavist|dotarem|multihance|eovist))\b",
    re.IGNORECASE,
)
# not given now: denied, or contrast left over from an earlier study
_NO_CONTRAST_GIVEN = re.compile(
    r"\b(?:(?:without|no|non|prior to|before|pre)[- ](?:\w+ ){0,4}contrast|contrast (?:was|is) "
    r"not|(?:consistent|"
    r"compatible) with|retained|residual|excreted|opacifi\w+)\b",
    re.IGNORECASE,
)
_CONTRAST_WORD = re.compile(
    r"contrast|opacified|filling defect|gadolin|gado|enhanced|unenhanced|phase|omnipaque|"
    r"isovue|visipaque|iohexol|"
    r"iopamidol|iodixanol|optiray|magnevist|gadavist|dotarem|multihance|eovist",
    re.IGNORECASE,
)
_CONTRAST_NONE = re.compile(
    r"\b(?:without (?:intravenous |IV |oral )?contrast|non[- ]?contrast|unenhanced)\b",
    re.IGNORECASE,
)


def _region(exam: str) -> str | None:
    found = {name for name, p in _REGION_EXAM.items() if re.search(rf"\b(?:{p})\b", exam)}
    if "spine" in found and len(found) > 1 and not re.search(r"\bSPINE\b", exam):
        found.discard("spine")  # "CT CHEST ... THORACIC" is a chest exam
    if found == {"abdomen", "pelvis"}:
        return "abdomen"
    return found.pop() if len(found) == 1 else None


def _neighbours(region: str, exam: str) -> set[str]:
    allowed = set(_NEIGHBOURS.get(region, set()))
    if region == "spine" and _THORACIC_SPINE.search(exam):
        allowed.add("chest")
    return allowed


def check_region(view: ReportView) -> list[Finding]:
    exam = exam_text(view)
    region = _region(exam)
    if region is None:
        return []
    spans = main_spans(view)
    own = _OWN_REGION[region]
    if any(own.search(view.text, span.start, span.end) for span in spans):
        return []  # the usual case: the text describes the region ordered
    seen: dict[str, set[str]] = {}
    first: dict[str, tuple[str, int, int]] = {}
    for span in spans:
        for m in _REGION_REGEX.finditer(view.text, span.start, span.end):
            name = m.lastgroup or ""
            seen.setdefault(name, set()).add(m.group(0).lower())
            first.setdefault(name, (span.name, m.start(), m.end()))
    allowed = _neighbours(region, exam)
    other = [
        n
        for n, terms in seen.items()
        if n not in _SEEN.get(region, set()) and len(terms) >= (5 if n in allowed else 3)
    ]
    if not other:
        return []
    name = max(other, key=lambda n: len(seen[n]))
    section, start, end = first[name]
    message = (
        f"The report describes the {name} ({', '.join(sorted(seen[name])[:4])}) but the exam is "
        f"'{exam[:40]}'; check the exam or the report."
    )
    evidence = [text_evidence(section, view.text, start, end), exam_evidence(view)]
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.85)]


@per_view  # several checks read them
def technique_sentences(view: ReportView) -> list[tuple[str, int, int]]:
    """The sentences that may describe how the exam was done: the exam and technique
    sections and the findings, without recommendations and comparisons."""
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
    ordered = modality(exam_text(view))
    if ordered is None:
        return []
    any_other = _OTHER_TECHNIQUE[ordered]
    low = lowered(view)
    if any_other.search(low) is None:
        return []  # no other modality's technique anywhere: no sentence to read
    own = _TECHNIQUE_REGEX.get(ordered)
    for section, start, end in technique_sentences(view):
        sentence = low[start:end]
        m = any_other.search(sentence)
        if m is None or (own is not None and own.search(sentence)):
            continue
        other = next(
            (n for n, r in _TECHNIQUE_REGEX.items() if n != ordered and r.search(m.group(0))),
            "another modality's",
        )
        quoted = view.text[start + m.start() : start + m.end()]  # as written, not lowered
        message = (
            f"The text describes {other} technique ('{quoted}') but the exam is "
            f"{ordered}; check the exam or the report."
        )
        evidence = [
            text_evidence(section, view.text, start + m.start(), start + m.end()),
            exam_evidence(view),
        ]
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    return []


# what only a contrast study can show, even when the sentence is negative: contrast that could
# have leaked ("no extravasation of oral contrast"), vessels filled with it ("the pulmonary
# arteries are well opacified", "no filling defect")
_CONTRAST_IMPLIED = re.compile(
    r"\b(?:(?:extravasation|leak(?:age)?) of (?:the )?(?:oral |intravenous |IV |enteric |rectal |"
    r"water[- ]soluble )?contrast|(?:oral|enteric|rectal|water[- ]soluble) contrast|"
    r"(?:well|adequately|optimally|suboptimally|densely|homogeneously) opacified|"
    r"(?:intraluminal )?filling defects?)\b",
    re.IGNORECASE,
)
# contrast from an earlier study, still there
_LEFT_OVER = re.compile(
    r"\b(?:retained|residual|excreted|prior|previous|earlier|recent|old|from the)\b", re.I
)


def _contrast_given(sentence: str) -> re.Match[str] | None:
    m = _CONTRAST_GIVEN.search(sentence)
    if m is not None and not _NO_CONTRAST_GIVEN.search(sentence):
        return m
    implied = _CONTRAST_IMPLIED.search(sentence)
    if implied is not None and not _LEFT_OVER.search(sentence):
        return implied
    return None


def check_contrast(view: ReportView) -> list[Finding]:
    exam = exam_text(view)
    ordered = contrast_ordered(exam)
    if ordered is None or _CONTRAST_WORD.search(view.text) is None:
        return []
    for section, start, end in technique_sentences(view):
        sentence = view.text[start:end]
        m = _CONTRAST_NONE.search(sentence) if ordered else _contrast_given(sentence)
        if m is None:
            continue
        expected = "with contrast" if ordered else "without contrast"
        if modality(exam) == "XR":
            expected = "as a plain radiograph (no contrast)"
        message = (
            f"The text says '{m.group(0)}' but the exam is ordered {expected}; check the "
            "protocol or the exam."
        )
        evidence = [
            text_evidence(section, view.text, start + m.start(), start + m.end()),
            exam_evidence(view),
        ]
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    return []


# Body regions an exam can be of, after the DICOM Body Part Examined defined terms and the
# Common Anatomic Regions context group (PS3.16 CID 4031), grouped so that an order and a report
# that name parts of the same region agree ("XR Chest" and "PA and lateral chest", "ribs").
_BODY_PARTS: dict[str, str] = {
    "chest": r"chest|thorax|thoracic cavity|lungs?|ribs?|sternum|cxr",
    "abdomen": r"abdomen|abdominal|abd|kub|liver|kidneys?|renal|gallbladder|pancreas|spleen|"
    r"bowel|colon",
    "pelvis": r"pelvis|pelvic|sacrum|coccyx|sacroiliac|si joints?|uterus|ovar(?:y|ies)|bladder|"
    r"prostate|scrotum|testicles?",
    "head": r"head|brain|skull|cranium|orbits?|sinus(?:es)?|facial bones|face|mandible|jaw|"
    r"temporal bones?|sella|iac",
    "neck": r"neck|soft tissues? (?:of the )?neck|thyroid|larynx|cervical soft tissues?",
    "cervical spine": r"cervical spine|c-spine|cspine",
    "thoracic spine": r"thoracic spine|t-spine|tspine|dorsal spine",
    "lumbar spine": r"lumbar spine|l-spine|lspine|lumbosacral spine",
    "shoulder": r"shoulders?|scapula|clavicle|acromioclavicular|ac joints?",
    "humerus": r"humerus|upper arm",
    "elbow": r"elbows?",
    "forearm": r"forearms?|radius and ulna",
    "wrist": r"wrists?|scaphoid",
    "hand": r"hands?|fingers?|thumb",
    "hip": r"hips?",
    "femur": r"femur|thigh",
    "knee": r"knees?|patella",
    "leg": r"tibia(?: and fibula)?|fibula|lower leg|tib[/ -]fib",
    "ankle": r"ankles?",
    "foot": r"foot|feet|toes?|calcaneus|heel",
    "breast": r"breasts?|mammo\w*",
}
# parts the exam of a region shows, or is often ordered with: never a mismatch
_REGION_COMPATIBLE = {
    "chest": {"chest", "thoracic spine", "shoulder"},
    "abdomen": {"abdomen", "pelvis", "lumbar spine", "chest"},  # the lung bases
    "pelvis": {"pelvis", "abdomen", "hip"},
    "hip": {"hip", "pelvis", "femur"},
    "neck": {"neck", "cervical spine"},
    "cervical spine": {"cervical spine", "neck"},
    "thoracic spine": {"thoracic spine", "chest"},
    "lumbar spine": {"lumbar spine", "abdomen", "pelvis"},
    "shoulder": {"shoulder", "humerus", "chest"},
    "humerus": {"humerus", "shoulder", "elbow"},
    "elbow": {"elbow", "humerus", "forearm"},
    "forearm": {"forearm", "elbow", "wrist"},
    "wrist": {"wrist", "forearm", "hand"},
    "hand": {"hand", "wrist"},
    "femur": {"femur", "hip", "knee"},
    "knee": {"knee", "femur", "leg"},
    "leg": {"leg", "knee", "ankle"},
    "ankle": {"ankle", "leg", "foot"},
    "foot": {"foot", "ankle"},
}
_PART_REGEX = re.compile(
    "|".join(rf"(?P<p{i}>\b(?:{p})\b)" for i, p in enumerate(_BODY_PARTS.values())),
    re.IGNORECASE,
)
_PART_NAMES = tuple(_BODY_PARTS)
# a spine level named alone ("THORACIC", "LUMBAR") is read with "spine" when it follows
_SPINE_LEVEL = re.compile(r"\b(cervical|thoracic|lumbar)(?: and \w+)? spine\b", re.IGNORECASE)
# an exam line's own comparison or date: "PA and lateral chest compared to CT abdomen"
_EXAM_LINE_END = re.compile(
    r"\b(?:compar\w*|prior|previous|dated|with reference|correlat\w*|history|indication)\b",
    re.IGNORECASE,
)
# a findings sentence that says what was imaged: "Three views of the left knee demonstrate"
_IMAGED = re.compile(
    r"\b(?:(?:\w+|\d) (?:views?|images?|projections?|radiographs?)|radiographs?|x-?rays?|"
    r"(?:frontal|lateral|oblique|AP|PA)(?: and (?:frontal|lateral|oblique))? (?:views?|"
    r"projections?|radiographs?)) of the (?:(?:right|left|bilateral) )?(?P<part>[a-z-]+(?: "
    r"[a-z-]+)?)\b",
    re.IGNORECASE,
)


def _parts(text: str) -> set[str]:
    """The body regions a short text (an exam display, an exam line) names."""
    found: set[str] = set()
    for m in _PART_REGEX.finditer(text):
        found.add(_PART_NAMES[int((m.lastgroup or "p0")[1:])])
    levels = {m.group(1).lower() + " spine" for m in _SPINE_LEVEL.finditer(text)}
    if levels:
        found |= levels
        if "thoracic spine" in levels:
            found.discard("chest")  # "thoracic" is the spine's level here
    return found


def _agrees(named: set[str], ordered: set[str]) -> bool:
    allowed = set(ordered)
    for region in ordered:
        allowed |= _REGION_COMPATIBLE.get(region, {region})
    return bool(named & allowed)


_MAX_EXAM_LINE = 100  # an exam line names the exam; a longer "EXAM" is a physical examination


def _exam_line(view: ReportView) -> tuple[str, int, int] | None:
    """The report's own exam line (the first line of the EXAMINATION section), up to a
    comparison or a date."""
    for span in view.named({"exam"}):
        body = view.text[span.start : span.end].split("\n", 1)[0]
        if len(body.strip()) > _MAX_EXAM_LINE:
            return None
        end = _EXAM_LINE_END.search(body)
        line = body[: end.start()] if end else body
        if line.strip():
            lead = len(line) - len(line.lstrip())
            return span.name, span.start + lead, span.start + len(line.rstrip())
    return None


def _covered(
    view: ReportView, named: set[str], ordered: set[str], skip: tuple[int, int] | None = None
) -> bool:
    """Whether the findings or impression describe a region compatible with ``named`` (outside
    the sentence ``skip``, and other than the ``ordered`` regions): a combined report
    ("Chest: ... Left knee: ...") covers two exams."""
    allowed = set(named)
    for region in named:
        allowed |= _REGION_COMPATIBLE.get(region, {region})
    allowed -= ordered
    for span in main_spans(view):
        for start, end in sentences(view.text, span):
            if skip is not None and start <= skip[0] < end:
                continue
            if _parts(view.text[start:end]) & allowed:
                return True
    return False


def _mismatch(
    view: ReportView, section: str, start: int, end: int, what: str, ordered: str
) -> list[Finding]:
    message = (
        f"The report's {what} ('{view.text[start:end].strip()[:60]}') does not match the "
        f"ordered exam '{ordered[:40]}'; check that the report belongs to this order."
    )
    evidence = [text_evidence(section, view.text, start, end), exam_evidence(view)]
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]


def check_exam_line(view: ReportView) -> list[Finding]:
    """The report's own EXAMINATION line against the order: another modality ("CT Chest" for
    an XR order), another body region ("XR Lumbar Spine" for a chest order), or the opposite
    contrast ("with contrast" for an order without)."""
    exam = exam_text(view)
    line = _exam_line(view)
    if not exam or line is None:
        return []
    section, start, end = line
    text = view.text[start:end]
    upper = text.upper()
    ordered_modality, named_modality = modality(exam), modality(upper)
    if (
        ordered_modality is not None
        and named_modality is not None
        and named_modality != ordered_modality
        and named_modality not in _COMPATIBLE.get(ordered_modality, set())
        and ordered_modality not in _COMPATIBLE.get(named_modality, set())
    ):
        return _mismatch(view, section, start, end, f"exam line names {named_modality}", exam)
    named, ordered = _parts(text), _parts(exam)
    if named and ordered and not _agrees(named, ordered) and not _covered(view, named, ordered):
        return _mismatch(view, section, start, end, "exam line names another body region", exam)
    explicit = _CONTRAST_NONE.search(text) or _WITH_CONTRAST_LINE.search(text)
    if explicit is not None:
        said, wanted = contrast_ordered(upper), contrast_ordered(exam)
        if said is not None and wanted is not None and said != wanted:
            return _mismatch(view, section, start, end, "exam line's contrast", exam)
    return []


_WITH_CONTRAST_LINE = re.compile(r"\bw(?:ith)?/? ?(?:iv )?contrast\b|\bCTA\b|\bangiogra", re.I)


def check_imaged_region(view: ReportView) -> list[Finding]:
    """A findings sentence saying what was imaged names another region than the order's
    ("Frontal and lateral views of the right wrist show no fracture" in a chest report)."""
    exam = exam_text(view)
    ordered = _parts(exam)
    if not ordered:
        return []
    for span in main_spans(view):
        for m in _IMAGED.finditer(view.text, span.start, span.end):
            named = _parts(m.group("part"))
            if (
                named
                and not _agrees(named, ordered)
                and not _covered(view, named, ordered, m.span())
            ):
                return _mismatch(
                    view, span.name, m.start(), m.end(), "text describes images of", exam
                )
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_region,
    check_modality,
    check_contrast,
    check_exam_line,
    check_imaged_region,
)
