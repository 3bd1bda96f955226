"""The regex-only de-identifier radqc used before issue 10, kept unchanged as the baseline of
``bench/deid/run.py`` (it is not used by radqc: see ``service/phi/scrub.py``).

Original docstring: de-identification of report text before it leaves the process.

Why here: nothing identifying may reach an LLM endpoint, hosted or local. Sex, age band and
laterality stay because the checks need them; ``XXXX`` tokens (already redacted upstream) stay as
they are. Dates are shifted by a per-patient offset so intervals inside one patient's text survive.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(
    r"(?<!\w)(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)|\d{2,4})[\s.-]\d{3,4}[\s.-]\d{3,4}(?!\w)"
)
_LABELLED_ID = re.compile(
    r"\b(MRN|medical record(?: number)?|patient id|accession(?: number| no\.?)?|acc(?:ession)?#?"
    r"|NHS(?: number)?|SSN|ID)\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"\b(?!\d{4}-\d{2}-\d{2}\b)(?=[A-Z0-9-]*\d)[A-Z]{0,4}\d[\dA-Z-]{5,}\b")
_NAME = re.compile(
    r"\b(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+|(?i:patient|name|pt)\s*:\s*)"
    r"[A-Z][a-zA-Z'-]+(?:[ ,]+[A-Z][a-zA-Z'-]+)*"
)
_ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|"
    r"Boulevard|Blvd|Way|Court|Ct|Place|Pl)\b\.?(?:,?\s+[A-Z][a-z]+)*(?:,?\s+[A-Z]{2}\s+\d{5})?"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_AGE = re.compile(r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b", re.IGNORECASE)


def date_shift_days(patient_key: str) -> int:
    """A stable shift of -365..-1 days for one patient (same key, same shift)."""
    digest = hashlib.sha256(patient_key.encode()).digest()
    return -(1 + int.from_bytes(digest[:4], "big") % 365)


def age_band(age: int) -> str:
    """Ages to decade bands; 90 and over collapse (HIPAA safe harbour)."""
    if age >= 90:
        return "90+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def _shift(d: date, days: int) -> date:
    return d + timedelta(days=days)


def deidentify(text: str, patient_key: str, known_identifiers: tuple[str, ...] = ()) -> str:
    """Return ``text`` with identifiers removed and dates shifted for ``patient_key``."""
    days = date_shift_days(patient_key)
    out = text
    for value in sorted((v for v in known_identifiers if v and v.strip()), key=len, reverse=True):
        out = re.sub(re.escape(value.strip()), "[ID]", out, flags=re.IGNORECASE)
    out = _EMAIL.sub("[EMAIL]", out)
    out = _LABELLED_ID.sub(lambda m: f"{m.group(1)}: [ID]", out)
    out = _ISO_DATE.sub(lambda m: _iso(m, days), out)
    out = _US_DATE.sub(lambda m: _us(m, days), out)
    out = _PHONE.sub("[PHONE]", out)
    out = _ADDRESS.sub("[ADDRESS]", out)
    out = _NAME.sub("[NAME]", out)
    out = _LONG_NUMBER.sub("[ID]", out)
    return _AGE.sub(lambda m: f"{age_band(int(m.group(1)))} year old", out)


def _iso(m: re.Match[str], days: int) -> str:
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return "[DATE]"
    return _shift(d, days).isoformat()


def _us(m: re.Match[str], days: int) -> str:
    try:
        d = date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return "[DATE]"
    s = _shift(d, days)
    return f"{s.month:02d}/{s.day:02d}/{s.year}"
