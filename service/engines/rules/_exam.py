"""What the ordered exam says: modality, body region, contrast, side and number of views.

The exam comes from its code and display ("XR CHEST 2V", "CT ABDOMEN PELVIS W CONTRAST", LOINC
36643-5, or a radiology system's own wording: "PA and lateral views of the chest", "Two-view
chest", "CHEST 2V FRONTAL/LATERAL"). An explicit cross-sectional or nuclear modality wins over the
words of a radiograph; a display naming two modalities, or none, gives no modality.
"""

from __future__ import annotations

import re
from functools import lru_cache

from service.engines.base import Evidence
from service.engines.rules._report import ReportView

LOINC: dict[str, str] = {
    "36643-5": "XR CHEST 2 VIEWS",
    "36554-4": "XR CHEST 1 VIEW",
    "30745-4": "XR CHEST 2 VIEWS",
    "24627-2": "CT CHEST",
    "36813-4": "CT ABDOMEN AND PELVIS W CONTRAST",
    "30799-1": "CT HEAD WO CONTRAST",
    "24590-2": "MR BRAIN",
    "24558-9": "US ABDOMEN",
}
# modalities a display names outright
_EXPLICIT = {
    "CT": r"\bCTA?\b|\bCT-|\bCAT SCAN|\bCOMPUTED TOMOGRAPH",
    "MR": r"\bMR[IA]?\b|\bMAGNETIC RESONANCE",
    "US": r"\bUS\b|\bULTRASOUND|\bSONO\w*|\bDOPPLER|\bECHO\w*|\bTRANSVAGINAL",
    "NM": r"\bPET\b|\bSPECT\b|\bSCINTI\w*|\bNUCLEAR\b|\bNM\b|\bHEPATOBILIARY SCAN|\bHIDA\b|"
    r"\bBONE SCAN|\bCARDIOLITE|\bSESTAMIBI|\bTHALLIUM|\bV/Q\b|\bMUGA\b",
    # fluoroscopy and mammography: radiographic, but contrast and views follow other rules
    "RF": r"\bFLUORO\w*|\bBARIUM\b|\bSWALLOW\b|\bESOPHAGRAM|\bENEMA\b|"
    r"\b(?:ARTHRO|MYELO|CYSTO|URETHRO|HYSTEROSALPINGO|SIALO|FISTULO|VENO|ANGIO)GRAM",
    "MG": r"\bMAMMO\w*|\bFFDM\b|\bTOMOSYNTHESIS",
}
# words of a plain radiograph
_RADIOGRAPH = re.compile(
    r"\b(?:XR|X-?RAYS?|X-XXXX|RADIOGRA\w*|CXR|DX|CR|PLAIN FILMS?|VIEWS?|\d\s*-?\s*V|PA|AP|"
    r"FRONTAL|LATERAL|PORTABLE)\b",
    re.IGNORECASE,
)
_EXPLICIT_REGEX = {name: re.compile(p, re.IGNORECASE) for name, p in _EXPLICIT.items()}
_WITH = re.compile(r"\b(?:W|WITH|W/)\s*(?:IV\s*)?(?:CONTRAST|CON)\b|\bCTA\b", re.IGNORECASE)
_WITHOUT = re.compile(r"\b(?:WO|W/O|WITHOUT|NON)[- ]?(?:IV\s*)?(?:CONTRAST|CON)\b", re.IGNORECASE)
_BOTH = re.compile(r"\bW(?:ITH)?\s*(?:/|AND)\s*W(?:ITH)?O(?:UT)?\b", re.IGNORECASE)


def exam_text(view: ReportView) -> str:
    """The exam's display and the display of its LOINC code, upper case."""
    code = view.item.exam_code or ""
    display = view.item.exam_display or ""
    return f"{display} {LOINC.get(code, '')}".upper().strip()


def exam_evidence(view: ReportView) -> Evidence:
    return {
        "field": "exam",
        "code": view.item.exam_code,
        "value": (view.item.exam_display or "")[:64],
    }


@lru_cache(maxsize=256)  # a few exam displays recur across reports
def modality(exam: str) -> str | None:
    """``XR``, ``CT``, ``MR``, ``US``, ``NM``, ``RF`` or ``MG``; None when unclear."""
    named = {name for name, regex in _EXPLICIT_REGEX.items() if regex.search(exam)}
    if len(named) == 2 and "RF" in named and named & {"CT", "MR"}:
        named.discard("RF")  # a CT or MR angiogram, arthrogram or myelogram is a CT or MR
    if len(named) == 1:
        return named.pop()
    if named:
        return None
    return "XR" if _RADIOGRAPH.search(exam) else None


@lru_cache(maxsize=256)
def contrast_ordered(exam: str) -> bool | None:
    """True for an exam with contrast, False for one without (and any plain radiograph), None
    when the exam says neither or both."""
    if _BOTH.search(exam):
        return None
    without, with_ = bool(_WITHOUT.search(exam)), bool(_WITH.search(exam))
    if without and not with_:
        return False
    if with_ and not without:
        return True
    return False if modality(exam) == "XR" else None
