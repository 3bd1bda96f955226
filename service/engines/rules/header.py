"""``cxr.metadata``: the DICOM header of a chest radiograph, checked value by value.

Each check reads ``ImageInput.header`` (a dataset without pixel data) and returns its findings.
What counts as valid was measured on real headers (Open-i, RSNA, the files under
``shared/data/cxr``): CR with a DX SOP class is common and harmless, so it is not flagged;
``PORTABLE CHEST`` and ``NON GRID CHEST`` are chest values; ``ERECT``/``SUPINE`` in
PatientPosition are postures, not errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydicom.dataset import Dataset
from pydicom.uid import UID

from service.engines.base import Finding, ImageInput
from service.engines.rules._dicom import (
    parse_numbers,
    sequence_items,
    sop_class_uid,
    upper_text,
    value_text,
)
from service.engines.rules._findings import finding, tag_evidence, words
from service.engines.rules.subject import names_an_animal
from service.taxonomy import Severity

CODE = "cxr.metadata"

CR_DX_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.1",  # CR Image Storage
        "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
        "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image Storage - For Processing
    }
)
SECONDARY_CAPTURE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
        "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
        "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC
    }
)
XRAY_MODALITIES = frozenset({"CR", "DX"})
UNSPECIFIED_MODALITIES = frozenset({"", "OT"})


def labelled_not_a_radiograph(ds: Dataset) -> bool:
    """Modality names something other than a radiograph (CR, DX, OT or nothing): check_modality
    reports it, and the checks of a chest radiograph's view or anatomy mean nothing there."""
    return upper_text(ds, "Modality") not in XRAY_MODALITIES | UNSPECIFIED_MODALITIES


# BodyPartExamined: a value containing one of these is the chest ("PORTABLE CHEST", "CHEST_PA").
_CHEST_STEMS = ("CHEST", "THORAX", "LUNG", "TORSO", "CXR", "TORAX", "TORACE")
# Values naming another region: the image does not belong to a chest examination.
_OTHER_REGIONS = words(
    """ABDOMEN ABDOMENPELVIS PELVIS HEAD SKULL BRAIN FACE JAW TMJ ORBIT SINUS NECK CSPINE TSPINE
    LSPINE SSPINE SPINE THORACIC CERVICAL LUMBAR SACRUM COCCYX SHOULDER CLAVICLE SCAPULA ARM
    HUMERUS ELBOW FOREARM WRIST HAND FINGER THUMB HIP FEMUR LEG KNEE PATELLA TIBIA FIBULA ANKLE
    FOOT TOE HEEL CALCANEUS BREAST RIB RIBS RIBCAGE STERNUM EXTREMITY EXTREMETY EXTREMITIES
    KIDNEY BLADDER KUB"""
)
# ViewPosition terms (DICOM defined terms and real-world spellings, tokenised).
VIEW_TERMS = words(
    """AP PA LL RL LLD RLD LLO RLO LAO RAO LPO RPO LAT LATERAL LATERALE OBLIQUE DECUBITUS
    LORDOTIC"""
)
# PatientPosition: the DICOM defined terms, plus the postures real CR headers carry.
_PATIENT_POSITIONS = words(
    """HFP HFS HFDR HFDL FFDR FFDL FFP FFS LFP LFS RFP RFS AFDR AFDL PFDR PFDL ERECT SEMIERECT
    UPRIGHT STANDING SITTING SUPINE PRONE RECUMBENT"""
)
_PHOTOMETRIC_GREY = frozenset({"MONOCHROME1", "MONOCHROME2"})
_SEXES = frozenset({"M", "F", "O"})


def _tokens(value: str) -> list[str]:
    return [t for t in re.split(r"[^A-Z0-9]+", value.upper()) if t]


def is_xray(item: ImageInput) -> bool:
    """The object claims to be a CR/DX radiograph (by modality or SOP class)."""
    modality = upper_text(item.header, "Modality")
    return modality in XRAY_MODALITIES or sop_class_uid(item.header) in CR_DX_SOP_CLASSES


