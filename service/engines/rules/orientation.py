"""``cxr.orientation`` and the photometric label (``cxr.metadata``), from the anatomy's layout.

The predicates are in :mod:`._display`. Measured on the working image:
``horizontal_contrast`` (middle band minus lateral zones across the columns), the same across
the rows (a 90-degree rotation moves the band), and the bottom-minus-top difference of the
lateral zones (upside down). An image that looks inverted under a MONOCHROME1 label is a wrong
label (``cxr.metadata``, DESIGN section 4); under MONOCHROME2 it is reported as inverted pixels.
Left-right flips are not detected: the heart's side was not a stable measurement on the real
images (see the benchmark report).
"""

from __future__ import annotations

from service.engines.base import Finding
from service.engines.rules._display import (
    INVERTED_BAND,
    ROTATED_BAND,
    UPSIDE_DOWN,
    looks_inverted,
    looks_rotated,
    looks_upside_down,
)
from service.engines.rules._findings import finding, tag_evidence
from service.engines.rules._pixel_findings import pixel_check, region_evidence, whole
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage
from service.taxonomy import Severity


def check_orientation(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Rotated 90 degrees, inverted grey scale (under a MONOCHROME2 label), or upside down."""
    box = whole(image)
    if looks_rotated(a):
        message = "The chest appears rotated by 90 degrees; re-orient the image before reading."
        evidence = region_evidence(
            image, box, "vertical_contrast", a.vertical_contrast, ROTATED_BAND
        )
        return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.8)]
    if looks_inverted(a) and image.photometric != "MONOCHROME1":
        message = (
            "The grey scale appears inverted (lungs bright, mediastinum dark); check the "
            "photometric interpretation and the processing."
        )
        evidence = region_evidence(
            image, box, "horizontal_contrast", a.horizontal_contrast, INVERTED_BAND
        )
        return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.8)]
    if looks_upside_down(a):
        message = "The chest appears upside down (abdomen at the top); re-orient the image."
        evidence = region_evidence(image, box, "bottom_minus_top", a.top_bottom, UPSIDE_DOWN)
        return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.8)]
    return []


def check_photometric_label(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """A MONOCHROME1 label on pixels that are MONOCHROME2: the image displays inverted."""
    if image.photometric != "MONOCHROME1" or not looks_inverted(a) or looks_rotated(a):
        return []
    message = (
        "The pixels look like MONOCHROME2 but the header says MONOCHROME1, so the image "
        "displays inverted; correct PhotometricInterpretation."
    )
    evidence = [
        tag_evidence("PhotometricInterpretation", "MONOCHROME1"),
        region_evidence(
            image, whole(image), "horizontal_contrast", a.horizontal_contrast, INVERTED_BAND
        ),
    ]
    return [finding("cxr.metadata", Severity.MAJOR, message, evidence, 0.8)]


CHECKS = (pixel_check(check_orientation, upright_only=False),)
