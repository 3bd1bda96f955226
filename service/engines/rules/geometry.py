"""``cxr.field_of_view`` and ``cxr.centering``.

- Field of view, from the lungs the anatomy model finds (:mod:`.anatomy`). A lung whose
  outline runs into an edge of the film *at a width* is cut off there; a lung that merely
  comes near an edge ends in a narrow tip (the apex's dome, the costophrenic angle's point,
  the curve of the chest wall). Per lung, in the model's mask:
  - apex cut: the lung starts within 5 % of its height from the top edge, and 4 % of its
    height below its top it is already 60 % as wide as at its widest (``APEX_WIDTH``; tightly
    collimated complete films reach the edge too, with a narrower apex: 0.5-0.6 on dev);
  - costophrenic angle cut: the lung ends within 8 % of its height from the bottom edge and
    is still 30 % of its widest 4 % above its lowest row (``BASE_WIDTH``), or 60 % of it 8 %
    above (``BASE_WIDTH_ABOVE``: the model rounds a cut base off in its last rows);
  - lateral chest wall cut: the lung's outer edge lies within 4 % of its width from the
    side edge and, 6 % of its width inside, it is already 55 % of its tallest
    (``WALL_HEIGHT``); or, cut deeper, it is under 60 % of the other lung's width
    (``NARROW_LUNG``) and ends within 5 % of the other lung's width from the side edge
    (``SLIVER_MARGIN``: the model rounds off the sliver that is left and stops a few pixels
    short of the edge, as it does at a cut apex; the cut lung's own width is what the cut
    took, so the intact lung is the scale). On the dev films, 1 pixel -> 5 % found 2 more
    cut walls (3 and 5 pixels short) and no other film: the nearest other lung this narrow
    stopped 7 % short, on an inverted film, which is not measured here.
  - any edge: the mask runs along the film's edge row (top, bottom) or column (sides) itself
    for at least 15 % of the lung's widest row or tallest column (``EDGE_RUN``): the outline
    is cut straight by the edge, where a complete apex, costophrenic recess or chest wall
    meets an edge only at a point. It finds cuts the width tests miss because the rows just
    inside are narrow (an apex cut near its top, a recess cut just above its tip).
  Tuned on the dev films of ``bench/quality/images.py`` only (reported on its test films).
  Measured only when both lungs are found side by side and the film is not turned
  (:func:`.anatomy.turn_of`; :mod:`.orientation` reports a turned film). Not measured on a
  noise-dominated image (:func:`.exposure.noise_dominated`: cxr.exposure reports it).
- Centering: the thorax box is off-centre in the image, or all four corners are empty (a
  tilted chest leaves empty triangles in the corners).
Rotation and inspiration are in :mod:`.positioning`; scapula position is not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from service.engines.base import Finding
from service.engines.rules import anatomy as model
from service.engines.rules._findings import finding
from service.engines.rules._measure import empty_corners
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.exposure import noise_dominated
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage, derived
from service.taxonomy import Severity

OFF_CENTRE = 0.09  # thorax centre from the image centre, as a share of the width
EMPTY_CORNER = 0.75  # share of a corner without structure
EDGE_MARGIN = 0.04  # a lung this close to an edge (share of its height or width) reaches it
# The model stops a few rows short of an edge that cuts a lung (it rounds the lung off): on the
# dev films 5 % -> 8 % (bases) and 3 % -> 5 % (apices) found 3 more cut films and no other film.
BASE_MARGIN = 0.08
APEX_MARGIN = 0.05
APEX_WIDTH = 0.6  # width 4 % below the top, share of the lung's widest row
BASE_WIDTH = 0.3  # width 4 % above the bottom, share of the widest row
BASE_WIDTH_ABOVE = 0.6  # or 8 % above it (complete bases touching the edge: at most 0.51)
WALL_HEIGHT = 0.55  # height 6 % inside the outer edge, share of the lung's tallest column
NARROW_LUNG = 0.6  # a lung touching the side edge this much narrower than the other
SLIVER_MARGIN = 0.05  # such a lung this close to the side edge, share of the other's width
# A lung whose mask runs along the film's edge itself (its first or last row or column) for at
# least this share of its widest row (top, bottom) or tallest column (sides) is cut straight
# there, however the rows just inside measure: a complete lung's apex, costophrenic angle or
# chest wall ends in a curve or a point, so it meets an edge only at a few pixels. On the dev
# films no complete lung's mask touched the top or bottom row at all, and cut lungs did at
# 0.17-0.37 (apices, costophrenic angles the width tests above missed).
EDGE_RUN = 0.15
Edge = Literal["top", "bottom", "left", "right"]
_MESSAGES: dict[Edge, str] = {
    "top": "The lung apices run into the top edge of the image and appear cut off",
    "bottom": "The lung bases run into the bottom edge, so the costophrenic angles appear cut off",
    "left": "A lung runs into the left edge of the image, so that chest wall appears cut off",
    "right": "A lung runs into the right edge of the image, so that chest wall appears cut off",
}


@dataclass(frozen=True, slots=True)
class Cut:
    """A lung cut off at an edge of the film, with what was measured (mask pixels)."""

    edge: Edge
    box: tuple[int, int, int, int]  # the lung's box, working-image pixels (r0, c0, r1, c1)
    metric: str
    value: float
    threshold: float


def _padded(image: WorkingImage) -> bool:
    return min(empty_corners(image.pixels)) > EMPTY_CORNER


def _lung_cuts(
    lung: np.ndarray, outer: Literal["left", "right"], other_width: int
) -> list[tuple[Edge, str, float, float]]:
    """The edges one lung mask runs into at a width: (edge, metric, value, threshold).
    ``other_width``: the width of the other lung (mask pixels)."""
    rows = np.flatnonzero(lung.any(axis=1))
    cols = np.flatnonzero(lung.any(axis=0))
    n_rows, n_cols = lung.shape
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    widest = float(lung.sum(axis=1).max())
    tallest = float(lung.sum(axis=0).max())
    step = max(1, round(0.04 * height))
    inset = max(1, round(0.06 * width))
    cuts: list[tuple[Edge, str, float, float]] = []
    apex_width = float(lung[rows[0] + step].sum()) / widest
    along_top = float(lung[0].sum()) / widest  # the mask's run along the top edge itself
    if rows[0] <= APEX_MARGIN * height and apex_width >= APEX_WIDTH:
        cuts.append(("top", "apex_width_at_edge", apex_width, APEX_WIDTH))
    elif along_top >= EDGE_RUN:
        cuts.append(("top", "lung_along_edge", along_top, EDGE_RUN))
    base_width = float(lung[rows[-1] - step].sum()) / widest
    above = float(lung[max(rows[0], rows[-1] - 2 * step)].sum()) / widest
    along_bottom = float(lung[-1].sum()) / widest
    if n_rows - 1 - rows[-1] <= BASE_MARGIN * height:
        if base_width >= BASE_WIDTH:
            cuts.append(("bottom", "base_width_at_edge", base_width, BASE_WIDTH))
        elif above >= BASE_WIDTH_ABOVE:
            # the model rounds off a cut base in its last rows; a little higher it is wide
            cuts.append(("bottom", "base_width_above_edge", above, BASE_WIDTH_ABOVE))
        elif along_bottom >= EDGE_RUN:
            cuts.append(("bottom", "lung_along_edge", along_bottom, EDGE_RUN))
    if outer == "left":
        gap, wall = cols[0], float(lung[:, cols[0] + inset].sum()) / tallest
        along_side = float(lung[:, 0].sum()) / tallest
    else:
        gap, wall = n_cols - 1 - cols[-1], float(lung[:, cols[-1] - inset].sum()) / tallest
        along_side = float(lung[:, -1].sum()) / tallest
    if gap <= EDGE_MARGIN * width and wall >= WALL_HEIGHT:
        cuts.append((outer, "wall_height_at_edge", wall, WALL_HEIGHT))
    elif gap <= SLIVER_MARGIN * other_width and width < NARROW_LUNG * other_width:
        # cut deep: what is left of the lung is a sliver the model rounds off at the edge
        cuts.append((outer, "lung_width_to_other", width / other_width, NARROW_LUNG))
    elif along_side >= EDGE_RUN:
        cuts.append((outer, "lung_along_edge", along_side, EDGE_RUN))
    return cuts


def field_cuts(image: WorkingImage) -> list[Cut]:
    """The edges of the film that cut a lung off (one entry per edge), from the model's
    lungs; empty when they are not both found side by side, or the film is turned."""

    def compute() -> list[Cut]:
        found = model.of_image(image)
        if not found.lungs_found or model.turn_of(image) is not None:
            return []
        right, left = found.mask("right_lung"), found.mask("left_lung")
        image_left = right if np.nonzero(right)[1].mean() < np.nonzero(left)[1].mean() else left
        cuts: dict[Edge, Cut] = {}
        widths = {id(m): int(np.ptp(np.flatnonzero(m.any(axis=0)))) + 1 for m in (right, left)}
        for lung, other in ((right, left), (left, right)):
            outer: Literal["left", "right"] = "left" if lung is image_left else "right"
            rows = np.flatnonzero(lung.any(axis=1))
            cols = np.flatnonzero(lung.any(axis=0))
            s = found.scale
            box = (
                int(rows[0] * s),
                int(cols[0] * s),
                int((rows[-1] + 1) * s),
                int((cols[-1] + 1) * s),
            )
            for edge, metric, value, threshold in _lung_cuts(lung, outer, widths[id(other)]):
                if edge not in cuts or value > cuts[edge].value:
                    cuts[edge] = Cut(edge, box, metric, value, threshold)
        return list(cuts.values())

    return derived(image.pixels, "field_cuts", compute)


def check_field_of_view(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Lungs cut off at the top (apices), the bottom (costophrenic angles) or a side (a
    lateral chest wall) of the film."""
    if _padded(image) or noise_dominated(image, a):
        return []  # tilted (centering) or too noisy to segment (exposure): reported there
    found: list[Finding] = []
    for cut in field_cuts(image):
        evidence = region_evidence(image, cut.box, cut.metric, cut.value, cut.threshold)
        message = f"{_MESSAGES[cut.edge]}; check the field of view and repeat if needed."
        found.append(finding("cxr.field_of_view", Severity.MAJOR, message, [evidence], 0.7))
    return found


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
