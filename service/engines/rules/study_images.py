"""Study-level image checks (``cxr.metadata``, scope ``study``).

- Duplicate images: two images of one study whose pixels are the same picture (thumbnail
  correlation above 0.995) under different SOP Instance UIDs.
- Missing view: the request names two views (PA and lateral, "2 VIEWS") but the study holds
  one image, or only frontal views.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from service.engines.base import Finding, ImageInput, StudyInput
from service.engines.rules._dicom import upper_text, value_text
from service.engines.rules._findings import finding, tag_evidence
from service.engines.rules.pixels import WorkingImage, block_mean, working_image
from service.taxonomy import Severity

CODE = "cxr.metadata"
DUPLICATE = 0.995
_TWO_VIEWS = re.compile(
    r"\b(2|TWO)\s*(VIEWS?|V)\b|\bPA\s*(AND|&|/|\+)\s*LAT|\bFRONTAL\s*(AND|&)\s*LAT"
)
_REQUEST_KEYWORDS = (
    "RequestedProcedureDescription",
    "StudyDescription",
    "PerformedProcedureStepDescription",
)


def _thumbnail(image: WorkingImage) -> np.ndarray | None:
    pixels = image.pixels
    factor = max(1, min(pixels.shape) // 32)
    thumb = block_mean(pixels, factor)[:32, :32].astype(np.float64)
    thumb = thumb - thumb.mean()
    norm = float(np.linalg.norm(thumb))
    return thumb / norm if norm > 0 else None


def check_duplicates(study: StudyInput) -> dict[int, list[Finding]]:
    """Images of the study that are the same picture."""
    thumbs: list[tuple[int, np.ndarray]] = []
    for item_id, header in study.images:
        path = study.paths.get(item_id)
        if not path:
            continue
        item = ImageInput(item_id, value_text(header, "SOPInstanceUID") or "", 1, path, header)
        image = working_image(item)
        thumb = _thumbnail(image) if image is not None else None
        if thumb is not None:
            thumbs.append((item_id, thumb))
    results: dict[int, list[Finding]] = {}
    for i, (first, a) in enumerate(thumbs):
        for second, b in thumbs[i + 1 :]:
            if a.shape != b.shape:
                continue
            score = float((a * b).sum())
            if score < DUPLICATE:
                continue
            message = (
                "Two images of this study show the same picture under different instance "
                "UIDs; remove the duplicate or check which patient it belongs to."
            )
            for own, other in ((first, second), (second, first)):
                evidence = [
                    tag_evidence("SOPInstanceUID", None, duplicate_of_item=other),
                    {
                        "tag": "(7FE0,0010)",
                        "keyword": "PixelData",
                        "metric": "thumbnail_correlation",
                        "value": round(score, 4),
                        "threshold": DUPLICATE,
                    },
                ]
                results.setdefault(own, []).append(
                    finding(CODE, Severity.MAJOR, message, evidence, 0.9, scope="study")
                )
    return results


def _lateral(header: object) -> bool:
    from pydicom.dataset import Dataset

    if not isinstance(header, Dataset):
        return False
    view = upper_text(header, "ViewPosition") or upper_text(header, "PatientPosition")
    return view in {"LL", "RL", "LAT", "LATERAL", "LLD", "RLD"}


def check_missing_view(study: StudyInput) -> dict[int, list[Finding]]:
    """The request asks for two views; the study has one image or no lateral."""
    if not study.images:
        return {}
    requests = [upper_text(ds, kw) for _, ds in study.images for kw in _REQUEST_KEYWORDS]
    asked = next((r for r in requests if _TWO_VIEWS.search(r)), None)
    if asked is None:
        return {}
    laterals = sum(1 for _, ds in study.images if _lateral(ds))
    if len(study.images) >= 2 and laterals >= 1:
        return {}
    message = (
        "The request asks for two views but the study holds no lateral view; acquire the "
        "missing view or correct the request."
    )
    evidence = [
        tag_evidence(
            "RequestedProcedureDescription", asked, images=len(study.images), laterals=laterals
        )
    ]
    return {
        item_id: [
            finding(CODE, Severity.MINOR, message, [dict(e) for e in evidence], 0.6, scope="study")
        ]
        for item_id, _ in study.images
    }


CHECKS: tuple[Callable[[StudyInput], dict[int, list[Finding]]], ...] = (
    check_duplicates,
    check_missing_view,
)
