"""When the source of an Observation was made: its ``effective[x]`` (issue 11).

An Observation's ``effectiveDateTime`` is the time of what was checked, never the time radqc
checked it (that is ``issued``):

- a report: the DiagnosticReport's ``effectiveDateTime`` (else ``effectivePeriod.start``, else
  its ``end``), else its ``issued``, as the RIS sent them;
- an image: its study's ``StudyDate``/``StudyTime``, else ``SeriesDate``/``SeriesTime``, else
  ``AcquisitionDateTime``, else ``AcquisitionDate``/``AcquisitionTime``, else
  ``ContentDate``/``ContentTime``. DICOM times carry no zone: ``TimezoneOffsetFromUTC`` when
  the header has it, else the time zone of the radqc process (set ``TZ`` to the hospital's).

A time with a clock is written as a UTC instant with milliseconds (``2024-05-01T08:20:30.000Z``),
the form of ``issued``; a date without a clock stays a date (``2024-05-01``, or ``2024-05`` /
``2024``), which FHIR allows and which invents nothing. When the source has no usable time the
Observation falls back to the QC time (``effective`` = ``issued``).

An image whose stored file ``radqc retention`` removed (``instances.file_removed_at``) is never
read again, and radqc stores no study time of its own (the ``instances`` and ``items`` rows hold
none): its Observations published again keep the time their earlier versions were given from
the header (:func:`kept_effective`), else they fall back to the QC time.

:func:`effective_key` is the stored Observation's ``effectiveDateTime`` as text that sorts and
compares in time order, kept in the indexed column ``observations.effective_at`` (the FHIR
search's ``date`` and ``_sort=date``); a date without a time counts from 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydicom.dataset import Dataset

_FHIR_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_FHIR_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$"
)
_DICOM_DATE = re.compile(r"^(\d{4})\.?(\d{2})\.?(\d{2})$")
_DICOM_TIME = re.compile(r"^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$")
_DICOM_DATE_TIME = re.compile(r"^(\d{8})(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$")
_DICOM_OFFSET = re.compile(r"^([+-])(\d{2})(\d{2})$")
_DICOM_PAIRS = (("StudyDate", "StudyTime"), ("SeriesDate", "SeriesTime"))
_DICOM_LATE_PAIRS = (("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"))


def fhir_instant(moment: dt.datetime) -> str:
    """A FHIR instant in UTC with millisecond precision: ``2024-05-01T10:20:30.123Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given for a FHIR instant")
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _local(moment: dt.datetime) -> dt.datetime:
    """A time without a zone, taken in the process's local time zone."""
    return moment.astimezone() if moment.tzinfo is None else moment


# -- reports ---------------------------------------------------------------------------------
def report_effective(resource: Mapping[str, Any]) -> str | None:
    """The report's own time (see the module doc), normalised; ``None`` when it has none."""
    period = resource.get("effectivePeriod")
    period = period if isinstance(period, Mapping) else {}
    for value in (
        resource.get("effectiveDateTime"),
        period.get("start"),
        period.get("end"),
        resource.get("issued"),
    ):
        normal = fhir_date_time(value)
        if normal is not None:
            return normal
    return None


def fhir_date_time(value: object) -> str | None:
    """A FHIR dateTime as radqc writes it: a partial date unchanged, a time as a UTC instant;
    ``None`` for anything that is not a valid dateTime."""
    if not isinstance(value, str):
        return None
    if _FHIR_DATE.match(value):
        return value if _real_date(value) else None
    if not _FHIR_DATE_TIME.match(value):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # no such day or hour
        return None
    return fhir_instant(_local(moment))


def _real_date(value: str) -> bool:
    parts = [int(part) for part in value.split("-")] + [1, 1]
    try:
        dt.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


# -- images ----------------------------------------------------------------------------------
def dicom_effective(header: Dataset) -> str | None:
    """The image's study time (see the module doc), normalised; ``None`` when it has none."""
    zone = _dicom_zone(_text(header, "TimezoneOffsetFromUTC"))
    for date_keyword, time_keyword in _DICOM_PAIRS:
        found = _dicom_pair(_text(header, date_keyword), _text(header, time_keyword), zone)
        if found is not None:
            return found
    found = _dicom_date_time(_text(header, "AcquisitionDateTime"), zone)
    if found is not None:
        return found
    for date_keyword, time_keyword in _DICOM_LATE_PAIRS:
        found = _dicom_pair(_text(header, date_keyword), _text(header, time_keyword), zone)
        if found is not None:
            return found
    return None


def _text(header: Dataset, keyword: str) -> str:
    try:
        value = header.get(keyword)
    except Exception:  # a malformed element: as if it were absent
        return ""
    return str(value).strip() if value is not None else ""


def _dicom_zone(offset: str) -> dt.tzinfo | None:
    match = _DICOM_OFFSET.match(offset)
    if match is None:
        return None
    hours, minutes = int(match[2]), int(match[3])
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if match[1] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _dicom_pair(date_text: str, time_text: str, zone: dt.tzinfo | None) -> str | None:
    day = _dicom_date(date_text)
    if day is None:
        return None
    clock = _dicom_time(time_text)
    if clock is None:
        return day.isoformat()
    return _instant(dt.datetime.combine(day, clock), zone)


def _dicom_date(text: str) -> dt.date | None:
    match = _DICOM_DATE.match(text)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _dicom_time(text: str) -> dt.time | None:
    match = _DICOM_TIME.match(text)
    if match is None:
        return None
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    micros = int((match[4] or "0").ljust(6, "0"))
    try:
        return dt.time(hour, minute, min(second, 59), micros)  # 60: a leap second
    except ValueError:
        return None


def _dicom_date_time(text: str, zone: dt.tzinfo | None) -> str | None:
    match = _DICOM_DATE_TIME.match(text)
    if match is None:
        return None
    own_zone = _dicom_zone(match[3] or "")
    return _dicom_pair(match[1], match[2] or "", own_zone or zone)


def _instant(moment: dt.datetime, zone: dt.tzinfo | None) -> str:
    return fhir_instant(moment.replace(tzinfo=zone) if zone is not None else _local(moment))


def kept_effective(resources: Iterable[Mapping[str, Any]]) -> str | None:
    """The source time stored Observations of one item carry: the first ``effectiveDateTime``
    of ``resources`` that is not the fallback to the QC time (which equals its ``issued``);
    ``None`` when none has one. For an image whose file is gone: all its Observations were given
    the same time from its header while the file was there."""
    for resource in resources:
        value = resource.get("effectiveDateTime")
        if value != resource.get("issued") and fhir_date_time(value) == value:
            return str(value)
    return None


# -- searching and sorting by effective[x] ----------------------------------------------------
_PADDING = "0000-01-01T00:00:00.000Z"
"""radqc writes ``effectiveDateTime`` as a UTC instant of this shape or a partial date: padded
with the rest of it, every value compares as text in time order (a date at 00:00 UTC); a bound
to compare it with is a :func:`fhir_instant`. Migration 0008 fills existing rows the same way."""


def effective_key(resource_json: str) -> str:
    """``Observation.effective_at`` of a stored resource: its ``effectiveDateTime`` padded to a
    full instant (``0000-01-01T00:00:00.000Z`` when it has none)."""
    value = json.loads(resource_json).get("effectiveDateTime")
    value = value if isinstance(value, str) else ""
    return value + _PADDING[len(value) :]
