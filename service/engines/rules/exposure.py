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
  lung level under a fifth of the heart's, on the working image), or dim (under
  ``DIM_LUNGS``) with their fine detail flattened (the mean distance from the 5x5 mean in the
  lungs no more than ``FLAT_DETAIL`` times that in the heart): the dark end of the grey scale
  crushes the lung detail. Clean dev films of the image benchmark measured 0.25-0.76 (level)
  and 1.29-5.1 (detail); too-dark dev films 0.03-0.42 and 0.42-2.4. The detail bar is parity:
  lungs, full of vessels and rib edges against air, have more fine detail than the uniform
  heart on every clean dev film (1.29 at least); lungs no more detailed than the heart have
  lost theirs. (A bar at 1.2, just under the clean films' least, found 2 more dev films and
  flagged a clean test film at 1.19: no margin.) Level alone found 13 of the 28 too-dark dev
  films with lungs found, level or dim-and-flat 15, no clean film and no other kind of fault
  (the percentile stretch of the working image undoes part of a darkening, so a film darkened
  from light lungs looks like a clean film with dark lungs; those are missed). Tried and not
  kept (2026-12-06): one bar on level times detail (under 0.4; clean dev films 0.50 at least)
  found 24 of 29 too-dark dev films instead of 16, but a clean test film measured 0.33 (level
  0.28, detail 1.19) and test exposure precision fell from 99 % to 89 %: dim, flat lungs occur
  on clean films.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.engines.base import Evidence, Finding
from service.engines.rules import anatomy as model
from service.engines.rules._findings import finding
from service.engines.rules._measure import detail_ratio
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage, box_mean, derived
from service.taxonomy import Severity

CLIPPED_BRIGHT = 0.05  # share of pixels at the top of the range
NOISY = 1.2  # fine/mid energy ratio of a noisy image
NARROW_RANGE = 0.25  # share of the stored range a 9-12-bit film spans, at least
DARK_LUNGS = 0.2  # median lung level over median heart level, at least
DIM_LUNGS = 0.35  # or at least this, when the lungs' fine detail is also flattened:
FLAT_DETAIL = 1.0  # lung detail over heart detail, at most (parity; clean dev films: 1.29-5.1)
BLURRED = 0.37  # fine/mid energy ratio of a blurred image


def _ratio(image: WorkingImage, a: Anatomy) -> float:
    return derived(image.pixels, f"detail{a.body}", lambda: detail_ratio(image.pixels, a.body)[0])


def noise_dominated(image: WorkingImage, a: Anatomy) -> bool:
    """Fine-scale energy far above mid-scale: quantum noise (the exposure check's measure)."""
    return _ratio(image, a) > NOISY


def brightness_fault(image: WorkingImage) -> bool:
    """Burnt out (clipped at full brightness) or the lungs crushed to black: the two faults of
    check_exposure that change what is bright on the film (other checks stand down)."""
    if image.clip_high > CLIPPED_BRIGHT:
        return True
    return dark_lungs(image) is not None


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
    dark = dark_lungs(image)
    if dark is not None:
        message = (
            "The lungs are nearly black against the heart, so lung detail is lost in the dark "
            "end of the grey scale; check the exposure and the processing."
        )
        return [finding("cxr.exposure", Severity.MAJOR, message, dark.evidence(image), 0.6)]
    return []


@dataclass(frozen=True, slots=True)
class DarkLungs:
    """Lungs crushed into the dark end of the grey scale, as measured against the heart."""

    level: float  # median lung level over median heart level
    detail: float  # mean fine detail in the lungs over that in the heart
    box: tuple[int, int, int, int]  # the lungs, working pixels

    def evidence(self, image: WorkingImage) -> list[Evidence]:
        found = [region_evidence(image, self.box, "lung_to_heart_level", self.level, DARK_LUNGS)]
        if self.level >= DARK_LUNGS:  # dim, and the detail flattened
            found[0]["threshold"] = DIM_LUNGS
            found.append(
                region_evidence(image, self.box, "lung_to_heart_detail", self.detail, FLAT_DETAIL)
            )
        return found


def dark_lungs(image: WorkingImage) -> DarkLungs | None:
    """The lungs' darkness when it is a fault: under ``DARK_LUNGS`` of the heart's level, or
    under ``DIM_LUNGS`` with their fine detail at most ``FLAT_DETAIL`` of the heart's."""
    measured = lung_to_heart_level(image)
    if measured is None:
        return None
    level, detail, box = measured
    if level < DARK_LUNGS or (level < DIM_LUNGS and detail <= FLAT_DETAIL):
        return DarkLungs(level, detail, box)
    return None


def lung_to_heart_level(
    image: WorkingImage,
) -> tuple[float, float, tuple[int, int, int, int]] | None:
    """The median lung level over the median heart level, the mean fine detail (distance
    from the 5x5 mean) in the lungs over that in the heart (model's masks), and the lungs'
    box; None without both lungs and the heart. Computed once."""

    def compute() -> tuple[float, float, tuple[int, int, int, int]] | None:
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
        smooth = derived(image.pixels, "smooth2", lambda: box_mean(image.pixels, 2))  # shared
        fine = np.abs(image.pixels - smooth)
        detail = float(fine[lungs].mean()) / max(float(fine[heart].mean()), 1e-6)
        rows = np.flatnonzero(lungs.any(axis=1))
        cols = np.flatnonzero(lungs.any(axis=0))
        box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
        return float(np.median(image.pixels[lungs])) / heart_level, detail, box

    return derived(image.pixels, "lung_to_heart", compute)


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
