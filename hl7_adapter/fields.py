"""Reading fields out of python-hl7's parse tree, and HL7 data types radqc needs.

python-hl7 keeps a value as a plain ``str`` where a field has no deeper structure and as a
container (field > repetition > component > subcomponent) where it does; :func:`value` walks
either the same way. Values come back unescaped (``\\F\\`` is ``|``, ``\\.br\\`` a line break),
never with highlighting marks.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import hl7
import hl7.util

# python-hl7 logs the whole field, patient data included, when it meets an escape sequence it
# cannot unescape (hl7/util.py, under the logger named by its file path): never let it log.
logging.getLogger(hl7.util.__file__).disabled = True

# Escapes in text (HL7 v2 §2.7): line breaks become "\n", highlighting marks disappear, a
# temporary indent or skip stays a space; the separators come from the message.
_TEXT_ESCAPES = {
    ".br": "\n",
    ".sp": "\n",
    ".ce": "\n",
    ".fi": "",
    ".nf": "",
    "H": "",
    "N": "",
}
_TS = re.compile(
    r"^(?P<y>\d{4})(?:(?P<mo>\d{2})(?:(?P<d>\d{2})(?:(?P<h>\d{2})(?:(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.\d{1,4})?)?)?)?)?)?(?P<z>[+-]\d{4})?$"
)


def unescape(container: Any, raw: str) -> str:
    """``raw`` as text: escape sequences replaced with what they stand for."""
    return str(hl7.util.unescape(container, raw, _TEXT_ESCAPES))


def _pick(node: Any, indexes: tuple[int, ...]) -> str:
    for index in indexes:
        if isinstance(node, str):
            return node if index == 1 else ""
        if index > len(node):
            return ""
        node = node(index)
    while not isinstance(node, str):  # deeper than asked: its first part
        if not len(node):
            return ""
        node = node(1)
    return node


def value(segment: Any, number: int, component: int = 1, repetition: int = 1, sub: int = 1) -> str:
    """Field ``number`` (its repetition, component, subcomponent) of ``segment``, unescaped and
    stripped; ``""`` when absent. For MSH, ``number`` counts as the standard does (MSH-3 is the
    sending application)."""
    if number >= len(segment):
        return ""
    raw = _pick(segment(number), (repetition, component, sub))
    return unescape(segment, raw).strip()


def repetitions(segment: Any, number: int) -> list[str]:
    """Each repetition of field ``number`` as it was sent (still escaped, components joined):
    the lines of a text field, where an unescaped ``^`` is more likely text than structure."""
    if number >= len(segment):
        return []
    field = segment(number)
    if isinstance(field, str):
        return [field]
    return [str(part) for part in field]


def segment_id(segment: Any) -> str:
    return str(segment[0][0]) if len(segment) and len(segment[0]) else ""


def fhir_date_time(ts: str) -> str | None:
    """An HL7 TS/DTM as a FHIR dateTime: a date (or year, year-month) as given; a time only with
    its zone (FHIR requires one), else just the date. ``None`` when it is not a valid TS."""
    match = _TS.match(ts.strip())
    if match is None:
        return None
    y, mo, d, h, mi, s, z = (match.group(k) for k in ("y", "mo", "d", "h", "mi", "s", "z"))
    try:
        dt.date(int(y), int(mo or 1), int(d or 1))
    except ValueError:
        return None
    date = "-".join(part for part in (y, mo, d) if part)
    if not (d and h and z):
        return date
    try:
        moment = dt.time(int(h), int(mi or 0), int(s or 0))
    except ValueError:
        return date
    return f"{date}T{moment.isoformat()}{z[:3]}:{z[3:]}"


def fhir_date(ts: str) -> str | None:
    """The date part of an HL7 DT/TS as a FHIR date (``1950``, ``1950-01``, ``1950-01-31``)."""
    full = fhir_date_time(ts)
    return full.split("T", 1)[0] if full else None
