"""Dice per structure of the shipped model, end to end through radqc's own code path
(``service.engines.rules.anatomy``: resizing, ONNX Runtime, naming of the paired structures,
largest piece kept), on the held-out films of the split written by prepare.py.

Two resolutions: the working resolution the model sees (256x256, truth = SCR masks
area-downsampled and thresholded at half coverage) and SCR's own 1024x1024 masks (the
working masks upsampled by nearest neighbour). Also: the largest difference between the input
radqc builds for a film and the array the model was trained on (preprocessing parity), the
heart side of every film and of its left-right mirror image, how many films pass as upright
when turned by 90, 180 or 270 degrees or inverted, and the median time per film.

Run with radqc's virtual environment (it needs onnxruntime, not torch):
  .venv/bin/python training/anatomy/evaluate.py --snapshot ~/.cache/radqc-anatomy/snapshot
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from service.engines.rules.anatomy import STRUCTURES, AnatomyModel, _prepare  # noqa: E402

CACHE = Path.home() / ".cache/radqc-anatomy"


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    total = int(pred.sum()) + int(truth.sum())
    return 1.0 if total == 0 else 2.0 * int((pred & truth).sum()) / total


def evaluate(model: AnatomyModel, snapshot: Path, arrays: Path, part: str) -> dict[str, object]:
    meta = json.loads((arrays / "split.json").read_text())
    small_masks = np.load(arrays / "masks.npy")
    root = snapshot / "JSRT"
    work: list[list[float]] = []
    full: list[list[float]] = []
    sides: dict[str, int] = {}
    mirrored: dict[str, int] = {}
    upright = inverted_upright = turned_upright = 0
    times = []
    worst_input = 0.0
    images = np.load(arrays / "images.npy")
    for case in meta[part]:
        film = np.asarray(Image.open(root / f"jsrt_images/images/{case}.IMG.png").convert("L"))
        square = _prepare(film)[0]  # what the model sees in radqc, against what it was trained on
        trained = images[meta["cases"].index(case)].astype(np.float32) / 255
        worst_input = max(worst_input, float(np.abs(square - trained).max()))
        start = time.perf_counter()
        found = model.segment(film)
        times.append(time.perf_counter() - start)
        upright += found.upright
        side = found.landmarks.heart_side
        sides[str(side)] = sides.get(str(side), 0) + 1
        flipped = model.segment(film[:, ::-1]).landmarks.heart_side
        inverted_upright += model.segment(255 - film).upright
        turned_upright += sum(model.segment(np.rot90(film, k)).upright for k in (1, 2, 3))
        mirrored[str(flipped)] = mirrored.get(str(flipped), 0) + 1
        truth_small = small_masks[meta["cases"].index(case)] >= 128
        work.append([dice(found.masks[i], truth_small[i]) for i in range(len(STRUCTURES))])
        row = []
        for i, name in enumerate(STRUCTURES):
            truth = np.asarray(Image.open(root / f"masks/masks/{name}_png/{case}.png")) > 127
            up = Image.fromarray(found.masks[i]).resize(truth.shape[::-1], Image.Resampling.NEAREST)
            row.append(dice(np.asarray(up), truth))
        full.append(row)

    def summary(rows: list[list[float]]) -> dict[str, str]:
        table = np.array(rows)
        return {
            name: f"{table[:, i].mean():.4f} (min {table[:, i].min():.3f})"
            for i, name in enumerate(STRUCTURES)
        }

    return {
        "films": len(work),
        "max_input_difference_radqc_vs_training": round(worst_input, 4),
        "dice_256": summary(work),
        "dice_1024": summary(full),
        "upright": upright,
        "upright_when_inverted": inverted_upright,
        "upright_when_turned_90_180_270": f"{turned_upright} of {3 * len(work)}",
        "heart_side": sides,
        "heart_side_mirrored": mirrored,
        "median_ms_2048px_film": round(statistics.median(times) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, default=CACHE / "snapshot")
    parser.add_argument("--arrays", type=Path, default=CACHE / "arrays")
    parser.add_argument("--parts", default="val,test")
    args = parser.parse_args()
    model = AnatomyModel()
    for part in args.parts.split(","):
        print(part, json.dumps(evaluate(model, args.snapshot, args.arrays, part), indent=1))


if __name__ == "__main__":
    main()