def check_modality(item: ImageInput) -> list[Finding]:
    """Modality and SOP class must be those of a chest radiograph (CR/DX, or a Secondary
    Capture of one)."""
    ds = item.header
    modality = upper_text(ds, "Modality")
    sop = sop_class_uid(ds)
    evidence = [
        tag_evidence("Modality", value_text(ds, "Modality")),
        tag_evidence("SOPClassUID", sop),
    ]
    sop_name = UID(sop).name if sop else "unknown"
    if modality not in XRAY_MODALITIES | UNSPECIFIED_MODALITIES:
        message = (
            f"The image is labelled Modality {modality}, not a chest radiograph (CR or DX); "
            "check the modality and where this image was sent."
        )
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.95)]
    if not sop:
        message = "The object has no SOP Class UID, so its type cannot be verified; resend it."
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.85)]
    if sop not in CR_DX_SOP_CLASSES | SECONDARY_CAPTURE_SOP_CLASSES:
        message = (
            f"The object is stored as {sop_name}, not as a CR/DX radiograph; check that it is "
            "a chest X-ray."
        )
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.9)]
    if modality in UNSPECIFIED_MODALITIES:
        what = "missing" if not modality else "OT"
        if sop in SECONDARY_CAPTURE_SOP_CLASSES:
            message = (
                f"A secondary capture with Modality {what}: the image's X-ray origin cannot be "
                "verified; set Modality to CR or DX."
            )
            return [finding(CODE, Severity.MINOR, message, evidence, 0.6)]
        message = f"Modality is {what} on a {sop_name} object; set it to CR or DX."
        return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]
    return []


def body_part_kind(value: str) -> str:
    """``chest``, ``empty``, ``other`` (a named non-chest region) or ``unknown``."""
    upper = value.strip().upper()
    if not upper:
        return "empty"
    compact = re.sub(r"[^A-Z]", "", upper)
    if any(stem in compact for stem in _CHEST_STEMS):
        return "chest"
    if compact in _OTHER_REGIONS or any(token in _OTHER_REGIONS for token in _tokens(upper)):
        return "other"
    return "unknown"


def check_body_part(item: ImageInput) -> list[Finding]:
    """BodyPartExamined must name the chest."""
    value = value_text(item.header, "BodyPartExamined")
    kind = body_part_kind(value or "")
    evidence = [tag_evidence("BodyPartExamined", value)]
    if kind == "chest" or (kind == "unknown" and names_an_animal(value or "")):
        return []  # an animal ("CANINE"): reported once, as a veterinary subject
    if kind == "empty":
        message = (
            "BodyPartExamined is empty; set it to CHEST so the image is routed and displayed "
            "with chest settings."
        )
        return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]
    shown = (value or "").strip()[:32]
    if kind == "other":
        message = (
            f"BodyPartExamined is {shown}, not the chest; check that this image belongs to a "
            "chest X-ray examination."
        )
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.9)]
    message = f"BodyPartExamined '{shown}' is not a recognised chest value; set it to CHEST."
    return [finding(CODE, Severity.MINOR, message, evidence, 0.55)]


def is_view(value: str) -> bool:
    return any(token in VIEW_TERMS for token in _tokens(value))


LATERAL_TERMS = words("LL RL LAT LATERAL LATERALE")


def is_lateral_view(value: str) -> bool:
    """ViewPosition names a lateral projection."""
    return any(token in LATERAL_TERMS for token in _tokens(value))


def check_view_position(item: ImageInput) -> list[Finding]:
    """ViewPosition must hold a chest projection; the projection must not sit in
    PatientPosition instead (the NIH ChestX-ray14 conversions do this)."""
    ds = item.header
    if labelled_not_a_radiograph(ds):
        return []
    view = value_text(ds, "ViewPosition")
    position = value_text(ds, "PatientPosition")
    evidence = [tag_evidence("ViewPosition", view), tag_evidence("PatientPosition", position)]
    if view and is_view(view):
        return []
    if not view:
        if position and is_view(position):
            message = (
                f"The projection ({position[:16]}) is recorded in PatientPosition and "
                "ViewPosition is empty; move it to ViewPosition so viewers and tools read it."
            )
            return [finding(CODE, Severity.MINOR, message, evidence, 0.9)]
        message = (
            "ViewPosition is missing, so the projection (PA, AP or lateral) is not recorded; "
            "add it."
        )
        return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]
    message = (
        f"ViewPosition '{view[:16]}' is not a recognised chest projection (PA, AP, LL, RL); "
        "correct it."
    )
    return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]


