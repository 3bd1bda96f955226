"""Words a radiographer reads: a finding's message in plain language first, the DICOM attribute
names it is about in a details line, and what the figures beside it mean.

The engines write messages for the record ("ViewPosition is missing ..."); the page shows the
attribute by its plain name ("View position (PA, AP, lateral) is missing ...") and lists the
DICOM keyword and tag underneath, where a PACS administrator looks for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydicom.datadict import dictionary_description, tag_for_keyword

# Plain names of the attributes chest X-ray checks talk about; others get the DICOM dictionary's
# name ("Patient Position"), which is readable English too.
GLOSSARY = {
    "ViewPosition": "view position (PA, AP, lateral)",
    "BodyPartExamined": "body part",
    "ImageLaterality": "image side",
    "Laterality": "side",
    "PixelSpacing": "pixel size",
    "ImagerPixelSpacing": "detector pixel size",
    "PatientSex": "patient's sex",
    "PatientAge": "patient's age",
    "PatientPosition": "patient position",
    "PatientOrientation": "patient orientation (image directions)",
    "PhotometricInterpretation": "grey-scale polarity (photometric interpretation)",
    "WindowCenter": "display window centre",
    "WindowWidth": "display window width",
    "VOILUTSequence": "display look-up table",
    "VOILUTFunction": "display curve",
    "RescaleSlope": "value scaling",
    "RescaleIntercept": "value offset",
    "SOPClassUID": "object type",
    "SOPInstanceUID": "image identifier",
    "PixelData": "image pixels",
    "BurnedInAnnotation": "burned-in text flag",
    "ExposureIndex": "exposure index",
    "DeviationIndex": "deviation index",
    "TargetExposureIndex": "target exposure index",
    "KVP": "tube voltage (kVp)",
    "StationName": "station name",
    "InstitutionName": "institution",
    "StudyDescription": "study description",
    "SeriesDescription": "series description",
    "RequestedProcedureDescription": "requested procedure",
    "PresentationIntentType": "presentation intent",
}

# CamelCase words (two capitals or more) and all-capital keywords named in the glossary: single
# English words ("Modality", "Rows") are left as written.
_KEYWORD = re.compile(r"\b(?:[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|KVP)\b")
_TAG = re.compile(r"\s?\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)")


def plain_name(keyword: str) -> str | None:
    """The plain name of a DICOM keyword, or None when it is not one."""
    if keyword in GLOSSARY:
        return GLOSSARY[keyword]
    tag = tag_for_keyword(keyword)
    if tag is None:
        return None
    return dictionary_description(tag).lower()


def keywords_in(message: str) -> list[str]:
    """The DICOM keywords a message names, in order, each once."""
    found: list[str] = []
    for match in _KEYWORD.finditer(message):
        word = match.group(0)
        if word not in found and plain_name(word) is not None:
            found.append(word)
    return found


def plain_message(message: str) -> str:
    """The message with DICOM keywords in plain words and tag numbers left out."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        name = plain_name(word)
        if name is None:
            return word
        at_start = match.start() == 0 or message[: match.start()].rstrip().endswith((".", ";"))
        return name[0].upper() + name[1:] if at_start else name

    return _TAG.sub("", _KEYWORD.sub(swap, message))


def tag_details(message: str, evidence: Iterable[Any]) -> list[str]:
    """The details line: each DICOM attribute the finding is about, by keyword and tag, with the
    value the evidence recorded ("absent" when the evidence says it is missing)."""
    seen: dict[str, str] = {}
    for entry in evidence:
        if not isinstance(entry, dict):
            continue
        keyword = entry.get("keyword")
        if not isinstance(keyword, str) or keyword in seen or keyword == "PixelData":
            continue
        label = f"{keyword} {entry.get('tag') or _tag_of(keyword)}".strip()
        if "value" in entry:
            value = entry.get("value")
            label += " = absent" if value is None else f" = {str(value)[:64]!r}"
        seen[keyword] = label
    for keyword in keywords_in(message):
        if keyword not in seen and keyword != "PixelData":
            seen[keyword] = f"{keyword} {_tag_of(keyword)}".strip()
    return list(seen.values())


def _tag_of(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:
        return ""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


# The legend of the item page: what the figures beside each finding mean.
CONFIDENCE = (
    "How likely an auditor is to confirm the finding, from 0% to 100%, as the engine judges it. "
    "Findings below the site's threshold are kept but do not flag the item."
)
ENGINES = {
    "rules": "fixed checks of the DICOM header, the pixels or the report text; "
    "the version (rules-x.y.z) changes whenever what they find changes",
    "llm": "a language model reading the de-identified report or image; "
    "the version is the model's name and the prompt's version",
}
SEVERITY = {
    "critical": "could harm the patient or mislead the reader: act now",
    "major": "the study or report should be corrected",
    "minor": "worth fixing; does not change the reading",
}

# What each figure of an evaluation means, for the QC lead's pages.
METRICS = {
    "precision": "Of the items the engines flagged with this error type, the share an auditor "
    "confirmed. Low precision: auditors spend time rejecting false alarms.",
    "recall": "Of the items that truly had this error type (confirmed or added as missed), the "
    "share the engines flagged. Low recall: errors reach the patient record unnoticed.",
    "f1": "One figure balancing precision and recall (their harmonic mean), 0 to 1.",
    "macro_f1": "F1 averaged over the error types that occur, each type counting the same: a "
    "rare type done badly pulls it down.",
    "micro_f1": "F1 over all error types pooled: the common types weigh most.",
    "detection_rate": "Of the audited items with at least one true error, the share where the "
    "engines flagged at least one of them: how often a faulty study or report is caught.",
    "additional_discovery_rate": "Errors auditors confirmed on a later review that were not in "
    "the first audit, per error in the first audit: what the reference set had missed. "
    "It can exceed 100%.",
    "tp_fp_fn": "TP: flagged and confirmed. FP: flagged and rejected. FN: true but not flagged "
    "(missed). Counts of audited items.",
    "interval": "The 95% interval: where the true figure lies, given how few items were "
    "audited (Wilson for shares, bootstrap for F1). A wide interval means: audit more.",
    "weighted": "Weighted: each audited item counts as the number of items it stands for "
    "(1 / its chance of being drawn), so the figures describe all items, not only those drawn.",
    "difference": "The difference in F1 between two configurations on the same audited items, "
    "with a paired 95% interval: an interval that excludes 0 means one is better on this "
    "sample.",
}
