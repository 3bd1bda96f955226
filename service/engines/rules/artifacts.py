"""``cxr.artifact`` (foreign bodies on the chest, detector defects) and ``cxr.annotation``
(burned-in text).

- Text (:mod:`.text_lines`): lines of bright glyphs on one baseline, anywhere on the film.
  A line whose box lies at least ``TEXT_OVER_LUNGS`` on the model's lungs is text over the
  lung fields (major: it hides anatomy); any other line is burned-in text in a corner or
  margin, where modalities print patient data (minor). Confidence for that one: 0.7 when a
  line has ``LONG_LINE`` glyphs or more (a name, an id, a date), 0.55 for a shorter label
  (``AP ERECT`` is text but not patient data). A laterality marker (one to three glyphs) is
  not a line. Not measured on a noise-dominated image.
- Foreign bodies (ECG electrodes and their leads, buttons, snaps, jewellery;
  :mod:`.objects`): over the lungs, ``METAL_PIXELS`` object pixels (clean dev films of the
  image benchmark had 0-35 but for two at 94 and 348, each holding a real device; films with
  an ECG set 64-496); between the lungs (mediastinum, heart, neck), ``MEDIASTINUM_PIXELS`` in
  compact pieces (on the dev films: 29 of 30 necklaces and 23 of 30 rows of buttons found
  with both zones, against 22 and 20 over the lungs alone; no clean dev film reached 40).
  A bar of 30 (tried 2026-12-06) found 2 more of 120 test films with objects and 1 more false
  one, and counted a surgical clip beside the sternal wires of a shared post-operative film
  (33 pixels): an implant, not an object to remove; 40 kept.
  Burned-in text is left out (cxr.annotation, never cxr.artifact). Tubes, lines and implants
  (pacemakers, ports) are not told apart from external objects; the twisted ends of sternal
  wires are not compact and are not counted. Not measured on a noise-dominated, burnt-out or
  too-dark image (:func:`.exposure.brightness_fault`: what is bright there is not an object;
  cxr.exposure reports it).
- Detector line defects: a row or column of the detector that reads brighter or darker than
  both its neighbours two pixels away along most of its length (the median over the line of
  the smaller of the two differences, ``LINE_RIDGE``), 3 % inside the edges. Anatomy has no
  straight ridge across the whole film and a collimator or shutter edge is a step, not a
  ridge: clean dev films of the image benchmark scored at most 0.01, films with line defects
  0.09-0.82.
"""

from __future__ import annotations

import numpy as np

from service.engines.base import Finding
from service.engines.rules import anatomy as model
from service.engines.rules import objects
from service.engines.rules._findings import finding
from service.engines.rules._pixel_findings import pixel_check, region_evidence
from service.engines.rules.exposure import brightness_fault, noise_dominated
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage
from service.engines.rules.text_lines import LINE_GLYPHS, TextLine, text_lines
from service.taxonomy import Severity

METAL_PIXELS = 30  # object pixels over the lungs (working image, 512 on its long side)
MEDIASTINUM_PIXELS = 40  # object pixels between the lungs
TEXT_OVER_LUNGS = 0.2  # share of a text line's box on the lungs that puts it over them
MAX_LINES = 5  # text lines named in one finding
LONG_LINE = 12  # glyphs in a line long enough to carry a name, an id or a date
MAX_SPOT_PIXELS = 20000  # more spots than this is a processing fault, not objects


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _lines(image: WorkingImage, a: Anatomy) -> list[TextLine]:
    """The burned-in text lines, none on a noise-dominated image."""
    return [] if noise_dominated(image, a) else text_lines(image)


def _over_lungs(image: WorkingImage, line: TextLine) -> bool:
    """At least ``TEXT_OVER_LUNGS`` of the line's box lies on the model's lungs."""
    found = model.of_image(image)
    if not found.lungs_found:
        return False
    lungs = model.working_mask(found, ("right_lung", "left_lung"), image.pixels.shape)
    r0, c0, r1, c1 = line.box
    return float(lungs[r0:r1, c0:c1].mean()) >= TEXT_OVER_LUNGS


