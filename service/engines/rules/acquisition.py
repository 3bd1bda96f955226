"""Exposure as the detector reported it (IEC 62494-1): ExposureIndex, TargetExposureIndex and
DeviationIndex, DI = 10 log10(EI / EI_T).

|DI| <= 1 is on target; beyond +-3 the detector received more than twice (or less than half) the
dose intended, which is ``cxr.exposure``: under-exposure adds noise that can hide disease
(major), over-exposure costs dose while the image usually reads well (minor). Confidence is
moderate because DI is only as good as the target the site configured for the exam. Values that
contradict each other or cannot be valid are ``cxr.metadata``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from service.engines.base import Evidence, Finding, ImageInput
from service.engines.rules._dicom import parse_numbers, value_text
from service.engines.rules._findings import finding, tag_evidence
from service.taxonomy import Severity

DI_LIMIT = 3.0
DI_TOLERANCE = 0.5  # rounding and vendor differences between reported and computed DI
_KEYWORDS = ("ExposureIndex", "TargetExposureIndex", "DeviationIndex")


def _number(text: str | None) -> float | None:
    numbers = parse_numbers(text)
    return numbers[0] if numbers and len(numbers) == 1 else None


def check_exposure_indices(item: ImageInput) -> list[Finding]:
    """The reported exposure indices are valid, agree with each other, and DI is within +-3."""
    ds = item.header
    texts = {kw: value_text(ds, kw) for kw in _KEYWORDS}
    if not any(texts.values()):
        return []
    evidence = [tag_evidence(kw, value) for kw, value in texts.items() if value is not None]
    ei, target, di = (_number(texts[kw]) for kw in _KEYWORDS)
    invalid = [kw for kw in _KEYWORDS if texts[kw] and _number(texts[kw]) is None]
    invalid += [
        kw
        for kw, v in (("ExposureIndex", ei), ("TargetExposureIndex", target))
        if v is not None and v <= 0
    ]
    if invalid:  # each invalid element is a problem of its own (one verdict each)
        return [
            finding(
                "cxr.metadata",
                Severity.MINOR,
                f"{keyword} ({str(texts[keyword])[:16]}) cannot be a valid exposure index; check "
                "the detector's exposure reporting.",
                [tag_evidence(keyword, texts[keyword])],
                0.8,
            )
            for keyword in invalid
        ]
    computed = None
    if ei is not None and target is not None:
        computed = 10.0 * math.log10(ei / target)
    findings: list[Finding] = []
    if di is not None and computed is not None and abs(di - computed) > DI_TOLERANCE:
        message = (
            f"DeviationIndex {_signed(di)} does not match ExposureIndex and "
            f"TargetExposureIndex (which give {_signed(computed)}); check the detector's "
            "exposure reporting."
        )
        findings.append(finding("cxr.metadata", Severity.MINOR, message, evidence, 0.7))
    deviation, confidence = (di, 0.6) if di is not None else (computed, 0.5)
    if deviation is not None and abs(deviation) > DI_LIMIT:
        findings.append(_exposure_finding(deviation, evidence, confidence))
    return findings


def _signed(value: float) -> str:
    return f"{value:+.1f}" if abs(value) < 1000 else f"{value:+.3g}"


def _exposure_finding(deviation: float, evidence: list[Evidence], confidence: float) -> Finding:
    ratio = 10 ** (max(-30.0, min(30.0, deviation)) / 10)
    if deviation < 0:
        message = (
            f"The detector reports under-exposure (DeviationIndex {_signed(deviation)}, about "
            f"{ratio:.2g} times the target); check the image for noise before reading."
        )
        return finding("cxr.exposure", Severity.MAJOR, message, evidence, confidence)
    message = (
        f"The detector reports over-exposure (DeviationIndex {_signed(deviation)}, about "
        f"{ratio:.1f} times the target dose); review the exposure technique."
    )
    return finding("cxr.exposure", Severity.MINOR, message, evidence, confidence)


CHECKS: tuple[Callable[[ImageInput], list[Finding]], ...] = (check_exposure_indices,)
