"""``cxr.annotation``: burned-in text, as far as the header declares it.

Whether the text covers anatomy or carries patient data needs the pixels (a later check); the
header's own BurnedInAnnotation = YES is a reason for a human to look.
"""

from __future__ import annotations

from collections.abc import Callable

from service.engines.base import Finding, ImageInput
from service.engines.rules._dicom import upper_text
from service.engines.rules._findings import finding, tag_evidence
from service.taxonomy import Severity


def check_burned_in_annotation(item: ImageInput) -> list[Finding]:
    """BurnedInAnnotation YES: the image carries burned-in text."""
    if upper_text(item.header, "BurnedInAnnotation") != "YES":
        return []
    message = (
        "The header declares burned-in annotation; check that no patient data is burned in "
        "and that no text covers the lungs."
    )
    evidence = [tag_evidence("BurnedInAnnotation", "YES")]
    return [finding("cxr.annotation", Severity.MINOR, message, evidence, 0.7)]


CHECKS: tuple[Callable[[ImageInput], list[Finding]], ...] = (check_burned_in_annotation,)
