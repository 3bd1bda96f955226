"""Speed of the anatomy model on one core, per film of ``shared/data/cxr``, beside today's
image rules on the same films as the baseline.

For every film that decodes to a greyscale image (decoding is not timed):
  baseline      the image rules after decoding: working-image normalisation and downsampling,
                the rule-based lung proxy, every pixel check and the header checks;
  anatomy 512   segmentation of the working image (long side <= 512), resizing included;
  anatomy full  segmentation of the full-resolution film (MONOCHROME1 inverted), resizing
                included.
Each is the median of ``--repeat`` runs per film; the table's last line is the median over films.
The model session is created once, before timing (as the service does at start-up).

Usage: .venv/bin/python bench/rules_speed/anatomy.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import dcmread
from pydicom.uid import ImplicitVRLittleEndian

ROOT = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(ROOT))

from service.engines.rules import (  # noqa: E402
    artifacts,
    exposure,
    geometry,
    lungs,
    orientation,
    positioning,
)
from service.engines.rules.anatomy import AnatomyModel  # noqa: E402
from service.engines.rules.image_checks import HEADER_CHECKS  # noqa: E402
from service.engines.rules.pixels import from_array, load  # noqa: E402
from tests.service.engines.support import image_input  # noqa: E402

DATA = Path(os.environ.get("RADQC_SHARED_DIR", ROOT.parent / "shared")) / "data" / "cxr"
INNER_CHECKS = (
    orientation.check_photometric_label,
    orientation.check_orientation,
    exposure.check_exposure,
    exposure.check_sharpness,
    geometry.check_field_of_view,
    geometry.check_centering,
    artifacts.check_text,
    artifacts.check_metal,
    positioning.check_rotation,
    positioning.check_inspiration,
)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def film_arrays(path: Path) -> tuple[Any, np.ndarray, np.ndarray] | None:
    """The dataset, its decoded stored values and the full-resolution display array."""
    if load(str(path)) is None:
        return None
    ds = dcmread(path, force=True)
    if "TransferSyntaxUID" not in ds.file_meta:  # legacy file without meta, as pixels.load does
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    raw = np.asarray(ds.pixel_array)
    full = raw.astype(np.float32)
    if str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        full = -full
    return ds, raw, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    model = AnatomyModel()
    rows = []
    for path in sorted(DATA.rglob("*.dcm")):
        arrays = film_arrays(path)
        if arrays is None:
            continue
        ds, raw, full = arrays
        item = image_input(path)
        working = from_array(raw, ds)
        assert working is not None

        def rules(raw: np.ndarray = raw, ds: Any = ds, item: Any = item) -> None:
            image = from_array(raw, ds)
            assert image is not None
            layout = lungs.measure(image.pixels)
            for check in INNER_CHECKS:
                check(image, layout)
            for header_check in HEADER_CHECKS:
                header_check(item)

        pixels = working.pixels
        model.segment(pixels)  # warm-up
        rows.append(
            (
                path.name[:44],
                "x".join(map(str, raw.shape)),
                median_ms(rules, args.repeat),
                median_ms(lambda pixels=pixels: model.segment(pixels), args.repeat),
                median_ms(lambda full=full: model.segment(full), args.repeat),
            )
        )
    print(f"{'film':44s} {'size':>10s} {'baseline':>9s} {'anat 512':>9s} {'anat full':>9s}")
    for name, size, *times in rows:
        print(f"{name:44s} {size:>10s} " + " ".join(f"{t:9.1f}" for t in times))
    medians = [statistics.median(r[i] for r in rows) for i in (2, 3, 4)]
    print(
        f"{'median over ' + str(len(rows)) + ' films (ms)':55s} "
        + " ".join(f"{t:9.1f}" for t in medians)
    )


if __name__ == "__main__":
    main()
