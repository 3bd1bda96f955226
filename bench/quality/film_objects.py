"""Foreign objects and burned-in text drawn onto a film, for the image benchmark.

Written for this benchmark; nothing comes from ``service/`` or from ``degrade.py`` (the unit
tests' fixture). Images are in the display domain: floats 0..1, bright = dense. An object is a
mask drawn at 4x resolution with PIL, averaged down (anti-aliased edges), blurred by half a
pixel, and added as attenuation: ``v + (1 - v) * density * mask``, so it darkens nothing and
sits over the anatomy the way metal or plastic does on a radiograph.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

Array = np.ndarray
Rng = np.random.Generator
SS = 4  # supersampling factor of the drawn masks

# Where the lungs usually are on a PA film, as fractions of width and height (x0, x1, y0, y1).
LUNG_BOXES = ((0.17, 0.43, 0.22, 0.68), (0.57, 0.83, 0.22, 0.68))


def lung_point(shape: tuple[int, int], rng: Rng, side: int | None = None) -> tuple[float, float]:
    h, w = shape
    x0, x1, y0, y1 = LUNG_BOXES[int(rng.integers(0, 2)) if side is None else side]
    return w * rng.uniform(x0, x1), h * rng.uniform(y0, y1)


class Canvas:
    """A supersampled mask the size of the image, drawn in image coordinates."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.image = Image.new("L", (shape[1] * SS, shape[0] * SS), 0)
        self.draw = ImageDraw.Draw(self.image)

    def disc(self, x: float, y: float, r: float, fill: int = 255) -> None:
        self.draw.ellipse([SS * (x - r), SS * (y - r), SS * (x + r), SS * (y + r)], fill=fill)

    def ring(self, x: float, y: float, r: float, width: float) -> None:
        box = [SS * (x - r), SS * (y - r), SS * (x + r), SS * (y + r)]
        self.draw.ellipse(box, outline=255, width=max(1, int(SS * width)))

    def line(self, points: list[tuple[float, float]], width: float) -> None:
        scaled = [(SS * x, SS * y) for x, y in points]
        self.draw.line(scaled, fill=255, width=max(1, int(SS * width)), joint="curve")

    def mask(self) -> Array:
        small = self.image.resize((self.shape[1], self.shape[0]), Image.Resampling.BOX)
        return ndimage.gaussian_filter(np.asarray(small, dtype=np.float64) / 255.0, 0.5)


def attenuate(v: Array, mask: Array, density: float) -> Array:
    return v + (1.0 - v) * np.clip(mask, 0, 1) * density


def _curve(
    start: tuple[float, float], end: tuple[float, float], sag: float, n: int = 40
) -> list[tuple[float, float]]:
    """A wire hanging between two points: a quadratic curve sagging by ``sag`` pixels."""
    (x0, y0), (x1, y1) = start, end
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2 + sag
    pts = []
    for i in range(n + 1):
        t = i / n
        x = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * mx + t**2 * x1
        y = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * my + t**2 * y1
        pts.append((x, y))
    return pts


def ecg_electrodes(v: Array, rng: Rng) -> Array:
    """Two to four ECG electrodes (foam pad, metal snap) with their lead wires to the edge."""
    h, w = v.shape
    pads, metal = Canvas(v.shape), Canvas(v.shape)
    for _ in range(int(rng.integers(2, 5))):
        x, y = lung_point(v.shape, rng)
        r = w * rng.uniform(0.025, 0.035)
        pads.disc(x, y, r)
        metal.disc(x, y, r * 0.22)
        metal.ring(x, y, r * 0.45, w * 0.002)
        edge = (0.0 if x < w / 2 else w - 1.0, h * rng.uniform(0.05, 0.5))
        metal.line(_curve((x, y), edge, h * rng.uniform(0.02, 0.1)), w * rng.uniform(0.002, 0.0035))
    return attenuate(attenuate(v, pads.mask(), 0.12), metal.mask(), 0.92)


