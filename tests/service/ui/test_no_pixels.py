"""An image item whose object has no pixel data (a header-only DX from a real modality): its
image page shows a placeholder instead of an error (issue 14)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pydicom
import pytest
from PIL import Image

from service.config import Settings
from service.db import Database
from service.ingest import ReceivedInstance, ingest, store_instance
from service.ui.render import NoPixelData, render_png
from tests.service.api.conftest import ADMIN, make_app, make_components
from tests.service.test_worker import OPTIONS
from tests.support.servers import serve_app

HEADER_ONLY = "cxr/header_only/openrem_DX-Im-Carestream_DRX_chest_AP_nopixels.dcm"


def test_render_says_there_are_no_pixels(shared_data: Path) -> None:
    with pytest.raises(NoPixelData):
        render_png(shared_data / HEADER_ONLY)


def test_the_image_of_a_header_only_object_is_a_placeholder(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    comps = make_components(settings, db)
    path = shared_data / HEADER_ONLY
    header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    stored = comps.files.put([path.read_bytes()])
    received = ReceivedInstance(
        sop_instance_uid=str(header.SOPInstanceUID),
        sop_class_uid=str(header.SOPClassUID),
        study_instance_uid=str(header.StudyInstanceUID),
        series_instance_uid=None,
        modality="DX",
        accession=None,
        patient_id=None,
        transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
        path=stored.relpath,
        sha256=stored.sha256,
        size_bytes=stored.size,
        calling_ae="TESTSCU",
    )
    item_id = ingest(comps.db, store_instance, received, OPTIONS).item_id
    with (
        serve_app(make_app(comps)) as url,
        httpx.Client(base_url=url, cookies={"radqc_token": ADMIN}, timeout=10) as client,
    ):
        response = client.get(f"/ui/items/{item_id}/image.png")
        page = client.get(f"/ui/items/{item_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-no-pixel-data"] == "true"
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)
    assert page.status_code == 200