def check_text(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Burned-in text: over the lung fields (it hides anatomy), or elsewhere on the film (a
    corner or margin, where patient data is burned in). One finding for each, naming every
    line found (at most ``MAX_LINES``)."""
    over: list[TextLine] = []
    outside: list[TextLine] = []
    for line in _lines(image, a):
        (over if _over_lungs(image, line) else outside).append(line)
    found = []
    if over:
        message = (
            "Burned-in text lies over the lung fields and may hide anatomy or show patient "
            "data; check the image and remove the text."
        )
        evidence = [
            region_evidence(image, line.box, "text_glyphs_over_lungs", line.glyphs, LINE_GLYPHS)
            for line in over[:MAX_LINES]
        ]
        found.append(finding("cxr.annotation", Severity.MAJOR, message, evidence, 0.8))
    if outside:
        message = (
            "Burned-in text is printed on the image outside the lung fields, where patient "
            "data is often burned in; check that it shows no patient identifiers."
        )
        evidence = [
            region_evidence(image, line.box, "text_glyphs", line.glyphs, LINE_GLYPHS)
            for line in outside[:MAX_LINES]
        ]
        # a long line is likely a name, an id or a date; a short one may be a label (AP ERECT)
        longest = max(line.glyphs for line in outside)
        confidence = 0.7 if longest >= LONG_LINE else 0.55
        found.append(finding("cxr.annotation", Severity.MINOR, message, evidence, confidence))
    return found


def check_metal(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Foreign bodies over the lung fields or between them (text excluded: cxr.annotation).
    Not measured where the exposure hides what is bright (a burnt-out film, lungs crushed
    to black, quantum noise): cxr.exposure reports that first."""
    if noise_dominated(image, a) or brightness_fault(image):
        return []
    lines = _lines(image, a)
    evidence = []
    lungs_found = False
    lungs = objects.lung_objects(image)
    if int(lungs.sum()) <= MAX_SPOT_PIXELS:  # more is a processing fault, not objects
        lungs = _without_text(lungs, lines)
        count = int(lungs.sum())
        if count >= METAL_PIXELS:
            lungs_found = True
            evidence.append(
                region_evidence(image, _box(lungs), "bright_object_pixels", count, METAL_PIXELS)
            )
    between = objects.compact(_without_text(objects.mediastinum_objects(image), lines))
    count = sum(piece.area for piece in between)
    if count >= MEDIASTINUM_PIXELS:
        box = (
            min(p.top for p in between),
            min(p.left for p in between),
            max(p.bottom for p in between),
            max(p.right for p in between),
        )
        evidence.append(
            region_evidence(image, box, "object_pixels_between_lungs", count, MEDIASTINUM_PIXELS)
        )
    if not evidence:
        return []
    where = "over the lung fields" if lungs_found else "between the lungs (mediastinum or neck)"
    message = (
        f"A foreign object (metal or similar: electrodes, leads, buttons, jewellery) projects "
        f"{where}; check whether it hides anatomy and remove it if possible."
    )
    return [finding("cxr.artifact", Severity.MINOR, message, evidence, 0.7)]


LINE_RIDGE = 0.05  # median ridge height of a defective detector row or column (0..1 scale)


def _ridges(pixels: np.ndarray) -> np.ndarray:
    """Per column: the median over its rows of how much it stands out from both columns two
    pixels away, in the same direction (bright or dark); a step edge scores about 0."""
    if pixels.shape[1] < 5:
        return np.zeros(0, dtype=np.float32)
    up = pixels[:, 2:-2] - pixels[:, :-4]
    down = pixels[:, 2:-2] - pixels[:, 4:]
    bright = np.median(np.minimum(up, down), axis=0)
    dark = -np.median(np.maximum(up, down), axis=0)
    return np.asarray(np.maximum(bright, dark), dtype=np.float32)


def check_detector_lines(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """A defective detector row or column: a straight line across the film."""
    h, w = image.pixels.shape
    m = max(1, int(0.03 * max(h, w)))
    inner = image.pixels[m : h - m, m : w - m]
    if min(inner.shape) < 16:
        return []
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for axis, ridges in (("column", _ridges(inner)), ("row", _ridges(inner.T))):
        if ridges.size == 0:
            continue
        at = int(np.argmax(ridges))
        value = float(ridges[at])
        line = m + 2 + at
        box = (m, line, h - m, line + 1) if axis == "column" else (line, m, line + 1, w - m)
        if value >= LINE_RIDGE and (best is None or value > best[0]):
            best = (value, box)
    if best is None:
        return []
    message = (
        "A straight line runs across the image (a defective detector row or column); check "
        "the detector calibration and repeat the image if the line hides anatomy."
    )
    evidence = region_evidence(image, best[1], "line_ridge", best[0], LINE_RIDGE)
    return [finding("cxr.artifact", Severity.MINOR, message, [evidence], 0.75)]


def _without_text(mask: np.ndarray, lines: list[TextLine]) -> np.ndarray:
    """``mask`` without the text lines' boxes, each widened by its own height: burned-in text
    is cxr.annotation, never a foreign body (DESIGN section 4)."""
    if not lines:
        return mask
    out = mask.copy()
    for line in lines:
        r0, c0, r1, c1 = line.box
        grow = r1 - r0
        out[max(0, r0 - grow) : r1 + grow, max(0, c0 - grow) : c1 + grow] = False
    return out


CHECKS = (
    pixel_check(check_text),
    pixel_check(check_metal),
    pixel_check(check_detector_lines, upright_only=False),
)
