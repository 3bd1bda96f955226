"""``cxr.exposure`` and ``cxr.sharpness`` from the working image.

- Burnt out: a large share of the original pixels at the brightest value the bit depth
  allows (clipping), measured at full resolution while decoding.
- Quantum noise (under-exposure): fine-scale energy far above mid-scale energy inside the
  thorax. Anatomy has more mid-scale than fine-scale structure; noise is all fine scale.
- Unsharp (motion blur): fine-scale energy far below mid-scale energy.
Both ratios are measured inside the thorax box, so padding does not count.
- Narrow dynamic range: the stored values of a 9-12-bit film span under a quarter of what
  its bits hold (0.5th to 99.5th percentile), so the grey scale is coarse and flat. Wider
  stores (13-16 bits) are left alone: many detectors fill only 12 of 16 bits. On the dev films
  of the image benchmark clean 12-bit films spanned 0.34-0.97.
- Too dark: the lungs the anatomy model finds are nearly black against the heart (median
  lung level under a fifth of the heart's, on the working image): the grey scale crushes the
  lung detail. Clean dev films measured 0.25-0.75.
"""

from __future__ import annotations

import numpy as np

from service.engines.base import Finding
from service.engines.rules import anatomy as model
from service.engines.rules._findings import finding
from service.engines.rules._measure import detail_ratio
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage, derived
from service.taxonomy import Severity

CLIPPED_BRIGHT = 0.05  # share of pixels at the top of the range
NOISY = 1.2  # fine/mid energy ratio of a noisy image
NARROW_RANGE = 0.25  # share of the stored range a 9-12-bit film spans, at least
DARK_LUNGS = 0.2  # median lung level over median heart level, at least
BLURRED = 0.37  # fine/mid energy ratio of a blurred image


def _ratio(image: WorkingImage, a: Anatomy) -> float:
    return derived(image.pixels, f"detail{a.body}", lambda: detail_ratio(image.pixels, a.body)[0])


def noise_dominated(image: WorkingImage, a: Anatomy) -> bool:
    """Fine-scale energy far above mid-scale: quantum noise (the exposure check's measure)."""
    return _ratio(image, a) > NOISY


def check_exposure(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Clipped (burnt out) or noisy (too few photons)."""
    if image.clip_high > CLIPPED_BRIGHT:
        message = (
            f"{image.clip_high:.0%} of the image is clipped at full brightness, so detail "
            "there is lost; check the exposure and processing."
        )
        evidence = region_evidence(
            image, whole(image), "clipped_share", image.clip_high, CLIPPED_BRIGHT
        )
        return [finding("cxr.exposure", Severity.MAJOR, message, [evidence], 0.85)]
    ratio = _ratio(image, a)
    if ratio > NOISY:
        message = (
            "The image is dominated by quantum noise, a sign of under-exposure; consider "
            "repeating it with adequate exposure."
        )
        evidence = region_evidence(image, a.body, "fine_to_mid_energy", ratio, NOISY)
        return [finding("cxr.exposure", Severity.MAJOR, message, [evidence], 0.8)]
    if 8 < image.bits <= 12 and image.range_used < NARROW_RANGE:
        message = (
            f"The image uses only {image.range_used:.0%} of its {image.bits}-bit grey range, so "
            "contrast is flat and coarse; check the exposure and the processing."
        )
        evidence = region_evidence(
            image, whole(image), "stored_range_used", image.range_used, NARROW_RANGE
        )
        return [finding("cxr.exposure", Severity.MAJOR, message, [evidence], 0.65)]
    dark = lung_to_heart_level(image)
    if dark is not None and dark[0] < DARK_LUNGS:
        message = (
            "The lungs are nearly black against the heart, so lung detail is lost in the dark "
            "end of the grey scale; check the exposure and the processing."
        )
        evidence = region_evidence(image, dark[1], "lung_to_heart_level", dark[0], DARK_LUNGS)
        return [finding("cxr.exposure", Severity.MAJOR, message, [evidence], 0.6)]
    return []


def lung_to_heart_level(image: WorkingImage) -> tuple[float, tuple[int, int, int, int]] | None:
    """The median lung level over the median heart level (model's masks) and the lungs'
    box; None without both lungs and the heart."""
    found = model.of_image(image)
    if not found.lungs_found or found.landmarks.heart_box is None:
        return None
    shape = image.pixels.shape
    lungs = model.working_mask(found, ("right_lung", "left_lung"), shape)
    heart = model.working_mask(found, ("heart",), shape)
    if not lungs.any() or not heart.any():
        return None
    heart_level = float(np.median(image.pixels[heart]))
    if heart_level <= 0:
        return None
    rows = np.flatnonzero(lungs.any(axis=1))
    cols = np.flatnonzero(lungs.any(axis=0))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return float(np.median(image.pixels[lungs])) / heart_level, box


def check_sharpness(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Fine detail missing relative to mid-scale structure: motion blur or unsharpness."""
    ratio = _ratio(image, a)
    if ratio >= BLURRED:
        return []
    message = (
        "The image lacks fine detail (motion blur or unsharpness); check that the lung "
        "markings and edges are sharp enough to read."
    )
    evidence = region_evidence(image, a.body, "fine_to_mid_energy", ratio, BLURRED)
    return [finding("cxr.sharpness", Severity.MAJOR, message, [evidence], 0.75)]


CHECKS = (pixel_check(check_exposure), pixel_check(check_sharpness))
