"""Faults put into clean films, by kind, each with the code it should be found as.

Written for this benchmark without the detectors' thresholds or code, and without ``degrade.py``
(the unit tests' degradation fixture, which the thresholds were tuned against). Pixel faults work
in the display domain (floats 0..1, bright = dense) and are written back in the film's own
photometric interpretation and bit depth; header faults change the header only. Field-of-view
cuts remove a band of the image where the named anatomy usually lies on a PA film (the top
24-32 % for the apices, the bottom 26-34 % for the costophrenic angles, the outer 17-24 % of one
side for a lateral chest wall) and, given the film's :class:`Landmarks` (read by eye, see
``films_landmarks.csv``), always deep enough to take the named anatomy: on a film with much
abdomen below the lungs the fixed band alone left both angles in the image, and the case was
labelled a cut that was not there.

:func:`make_case` also chooses how the case travels: half the cases are re-encoded losslessly
(JPEG-LS, JPEG 2000 or RLE), as the acceptance set's films were.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)
from scipy import ndimage

from bench.quality import film_objects as obj

Array = np.ndarray
Rng = np.random.Generator
PixelFault = Callable[[Array, Rng], Array]
HeaderFault = Callable[[Dataset, Rng], None]
LOSSLESS = (JPEGLSLossless, JPEG2000Lossless, RLELossless)


@dataclass(frozen=True, slots=True)
class Landmarks:
    """Where a film's lungs end, as shares of its height (from the top) or width (from the image's
    left), read by eye (``films_landmarks.csv``): the top of the higher apex, the lowest point of
    each costophrenic angle, the outer edge of each lung field."""

    apex_top: float
    angle_image_left: float
    angle_image_right: float
    wall_image_left: float
    wall_image_right: float


def _beyond(rng: Rng) -> float:
    """How far past a landmark a cut reaches, as a share of the film (the landmarks are read to
    about 3 %)."""
    return float(rng.uniform(0.04, 0.08))


def cut_apices(v: Array, rng: Rng, marks: Landmarks | None = None) -> Array:
    share, past = float(rng.uniform(0.24, 0.32)), _beyond(rng)
    if marks is not None:
        share = max(share, marks.apex_top + past)
    return v[int(v.shape[0] * share) :]


def cut_costophrenic(v: Array, rng: Rng, marks: Landmarks | None = None) -> Array:
    keep, past = 1 - float(rng.uniform(0.26, 0.34)), _beyond(rng)
    if marks is not None:  # both angles go: the cut lies above the higher one
        keep = min(keep, min(marks.angle_image_left, marks.angle_image_right) - past)
    return v[: int(v.shape[0] * keep)]


def cut_lateral_wall(v: Array, rng: Rng, marks: Landmarks | None = None) -> Array:
    share, past, left = float(rng.uniform(0.17, 0.24)), _beyond(rng), bool(rng.random() < 0.5)
    if marks is not None:
        wall = marks.wall_image_left if left else 1 - marks.wall_image_right
        share = max(share, wall + past)
    cut = int(v.shape[1] * share)
    return v[:, cut:] if left else v[:, : v.shape[1] - cut]


def too_dark(v: Array, rng: Rng) -> Array:
    return v ** rng.uniform(2.4, 3.2)


def burnt_out(v: Array, rng: Rng) -> Array:
    return np.clip(v * rng.uniform(1.5, 1.8) + rng.uniform(0.15, 0.3), 0, 1)


def washed_out(v: Array, rng: Rng) -> Array:
    """Poor use of the dynamic range: the image squeezed into a narrow band of grey."""
    return rng.uniform(0.38, 0.46) + v * rng.uniform(0.12, 0.18)


def quantum_noise(v: Array, rng: Rng) -> Array:
    """A low-dose exposure: Poisson noise on the photons that got through."""
    photons = rng.uniform(25, 60)
    transmitted = rng.poisson((1.0 - v) * photons) / photons
    return np.clip(1.0 - transmitted, 0, 1)


def unsharp(v: Array, rng: Rng) -> Array:
    return ndimage.gaussian_filter(v, v.shape[1] * rng.uniform(0.006, 0.01))


def modality_ct(ds: Dataset, rng: Rng) -> None:
    ds.Modality = str(rng.choice(["CT", "MR"]))


def view_lateral(ds: Dataset, rng: Rng) -> None:
    ds.ViewPosition = "LL"


def body_part_other(ds: Dataset, rng: Rng) -> None:
    ds.BodyPartExamined = str(rng.choice(["ABDOMEN", "KNEE", "SKULL"]))


def photometric_swapped(ds: Dataset, rng: Rng) -> None:
    mono1 = ds.PhotometricInterpretation == "MONOCHROME1"
    ds.PhotometricInterpretation = "MONOCHROME2" if mono1 else "MONOCHROME1"


def spacing_missing(ds: Dataset, rng: Rng) -> None:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        if keyword in ds:
            delattr(ds, keyword)


def sex_blank(ds: Dataset, rng: Rng) -> None:
    ds.PatientSex = ""


def window_unusable(ds: Dataset, rng: Rng) -> None:
    ds.WindowCenter, ds.WindowWidth = 4000.0, 1.0


# kind -> (code, pixel fault or None, header fault or None)
FAULTS: dict[str, tuple[str, PixelFault | None, HeaderFault | None]] = {
    "cut: lung apices": ("cxr.field_of_view", cut_apices, None),
    "cut: costophrenic angles": ("cxr.field_of_view", cut_costophrenic, None),
    "cut: a lateral chest wall": ("cxr.field_of_view", cut_lateral_wall, None),
    "rotated 90 degrees": (
        "cxr.orientation",
        lambda v, r: np.rot90(v, int(r.choice([1, 3]))),
        None,
    ),
    "rotated 180 degrees": ("cxr.orientation", lambda v, r: v[::-1, ::-1], None),
    "flipped left-right": ("cxr.orientation", lambda v, r: v[:, ::-1], None),
    "grey scale inverted (pixels)": ("cxr.orientation", lambda v, r: 1.0 - v, None),
    "too dark": ("cxr.exposure", too_dark, None),
    "burnt out, clipped": ("cxr.exposure", burnt_out, None),
    "narrow dynamic range": ("cxr.exposure", washed_out, None),
    "quantum noise (low dose)": ("cxr.exposure", quantum_noise, None),
    "unsharp (blur)": ("cxr.sharpness", unsharp, None),
    "motion blur": ("cxr.sharpness", obj.motion_blur, None),
    "ECG electrodes and leads": ("cxr.artifact", obj.ecg_electrodes, None),
    "buttons": ("cxr.artifact", obj.buttons, None),
    "necklace": ("cxr.artifact", obj.necklace, None),
    "detector line defects": ("cxr.artifact", obj.detector_lines, None),
    "burned-in text over a lung": ("cxr.annotation", obj.text_over_lungs, None),
    "burned-in patient data in a corner": ("cxr.annotation", obj.patient_data_corner, None),
    "header: modality CT/MR": ("cxr.metadata", None, modality_ct),
    "header: lateral view on a frontal image": ("cxr.metadata", None, view_lateral),
    "header: other body part": ("cxr.metadata", None, body_part_other),
    "header: photometric swapped": ("cxr.metadata", None, photometric_swapped),
    "header: pixel spacing missing": ("cxr.metadata", None, spacing_missing),
    "header: patient sex blank": ("cxr.metadata", None, sex_blank),
    "header: unusable window": ("cxr.metadata", None, window_unusable),
}


FIELD_CUTS = (cut_apices, cut_costophrenic, cut_lateral_wall)  # they take the film's landmarks


def to_display(ds: Dataset, stored: Array) -> Array:
    top = float(2 ** int(ds.BitsStored) - 1)
    v = stored.astype(np.float64) / top
    return 1.0 - v if ds.PhotometricInterpretation == "MONOCHROME1" else v


def from_display(ds: Dataset, v: Array) -> Array:
    top = float(2 ** int(ds.BitsStored) - 1)
    v = np.clip(v, 0.0, 1.0)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        v = 1.0 - v
    return np.rint(v * top).astype(np.uint16)


def _set_pixels(ds: Dataset, stored: Array) -> None:
    stored = np.ascontiguousarray(stored)
    ds.Rows, ds.Columns = stored.shape
    ds.PixelData = stored.tobytes()
    ds["PixelData"].VR = "OW"


def make_case(
    base: Dataset,
    kind: str | None,
    rng: Rng,
    case_id: str,
    compress: bool,
    marks: Landmarks | None = None,
) -> Dataset:
    """A new object (own UIDs, own patient and study) with fault ``kind`` (None: clean).
    ``marks``: the base film's landmarks, which the field-of-view cuts reach past."""
    ds = copy.deepcopy(base)
    if kind is not None:
        _, pixel_fault, header_fault = FAULTS[kind]
        if pixel_fault is not None:
            display = to_display(ds, base.pixel_array)
            faulty = (
                pixel_fault(display, rng, marks)  # type: ignore[call-arg]
                if pixel_fault in FIELD_CUTS
                else pixel_fault(display, rng)
            )
            _set_pixels(ds, from_display(ds, faulty))
        if header_fault is not None:
            header_fault(ds, rng)
    uid = generate_uid(entropy_srcs=[case_id])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[case_id, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[case_id, "series"])
    ds.PatientID = f"{base.PatientID}-{case_id[-6:]}"
    ds.AccessionNumber = case_id[-12:]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if compress:
        ds.compress(LOSSLESS[int(rng.integers(0, len(LOSSLESS)))])
    return ds
