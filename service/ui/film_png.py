"""Rendering a stored chest X-ray to PNG for the audit page, on the server.

The display pixels come from :mod:`service.display`, the one pipeline the LLM's picture and the
rules' grey levels share: Modality LUT; then the auditor's window as given, else the file's VOI
LUT or first usable window (else the full range) stretched over the display range, so that a
window wider than the film's values does not wash it out; then MONOCHROME1 inverted so bone is
always white. The default window the sliders start from draws that same picture. Colour images
stay in colour. Large images are shrunk (``max_side``) before the PNG is encoded: the page zooms
in the browser, and a 3000-pixel detector image does not need 9 MB of PNG to be judged.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from service.display import NoPixelData, Window, display_image, read_image, to_uint8

__all__ = ["MAX_SIDE", "NoPixelData", "Rendered", "Window", "placeholder_png", "render_png"]

MAX_SIDE = 1024


@dataclass(frozen=True, slots=True)
class Rendered:
    png: bytes
    default_window: Window  # what the page's sliders start from
    value_range: tuple[float, float]


def placeholder_png(size: int = 256) -> bytes:
    """A plain dark square the page shows where an object has no pixels to render."""
    return _png(Image.new("L", (size, size), 40))


def render_png(
    path: Path, window: Window | None = None, *, invert: bool = False, max_side: int = MAX_SIDE
) -> Rendered:
    shown = display_image(read_image(path), window, colour=True)
    pixels = 1.0 - shown.pixels if invert and shown.pixels.ndim == 2 else shown.pixels
    image = Image.fromarray(to_uint8(pixels), mode="RGB" if pixels.ndim == 3 else "L")
    return Rendered(_png(_shrink(image, max_side)), shown.default_window, shown.value_range)


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()
