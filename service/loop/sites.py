"""The station and site of image items (DICOM StationName, InstitutionName) for evaluation
slices, recorded when an item's QC job completes (a worker hook; the header is read without
the pixels). Reports carry no station; they are sliced as ``report``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydicom.dataset import Dataset
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import queue
from service.dicom_files import read_header
from service.loop.models import ItemSite
from service.models import Instance, Item
from service.storage import FileStore

log = logging.getLogger(__name__)

JobHook = Callable[[Session, queue.ClaimedJob], None]


def _value(header: Dataset, keyword: str) -> str | None:
    value = str(header.get(keyword, "") or "").strip()
    return value[:64] or None


def record_site(session: Session, item_id: int, header: Dataset) -> None:
    station, institution = _value(header, "StationName"), _value(header, "InstitutionName")
    row = session.get(ItemSite, item_id)
    if row is None:
        session.add(ItemSite(item_id=item_id, station=station, institution=institution))
    else:
        row.station, row.institution = station, institution


def site_hook(files: FileStore) -> JobHook:
    """After a QC job on an image item: record its station and site."""

    def hook(session: Session, job: queue.ClaimedJob) -> None:
        if job.kind != queue.QC or job.item_id is None:
            return
        path = session.scalar(
            select(Instance.path)
            .join(Item, Item.instance_id == Instance.id)
            .where(Item.id == job.item_id)
        )
        if path is None:
            return
        try:
            header = read_header(files.path(path))
        except Exception as exc:  # best effort: it must never fail the job's completion
            log.warning("item %s: no station recorded: %s", job.item_id, exc)
            return
        record_site(session, job.item_id, header)

    return hook


def label(kind: str, value: str | None) -> str:
    if kind == "report":
        return "report"
    return value or "unknown"
