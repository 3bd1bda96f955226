"""What the Storage SCP accepts at association negotiation: SOP classes and transfer syntaxes.

Only chest X-ray image storage is accepted (the core's list, the same for every protocol). Any
other SOP class (CT, MR, structured reports...) is refused at negotiation, which is how DICOM says
"not here": the sender learns it before it sends a single byte of pixel data.
"""

from __future__ import annotations

from typing import Final

from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from service.dicom_receive.accepted import IMPLICIT_VR, STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES

__all__ = ["STORAGE_SOP_CLASSES", "TRANSFER_SYNTAXES", "VERIFICATION", "add_supported_contexts"]

VERIFICATION: Final = "1.2.840.10008.1.1"


def add_supported_contexts(ae: AE) -> None:
    """Accept Verification and the chest X-ray storage SOP classes in every supported syntax."""
    ae.add_supported_context(VERIFICATION, [str(ExplicitVRLittleEndian), IMPLICIT_VR])
    for sop_class in STORAGE_SOP_CLASSES:
        ae.add_supported_context(sop_class, list(TRANSFER_SYNTAXES))
