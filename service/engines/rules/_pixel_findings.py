"""Shared plumbing for the pixel checks: the working image and anatomy of an item, and
evidence naming an image region in original pixel coordinates."""

from __future__ import annotations

from collections.abc import Callable

from service.engines.base import Evidence, Finding, ImageInput
from service.engines.rules import anatomy as model
from service.engines.rules._display import misdisplayed
from service.engines.rules._findings import tag_label
from service.engines.rules.header import labelled_not_a_radiograph
from service.engines.rules.lungs import Anatomy, anatomy
from service.engines.rules.pixels import WorkingImage, working_image
from service.engines.rules.subject import check_human_subject

PixelCheck = Callable[[WorkingImage, Anatomy], list[Finding]]


def region_evidence(
    image: WorkingImage,
    box: tuple[int, int, int, int] | list[int],
    metric: str,
    value: float,
    threshold: float,
) -> Evidence:
    """Evidence for a measured region: ``region`` is [x0, y0, x1, y1] in original pixels."""
    r0, c0, r1, c1 = (int(v) for v in box)
    return {
        "tag": tag_label("PixelData"),
        "keyword": "PixelData",
        "region": image.region(r0, c0, r1, c1),
        "metric": metric,
        "value": round(float(value), 3),
        "threshold": threshold,
    }


def whole(image: WorkingImage) -> tuple[int, int, int, int]:
    h, w = image.pixels.shape
    return 0, 0, h, w


def misdisplayed_film(image: WorkingImage, layout: Anatomy) -> bool:
    """The grey-level layout says inverted, rotated or upside down, and the anatomy model does
    not read an upright chest (when it does, surely, it overrules those cues)."""
    return misdisplayed(layout) and not model.of_image(image).upright


def pixel_check(
    check: PixelCheck, *, upright_only: bool = True
) -> Callable[[ImageInput], list[Finding]]:
    """An image check from a check of the working image: no image, no findings.

    ``upright_only`` checks measure anatomy, so they are skipped on an image that displays
    inverted, rotated or upside down (by its grey levels, or turned or inverted by the anatomy
    model's reading: the orientation check reports that error once) and on an animal's radiograph
    (the subject check reports it; human chest anatomy does not apply).
    """

    def run(item: ImageInput) -> list[Finding]:
        if labelled_not_a_radiograph(item.header):
            return []
        image = working_image(item)
        if image is None:
            return []
        layout = anatomy(image)
        if upright_only and (
            misdisplayed_film(image, layout)
            or check_human_subject(item)
            or model.turn_of(image) is not None
            or model.reads_inverted(image)
        ):
            return []  # anatomy measures assume a correctly displayed human chest
        return check(image, layout)

    run.__name__ = check.__name__
    run.__doc__ = check.__doc__
    return run
