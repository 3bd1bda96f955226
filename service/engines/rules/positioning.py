"""``cxr.rotation`` and ``cxr.inspiration``: positioning, as far as the films here let it be
measured honestly. Both are reported with low confidence (below the default flag floor, so
they are shown on the item but flag nothing) until they are validated against labelled
films; ``cxr.scapula`` is not measured.

- Rotation: a rotated patient projects one hemithorax wider than the other about the spine.
  Measured as the asymmetry of the lung-dark area either side of the spine in the upper chest
  (rows 20-50 % of the thorax, above the heart): (left - right) / (left + right); only strong
  asymmetry (> 0.3) is reported, and the spine far off the middle of a complete thorax. The
  radiographer's criterion, the clavicle heads against the spinous processes, was measured
  from the anatomy model's clavicles and is not used: on the clean dev films of the image
  benchmark it spread from -0.88 to 0.94 (the model's medial clavicle ends are not precise
  enough for it). No labelled rotated film was available: the tests use a proxy (one half of
  the chest compressed); the confidence (0.4) says so.
- Inspiration: on a poor inspiration the diaphragm is high and the lungs are short: the
  anatomy model's lungs, their mean height (apex to base) over the thorax width, reported
  under 0.5 (confidence 0.35). Counting posterior ribs, the clinical measure, is beyond it.
- Scapulae over the lungs: the model has no scapula class and no stable grey-level measure
  was found (their medial borders are faint lines, hard to tell from the chest wall and the
  ribs even by eye at 1,000 pixels across); not reported. Public scapula labels looked for
  (2026-12-06), none usable here: ChestX-Seg40 (600 films with both scapulae outlined; the
  films only on Google Drive or Baidu, research use only), PAX-Ray++ (labels projected from
  CT; Google Drive), torchxrayvision's PSPNet (14 structures with the scapulae, trained on
  Deepwise's ChestX-Det anatomy; its weights download from GitHub releases at run time, the
  wheel and ChestX-Det's repository hold neither them nor the masks). This machine reaches
  PyPI, Debian and npm only.
Both checks run only on a complete, untilted thorax (:func:`.geometry.anatomy_complete`) that
is not burnt out: a cut-off, tilted or clipped chest is reported as such, not as rotation or
short lungs.
"""

from __future__ import annotations

from service.engines.base import Finding
from service.engines.rules import anatomy as model
from service.engines.rules._findings import finding
from service.engines.rules._pixel_findings import pixel_check, region_evidence
from service.engines.rules.exposure import CLIPPED_BRIGHT
from service.engines.rules.geometry import anatomy_complete
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import FloatImage, WorkingImage, box_mean, derived
from service.taxonomy import Severity

ROTATED = 0.3  # upper lung-field area asymmetry about the spine
LATERAL_OFFSET = 0.1  # spine from the thorax box centre, share of the box width
# Lung height (apex to base, the model's lungs) over the thorax width. The dev films of the
# image benchmark measured 0.55-1.26 (median 0.87); a film with short lungs for a reason
# other than the breath (obesity, a raised hemidiaphragm, a small film) is not told apart,
# hence the low confidence and a bar below every dev film.
SHORT_LUNGS = 0.5


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


def lung_height_ratio(image: WorkingImage) -> tuple[float, tuple[int, int, int, int]] | None:
    """The lungs' mean height (apex to base) over the thorax width (one lung's lateral edge
    to the other's), from the anatomy model; and the lungs' box. None without both lungs."""
    found = model.of_image(image)
    marks = found.landmarks
    right, left, width = marks.right_lung, marks.left_lung, marks.thorax_width
    if right is None or left is None or not width:
        return None
    height = ((right.base_row - right.apex.row) + (left.base_row - left.apex.row)) / 2
    box = (
        int(min(right.box.top, left.box.top)),
        int(min(right.box.left, left.box.left)),
        int(max(right.box.bottom, left.box.bottom)),
        int(max(right.box.right, left.box.right)),
    )
    return height / width, box


def check_inspiration(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Lungs short for the width of the chest: inspiration may be inadequate."""
    if not measurable(image, a) or not model.of_image(image).lungs_found:
        return []
    measured = lung_height_ratio(image)
    if measured is None or measured[0] >= SHORT_LUNGS:
        return []
    ratio, box = measured
    message = (
        "The lungs are short for the width of the chest, suggesting a poor inspiration "
        "(high diaphragm); count the posterior ribs above the diaphragm."
    )
    evidence = region_evidence(image, box, "lung_height_to_width", ratio, SHORT_LUNGS)
    return [finding("cxr.inspiration", Severity.MINOR, message, [evidence], 0.35)]


CHECKS = (pixel_check(check_rotation), pixel_check(check_inspiration))
