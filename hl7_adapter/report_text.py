"""The report text of an OBR group: its OBX text lines joined in order, else its ED content.

- ``TX``, ``FT``, ``ST`` values are lines (each repetition one more line; ``\\.br\\`` breaks a
  line in FT). An unescaped ``^`` inside a text value is kept as text.
- ``ED`` (encapsulated data: application ^ type ^ subtype ^ encoding ^ data) is used when the
  group has no text lines: Base64, hex or plain (``A``) data of a text subtype, or a PDF's text
  layer.
- A run of OBX whose identifier (OBX-3) names the findings or the impression (LOINC 18782-3,
  59776-5, 19005-8; the classic ``GDT``/``IMP`` codes) gets that heading when its text does not
  start with one, so the sections are found as they are in a FHIR report's text (DESIGN §5).

Other value types (coded, numeric, reference pointers) are not report text and are skipped.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from hl7_adapter.errors import ErrorCode, content_error
from hl7_adapter.fields import repetitions, unescape, value
from service.reports.sections import split_sections

TEXT_TYPES = frozenset({"TX", "FT", "ST"})
_HEADINGS = {
    "18782-3": "FINDINGS",
    "59776-5": "FINDINGS",
    "GDT": "FINDINGS",
    "FINDINGS": "FINDINGS",
    "19005-8": "IMPRESSION",
    "IMP": "IMPRESSION",
    "IMPRESSION": "IMPRESSION",
}
_TEXT_SUBTYPES = frozenset({"", "TEXT", "PLAIN", "TXT", "TEXT/PLAIN", "OCTET-STREAM"})


def _heading(obx: Any) -> str | None:
    """The section an OBX-3 names, from its code or its subcomponents (``^^^&IMP``)."""
    raw = "".join(repetitions(obx, 3)[:1])
    for separator in obx.separators[2:]:
        raw = raw.replace(separator, "\x00")
    for token in raw.split("\x00"):
        heading = _HEADINGS.get(token.strip().upper())
        if heading:
            return heading
    return None


def _lines(obx: Any, kind: str) -> list[str]:
    lines: list[str] = []
    for raw in repetitions(obx, 5):
        text = unescape(obx, raw) if kind != "ST" else unescape(obx, raw).replace("\n", " ")
        lines.extend(line.rstrip() for line in text.split("\n"))
    return lines


def _with_heading(lines: list[str], heading: str | None) -> list[str]:
    if heading is None or not lines:
        return lines
    sections = split_sections("\n".join(lines))
    if sections and sections[0].name not in {"body", "preamble"}:
        return lines
    return [f"{heading}:", *lines]


def text_lines(observations: Sequence[tuple[int, Any]]) -> list[str]:
    """The text lines of ``(position, OBX)`` pairs, run headings added."""
    out: list[str] = []
    run: list[str] = []
    run_key: tuple[str, str] | None = None
    run_heading: str | None = None
    for _, obx in observations:
        kind = value(obx, 2).upper()
        if kind not in TEXT_TYPES:
            continue
        key = ("".join(repetitions(obx, 3)[:1]), value(obx, 4))
        if key != run_key:
            out += _with_heading(run, run_heading)
            run, run_key, run_heading = [], key, _heading(obx)
        run += _lines(obx, kind)
    out += _with_heading(run, run_heading)
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return out


def _pdf_text(data: bytes, where: str) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise content_error(
            ErrorCode.DATA_TYPE, "the ED content is not a readable PDF", where
        ) from exc
    return "\n".join(page.strip() for page in pages if page.strip()).replace("\x00", "")


def _ed_bytes(obx: Any, where: str) -> bytes:
    encoding = value(obx, 5, 4).upper()
    raw = "".join(repetitions(obx, 5)[:1])
    parts = raw.split(obx.separators[3])  # components, as sent
    data = parts[4] if len(parts) > 4 else ""
    try:
        if encoding in {"BASE64", "B64"}:
            return base64.b64decode("".join(data.split()), validate=True)
        if encoding == "HEX":
            return bytes.fromhex(data)
    except (binascii.Error, ValueError) as exc:
        raise content_error(
            ErrorCode.DATA_TYPE, f"the ED data is not valid {encoding.title()}", where
        ) from exc
    if encoding in {"A", ""}:
        return unescape(obx, data).encode("utf-8")
    raise content_error(ErrorCode.TABLE_VALUE, "unsupported ED encoding (OBX-5.4)", where)


def attachment_text(observations: Sequence[tuple[int, Any]]) -> str:
    """The text of the group's ED observations, in order."""
    texts: list[str] = []
    for position, obx in observations:
        if value(obx, 2).upper() != "ED":
            continue
        where = f"OBX^{position}^5"
        subtype = value(obx, 5, 3).upper()
        data = _ed_bytes(obx, where)
        if subtype == "PDF" or data.startswith(b"%PDF-"):
            texts.append(_pdf_text(data, where))
        elif subtype in _TEXT_SUBTYPES:
            try:
                texts.append(data.decode("utf-8").removeprefix("\ufeff"))
            except UnicodeDecodeError as exc:
                raise content_error(
                    ErrorCode.DATA_TYPE, "the ED text is not valid UTF-8", where
                ) from exc
        else:
            raise content_error(
                ErrorCode.TABLE_VALUE, "the ED content is not text or PDF (OBX-5.3)", where
            )
    return "\n".join(text.replace("\r\n", "\n").strip() for text in texts if text.strip())


def report_text(observations: Sequence[tuple[int, Any]]) -> str:
    """The group's report text: its text lines, else its ED content; may be empty."""
    lines = text_lines(observations)
    if lines:
        return "\n".join(lines)
    return attachment_text(observations)
