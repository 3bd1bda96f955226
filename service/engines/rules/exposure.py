"""``cxr.exposure`` and ``cxr.sharpness`` from the working image.

- Burnt out: a large share of the original pixels at the brightest value the bit depth
  allows (clipping), measured at full resolution while decoding.
- Quantum noise (under-exposure): fine-scale energy far above mid-scale energy inside the
  thorax. Anatomy has more mid-scale than fine-scale structure; noise is all fine scale.
- Unsharp (motion blur): fine-scale energy far below mid-scale energy.
Both ratios are measured inside the thorax box, so padding does not count.
"""

from __future__ import annotations

from service.engines.base import Finding
from service.engines.rules._findings import finding
from service.engines.rules._measure import detail_ratio
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage, derived
from service.taxonomy import Severity

CLIPPED_BRIGHT = 0.05  # share of pixels at the top of the range
NOISY = 1.2  # fine/mid energy ratio of a noisy image
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
    return []


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
