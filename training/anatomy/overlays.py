"""Draw the shipped model's masks and landmarks over the films of ``shared/data/cxr``, to look at.

Colours: right lung red, left lung green, heart blue, right clavicle yellow, left clavicle cyan;
white crosses at the apices, costophrenic angles and clavicles' medial ends; the midline in
magenta. Each panel is captioned with the heart side and whether the layout is upright.

Run with radqc's virtual environment:
  .venv/bin/python training/anatomy/overlays.py --out /tmp/anatomy-overlays [--mirror] [--turn]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from service.engines.rules.anatomy import Anatomy, Point, segment  # noqa: E402
from service.engines.rules.pixels import load  # noqa: E402

DATA = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared")) / "data" / "cxr"
COLOURS = np.array(
    [[255, 40, 40], [40, 220, 40], [60, 90, 255], [255, 230, 0], [0, 230, 230]], np.float32
)


def overlay(pixels: np.ndarray, found: Anatomy) -> Image.Image:
    rows, cols = found.masks.shape[1:]
    grey = Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8)).resize((cols, rows))
    rgb = np.repeat(np.asarray(grey, np.float32)[..., None], 3, axis=2)
    for mask, colour in zip(found.masks, COLOURS, strict=True):
        rgb[mask] = 0.55 * rgb[mask] + 0.45 * colour
    image = Image.fromarray(rgb.astype(np.uint8)).resize((cols * 2, rows * 2))
    draw = ImageDraw.Draw(image)
    k = 2 / found.scale  # film pixels to panel pixels

    def cross(p: Point | None) -> None:
        if p is not None:
            x, y = p.col * k, p.row * k
            draw.line([(x - 5, y), (x + 5, y)], fill="white", width=2)
            draw.line([(x, y - 5), (x, y + 5)], fill="white", width=2)

    marks = found.landmarks
    for lung in (marks.right_lung, marks.left_lung):
        if lung is not None:
            cross(lung.apex)
            cross(lung.costophrenic)
    cross(marks.right_clavicle_medial)
    cross(marks.left_clavicle_medial)
    if marks.midline_col is not None:
        x = marks.midline_col * k
        draw.line([(x, 0), (x, rows * 2)], fill=(255, 0, 255), width=1)
    ctr = marks.cardiothoracic_ratio
    caption = f"heart {marks.heart_side} ctr {ctr:.2f}" if ctr else f"heart {marks.heart_side}"
    draw.text((4, 4), f"{caption} upright={found.upright}", fill="white")
    if found.problems:
        draw.text((4, 16), "; ".join(found.problems)[:90], fill="yellow")
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mirror", action="store_true", help="also the mirrored films")
    parser.add_argument("--turn", action="store_true", help="also the films turned 90 degrees")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(DATA.rglob("*.dcm")):
        image = load(str(path))
        if image is None:
            continue
        variants = {"": image.pixels}
        if args.mirror:
            variants["_mirror"] = np.ascontiguousarray(image.pixels[:, ::-1])
        if args.turn:
            variants["_turn"] = np.ascontiguousarray(np.rot90(image.pixels))
        for suffix, pixels in variants.items():
            found = segment(pixels)
            overlay(pixels, found).save(args.out / f"{path.stem[:40]}{suffix}.png")
            marks = found.landmarks
            print(
                f"{path.stem[:40]:40s}{suffix:8s} upright={found.upright!s:5s} "
                f"heart={marks.heart_side} conf={found.confidence:.2f} {'; '.join(found.problems)}"
            )


if __name__ == "__main__":
    main()
