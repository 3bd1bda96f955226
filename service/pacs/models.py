"""What the PACS answered for each QC document radqc sent it (``pacs_deliveries``).

A row per document (``sr`` or ``kos``) and SOP Instance UID: ``delivered`` once the PACS stored it
(success or warning status), ``refused`` when it kept answering a failure status; its DIMSE status
and comment say why. Sending again content already delivered is skipped (the UID is derived from
the content, so the same content is the same instance).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models import Base, utcnow


class PacsDelivery(Base):
    __tablename__ = "pacs_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    document: Mapped[str] = mapped_column(String(8))  # "sr" | "kos"
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # delivered | refused
    dimse_status: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
