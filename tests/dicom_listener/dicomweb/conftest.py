"""radqc's HTTP application, as the composition root builds it, under uvicorn on loopback; raw
multipart bodies; what the database holds after a STOW."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from service.app import build_api
from service.components import Components
from service.config import Settings
from service.db import Database
from service.models import Instance, Item, Job
from service.pipeline import NullPublisher, Pipeline
from service.queue import QC
from service.storage import FileStore
from tests.support.servers import serve_app

INGEST = {"Authorization": "Bearer ingest-token-0123456789"}
READER = {"Authorization": "Bearer reader-token-0123456789"}
BOUNDARY = "radqc-test-boundary-7d3f"
STOW_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'


@dataclass
class Api:
    url: str
    settings: Settings
    db: Database
    files: FileStore

    def stow(
        self,
        body: bytes,
        *,
        study: str | None = None,
        content_type: str = STOW_TYPE,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        path = f"/dicomweb/studies/{study}" if study else "/dicomweb/studies"
        return httpx.post(
            self.url + path,
            content=body,
            headers={"Content-Type": content_type, **INGEST, **(headers or {})},
            timeout=60,
        )


@contextmanager
def serving(settings: Settings, db: Database, **changes: object) -> Iterator[Api]:
    settings = settings.model_copy(update=changes)
    files = FileStore(settings.dicom_dir)
    components = Components(settings, db, files, Pipeline(db, files, [], [], NullPublisher()))
    with serve_app(build_api(components)) as url:
        yield Api(url, settings, db, files)


@pytest.fixture
def api(settings: Settings, db: Database) -> Iterator[Api]:
    with serving(settings, db) as running:
        yield running


Part = bytes | tuple[str | None, bytes]  # the content, or (its Content-Type or None, content)


def multipart(parts: Sequence[Part], boundary: str = BOUNDARY) -> bytes:
    """A multipart/related body: ``application/dicom`` parts unless a part names its type."""
    body = b""
    for part in parts:
        kind, content = part if isinstance(part, tuple) else ("application/dicom", part)
        header = f"Content-Type: {kind}\r\n" if kind else ""
        body += f"--{boundary}\r\n{header}\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def failure_reasons(response: httpx.Response) -> list[int]:
    items = response.json().get("00081198", {}).get("Value", [])
    return [item["00081197"]["Value"][0] for item in items]


def referenced_uids(response: httpx.Response) -> list[str]:
    items = response.json().get("00081199", {}).get("Value", [])
    return [item["00081155"]["Value"][0] for item in items]


def item_and_job(db: Database, sop_instance_uid: str) -> list[tuple[int, str]]:
    """(item id, QC job status) for every stored version of ``sop_instance_uid``."""
    with db.reader() as session:
        rows = session.execute(
            select(Item.id, Job.status)
            .join(Instance, Item.instance_id == Instance.id)
            .join(Job, (Job.item_id == Item.id) & (Job.kind == QC))
            .where(Instance.sop_instance_uid == sop_instance_uid)
            .order_by(Instance.version)
        ).all()
    return [(item_id, str(status)) for item_id, status in rows]
