"""E-mails, URLs, labelled and long identifiers, phone numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from service.phi._spans import Hit, sub

_PLACEHOLDER = re.compile(r"\[[A-Z]+\]")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# "li.wen.88 at outlook dot com": an address spelled out so that it passes mail filters
_SPOKEN_EMAIL = re.compile(
    r"\b[\w.+-]+\s+(?:at|\[at\]|\(at\))\s+[\w-]+(?:\s+(?:dot|\[dot\]|\(dot\))\s+[a-z]{2,6})+\b",
    re.IGNORECASE,
)
_URL = re.compile(
    r"\b(?:https?://|www\.)\S+[\w/]"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|edu|gov|io|info|health|uk|au|ca|de|fr|in|nz|ie|za|us)"
    r"(?:/[^\s]*[\w/])?(?![\w.-])",
    re.IGNORECASE,
)
_IP = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\.?\d)"
)
_ID_LABEL = (
    r"MRN|MR\s?#|MR\s?no\.?|med(?:ical)?\s+rec(?:ord)?s?(?:\s+(?:number|no\.?|#))?\s*#?"
    r"|hospital\s+(?:number|no\.?)|patient\s+(?:id|number|no\.?)|unit\s+(?:no\.?|number)"
    r"|NHS\s+(?:number|no\.?)|CHI|SSN|social\s+security(?:\s+number)?|acc(?:ession)?\s*(?:#|no\.?)?"
    r"|accession\s+number|(?:study|exam|order|visit|case|encounter|account|requisition)"
    r"\s*(?:id|no\.?|number|#)|ID"
    # national and insurance numbers, registration numbers: "UHID", "Reg No", "Aadhaar"
    r"|(?-i:[A-Z]{1,6}ID)|(?:reg(?:istration)?|ipd|opd|ip|op|clinic|file|chart|folder|member|policy"
    r"|insurance|medicare|medicaid|health\s+card|device|serial|implant|licen[cs]e|badge|employee"
    r"|staff|gmc|npi)\.?\s*(?:id|no\.?|number|num|#)?"
    r"|aadhaar|pan|nir|insee|sin|bsn|ohip|ihi|nhi|curp|dni|nie|cpf|pesel|personnummer|nric"
    r"|passport(?:\s+(?:no\.?|number))?|emirates\s+id|iqama|ssn|national\s+id"
    r"|(?:social|national)\s+(?:security|insurance)(?:\s+(?:number|no\.?))?"
)
_LABELLED_ID = re.compile(
    rf"\b(?:{_ID_LABEL})(?![\w])(?:\s*\([A-Z]{{2,5}}\))?\s*[:#]?\s*"
    r"(\d{3}\s\d{3}\s\d{4}\b|(?=(?:\d ?){6})\d{1,4}(?: \d{1,4}){2,7}\b"
    r"|(?=[\w./-]*\d)[A-Z0-9][\w./-]*[A-Z0-9])",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[\s.-]?\(?\d{1,5}\)?){2,5}"  # international
    r"|(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"  # North American
    r"|(?:0\d{1,4}|\(0\d{1,4}\))\s?\d{3,4}\s?\d{3,4}"  # UK, Australia, other trunk-prefixed
    r")(?![\w-])"
)
# A local number ("555-0142") looks like a range ("normal 232-1137"): only after a phone cue.
_LOCAL_PHONE = re.compile(
    r"(?i:\b(?:call|phone|ph|tel|telephone|contact|reach|number|mobile|mob|cell|fax|room|desk"
    r"|home|work)\b|\((?:h|w|m)\)|:)"
    r"[^.\n\d]{0,30}?(?<![\w-])(\d{3}-\d{4}|\d{4}[ -]\d{4}|\d{5}[ -]?\d{5})(?![\w-])"
)
_SHORT_PHONE = re.compile(
    r"(?:\b(?:ext\.?|extension|pager|page|bleep|beep|tel\.?|phone|call)\s*[:#]?\s*|\bx)"
    r"(\d{4,6}|\d-\d{4})\b",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"(?<![\w.])(?:[A-Z]{1,5}-)?[A-Z]{0,4}\d[\dA-Z-]*(?!\w|\.\d)")
_NOT_ID = re.compile(r"^\d{1,4}-\d{1,4}$|(?i:^[\d.]+(?:x[\d.]+)+|(?:mm|cm|ml|cc|kg|hu)$)")


def contacts(text: str, days: int) -> Iterator[Hit]:
    yield from sub(_PLACEHOLDER, text, lambda m: m.group())
    yield from sub(_EMAIL, text, lambda m: "[EMAIL]")
    yield from sub(_SPOKEN_EMAIL, text, lambda m: "[EMAIL]")
    yield from sub(_URL, text, lambda m: "[URL]")
    yield from sub(_IP, text, lambda m: "[ID]")


def labelled_ids(text: str, days: int) -> Iterator[Hit]:
    yield from sub(_LABELLED_ID, text, lambda m: "[ID]", group=1)


def phones(text: str, days: int) -> Iterator[Hit]:
    yield from sub(_PHONE, text, lambda m: "[PHONE]" if _digits(m.group()) >= 7 else None)
    yield from sub(_LOCAL_PHONE, text, lambda m: "[PHONE]", group=1)
    yield from sub(_SHORT_PHONE, text, lambda m: "[PHONE]", group=1)


def long_numbers(text: str, days: int) -> Iterator[Hit]:
    def repl(m: re.Match[str]) -> str | None:
        token = m.group()
        return "[ID]" if _digits(token) >= 6 and not _NOT_ID.search(token) else None

    yield from sub(_LONG_NUMBER, text, repl)


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)