def check_patient_position(item: ImageInput) -> list[Finding]:
    """PatientPosition, when present, must be a DICOM patient position or a posture."""
    ds = item.header
    position = value_text(ds, "PatientPosition")
    if not position:
        return []
    upper = position.upper()
    if upper in _PATIENT_POSITIONS or re.sub(r"[^A-Z]", "", upper) in _PATIENT_POSITIONS:
        return []
    evidence = [tag_evidence("PatientPosition", position)]
    if is_view(upper):
        if value_text(ds, "ViewPosition"):
            message = (
                f"PatientPosition holds a projection ({position[:16]}) rather than a patient "
                "position; clear it or record the patient's posture."
            )
            return [finding(CODE, Severity.MINOR, message, evidence, 0.6)]
        return []  # reported by check_view_position, with the missing ViewPosition
    message = f"PatientPosition '{position[:16]}' is not a valid DICOM value; correct or remove it."
    return [finding(CODE, Severity.MINOR, message, evidence, 0.9)]


def check_pixel_spacing(item: ImageInput) -> list[Finding]:
    """A CR/DX image needs a usable PixelSpacing or ImagerPixelSpacing for measurements."""
    if not is_xray(item):
        return []
    ds = item.header
    found = {kw: value_text(ds, kw) for kw in ("PixelSpacing", "ImagerPixelSpacing")}
    evidence = [tag_evidence(kw, value) for kw, value in found.items()]
    present = {kw: value for kw, value in found.items() if value}
    if not present:
        message = (
            "Neither PixelSpacing nor ImagerPixelSpacing is present, so distances measured on "
            "this image are uncalibrated."
        )
        return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]
    for keyword, value in present.items():
        numbers = parse_numbers(value)
        if numbers is None or len(numbers) != 2 or min(numbers) <= 0:
            message = (
                f"{keyword} ({value[:24]}) is not a valid spacing, so distances measured on "
                "this image are wrong."
            )
            return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]
    return []


def check_photometric(item: ImageInput) -> list[Finding]:
    """A CR/DX image must be greyscale, MONOCHROME1 or MONOCHROME2."""
    if not is_xray(item):
        return []
    value = value_text(item.header, "PhotometricInterpretation")
    if value and value.upper() in _PHOTOMETRIC_GREY:
        return []
    shown = f"is {value[:16]}" if value else "is missing"
    message = (
        f"PhotometricInterpretation {shown}; a CR/DX radiograph must be MONOCHROME1 or "
        "MONOCHROME2, or it may display with the wrong grey scale."
    )
    evidence = [tag_evidence("PhotometricInterpretation", value)]
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.9)]


def check_patient_sex(item: ImageInput) -> list[Finding]:
    """PatientSex must be M, F or O."""
    value = value_text(item.header, "PatientSex")
    if value and value.upper() in _SEXES:
        return []
    shown = f"'{value[:8]}' is not M, F or O" if value else "is missing"
    message = (
        f"PatientSex {shown}; record the patient's sex so that reports and sex-specific "
        "checks can use it."
    )
    return [finding(CODE, Severity.MINOR, message, [tag_evidence("PatientSex", value)], 0.85)]


def check_patient_age(item: ImageInput) -> list[Finding]:
    """At least one of PatientAge and PatientBirthDate must be recorded."""
    ds = item.header
    age = value_text(ds, "PatientAge")
    birth = value_text(ds, "PatientBirthDate")
    if age or birth:
        return []
    message = (
        "Neither PatientAge nor PatientBirthDate is recorded; add one so the image is read "
        "in the context of the patient's age."
    )
    evidence = [tag_evidence("PatientAge", age), tag_evidence("PatientBirthDate", birth)]
    return [finding(CODE, Severity.MINOR, message, evidence, 0.8)]


_DX_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"
_WINDOW_KEYWORDS = ("WindowCenter", "WindowWidth")


def _bits_stored(ds: Dataset) -> int | None:
    numbers = parse_numbers(value_text(ds, "BitsStored"))
    return int(numbers[0]) if numbers and len(numbers) == 1 and 1 <= numbers[0] <= 32 else None


