"""What radqc accepts as a received DICOM object, whatever the protocol: chest X-ray image
storage SOP classes, in little-endian transfer syntaxes (stored exactly as received)."""

from __future__ import annotations

from typing import Final

from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

STORAGE_SOP_CLASSES: Final[tuple[str, ...]] = (
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image Storage - For Processing
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word Secondary Capture Image Storage
)

# Little endian only; datasets are stored exactly as received, so any of these is fine to keep.
TRANSFER_SYNTAXES: Final[tuple[str, ...]] = tuple(
    str(uid)
    for uid in (
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        DeflatedExplicitVRLittleEndian,
        JPEGBaseline8Bit,  # 1.2.840.10008.1.2.4.50
        JPEGExtended12Bit,  # .51
        JPEGLossless,  # .57
        JPEGLosslessSV1,  # .70
        JPEGLSLossless,  # .80
        JPEGLSNearLossless,  # .81
        JPEG2000Lossless,  # .90
        JPEG2000,  # .91
        RLELossless,  # 1.2.840.10008.1.2.5
    )
)

EXPLICIT_VR: Final = str(ExplicitVRLittleEndian)
IMPLICIT_VR: Final = str(ImplicitVRLittleEndian)
DEFLATED: Final = str(DeflatedExplicitVRLittleEndian)
