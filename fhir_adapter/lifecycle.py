"""The status of radqc's Observations over their life (issue 11; DESIGN §5).

The rules, in the order they win:

1. **entered-in-error**: the RIS withdrew the report, sending a version of it (same report id)
   with DiagnosticReport.status ``entered-in-error``. That version's own Observations and every
   still-current Observation of its earlier versions become ``entered-in-error``: the report
   should never have existed, so neither should radqc's results about it.
2. **cancelled, superseded**: a newer version of the same source was processed (a report with
   the same id and a higher version; an image with the same SOP Instance UID received again with
   different bytes) and has published Observations. Every still-current Observation of the older
   version(s) becomes ``cancelled``, with a ``note`` naming the replacing version. They are not
   wrong about what they checked; they are no longer about the current report or image.
   A superseded item stays so: processing it again (a late LLM part, an audit, a study check)
   changes none of its Observations but to cancel one still current; what it publishes for the
   first time (an older version whose QC finished after the newer one's, a late finding) is
   stored cancelled at once, with the note, so that every processed item keeps its findings and
   its ``qc.summary`` (DESIGN §4).
3. **cancelled**: an auditor rejected the finding, or the item was processed again and the
   finding is no longer found.
4. **final**: an auditor confirmed the finding; a ``qc.summary`` once its item has been audited
   (an audit judges every finding of the item, DESIGN §6).
5. **preliminary**: everything else: radqc's QC result, unverified by a person, including after
   every configured engine has run (DESIGN §5: "preliminary while unaudited").

``amended`` and ``corrected`` are not used: an Observation id carries its source's version
(``report:r1:v2``, ``sop:<uid>:v2``), so a finding that still stands in version 2 is a new
Observation of version 2 while version 1's is cancelled; existing ids never change. A change of
status is a new version of the Observation, stored once and queued once for write-back through
the outbox (``PUT`` of the same id); a terminal status (``cancelled``, ``entered-in-error``) is
never changed by a later supersede, so nothing is sent twice. A retired Observation whose
content returns to what the hospital server already holds is not sent again either
(:mod:`fhir_adapter.writeback`). Every replaced version is kept for vread
(``Observation.history``).

How a client asks for the current results: ``status=preliminary,final`` (or
``status:not=cancelled,entered-in-error``), e.g.
``GET /fhir/Observation?derived-from=DiagnosticReport/r1&code=qc.summary&status=preliminary,final``
gives the ``qc.summary`` of the report's latest processed version only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fhir_adapter.observations import CANCELLED, ENTERED_IN_ERROR, FINAL, PRELIMINARY, Status
from service.loop.models import Audit
from service.models import Instance, Item, Observation, ReportVersion

WITHDRAWN_REPORT = "entered-in-error"  # the DiagnosticReport.status of a withdrawn report


@dataclass(frozen=True, slots=True)
class SourceVersion:
    """One version of an item's source: its item, version, and what it means for the others."""

    item_id: int
    version: int
    withdrawn: bool  # a report version the RIS sent as entered-in-error
    published: bool  # it has Observations


@dataclass(frozen=True, slots=True)
class Retirement:
    """What the still-current Observations of a replaced version become, and why."""

    status: Status
    note: str


def source_versions(session: Session, item: Item) -> list[SourceVersion]:
    """Every version of ``item``'s source (report id, or SOP Instance UID), oldest first.

    Their items are locked (``FOR UPDATE``), in id order: two versions of one source publish one
    after the other, so a late older version always sees the newer one's Observations."""
    rows = _version_rows(session, item)
    if rows is None:  # no report id or SOP Instance UID: a source of one version
        return [SourceVersion(item.id, 1, False, bool(_published(session, [item.id])))]
    published = _published(session, [item_id for item_id, _, _ in rows])
    versions = [
        SourceVersion(item_id, version, status == WITHDRAWN_REPORT, item_id in published)
        for item_id, version, status in rows
    ]
    return sorted(versions, key=lambda v: (v.version, v.item_id))


def _version_rows(session: Session, item: Item) -> list[tuple[int, int, str | None]] | None:
    """(item id, version, report status) of every version of the item's source, locked."""
    if item.kind == "report" and item.report_id is not None:
        reports = session.execute(
            select(Item.id, Item.report_version, ReportVersion.status)
            .join(ReportVersion, ReportVersion.id == Item.report_version_id)
            .where(Item.kind == "report", Item.report_id == item.report_id)
            .order_by(Item.id)
            .with_for_update(of=Item)
        ).all()
        return [(item_id, version or 0, status) for item_id, version, status in reports]
    if item.kind == "image" and item.sop_instance_uid is not None:
        images = session.execute(
            select(Item.id, Instance.version)
            .join(Instance, Instance.id == Item.instance_id)
            .where(Item.kind == "image", Item.sop_instance_uid == item.sop_instance_uid)
            .order_by(Item.id)
            .with_for_update(of=Item)
        ).all()
        return [(item_id, version, None) for item_id, version in images]  # never withdrawn
    return None


def _published(session: Session, item_ids: list[int]) -> set[int]:
    if not item_ids:
        return set()
    return set(
        session.scalars(
            select(Observation.item_id).where(Observation.item_id.in_(item_ids)).distinct()
        )
    )


def retirement(kind: str, replaced: int, by: SourceVersion) -> Retirement:
    """What version ``replaced`` of a source becomes once version ``by`` is published."""
    if by.withdrawn:
        return Retirement(ENTERED_IN_ERROR, withdrawn_note(by.version))
    if kind == "image":
        note = (
            f"Superseded: this image was received again with different content (version "
            f"{by.version} replaces version {replaced}); this result is no longer current."
        )
    else:
        note = (
            f"Superseded: version {by.version} of this report replaces version {replaced}; "
            "this result is no longer current."
        )
    return Retirement(CANCELLED, note)


def withdrawn_note(version: int) -> str:
    return (
        f"Entered in error: the RIS withdrew this report (version {version} was sent with "
        "status entered-in-error)."
    )


def audited_summary(session: Session, item: Item) -> Status:
    """The ``qc.summary``'s status: ``final`` once the item has an audit, else
    ``preliminary``."""
    audited = session.scalar(select(Audit.id).where(Audit.item_id == item.id).limit(1))
    return FINAL if audited is not None else PRELIMINARY
