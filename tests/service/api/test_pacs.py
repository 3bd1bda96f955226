"""The PACS deliveries over REST (issue 12): admins list what the PACS answered for each QC
document and send a study's results again; other roles may not. Real app under uvicorn, real
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.config import Settings
from service.db import Database
from service.models import Item, Job
from service.pacs.models import PacsDelivery
from service.pacs.results import DELIVERED, JOB_KIND, REFUSED, REFUSING, job_key
from tests.service.api.conftest import ADMIN, AUDITOR, READER, make_app, make_components
from tests.service.api.support import add_image
from tests.support.servers import serve_app

STUDY_UID = "1.2.826.0.1.3680043.8.498.77001"


def _seed(settings: Settings, db: Database, shared_data: Path) -> int:
    """A received image (its study) and one document the PACS stored, one it refused once and
    one it refused for good; returns the study's id."""
    comps = make_components(settings, db)
    item_id = add_image(comps, shared_data, "1.2.826.0.1.3680043.8.498.77002", STUDY_UID, "A-1")
    with db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.study_id is not None
        study_id = item.study_id
        for n, (document, status, dimse, attempts) in enumerate(
            (("sr", DELIVERED, 0x0000, 1), ("sr", REFUSING, 0xA900, 1), ("kos", REFUSED, 0xC000, 3))
        ):
            session.add(
                PacsDelivery(
                    study_id=study_id,
                    document=document,
                    sop_instance_uid=f"2.25.{n + 1}",
                    content_hash=f"{n:064x}",
                    status=status,
                    dimse_status=dimse,
                    detail=None if status == DELIVERED else "refused by the test",
                    attempts=attempts,
                )
            )
    return study_id


@pytest.fixture
def with_pacs(settings: Settings, db: Database) -> Iterator[str]:
    """The app with a PACS configured (nothing listens there: no worker runs here)."""
    on = settings.model_copy(update={"pacs_host": "127.0.0.1", "pacs_port": 9})
    with serve_app(make_app(make_components(on, db))) as url:
        yield url


def _client(base_url: str, token: str = ADMIN) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_only_admins_see_and_resend(
    with_pacs: str, settings: Settings, db: Database, shared_data: Path
) -> None:
    study_id = _seed(settings, db, shared_data)
    for token, status in ((READER, 403), (AUDITOR, 403)):
        with _client(with_pacs, token) as http:
            assert http.get("/api/v1/pacs/deliveries").status_code == status
            assert http.post(f"/api/v1/pacs/studies/{study_id}/send").status_code == status
    assert httpx.get(f"{with_pacs}/api/v1/pacs/deliveries", timeout=10).status_code == 401


def test_list_filter_and_page(
    with_pacs: str, settings: Settings, db: Database, shared_data: Path
) -> None:
    study_id = _seed(settings, db, shared_data)
    with _client(with_pacs) as http:
        page = http.get("/api/v1/pacs/deliveries").json()
        assert [d["status"] for d in page["deliveries"]] == ["refused", "refusing", "delivered"]
        assert page["next_cursor"] is None
        refused = page["deliveries"][0]
        assert refused["document"] == "kos" and refused["dimse_status"] == 0xC000
        assert refused["attempts"] == 3 and refused["detail"] == "refused by the test"
        assert refused["study_id"] == study_id
        only = http.get("/api/v1/pacs/deliveries", params={"status": "refusing"}).json()
        assert [d["sop_instance_uid"] for d in only["deliveries"]] == ["2.25.2"]
        first = http.get("/api/v1/pacs/deliveries", params={"limit": 2}).json()
        assert len(first["deliveries"]) == 2 and first["next_cursor"]
        rest = http.get(
            "/api/v1/pacs/deliveries", params={"limit": 2, "cursor": first["next_cursor"]}
        ).json()
        assert [d["sop_instance_uid"] for d in rest["deliveries"]] == ["2.25.1"]
        assert rest["next_cursor"] is None
        other = http.get("/api/v1/pacs/deliveries", params={"study_id": study_id + 1}).json()
        assert other["deliveries"] == []
        bad = http.get("/api/v1/pacs/deliveries", params={"cursor": "not-a-cursor"})
        assert bad.status_code == 400
        assert http.get("/api/v1/pacs/deliveries", params={"status": "lost"}).status_code == 422


def test_send_again_forgets_refusals_and_queues_the_study(
    with_pacs: str, settings: Settings, db: Database, shared_data: Path
) -> None:
    study_id = _seed(settings, db, shared_data)
    with _client(with_pacs) as http:
        answer = http.post(f"/api/v1/pacs/studies/{study_id}/send")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"study_id": study_id, "refused_forgotten": 1}
        assert http.post(f"/api/v1/pacs/studies/{study_id + 99}/send").status_code == 404
    with db.reader() as session:
        left = session.scalars(select(PacsDelivery.status)).all()
        assert left == [DELIVERED]  # the delivered document is never sent twice
        job = session.scalar(select(Job).where(Job.kind == JOB_KIND))
        assert job is not None and job.key == job_key(study_id) and job.status == "queued"


def test_send_again_without_a_pacs_is_a_conflict(
    base_url: str, settings: Settings, db: Database, shared_data: Path
) -> None:
    study_id = _seed(settings, db, shared_data)
    with _client(base_url) as http:
        answer = http.post(f"/api/v1/pacs/studies/{study_id}/send")
    assert answer.status_code == 409 and "RADQC_PACS_HOST" in answer.text
