"""Foreign bodies on a frontal chest film: where bright, compact objects lie (measurement only;
:mod:`.artifacts` reports them).

Two zones, both from the anatomy model's masks (:mod:`.anatomy`):

- Over the lungs: pixels inside the lung masks much brighter than the 13x13 neighbourhood
  around them (``LUNG_CONTRAST`` on the working image's 0..1 scale), with object neighbours.
  Inside the lungs nothing normal is that much brighter than its surroundings (ribs, vessels
  and the heart border are softer).
- Between the lungs (the mediastinum, the heart and the neck above them): the columns from one
  lung's inner edge to the other's, widened by 3 % of the width, from the top of the film
  (3 % in) down to the lowest row of the lungs and the heart, the lungs themselves and the
  film's border with any padding (a tilted film's own edge is bright) left out.
  Buttons, a necklace and its pendant, snaps of ECG leads lie there. The spine, the trachea,
  the clavicle heads and the aortic knob are bright there too, so the test is stricter: a
  pixel near the top of the grey range (``MEDIASTINUM_LEVEL``) that stands out of the opening
  of the image by a 13x13 square by ``MEDIASTINUM_TOPHAT`` (bright detail narrower than the
  square: an object, not a bone margin, which is a step), in pieces that survive an opening by
  3x3 (a blob, not a thin edge of an edge-enhanced film). Laterality markers lie outside the
  zone (over the shoulders or beside the chest). Measured only when the model's layout is
  plausible (:attr:`.anatomy.Anatomy.heart_between_lungs`: both lungs side by side, the heart
  between them and at least 0.3 of the thorax wide): where the model misplaces the heart or a
  lung, the zone between its lungs takes in the spine or a lung edge, bright enough to pass
  for an object. On the dev films this left out two of the three clean films with object
  pixels there (17 and 18 pixels, hearts 0.11 and 0.24 of the thorax wide; the bar is 40)
  and cost 4 of the 10 buttons and necklaces found there alone (no heart found, or a heart
  misplaced or under 0.3 of the thorax wide).
"""

from __future__ import annotations

import numpy as np

from service.engines.rules import anatomy as model
from service.engines.rules._morphology import Piece, open_mask, pieces, tophat
from service.engines.rules.lungs import content_mask
from service.engines.rules.pixels import WorkingImage, box_mean, derived

LUNG_CONTRAST = 0.25  # brighter than the 13x13 mean around it (0..1 working scale)
MEDIASTINUM_LEVEL = 0.93  # a pixel of an object between the lungs is at least this bright
MEDIASTINUM_TOPHAT = 0.2  # and stands this far above the 13x13 opening
COMPACT = 2.5  # an object's box at most this much longer than wide
_OBJECT_RADIUS = 6  # objects narrower than 13 working pixels in some direction


def lung_objects(image: WorkingImage) -> np.ndarray:
    """Pixels inside the model's lungs far brighter than their neighbourhood, with object
    neighbours (computed once); empty when the lungs are not found."""

    def compute() -> np.ndarray:
        found = model.of_image(image)
        if not found.lungs_found:
            return np.zeros(image.pixels.shape, dtype=bool)
        lungs = model.working_mask(found, ("right_lung", "left_lung"), image.pixels.shape)
        contrast = image.pixels - box_mean(image.pixels, 6)
        mask = lungs & (contrast > LUNG_CONTRAST)
        neighbours = box_mean(mask.astype(np.float32), 1) * 9
        return np.asarray(mask & (neighbours >= 2 - 1e-3))

    return derived(image.pixels, "lung_objects", compute)


def mediastinum_zone(image: WorkingImage) -> np.ndarray:
    """The zone between the lungs (see the module's notes); empty unless the lungs and the
    heart are found in a plausible layout."""
    found = model.of_image(image)
    shape = image.pixels.shape
    zone = np.zeros(shape, dtype=bool)
    if not found.heart_between_lungs:
        return zone
    right = model.working_mask(found, ("right_lung",), shape)
    left = model.working_mask(found, ("left_lung",), shape)
    heart = model.working_mask(found, ("heart",), shape)
    right_cols, left_cols = np.flatnonzero(right.any(axis=0)), np.flatnonzero(left.any(axis=0))
    if right_cols.mean() < left_cols.mean():  # the patient's right lung on the image left
        inner = sorted((int(right_cols[-1]), int(left_cols[0])))
    else:
        inner = sorted((int(left_cols[-1]), int(right_cols[0])))
    h, w = shape
    margin = int(0.03 * w)
    bottom = int(np.flatnonzero((right | left | heart).any(axis=1))[-1]) + 1
    zone[int(0.03 * h) : bottom, max(0, inner[0] - margin) : inner[1] + margin] = True
    # inside the film: no padding within the object's reach (a tilted film's own bright edge)
    film = box_mean(content_mask(image.pixels).astype(np.float32), 12) > 0.7
    return np.asarray(zone & film & ~(right | left))


def mediastinum_objects(image: WorkingImage) -> np.ndarray:
    """Pixels of compact bright objects between the lungs (computed once)."""

    def compute() -> np.ndarray:
        zone = mediastinum_zone(image)
        if not zone.any():
            return zone
        pixels = image.pixels
        bright = (pixels >= MEDIASTINUM_LEVEL) & (
            tophat(pixels, _OBJECT_RADIUS) >= MEDIASTINUM_TOPHAT
        )
        return np.asarray(open_mask(bright) & zone)

    return derived(image.pixels, "mediastinum_objects", compute)


def compact(mask: np.ndarray) -> list[Piece]:
    """The pieces of ``mask`` whose box is at most ``COMPACT`` times longer than wide: beads,
    buttons, pendants, snaps; not the twisted ends of sternal wires or a bone's edge."""
    return [p for p in pieces(mask) if max(p.height, p.width) <= COMPACT * min(p.height, p.width)]
