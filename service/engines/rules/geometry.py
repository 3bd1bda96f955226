"""``cxr.field_of_view`` and ``cxr.centering`` from the thorax box and its borders.

- Field of view: the lung fields run into the top or the bottom edge (apices or costophrenic
  angles cut off): the edge strip of the lateral zones is as dark as lung, not tissue.
  Lateral cut-offs are not measured: on the real images the lateral strips of complete chests
  ranged as widely as cut ones.
- Centering: the thorax box is off-centre in the image, or all four corners are empty (a
  tilted chest leaves empty triangles in the corners).
Rotation, inspiration and scapula position are not measured here.
"""

from __future__ import annotations

from service.engines.base import Finding
from service.engines.rules._findings import finding
from service.engines.rules._measure import border_lungness, empty_corners
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage
from service.taxonomy import Severity

OFF_CENTRE = 0.09  # thorax centre from the image centre, as a share of the width
EMPTY_CORNER = 0.75  # share of a corner without structure
TOP_LUNG = (0.3, 0.9)  # lung-like top strip (air above the shoulders is darker)
BOTTOM_LUNG = 0.6
_MESSAGES = {
    "top": "The lung apices run into the top edge of the image and may be cut off",
    "bottom": "The lung bases run into the bottom edge, so the costophrenic angles may be cut off",
}


def _padded(image: WorkingImage) -> bool:
    return min(empty_corners(image.pixels)) > EMPTY_CORNER


def check_field_of_view(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Lung fields touching the top or bottom border of the thorax."""
    if _padded(image):
        return []
    borders = border_lungness(image.pixels, a)
    found: list[Finding] = []
    top = borders.get("top")
    if top is not None and TOP_LUNG[0] <= top[0] <= TOP_LUNG[1]:
        evidence = region_evidence(image, top[1], "lung_likeness", top[0], TOP_LUNG[0])
        message = f"{_MESSAGES['top']}; check the field of view."
        found.append(finding("cxr.field_of_view", Severity.MAJOR, message, [evidence], 0.65))
    bottom = borders.get("bottom")
    if bottom is not None and BOTTOM_LUNG <= bottom[0] <= 1.6:
        evidence = region_evidence(image, bottom[1], "lung_likeness", bottom[0], BOTTOM_LUNG)
        message = f"{_MESSAGES['bottom']}; check the field of view."
        found.append(finding("cxr.field_of_view", Severity.MAJOR, message, [evidence], 0.65))
    return found


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
