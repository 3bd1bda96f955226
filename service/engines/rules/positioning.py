"""``cxr.rotation`` and ``cxr.inspiration``: positioning, as far as a lung-field proxy honestly
measures it. Both are heuristics with low confidence; ``cxr.scapula`` is not measured.

- Rotation: a rotated patient projects one hemithorax wider than the other about the spine.
  Measured as the asymmetry of the lung-dark area either side of the spine in the upper chest
  (rows 20-50 % of the thorax, above the heart): (left - right) / (left + right). On the four
  tuning radiographs it measured -0.03 to 0.15; only strong asymmetry (> 0.3) is reported.
  The spine far off the middle of a thorax whose chest walls are both present (not a lateral
  cut-off, :func:`.geometry.lateral_cut`) is reported too. No real rotated film was
  available: the tests use a proxy (one half of the chest compressed), which checks the
  measurement, not its clinical validity; the confidence (0.4) says so.
- Inspiration: on a poor inspiration the diaphragm is high and the lungs are short. Measured as
  the longest vertical run of lung-dark rows in the lateral zones over the thorax width
  (bright interruptions up to 6 % of the height bridged); the four tuning radiographs
  measured 0.45-0.83. Only very short lungs (< 0.3) are reported (confidence 0.35): the
  thorax width includes the arms on some films, and counting posterior ribs, the clinical
  measure, is beyond this proxy. The tests use a proxy (the chest squashed vertically).
- Scapulae over the lungs: no stable measure was found (their medial borders are faint lines);
  not reported.
Both checks run only on a complete, untilted thorax (:func:`.geometry.anatomy_complete`) that
is not burnt out: a cut-off, tilted or clipped chest is reported as such, not as rotation or
short lungs.
"""

from __future__ import annotations

import itertools

import numpy as np

from service.engines.base import Finding
from service.engines.rules._findings import finding
from service.engines.rules._pixel_findings import pixel_check, region_evidence
from service.engines.rules.exposure import CLIPPED_BRIGHT
from service.engines.rules.geometry import LATERAL_OFFSET, anatomy_complete
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import FloatImage, WorkingImage, box_mean, derived
from service.taxonomy import Severity

ROTATED = 0.3  # upper lung-field area asymmetry about the spine
SHORT_LUNGS = 0.3  # lung height over thorax width
GAP = 0.06  # bright interruptions up to this share of the height are bridged


def smooth(image: WorkingImage) -> FloatImage:
    """The working image averaged over 5x5 pixels (computed once)."""
    return derived(image.pixels, "smooth2", lambda: box_mean(image.pixels, 2))


def rotation_index(image: WorkingImage, a: Anatomy) -> tuple[float, tuple[int, int, int, int]]:
    """Upper lung-field area left of the spine minus right, over their sum; and the band."""
    r0, c0, r1, c1 = a.body
    h, w = r1 - r0, c1 - c0
    band = (r0 + int(h * 0.2), c0, r0 + int(h * 0.5), c1)
    zone = smooth(image)[band[0] : band[2], c0:c1]
    mid = a.midline - c0
    left = zone[:, max(0, int(mid - w * 0.45)) : max(0, int(mid - w * 0.05))] < a.lung_threshold
    right = zone[:, int(mid + w * 0.05) : int(mid + w * 0.45)] < a.lung_threshold
    total = int(left.sum()) + int(right.sum())
    if total < 20:
        return 0.0, band
    return (int(left.sum()) - int(right.sum())) / total, band


def lung_height(image: WorkingImage, a: Anatomy) -> tuple[float, tuple[int, int, int, int]]:
    """Longest vertical run of lung-dark rows in the lateral zones, over the thorax width;
    and the run as a box."""
    r0, c0, r1, c1 = a.body
    w = c1 - c0
    zone = smooth(image)[r0:r1, c0:c1]
    if zone.shape[0] < 8 or w < 10:
        return 1.0, a.body
    lateral = np.hstack(
        [zone[:, int(w * 0.12) : int(w * 0.38)], zone[:, int(w * 0.62) : int(w * 0.88)]]
    )
    dark = np.median(lateral, axis=1) < a.lung_threshold
    # short bright interruptions (a foreign body, text, a rib edge) do not end the lungs
    gap = max(1, int(zone.shape[0] * GAP))
    rows = np.flatnonzero(dark)
    for start, end in itertools.pairwise(rows):
        if 1 < end - start <= gap + 1:
            dark[start:end] = True
    best, best_end, run = 0, 0, 0
    for index, is_dark in enumerate(dark):
        run = run + 1 if is_dark else 0
        if run > best:
            best, best_end = run, index + 1
    box = (r0 + best_end - best, c0, r0 + best_end, c1)
    return best / w, box


def measurable(image: WorkingImage, a: Anatomy) -> bool:
    """A complete, untilted thorax whose lung fields keep their grey levels: on a burnt-out
    (clipped) image the lungs are no longer dark, and cxr.exposure reports that."""
    return image.clip_high <= CLIPPED_BRIGHT and anatomy_complete(image, a)


def check_rotation(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Lung fields strongly asymmetric about the spine: the patient is probably rotated."""
    if not measurable(image, a):
        return []
    index, band = rotation_index(image, a)
    if abs(index) <= ROTATED and abs(a.spine_offset) <= LATERAL_OFFSET:
        return []
    if abs(index) > ROTATED:
        wider = "left" if index > 0 else "right"
        metric, value, threshold = "lung_area_asymmetry", index, ROTATED
    else:  # the spine off the middle of a complete thorax
        wider = "right" if a.spine_offset < 0 else "left"
        metric, value, threshold = "spine_offset", a.spine_offset, LATERAL_OFFSET
    message = (
        f"The lung field on the image {wider} projects much wider than the other about the "
        "spine, suggesting a rotated patient; check the clavicle heads against the spinous "
        "processes."
    )
    evidence = region_evidence(image, band, metric, value, threshold)
    return [finding("cxr.rotation", Severity.MINOR, message, [evidence], 0.4)]


def check_inspiration(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Lung fields short for the width of the chest: inspiration may be inadequate."""
    if not measurable(image, a):
        return []
    ratio, box = lung_height(image, a)
    if ratio >= SHORT_LUNGS:
        return []
    message = (
        "The lung fields are short for the width of the chest, suggesting a poor inspiration "
        "(high diaphragm); count the posterior ribs above the diaphragm."
    )
    evidence = region_evidence(image, box, "lung_height_to_width", ratio, SHORT_LUNGS)
    return [finding("cxr.inspiration", Severity.MINOR, message, [evidence], 0.35)]


CHECKS = (pixel_check(check_rotation), pixel_check(check_inspiration))
