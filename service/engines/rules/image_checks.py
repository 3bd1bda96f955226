"""The image and study checks the rules engine runs, in order."""

from __future__ import annotations

from collections.abc import Callable

from service.engines.base import Finding, ImageInput, StudyInput
from service.engines.rules import (
    acquisition,
    annotation,
    artifacts,
    exposure,
    geometry,
    header,
    orientation,
    photometric,
    positioning,
    stored_object,
    study,
    study_images,
    subject,
)

ImageCheck = Callable[[ImageInput], list[Finding]]
StudyCheck = Callable[[StudyInput], dict[int, list[Finding]]]

# Checks that need only the header: they also run on header tables (no file on disk).
HEADER_CHECKS: tuple[ImageCheck, ...] = (
    *header.CHECKS,
    *subject.CHECKS,
    *acquisition.CHECKS,
    *annotation.CHECKS,
)
# Checks of the decoded pixels: the image is decoded once per review (pixels.working_image).
PIXEL_CHECKS: tuple[ImageCheck, ...] = (
    *photometric.CHECKS,
    *orientation.CHECKS,
    *exposure.CHECKS,
    *geometry.CHECKS,
    *artifacts.CHECKS,
    *positioning.CHECKS,
)
IMAGE_CHECKS: tuple[ImageCheck, ...] = (*HEADER_CHECKS, *stored_object.CHECKS, *PIXEL_CHECKS)
STUDY_CHECKS: tuple[StudyCheck, ...] = (*study.CHECKS, *study_images.CHECKS)
