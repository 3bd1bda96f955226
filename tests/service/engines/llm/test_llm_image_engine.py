"""Image rendering and the LLM image reviewer against the loopback server."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import dcmread

from service.engines.llm.client import LLMClient, LLMConfig
from service.engines.llm.engine import LLMImageEngine, LLMResult
from service.engines.llm.redacted_png import display_array, render_png
from tests.service.engines.support import image_input
from tests.support.llm_server import Reply, llm_server

ANSWER = json.dumps(
    {
        "findings": [
            {
                "code": "cxr.rotation",
                "severity": "minor",
                "message": "Clavicles asymmetric about the spine.",
                "quote": "upper thorax",
                "confidence": 0.6,
            }
        ]
    }
)


def test_monochrome1_is_inverted_for_display(shared_data: Path) -> None:
    ds = dcmread(shared_data / "cxr/orthanc_Issue44_Monochrome1-Jpeg_CR.dcm")
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    shown = display_array(ds)
    ds.PhotometricInterpretation = "MONOCHROME2"
    plain = display_array(ds)
    assert shown.dtype == np.uint8 and shown.max() > 200
    assert np.allclose(shown.astype(int), 255 - plain.astype(int), atol=1)


def test_render_is_downscaled_png_without_metadata(shared_data: Path) -> None:
    path = shared_data / "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm"
    png = render_png(str(path), max_side=256)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "L" and max(image.size) == 256
    assert not image.info.get("text") and not getattr(image, "text", {})


def test_image_review_sends_pixels_and_no_identifying_header(shared_data: Path) -> None:
    path = shared_data / "cxr/udacity_nih_test1.dcm"
    header = dcmread(path, stop_before_pixels=True)
    identifying = [
        str(header.get(k, ""))
        for k in ("PatientName", "PatientID", "AccessionNumber", "StudyInstanceUID")
    ]
    with llm_server() as (srv, url):
        srv.push(Reply(content=ANSWER))

        async def go() -> LLMResult:
            client = LLMClient(LLMConfig(base_url=url, model="vision-model"))
            try:
                return await LLMImageEngine(client, max_side=384).review(image_input(path), [])
            finally:
                await client.close()

        result = asyncio.run(go())
    assert result.error is None and [f.code for f in result.findings] == ["cxr.rotation"]
    user = srv.requests[0]["messages"][1]["content"]
    image_part = next(p for p in user if p["type"] == "image_url")
    prefix = "data:image/png;base64,"
    assert image_part["image_url"]["url"].startswith(prefix)
    sent = Image.open(io.BytesIO(base64.b64decode(image_part["image_url"]["url"][len(prefix) :])))
    assert max(sent.size) == 384
    text = srv.all_sent_text()
    for value in identifying:
        if len(value.strip()) >= 4:  # a one-character id occurs in any base64 text
            assert value not in text
    assert "cxr.field_of_view" in srv.requests[0]["messages"][0]["content"]


def test_an_image_without_pixels_is_an_engine_error_and_nothing_is_sent(
    shared_data: Path,
) -> None:
    path = shared_data / "cxr/header_only/openrem_DX-Im-Carestream_DRX_chest_AP_nopixels.dcm"
    with llm_server() as (srv, url):

        async def go() -> LLMResult:
            client = LLMClient(LLMConfig(base_url=url, model="vision-model"))
            try:
                return await LLMImageEngine(client).review(image_input(path), [])
            finally:
                await client.close()

        result = asyncio.run(go())
    assert result.error is not None and result.error.startswith("image not rendered")
    assert result.calls == [] and srv.requests == []
