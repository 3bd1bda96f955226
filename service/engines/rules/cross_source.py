"""The report against the DICOM headers of the same accession or study (sex, laterality, view).

Helpers read what the headers agree on; :func:`check_view` compares the frontal projection the
report states (PA or AP) with the ``ViewPosition`` of the images. Sex and laterality findings use
the helpers from :mod:`.sex` and :mod:`.laterality`, so each error keeps its own code.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans
from service.engines.rules._findings import finding, tag_evidence, text_evidence
from service.engines.rules._report import ReportView
from service.taxonomy import Severity

log = logging.getLogger(__name__)
CODE = "report.exam_mismatch"
_FRONTAL = {"PA": "PA", "AP": "AP"}
_STATED_VIEW = re.compile(
    r"\b(?:(?P<pa>PA|posteroanterior)|(?P<ap>AP|anteroposterior|portable(?: AP)?|supine))"
    r"(?: (?:and|&) lateral| upright| semi-?upright| erect| frontal| chest)?"
    r" (?:views?|radiographs?|projections?|films?|images?|x-?rays?|chest)\b",
    re.IGNORECASE,
)


def _header_text(view: ReportView, keyword: str) -> set[str]:
    values: set[str] = set()
    for header in view.item.image_headers:
        try:
            value = header.get(keyword)
        except Exception as exc:  # a malformed element must not stop the report checks
            log.debug("unreadable %s in an image header: %s", keyword, type(exc).__name__)
            continue
        text = str(value).strip().upper() if value is not None else ""
        if text:
            values.add(text)
    return values


def header_sex(view: ReportView) -> str | None:
    """``male`` or ``female`` when every image header that states PatientSex agrees."""
    values = _header_text(view, "PatientSex") & {"M", "F"}
    if len(values) != 1:
        return None
    return "male" if values == {"M"} else "female"


def header_laterality(view: ReportView) -> str | None:
    """``left`` or ``right`` when the images' ImageLaterality (or Laterality) agree on one."""
    values = (_header_text(view, "ImageLaterality") | _header_text(view, "Laterality")) & {
        "L",
        "R",
    }
    if len(values) != 1:
        return None
    return "left" if values == {"L"} else "right"


def check_view(view: ReportView) -> list[Finding]:
    """The report says PA but every frontal image is AP, or the other way round."""
    frontal = {_FRONTAL[v] for v in _header_text(view, "ViewPosition") if v in _FRONTAL}
    if len(frontal) != 1:
        return []
    (header_view,) = frontal
    for span in [*view.named({"exam", "technique", "preamble"}), *main_spans(view)]:
        match = _STATED_VIEW.search(view.text, span.start, span.end)
        if match is None:
            continue
        stated = "PA" if match.group("pa") else "AP"
        if stated == header_view:
            return []
        message = (
            f"The report describes a {stated} view but the images are {header_view} "
            "(ViewPosition); correct the technique."
        )
        evidence = [
            text_evidence(span.name, view.text, match.start(), match.end()),
            tag_evidence("ViewPosition", header_view),
        ]
        return [finding(CODE, Severity.MINOR, message, evidence, 0.75)]
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_view,)
