"""An image item whose object has no pixel data (a header-only DX from a real modality): its
image page shows a placeholder instead of an error (issue 14)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from service.config import Settings
from service.db import Database
from service.ui.film_png import NoPixelData, render_png
from tests.service.api.conftest import ADMIN, make_app, make_components
from tests.service.api.support import add_image
from tests.support.servers import serve_app

HEADER_ONLY = "cxr/header_only/openrem_DX-Im-Carestream_DRX_chest_AP_nopixels.dcm"


def test_render_says_there_are_no_pixels(shared_data: Path) -> None:
    with pytest.raises(NoPixelData):
        render_png(shared_data / HEADER_ONLY)


def test_the_image_of_a_header_only_object_is_a_placeholder(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    comps = make_components(settings, db)
    item_id = add_image(comps, shared_data, "1.2.840.78.1", "1.2.840.78", None, HEADER_ONLY)
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
