"""MDM^T02 (original document with content) and MDM^T10 (replacement with content): the
transcribed report as a received report, the same way as an ORU's (:mod:`hl7_adapter.reports`).

=================================  ========================================================
HL7                                received report
=================================  ========================================================
OBR-3/ORC-3 (else TXA-15) filler   ``accession``, and with its namespace the ``report_id``:
order number                       an MDM and an ORU of one order are versions of one report
TXA-13 parent document (T10),      the ``report_id`` when there is no order number
else TXA-12 unique document
OBR-4, else TXA-2 document type    ``exam_code``, ``exam_display``
TXA-17 completion status           AU/LA final (T10: corrected), DI/DO/IP/IN/PA preliminary;
TXA-19 availability CA             entered-in-error (withdrawn)
TXA-4 activity date/time           ``effectiveDateTime``
=================================  ========================================================
"""

from __future__ import annotations

from typing import Any

from hl7_adapter.errors import ErrorCode, content_error
from hl7_adapter.fields import value
from hl7_adapter.message import Header
from hl7_adapter.reports import (
    OrderGroup,
    ReportFacts,
    exam_concept,
    filler_number,
    order_groups,
    received_report,
    sender_namespace,
    study_uid,
)
from service.ingest import ReceivedReport

_FINAL = frozenset({"AU", "LA"})
_PRELIMINARY = frozenset({"DI", "DO", "IP", "IN", "PA"})


def _status(txa: Any, trigger: str) -> str:
    if value(txa, 19).upper() == "CA":
        return "entered-in-error"
    code = value(txa, 17).upper()
    if code in _FINAL:
        return "corrected" if trigger == "T10" else "final"
    if code in _PRELIMINARY:
        return "preliminary"
    reason = "the completion status is missing" if not code else "unknown completion status"
    raise content_error(
        ErrorCode.TABLE_VALUE if code else ErrorCode.REQUIRED_FIELD, reason, "TXA^1^17"
    )


def _identity(header: Header, group: OrderGroup) -> tuple[str, str, str | None]:
    """(identifying number, its namespace, the accession if that number is one)."""
    found = filler_number(group)
    if found is None and value(group.opener, 15):
        found = (value(group.opener, 15), value(group.opener, 15, 2))
    if found is None:
        document = value(group.opener, 13) or value(group.opener, 12)
        if not document:
            raise content_error(
                ErrorCode.REQUIRED_FIELD,
                "neither a filler order number (OBR-3, ORC-3, TXA-15) nor a document number "
                "(TXA-12)",
                "TXA^1^12",
            )
        namespace = value(group.opener, 12, 2) or sender_namespace(header)
        return document, f"document:{namespace}", None
    filler, namespace = found
    return filler, namespace or sender_namespace(header), filler


def mdm_reports(header: Header, message: Any) -> list[ReceivedReport]:
    """The report of an MDM^T02/T10 message (one TXA)."""
    groups = order_groups(message, opener="TXA")
    if len(groups) > 1:
        raise content_error(ErrorCode.SEGMENT_SEQUENCE, "more than one TXA segment", "TXA^2")
    group = groups[0]
    txa = group.opener
    filler, namespace, accession = _identity(header, group)
    if group.obr is not None:
        code = exam_concept(group.obr, "OBR^1^4")
    else:
        code = exam_concept(txa, "TXA^1^2")
    facts = ReportFacts(
        patient=group.patient,
        filler=filler,
        namespace=namespace,
        accession=accession,
        status=_status(txa, header.trigger_event),
        code=code,
        effective=value(txa, 4),
        issued="",
        study_uid=study_uid(group.study_uid),
        observations=group.observations,
        where="TXA^1",
    )
    return [received_report(facts)]
