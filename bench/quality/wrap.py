"""A film's pixels as a DICOM CR or DX object with a plausible clean header.

The sources give 8-bit grey images; they are stored in 12 bits (value x 4095/255, so no grey
level is invented), MONOCHROME2 for DX and MONOCHROME1 for CR (as CR readers usually write
them), with a window that spans the image's own 0.5-99.5 percentile range. UIDs are derived from
the film id, so a rebuilt cache holds the same objects. Where the source gives no age, the header
carries a plausible adult age drawn from the film id (stated in the README); where it gives no
sex, ``O``.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from bench.quality.common import stable_fraction

DX_SOP = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
CR_SOP = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage
MAX12 = 4095


def to_12bit(grey8: np.ndarray) -> np.ndarray:
    return np.rint(grey8.astype(np.float64) * (MAX12 / 255.0)).astype(np.uint16)


def _window(stored: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(stored, [0.5, 99.5])
    return round((lo + hi) / 2, 1), round(max(hi - lo, 64.0), 1)


def wrap(
    grey8: np.ndarray,
    film_id: str,
    modality: str,
    sex: str,
    age: str,
    view: str,
    spacing_mm: float,
) -> Dataset:
    """The film as a DICOM dataset with file meta (uncompressed, Explicit VR Little Endian)."""
    display = to_12bit(grey8)  # bright = dense
    mono1 = modality == "CR"
    stored = (MAX12 - display).astype(np.uint16) if mono1 else display
    sop_class = CR_SOP if mono1 else DX_SOP
    uid = generate_uid(entropy_srcs=[film_id, "sop"])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[film_id, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[film_id, "series"])
    ds.Modality = modality
    ds.PatientName = f"BENCH^{film_id.upper()}"
    ds.PatientID = f"BENCH-{film_id}"
    ds.PatientSex = sex
    years = int(age) if age else 35 + int(stable_fraction(film_id, 5) * 45)
    ds.PatientAge = f"{years:03d}Y"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240312"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.AccessionNumber = f"A{int(stable_fraction(film_id, 6) * 10**8):08d}"
    ds.StudyDescription = "XR CHEST PA"
    ds.SeriesDescription = f"CHEST {view}"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = view
    ds.PatientOrientation = ["L", "F"]  # PA displayed as if facing the patient
    ds.Manufacturer = "radqc-bench wrapper"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PixelSpacing = [spacing_mm, spacing_mm]
    if modality == "DX":
        ds.ImagerPixelSpacing = [spacing_mm, spacing_mm]
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.ImageLaterality = "U"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if mono1 else "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    centre, width = _window(stored)
    ds.WindowCenter, ds.WindowWidth = centre, width
    ds.PixelData = np.ascontiguousarray(stored).tobytes()
    ds["PixelData"].VR = "OW"
    return ds