def buttons(v: Array, rng: Rng) -> Array:
    """A row of three to five metal buttons with holes, down one side of the chest."""
    h, w = v.shape
    canvas, holes = Canvas(v.shape), Canvas(v.shape)
    x = w * rng.uniform(0.3, 0.7)
    y = h * rng.uniform(0.2, 0.3)
    r = w * rng.uniform(0.008, 0.013)
    for _ in range(int(rng.integers(3, 6))):
        canvas.disc(x, y, r)
        for dx, dy in ((-0.3, -0.3), (0.3, -0.3), (-0.3, 0.3), (0.3, 0.3)):
            holes.disc(x + dx * r, y + dy * r, r * 0.14)
        x += w * rng.uniform(-0.01, 0.01)
        y += h * rng.uniform(0.09, 0.12)
    return attenuate(v, np.clip(canvas.mask() - holes.mask(), 0, 1), 0.85)


def necklace(v: Array, rng: Rng) -> Array:
    """A bead chain hanging across the upper chest, with a pendant over the sternum."""
    h, w = v.shape
    canvas = Canvas(v.shape)
    left, right = (w * rng.uniform(0.3, 0.38), h * 0.08), (w * rng.uniform(0.62, 0.7), h * 0.08)
    pts = _curve(left, right, h * rng.uniform(0.25, 0.35), n=int(rng.integers(40, 70)))
    bead = w * rng.uniform(0.003, 0.005)
    for x, y in pts:
        canvas.disc(x, y, bead)
    px, py = pts[len(pts) // 2]
    canvas.disc(px, py + bead * 5, w * rng.uniform(0.012, 0.02))
    return attenuate(v, canvas.mask(), 0.95)


def detector_lines(v: Array, rng: Rng) -> Array:
    """Defective detector rows or columns: thin stripes at a constant wrong value."""
    out = v.copy()
    h, w = v.shape
    value = float(rng.choice([0.02, 0.98]))
    for _ in range(int(rng.integers(1, 4))):
        thick = max(1, int(w * 0.002))
        if rng.random() < 0.5:
            x = int(w * rng.uniform(0.15, 0.85))
            out[:, x : x + thick] = value
        else:
            y = int(h * rng.uniform(0.2, 0.8))
            out[y : y + thick, :] = value
    return out


def _text_mask(shape: tuple[int, int], text: str, x: float, y: float, height: float) -> Array:
    canvas = Canvas(shape)
    font = ImageFont.load_default(size=max(8, int(height * SS)))
    canvas.draw.text((SS * x, SS * y), text, fill=255, font=font)
    return canvas.mask()


PATIENT_TEXT = ("DOE^JANE  03/02/1957", "MRN 4471923  SMITH, J", "ROE RICHARD DOB 1949-11-30")
OTHER_TEXT = ("PORTABLE  SUPINE", "ER BAY 4  08:41", "POST CHEST TUBE")


def text_over_lungs(v: Array, rng: Rng) -> Array:
    """A line of burned-in text across a lung field."""
    h, w = v.shape
    text = str(rng.choice(PATIENT_TEXT + OTHER_TEXT))
    x, y = w * rng.uniform(0.12, 0.3), h * rng.uniform(0.3, 0.55)
    return np.maximum(v, _text_mask(v.shape, text, x, y, h * rng.uniform(0.025, 0.04)) * 0.97)


def patient_data_corner(v: Array, rng: Rng) -> Array:
    """Patient name and number burned into a corner, as a secondary capture would have them."""
    h, w = v.shape
    text = str(rng.choice(PATIENT_TEXT))
    x = w * 0.03 if rng.random() < 0.5 else w * 0.55
    y = h * 0.03 if rng.random() < 0.5 else h * 0.93
    return np.maximum(v, _text_mask(v.shape, text, x, y, h * 0.028) * 0.97)


def motion_blur(v: Array, rng: Rng) -> Array:
    """Movement during the exposure: the mean of copies shifted along one direction."""
    length = max(5, int(v.shape[1] * rng.uniform(0.02, 0.035)))
    angle = rng.uniform(0, math.pi)
    dy, dx = math.sin(angle), math.cos(angle)
    pad = length
    padded = np.pad(v, pad, mode="edge")
    acc = np.zeros_like(padded)
    for i in range(length):
        t = i - (length - 1) / 2
        acc += np.roll(padded, (round(t * dy), round(t * dx)), axis=(0, 1))
    return acc[pad:-pad, pad:-pad] / length
