"""``cxr.field_of_view`` and ``cxr.centering`` from the thorax box and its borders.

- Field of view: the lung fields run into the top or the bottom edge (apices or costophrenic
  angles cut off). Top: a complete chest has shoulders and neck above the apices, so in the
  top 20 % of the lateral zones some row is tissue. The band's brightest row is measured on
  the lung (1) to mediastinum (0) scale (:func:`._measure.edge_bands`): on the tuning
  radiographs -0.1 to 0.52 (0.8 on a blurred copy of the tightly collimated RG1), and 0.95 to
  1.05 for 27 % top crops of them. The single top edge strip used before was dropped: air
  above the shoulders is as dark as lung, so complete and cut tops overlapped, and it fired
  on bottom crops. Bottom: the bottom edge strip of the lateral zones as dark as lung. The
  same band measure at the bottom (no diaphragm or abdomen row) caught three of four 27 %
  bottom crops of the tuning images, but measured 0.42 on a clean real radiograph outside
  the tuning set (the Orthanc CR, seen through the tests' expected-checks table), as high as
  real cut-offs: it is not used.
  Not measured on a noise-dominated image (:func:`.exposure.noise_dominated`): there air,
  lung and tissue grey levels merge, and cxr.exposure reports the image. Strips and bands
  start 2 % inside the edge, past edge effects (collimator lines, filter roll-off).
  A lateral chest wall cut off is measured by the spine's position in the thorax box: the
  thorax is near-symmetric about the spine, so a spine far from the box's centre means one
  side of the chest is missing (the box spans the image content, padding excluded; an
  off-centre but complete chest keeps its spine central in that box), confirmed by the edge
  strip on the short side being lung-dark (a rotated patient keeps that chest wall). The edge-strip
  darkness alone was not used for lateral cut-offs: on the real images the lateral strips of
  complete chests ranged as widely as cut ones.
- Centering: the thorax box is off-centre in the image, or all four corners are empty (a
  tilted chest leaves empty triangles in the corners).
Rotation and inspiration are in :mod:`.positioning`; scapula position is not measured.
"""

from __future__ import annotations

from service.engines.base import Finding
from service.engines.rules._findings import finding
from service.engines.rules._measure import border_lungness, edge_bands, empty_corners
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.exposure import noise_dominated
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage, derived
from service.taxonomy import Severity

OFF_CENTRE = 0.09  # thorax centre from the image centre, as a share of the width
EMPTY_CORNER = 0.75  # share of a corner without structure
TOP_BAND = 0.85  # top band without a shoulder/neck tissue row: lung-likeness of its brightest row
BOTTOM_LUNG = 0.6  # lung-like bottom edge strip (the bottom band measure is not used: below)
LATERAL_OFFSET = 0.1  # spine from the thorax box centre, share of the box width
LATERAL_LUNG = 0.8  # lung-likeness of the short side's edge strip when its wall is cut off
_MESSAGES = {
    "top": "The lung apices run into the top edge of the image and may be cut off",
    "bottom": "The lung bases run into the bottom edge, so the costophrenic angles may be cut off",
}


def _padded(image: WorkingImage) -> bool:
    return min(empty_corners(image.pixels)) > EMPTY_CORNER


def check_field_of_view(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Lung fields touching the top, bottom or a lateral border of the thorax."""
    if _padded(image) or noise_dominated(image, a):
        return []  # tilted (centering) or too noisy for grey levels (exposure): reported there
    borders = border_lungness(image.pixels, a)
    found: list[Finding] = []
    bands = edge_bands(image.pixels, a)
    top = bands.get("top")
    if top is not None and top[0] >= TOP_BAND:
        evidence = region_evidence(image, top[1], "lung_likeness", top[0], TOP_BAND)
        message = f"{_MESSAGES['top']}; check the field of view."
        found.append(finding("cxr.field_of_view", Severity.MAJOR, message, [evidence], 0.65))
    bottom = borders.get("bottom")
    if bottom is not None and BOTTOM_LUNG <= bottom[0] <= 1.6:
        evidence = region_evidence(image, bottom[1], "lung_likeness", bottom[0], BOTTOM_LUNG)
        message = f"{_MESSAGES['bottom']}; check the field of view."
        found.append(finding("cxr.field_of_view", Severity.MAJOR, message, [evidence], 0.65))
    side = lateral_cut(image, a, borders)
    if side is not None:
        r0, c0, r1, c1 = a.body
        strip = (r0, c0, r1, c0 + max(1, (c1 - c0) // 10))
        if side == "right":
            strip = (r0, c1 - max(1, (c1 - c0) // 10), r1, c1)
        message = (
            f"The spine lies far off the middle of the thorax and the lung runs into the image "
            f"{side} edge, so that chest wall appears cut off; check the field of view."
        )
        evidence = region_evidence(
            image, strip, "spine_offset", abs(a.spine_offset), LATERAL_OFFSET
        )
        found.append(finding("cxr.field_of_view", Severity.MAJOR, message, [evidence], 0.6))
    return found


def lateral_cut(
    image: WorkingImage,
    a: Anatomy,
    borders: dict[str, tuple[float, list[int]]] | None = None,
) -> str | None:
    """The image side ("left" or "right") whose chest wall is cut off, if any: the spine far
    off the thorax box's centre towards the other side, and the edge strip on the short side
    as dark as lung (a rotated patient also moves the spine, but keeps the chest wall)."""
    if abs(a.spine_offset) <= LATERAL_OFFSET:
        return None
    side = "left" if a.spine_offset < 0 else "right"
    edge = (borders if borders is not None else border_lungness(image.pixels, a)).get(side)
    if edge is None or not LATERAL_LUNG <= edge[0] <= 1.6:
        return None
    return side


def anatomy_complete(image: WorkingImage, a: Anatomy) -> bool:
    """The thorax is whole and upright enough for measures of its shape (heart side,
    rotation, lung height): not tilted in a padded field and nothing cut off."""
    return derived(
        image.pixels,
        f"complete{a.body}",
        lambda: not _padded(image) and not check_field_of_view(image, a),
    )


def check_centering(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Thorax off-centre, or tilted in the field."""
    w = image.pixels.shape[1]
    c0, c1 = a.body[1], a.body[3]
    offset = ((c0 + c1) / 2 - w / 2) / w
    if abs(offset) > OFF_CENTRE:
        side = "left" if offset < 0 else "right"
        message = (
            f"The thorax lies off-centre towards the image {side}; centre the patient on the "
            "detector."
        )
        evidence = region_evidence(image, a.body, "centre_offset", abs(offset), OFF_CENTRE)
        return [finding("cxr.centering", Severity.MINOR, message, [evidence], 0.75)]
    if _padded(image):
        corners = empty_corners(image.pixels)
        message = "The thorax appears tilted in the field (all four corners empty); re-align it."
        evidence = region_evidence(
            image, whole(image), "empty_corner_share", min(corners), EMPTY_CORNER
        )
        return [finding("cxr.centering", Severity.MINOR, message, [evidence], 0.6)]
    return []


CHECKS = (pixel_check(check_field_of_view), pixel_check(check_centering))
