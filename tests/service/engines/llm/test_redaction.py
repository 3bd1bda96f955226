"""Burned-in text never leaves: real films with canary text burned into their stored pixels, the
real image engine, the loopback server; the PNG the server received is decoded and checked."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian

from service.engines.llm.client import LLMClient, LLMConfig
from service.engines.llm.engine import LLMImageEngine
from service.engines.llm.redact import detect_text, fixed_zones, rules_text_regions
from service.engines.llm.redacted_png import display_array
from tests.service.engines.support import CXR_FILES, image_input
from tests.support.llm_server import LLMServer, llm_server

CANARY = "ZZCANARY SMITH"
DATE = "2023-03-14"
MAX_SIDE = 512

# (x, y) as fractions of the width and height, the text, and whether it is drawn bright
# (displayed white) or dark (displayed black). Corners and bands, the side of the chest, over
# the lung fields, and dark-on-light low over the mediastinum.
PLACES = [
    ((0.03, 0.02), f"{CANARY} {DATE}", True),
    ((0.62, 0.955), f"ID 77331904 {DATE}", True),
    ((0.03, 0.46), f"{CANARY} {DATE}", True),
    ((0.28, 0.33), f"{CANARY} {DATE}", True),
    ((0.36, 0.70), f"{CANARY} {DATE}", False),
]


def _burn(source: Path, target: Path) -> list[tuple[int, int, int, int]]:
    """Write ``source`` with the PLACES text burned into its stored pixels (uncompressed);
    return each text's box (x0, y0, x1, y1) in pixels."""
    ds = dcmread(source)
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.decompress()
    pixels = ds.pixel_array.copy()
    h, w = pixels.shape
    mono1 = ds.PhotometricInterpretation == "MONOCHROME1"
    lo, hi = int(pixels.min()), int(pixels.max())
    font = ImageFont.load_default(size=max(12, h // 40))
    boxes = []
    for (fx, fy), text, bright in PLACES:
        ink = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(ink)
        xy = (int(w * fx), int(h * fy))
        draw.text(xy, text, fill=255, font=font)
        boxes.append(draw.textbbox(xy, text, font=font))
        white = hi if not mono1 else lo
        black = lo if not mono1 else hi
        pixels[np.asarray(ink) > 127] = white if bright else black
    ds.PixelData = pixels.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(target, enforce_file_format=True)
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in boxes]


def _sent_image(server: LLMServer) -> NDArray[np.uint8]:
    user = server.requests[-1]["messages"][1]["content"]
    url = next(p for p in user if p["type"] == "image_url")["image_url"]["url"]
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def _review(url: str, path: Path) -> None:
    async def go() -> None:
        client = LLMClient(LLMConfig(base_url=url, model="vision"))
        try:
            result = await LLMImageEngine(client, max_side=MAX_SIDE).review(image_input(path), [])
            assert result.error is None
        finally:
            await client.close()

    asyncio.run(go())


def _region(
    sent: NDArray[np.uint8], box: tuple[int, int, int, int], shape: tuple[int, ...]
) -> NDArray[np.uint8]:
    """The pixels of ``sent`` over ``box`` (original pixels), rounded outward."""
    sy, sx = sent.shape[0] / shape[0], sent.shape[1] / shape[1]
    x0, y0, x1, y1 = box
    return sent[
        int(np.floor(y0 * sy)) : int(np.ceil(y1 * sy)),
        int(np.floor(x0 * sx)) : int(np.ceil(x1 * sx)),
    ]


@pytest.mark.parametrize("name", ["rg1", "orthanc", "test1", "siim"])
def test_burned_in_text_is_black_in_what_the_server_received(
    name: str, shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / CXR_FILES[name]
    burned = tmp_path / "burned.dcm"
    boxes = _burn(source, burned)
    shape = dcmread(source, stop_before_pixels=True)
    size = (int(shape.Rows), int(shape.Columns))
    with llm_server() as (srv, url):
        _review(url, source)
        clean = _sent_image(srv)
        _review(url, burned)
        sent = _sent_image(srv)
    assert max(sent.shape) == MAX_SIDE
    for box, (_, text, _) in zip(boxes, PLACES, strict=True):
        region = _region(sent, box, size)
        assert region.size and int(region.max()) == 0, (name, text, box, int(region.max()))
    # The text caused the redaction: off the fixed bands the same regions of the clean film
    # still show anatomy, and the text cost only a little more of the film.
    for box in boxes[2:]:
        assert int(_region(clean, box, size).max()) > 0
    added = float((sent == 0).mean()) - float((clean == 0).mean())
    assert 0.0 < added < 0.2, added
    assert CANARY not in srv.all_sent_text()


@pytest.mark.parametrize("name", ["rg1", "orthanc", "test1", "test3", "siim", "nhsx", "tfio"])
def test_clean_films_lose_only_the_fixed_zones(name: str, shared_data: Path) -> None:
    ds = dcmread(shared_data / CXR_FILES[name])
    display = display_array(ds)
    found, _ = detect_text(display)
    extra = found & ~fixed_zones(display.shape)
    assert float(extra.mean()) < 0.01, name


def test_fixed_zones_are_the_bands_and_corners() -> None:
    zones = fixed_zones((1000, 800))
    assert zones[0].all() and zones[-1].all()  # top and bottom bands
    assert zones[100, 0] and zones[100, -1] and zones[900, 0] and zones[900, -1]  # corners
    assert not zones[500].any()  # the middle rows are untouched
    assert 0.15 < float(zones.mean()) < 0.25


def test_the_rules_engines_text_check_adds_its_region(shared_data: Path, tmp_path: Path) -> None:
    burned = tmp_path / "burned.dcm"
    boxes = _burn(shared_data / CXR_FILES["test1"], burned)
    header = dcmread(burned, stop_before_pixels=True)
    regions = rules_text_regions(image_input(burned), (int(header.Rows), int(header.Columns)))
    x0, y0, _, y1 = boxes[3]  # the text over the lung fields
    assert any(r[0] <= x0 + 8 and r[1] <= y0 and r[2] >= x0 + 32 and r[3] >= y1 for r in regions)
    clean = image_input(shared_data / CXR_FILES["test1"])
    assert rules_text_regions(clean, (int(header.Rows), int(header.Columns))) == []