def _modality_range(ds: Dataset, bits: int) -> tuple[float, float]:
    """The modality values (rescale applied) the stored bit depth can hold."""
    signed = upper_text(ds, "PixelRepresentation") == "1"
    lo, hi = (-(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1) if signed else (0.0, 2.0**bits - 1)
    slope = (parse_numbers(value_text(ds, "RescaleSlope")) or [1.0])[0] or 1.0
    intercept = (parse_numbers(value_text(ds, "RescaleIntercept")) or [0.0])[0]
    ends = sorted((lo * slope + intercept, hi * slope + intercept))
    return ends[0], ends[1]


# A default window narrower than this share of the stored range shows the film as black and
# white: real windows of 10-16-bit chest films span hundreds to thousands of values.
NARROW_WINDOW = 0.01


def check_voi_lut(item: ImageInput) -> list[Finding]:
    """A window (WindowCenter/WindowWidth) or a VOI LUT must be present and usable.

    DX "for presentation" objects must carry one (DICOM PS3.3 DX Image module); on CR and
    secondary captures it is optional, but a 10-16-bit image without one is displayed with a
    viewer's own guess (lower confidence). 8-bit images are display-ready and not flagged when
    the window is absent. Present windows are checked: numeric, widths >= 1, as many centres
    as widths, not so narrow that the film turns black and white (10-16-bit images: under 1 %
    of the stored range), and overlapping the values the bit depth can hold.
    """
    if not is_xray(item):
        return []
    ds = item.header
    centre_text = value_text(ds, "WindowCenter")
    width_text = value_text(ds, "WindowWidth")
    has_lut = bool(sequence_items(ds, "VOILUTSequence"))
    evidence = [
        tag_evidence("WindowCenter", centre_text),
        tag_evidence("WindowWidth", width_text),
        tag_evidence("VOILUTSequence", "present" if has_lut else None),
    ]
    if not centre_text and not width_text:
        if has_lut:
            return []
        bits = _bits_stored(ds)
        dx = sop_class_uid(ds) == _DX_FOR_PRESENTATION or (
            upper_text(ds, "PresentationIntentType") == "FOR PRESENTATION"
        )
        if dx:
            message = (
                "A DX image for presentation has neither a window (WindowCenter/WindowWidth) "
                "nor a VOI LUT, which it must carry; viewers will guess the grey-scale mapping."
            )
            return [finding(CODE, Severity.MINOR, message, evidence, 0.85)]
        if bits is not None and bits > 8:
            message = (
                f"The {bits}-bit image has no window (WindowCenter/WindowWidth) and no VOI "
                "LUT, so each viewer chooses its own grey-scale mapping; add a default window."
            )
            return [finding(CODE, Severity.MINOR, message, evidence, 0.5)]
        return []
    centres = parse_numbers(centre_text)
    widths = parse_numbers(width_text)
    if not centres or not widths or len(centres) != len(widths):
        message = (
            "WindowCenter and WindowWidth are missing, not numeric or of different counts, so "
            "the default grey-scale window cannot be applied; correct them."
        )
        return [finding(CODE, Severity.MINOR, message, evidence, 0.9)]
    if min(widths) < 1:
        message = "A WindowWidth below 1 is invalid, so the default window cannot be applied."
        return [finding(CODE, Severity.MINOR, message, evidence, 0.9)]
    bits = _bits_stored(ds)
    if bits is not None and bits > 8:
        lo, hi = _modality_range(ds, bits)
        if max(widths) < NARROW_WINDOW * (hi - lo):
            message = (
                f"The default window is {max(widths):g} wide out of {hi - lo + 1:g} stored "
                "values, so the image displays as black and white; correct WindowWidth."
            )
            return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    if bits is not None:
        lo, hi = _modality_range(ds, bits)
        outside = [
            (c, w) for c, w in zip(centres, widths, strict=True) if c + w / 2 < lo or c - w / 2 > hi
        ]
        if len(outside) == len(centres):
            message = (
                "The default window lies entirely outside the values the image can hold, so "
                "it displays as a blank field; correct WindowCenter/WindowWidth."
            )
            return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    return []


CHECKS: tuple[Callable[[ImageInput], list[Finding]], ...] = (
    check_modality,
    check_body_part,
    check_view_position,
    check_patient_position,
    check_pixel_spacing,
    check_photometric,
    check_voi_lut,
    check_patient_sex,
    check_patient_age,
)
