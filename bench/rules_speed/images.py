"""Speed of the image rules on one core: median time per 2000x2500 16-bit image after decoding,
with the decode time beside it.

The image is the real RG1 CR chest (1955x1841, 15-bit) resampled to 2500x2000 and stored
uncompressed; the decode is timed separately (dcmread + pixel_array) for that file and for the
JPEG 2000 lossless original. "Rules" is everything the engine does after decoding: working-image
normalisation and downsampling, the grey-level layout and the anatomy model (one segmentation,
plus three more only for a film whose layout is in doubt), every pixel check, and the header
checks; the model's own time is printed beside it.

Usage: .venv/bin/python bench/rules_speed/images.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom import dcmread

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from service.engines.rules import lungs  # noqa: E402
from service.engines.rules.image_checks import HEADER_CHECKS  # noqa: E402
from service.engines.rules.pixels import from_array  # noqa: E402
from tests.service.engines.support import image_input  # noqa: E402

DATA = Path(os.environ.get("RADQC_SHARED_DIR", ROOT.parent / "shared")) / "data" / "cxr"


def make_image(out: Path) -> Path:
    ds = dcmread(DATA / "pydicom-data_RG1_UNCR_CR_chest_PA.dcm")
    pixels = ds.pixel_array
    rows = (np.arange(2500) * pixels.shape[0] / 2500).astype(int)
    cols = (np.arange(2000) * pixels.shape[1] / 2000).astype(int)
    big = np.ascontiguousarray(pixels[rows][:, cols]).astype(np.uint16)
    ds.Rows, ds.Columns = big.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelData = big.tobytes()
    path = out / "big.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def median_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make_image(Path(tmp))
        item = image_input(path)
        ds = dcmread(path)
        raw = ds.pixel_array

        from service.engines.rules import (
            anatomy as anatomy_model,
        )
        from service.engines.rules import (
            artifacts,
            exposure,
            geometry,
            orientation,
            positioning,
        )

        inner_checks = [
            *[orientation.check_photometric_label, orientation.check_orientation],
            exposure.check_exposure,
            exposure.check_sharpness,
            geometry.check_field_of_view,
            geometry.check_centering,
            artifacts.check_text,
            artifacts.check_metal,
            positioning.check_rotation,
            positioning.check_inspiration,
        ]

        def all_rules() -> None:
            image = from_array(raw, ds)
            assert image is not None
            anatomy = lungs.measure(image.pixels)
            for check in inner_checks:
                check(image, anatomy)
            for header_check in HEADER_CHECKS:
                header_check(item)

        decode = median_ms(lambda: dcmread(path).pixel_array, args.repeat)
        j2k = median_ms(
            lambda: dcmread(DATA / "pydicom-data_RG1_J2KR_CR_chest_PA.dcm").pixel_array, 3
        )
        rule_ms = median_ms(all_rules, args.repeat)
        working = from_array(raw, ds)
        assert working is not None
        model_ms = median_ms(lambda: anatomy_model.segment(working.pixels), args.repeat)
        print(f"{'what':48s} {'median ms':>10s}")
        print(f"{'image rules, 2500x2000 16-bit, after decoding':48s} {rule_ms:10.1f}")
        print(f"{'  of which the anatomy model (one segmentation)':48s} {model_ms:10.1f}")
        print(f"{'decode, same image uncompressed':48s} {decode:10.1f}")
        print(f"{'decode, RG1 1955x1841 JPEG 2000 lossless':48s} {j2k:10.1f}")


if __name__ == "__main__":
    main()
