"""C-STORE of radqc's documents to the configured PACS (pynetdicom SCU).

What an answer means for the sender (PS3.4 Annex B.2.3, PS3.7 C.4.2):

- success ``0x0000`` and the warnings ``0xB000``, ``0xB006``, ``0xB007``: stored;
- ``0xA7xx`` (out of resources): the PACS is busy, try again later (an outage);
- other failures (``0xA9xx`` data set does not match the SOP class, ``0xCxxx`` cannot
  understand, ``0x0122`` SOP class not supported, ``0x0124`` not authorised, ...): a refusal;
- no association (refused, rejected, aborted, timed out) or no answer: an outage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    Comprehensive3DSRStorage,
    KeyObjectSelectionDocumentStorage,
)

from service.errors import DeliveryError

log = logging.getLogger(__name__)
WARNINGS = frozenset({0xB000, 0xB006, 0xB007})


class PacsUnavailable(DeliveryError):
    """No association or no answer: the PACS is away; the job retries with backoff."""


@dataclass(frozen=True, slots=True)
class PacsTarget:
    host: str
    port: int
    called_ae_title: str
    calling_ae_title: str
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class StoreAnswer:
    status: int
    comment: str | None

    @property
    def stored(self) -> bool:
        return self.status == 0x0000 or self.status in WARNINGS

    @property
    def busy(self) -> bool:
        return 0xA700 <= self.status <= 0xA7FF


def store(target: PacsTarget, datasets: Sequence[Dataset]) -> list[StoreAnswer]:
    """C-STORE each of ``datasets`` on one association; the PACS's answer for each."""
    ae = AE(ae_title=target.calling_ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = target.timeout_seconds
    for sop_class in (Comprehensive3DSRStorage, KeyObjectSelectionDocumentStorage):
        ae.add_requested_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    assoc = ae.associate(target.host, target.port, ae_title=target.called_ae_title)
    if not assoc.is_established:
        why = "rejected" if assoc.is_rejected else "aborted" if assoc.is_aborted else "no answer"
        raise PacsUnavailable(
            f"no association with {target.called_ae_title}@{target.host}:{target.port} ({why})"
        )
    answers: list[StoreAnswer] = []
    try:
        for dataset in datasets:
            status = assoc.send_c_store(dataset)
            if not status or "Status" not in status:
                raise PacsUnavailable("the PACS did not answer the C-STORE (association lost)")
            comment = status.get("ErrorComment")
            answers.append(StoreAnswer(int(status.Status), str(comment) if comment else None))
    finally:
        if assoc.is_established:
            assoc.release()
    return answers
