"""An image whose stored file retention removed: the item API says when, and a reprocess
request is refused with 409 and a message (the item, its findings and Observations stay)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from sqlalchemy import select

from service.components import Components
from service.models import Job
from service.pipeline import NullPublisher
from service.taxonomy import Severity
from tests.service.api.conftest import ADMIN
from tests.service.api.support import ScriptedEngine, add_image, add_report, drain, remove_file


def test_the_item_says_when_its_file_was_removed(
    comps: Components, client: httpx.Client, shared_data: Path
) -> None:
    kept = add_image(comps, shared_data, "1.2.840.81.1", "1.2.81.1", None)
    gone = add_image(
        comps, shared_data, "1.2.840.81.2", "1.2.81.2", None, "cxr/tfio_nih_dicom_00000001_000.dcm"
    )
    report = add_report(comps, "rep-81")
    drain(comps, ScriptedEngine(script={gone: [("cxr.exposure", Severity.MAJOR)]}), NullPublisher())
    remove_file(comps, gone)

    detail = client.get(f"/api/v1/items/{gone}").json()
    removed = dt.datetime.fromisoformat(detail["file_removed_at"])
    assert abs((dt.datetime.now(dt.UTC) - removed).total_seconds()) < 120
    assert [f["code"] for f in detail["findings"]] == ["cxr.exposure"]  # the findings stay
    listed = {row["id"]: row for row in client.get("/api/v1/items").json()["items"]}
    assert listed[gone]["file_removed_at"] == detail["file_removed_at"]
    assert listed[kept]["file_removed_at"] is None
    assert listed[report]["file_removed_at"] is None


def test_reprocess_queues_qc_again_but_not_for_a_removed_file(
    comps: Components, base_url: str, shared_data: Path
) -> None:
    kept = add_image(comps, shared_data, "1.2.840.82.1", "1.2.82.1", None)
    gone = add_image(
        comps, shared_data, "1.2.840.82.2", "1.2.82.2", None, "cxr/tfio_nih_dicom_00000001_000.dcm"
    )
    drain(comps, ScriptedEngine(), NullPublisher())
    remove_file(comps, gone)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=base_url, headers=admin, timeout=10) as http:
        refused = http.post(f"/api/v1/items/{gone}/reprocess")
        assert refused.status_code == 409, refused.text
        assert "removed by retention" in refused.json()["message"]
        accepted = http.post(f"/api/v1/items/{kept}/reprocess")
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["status"] == "queued" and accepted.json()["kind"] == "qc"
        assert http.post("/api/v1/items/999999/reprocess").status_code == 404
    with comps.db.reader() as session:
        rows = session.execute(select(Job.item_id, Job.status).where(Job.kind == "qc")).all()
    statuses = dict(rows)
    assert statuses == {kept: "queued", gone: "done"}  # nothing queued for the removed file
    assert drain(comps, ScriptedEngine(), NullPublisher()) == 1


def test_reprocess_is_for_admins(client: httpx.Client, comps: Components) -> None:
    item = add_report(comps, "rep-83")
    assert client.post(f"/api/v1/items/{item}/reprocess").status_code == 403
