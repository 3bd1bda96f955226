"""``cxr.orientation`` and the photometric label (``cxr.metadata``).

Two independent readings, the first that finds a problem is reported (one error, one finding):
- The grey-level layout (:mod:`._display`, on the working image): ``horizontal_contrast``
  (middle band minus lateral zones across the columns), the same across the rows (a
  90-degree turn moves the band), and the bottom-minus-top difference of the lateral zones
  (upside down). An image that looks inverted under a MONOCHROME1 label is a wrong label
  (``cxr.metadata``, DESIGN section 4); under MONOCHROME2 it is reported as inverted pixels.
- The anatomy model (:mod:`.anatomy`): a film turned by 90 or 180 degrees is one whose
  layout is upright, and the model clearly surer of it, once turned back
  (:func:`.anatomy.turn_of`); a film flipped left-right is an upright one whose heart lies
  on the image left (``FLIPPED_HEART_SHARE``: on the dev films of the image benchmark
  flipped films measured 0.01-0.35 of the heart right of the midline, clean ones 0.47-0.91
  but for three at 0.08-0.35, which may be true dextrocardia or films the collection
  itself stored flipped; hence the confidence 0.6). Dextrocardia and situs inversus are
  real: the message says so. The heart's side is trusted only when the model's heart is at
  least ``MIN_HEART_WIDTH`` of the thorax wide.
When the model reads the film as an upright chest (both lungs side by side, the heart between
them, certainty 0.95 or more), the grey-level cues are overruled: a film whose costophrenic
angles are cut has dark lower zones and looked upside down to them (2 dev films, both upright
to the model; no turned or inverted dev film reads upright). A grey-level band across the rows
on a film the model reads upright once its grey scale is reversed is an inverted film, not a
turned one (4 dev films, all inverted; none of the 22 films turned by 90 degrees).
"""

from __future__ import annotations

from service.engines.base import Finding, ImageInput
from service.engines.rules import anatomy as model
from service.engines.rules._dicom import value_text
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
from service.engines.rules.header import is_lateral_view, labelled_not_a_radiograph
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage, working_image
from service.taxonomy import Severity


def looks_turned(image: WorkingImage, a: Anatomy) -> bool:
    """The grey-level layout of a film turned by 90 degrees, unless the anatomy model reads
    the film as upright once its grey scale is reversed: an inverted film (its dark mediastinum
    can make a band across the rows), reported as inverted."""
    return looks_rotated(a) and not model.reads_inverted(image)


def check_orientation(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Turned by 90 or 180 degrees, inverted grey scale (under a MONOCHROME2 label), or
    flipped left-right."""
    if model.of_image(image).upright:
        # the model reads an upright chest, surely: grey-level cues of a misdisplay (a lower
        # zone darker than the upper one when the bases are cut, say) are overruled
        return check_flip(image, a)
    box = whole(image)
    if looks_turned(image, a):
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
    if looks_inverted(a):
        return []  # a MONOCHROME1 label on MONOCHROME2 pixels: cxr.metadata reports it
    if model.reads_inverted(image):
        if image.photometric == "MONOCHROME1":
            return []  # the label is wrong: cxr.metadata reports it
        message = (
            "The grey scale appears inverted: the anatomy is recognised only with the grey "
            "scale reversed; check the photometric interpretation and the processing."
        )
        evidence = region_evidence(
            image, box, "anatomy_certainty", model.of_image(image).confidence, 0.95
        )
        return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.75)]
    turn = model.turn_of(image)
    if turn is not None:
        how = "upside down" if turn.degrees == 180 else "turned on its side (90 degrees)"
        message = (
            f"The chest appears {how}: the anatomy is recognised only once the image is "
            "turned back; re-orient the image before reading."
        )
        evidence = region_evidence(
            image,
            box,
            "anatomy_certainty_turned_back",
            turn.confidence_turned_back,
            round(turn.confidence_as_is, 3),
        )
        return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.75)]
    return check_flip(image, a)


FLIPPED_HEART_SHARE = 0.36  # share of the heart right of the midline, at most
# The heart's width over the thorax's, at least, for its side to be trusted (shared with the
# objects between the lungs, :data:`.anatomy.MIN_HEART_WIDTH`): on the dev films the model's
# heart was narrower than 0.3 on two clean films whose heart it misplaced (0.11, 0.24: read as
# flipped) and on one flipped film.
MIN_HEART_WIDTH = model.MIN_HEART_WIDTH


def check_flip(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Flipped left-right: an upright film whose heart lies on the image left."""
    found = model.of_image(image)
    share = found.landmarks.heart_share_image_right
    heart = found.landmarks.heart_box
    if found.layout_problems or share is None or heart is None or share > FLIPPED_HEART_SHARE:
        return []
    ratio = found.landmarks.cardiothoracic_ratio
    if ratio is None or ratio < MIN_HEART_WIDTH:
        return []  # a heart this narrow is the model's mistake, not a heart to place
    box = (int(heart.top), int(heart.left), int(heart.bottom), int(heart.right))
    message = (
        "The heart lies on the image left, so the image is probably flipped left-right; check "
        "the laterality marker and re-orient (unless the patient has dextrocardia)."
    )
    evidence = region_evidence(image, box, "heart_share_image_right", share, FLIPPED_HEART_SHARE)
    return [finding("cxr.orientation", Severity.MAJOR, message, [evidence], 0.6)]


def check_photometric_label(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """A MONOCHROME1 label on pixels that are MONOCHROME2: the image displays inverted."""
    if image.photometric != "MONOCHROME1" or looks_turned(image, a):
        return []
    if model.of_image(image).upright:
        return []
    if not looks_inverted(a) and not model.reads_inverted(image):
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


def check_lateral_label(item: ImageInput) -> list[Finding]:
    """A lateral ViewPosition on a film the anatomy model reads, with certainty, as an
    upright frontal chest (both lungs side by side, the heart between them): the header is
    wrong (or the wrong image was sent), ``cxr.metadata``."""
    view = value_text(item.header, "ViewPosition")
    if not view or not is_lateral_view(view) or labelled_not_a_radiograph(item.header):
        return []
    image = working_image(item)
    if image is None:
        return []
    found = model.of_image(image)
    if not found.upright:
        return []
    message = (
        f"ViewPosition says lateral ({view[:16]}) but the image shows a frontal chest (both "
        "lungs side by side); correct ViewPosition or check that the right image was sent."
    )
    evidence = [
        tag_evidence("ViewPosition", view),
        region_evidence(image, whole(image), "anatomy_certainty_frontal", found.confidence, 0.95),
    ]
    return [finding("cxr.metadata", Severity.MAJOR, message, evidence, 0.75)]


CHECKS = (pixel_check(check_orientation, upright_only=False), check_lateral_label)
