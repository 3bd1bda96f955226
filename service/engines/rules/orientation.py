"""``cxr.orientation`` and the photometric label (``cxr.metadata``), from the anatomy's layout.

The predicates are in :mod:`._display`. Measured on the working image:
``horizontal_contrast`` (middle band minus lateral zones across the columns), the same across
the rows (a 90-degree rotation moves the band), and the bottom-minus-top difference of the
lateral zones (upside down). An image that looks inverted under a MONOCHROME1 label is a wrong
label (``cxr.metadata``, DESIGN section 4); under MONOCHROME2 it is reported as inverted pixels.
A left-right flip would be found from the heart's side (:func:`.lungs.heart_shift`: the
cardiac zone brighter on the image left than on the right, relative to the upper chest), but
it is NOT registered: it separated all flipped from clean copies of the four tuning images,
yet two of the three other distinct real clean radiographs here (the Orthanc CR and NIH
test3, seen through the header test's expected-checks table) measure -0.063, as strongly
"flipped" as real flips (-0.05 to -0.10). A check that flags about a third of clean films is
worse than none; ``check_flip`` stays for measurement and the benchmark report.
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
from service.engines.rules.geometry import anatomy_complete
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


FLIPPED = -0.04  # heart_shift of a film whose heart lies on the image left


def check_flip(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Flipped left-right: the cardiac silhouette on the image left."""
    if a.heart_side >= FLIPPED or not anatomy_complete(image, a):
        return []
    r0, c0, r1, c1 = a.body
    h = r1 - r0
    box = (r0 + int(h * 0.5), c0, r0 + int(h * 0.75), c1)
    message = (
        "The heart appears on the image left, so the image is probably flipped left-right "
        "(or the patient has dextrocardia); check the laterality marker and re-orient."
    )
    evidence = region_evidence(image, box, "heart_shift", a.heart_side, FLIPPED)
    return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.6)]


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
