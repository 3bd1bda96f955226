"""What the Storage SCP accepts at association negotiation: SOP classes and transfer syntaxes.

Only chest X-ray image storage is accepted. Any other SOP class (CT, MR, structured reports...)
is refused at negotiation, which is how DICOM says "not here": the sender learns it before it
sends a single byte of pixel data.
"""

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
from pynetdicom import AE

VERIFICATION: Final = "1.2.840.10008.1.1"

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

IMPLICIT_VR: Final = str(ImplicitVRLittleEndian)
DEFLATED: Final = str(DeflatedExplicitVRLittleEndian)


def add_supported_contexts(ae: AE) -> None:
    """Accept Verification and the chest X-ray storage SOP classes in every supported syntax."""
    ae.add_supported_context(VERIFICATION, [str(ExplicitVRLittleEndian), IMPLICIT_VR])
    for sop_class in STORAGE_SOP_CLASSES:
        ae.add_supported_context(sop_class, list(TRANSFER_SYNTAXES))
