"""Turn a snapshot of the JSRT/SCR repository into a cache of small arrays for training.

Input: a folder holding ``JSRT/jsrt_images/images/*.IMG.png`` (the 247 JSRT films, 2048x2048,
8-bit palette PNG) and ``JSRT/masks/masks/<structure>_png/*.png`` (the SCR masks, 1024x1024),
as in the public repository AnishHota/JSRT-Segmentation (commit 047d319). Nothing of it is
committed to radqc: keep the snapshot and the cache outside the repository.

Output (``--out``, default ``~/.cache/radqc-anatomy/arrays``):
  ``images.npy``  uint8 (N, S, S), the film as radqc's anatomy module feeds it to the model:
                  dense tissue bright, area-downsampled to S, its 0.5th..99.5th percentiles
                  stretched to 0..255, then histogram-equalised (``equalise``, the same
                  function as ``service.engines.rules.anatomy._equalise``);
  ``masks.npy``   uint8 (N, 5, S, S), the share of each pixel covered by each structure, 0..255,
                  channels in ``STRUCTURES`` order (patient's right/left, as SCR labels them);
  ``split.json``  the case ids of train, val and test and the seed that chose them.

JSRT has one film per patient, so a split by film is a split by patient. The split is drawn
with a fixed seed and stratified by nodule/no-nodule (JPCLN/JPCNN) films.

Usage: python training/anatomy/prepare.py --snapshot ~/.cache/radqc-anatomy/snapshot
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image

STRUCTURES = ("right_lung", "left_lung", "heart", "right_clavicle", "left_clavicle")
SEED = 20240917
N_VAL = 25
N_TEST = 50


def equalise(levels: np.ndarray) -> np.ndarray:
    """Histogram equalisation of uint8 levels to 0..1: each level becomes the share of pixels
    below it, rescaled so that the lowest level stays 0 and the highest becomes 1. Films from
    different sources (JSRT's washed-out digitised film, a modern detector's dark lungs) come
    out alike; black borders stay black."""
    hist = np.bincount(levels.ravel(), minlength=256).astype(np.float64)
    below = np.cumsum(hist) - hist
    top = below[int(levels.max())]
    return np.asarray(below[levels] / max(top, 1.0), dtype=np.float32)


def load_film(path: Path, size: int) -> np.ndarray:
    """Greyscale film, dense tissue bright, area-downsampled to size, percentile-stretched
    and equalised."""
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    small = np.asarray(Image.fromarray(grey).resize((size, size), Image.Resampling.BOX), np.float32)
    low, high = np.percentile(small, [0.5, 99.5])
    scaled = np.clip((small - low) / max(float(high - low), 1e-6), 0.0, 1.0)
    return np.round(equalise(np.round(scaled * 255).astype(np.uint8)) * 255).astype(np.uint8)


def load_mask(path: Path, size: int) -> np.ndarray:
    """Coverage of each downsampled pixel by the structure, 0..255."""
    binary = (np.asarray(Image.open(path).convert("L")) > 127).astype(np.float32)
    small = Image.fromarray(binary).resize((size, size), Image.Resampling.BOX)
    return np.round(np.asarray(small, np.float32) * 255).astype(np.uint8)


def split_cases(cases: list[str], seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    groups = [sorted(c for c in cases if c.startswith(p)) for p in ("JPCLN", "JPCNN")]
    total = len(cases)
    for group in groups:
        rng.shuffle(group)
        n_test = round(N_TEST * len(group) / total)
        n_val = round(N_VAL * len(group) / total)
        out["test"] += group[:n_test]
        out["val"] += group[n_test : n_test + n_val]
        out["train"] += group[n_test + n_val :]
    return {k: sorted(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path.home() / ".cache/radqc-anatomy/arrays")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()

    root = args.snapshot / "JSRT"
    films = sorted((root / "jsrt_images/images").glob("*.IMG.png"))
    cases = [f.name.split(".")[0] for f in films]
    if len(cases) != 247:
        raise SystemExit(f"expected 247 JSRT films, found {len(cases)} under {root}")
    images = np.zeros((len(cases), args.size, args.size), np.uint8)
    masks = np.zeros((len(cases), len(STRUCTURES), args.size, args.size), np.uint8)
    digest = hashlib.sha256()
    for i, (case, film) in enumerate(zip(cases, films, strict=True)):
        images[i] = load_film(film, args.size)
        for j, name in enumerate(STRUCTURES):
            masks[i, j] = load_mask(root / f"masks/masks/{name}_png/{case}.png", args.size)
        digest.update(film.read_bytes())
        if i % 50 == 0:
            print(f"{i}/{len(cases)} {case}", flush=True)
    split = split_cases(cases, SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "images.npy", images)
    np.save(args.out / "masks.npy", masks)
    meta = {
        "seed": SEED,
        "size": args.size,
        "structures": list(STRUCTURES),
        "cases": cases,
        "films_sha256": digest.hexdigest(),
        **split,
    }
    (args.out / "split.json").write_text(json.dumps(meta, indent=1))
    print({k: len(v) for k, v in split.items()}, "->", args.out)


if __name__ == "__main__":
    main()
