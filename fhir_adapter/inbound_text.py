"""The plain text of a received DiagnosticReport (DESIGN §5).

Taken from ``presentedForm`` (text/plain, then text/html, then a PDF's text layer), else from the
narrative ``text.div``, else from ``conclusion``. HTML and XHTML lose their tags; block elements
become line breaks so that section headings stay at the start of a line.
"""

from __future__ import annotations

import io
import logging
import re
from html.parser import HTMLParser
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from fhir_adapter.inbound_errors import UNPROCESSABLE, FhirInputError, invalid
from service.api.json_body import text_problem

log = logging.getLogger(__name__)

PLAIN, HTML, PDF = "text/plain", "text/html", "application/pdf"
_PREFERENCE = (PLAIN, HTML, PDF)

_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(_SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """The text of an HTML or XHTML fragment: tags removed, entities decoded, one block a line."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    lines = (line.strip() for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _media_type(content_type: str) -> tuple[str, str | None]:
    """``text/plain; charset=latin-1`` -> (``text/plain``, ``latin-1``)."""
    main, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return main.strip().lower(), charset


def _decode(data: bytes, charset: str | None, expression: str) -> str:
    try:
        return data.decode(charset or "utf-8").removeprefix("\ufeff")
    except LookupError as exc:
        raise invalid(
            UNPROCESSABLE, "value", "unknown charset", f"{expression}.contentType"
        ) from exc
    except ValueError as exc:  # UnicodeDecodeError, and other codecs' UnicodeError
        raise invalid(
            UNPROCESSABLE, "value", f"not valid {charset or 'UTF-8'} text", f"{expression}.data"
        ) from exc


def pdf_to_text(data: bytes, expression: str) -> str:
    """The text layer of a PDF (pypdf). Scanned PDFs have none and give an empty string."""
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        log.info("unreadable PDF in %s: %s", expression, type(exc).__name__)
        raise invalid(UNPROCESSABLE, "value", "not a readable PDF", f"{expression}.data") from exc
    return "\n".join(page.strip() for page in pages if page.strip())


def _attachment_text(media: str, charset: str | None, data: bytes, expression: str) -> str:
    """The attachment's text. A PDF's text layer may hold NULs for glyphs without a Unicode
    mapping: they are dropped. Decoded text that still holds a NUL (or, from some codecs, an
    unpaired surrogate) cannot be stored and is refused naming the attachment."""
    if media == PLAIN:
        text = _decode(data, charset, expression)
    elif media == HTML:
        text = html_to_text(_decode(data, charset, expression))
    else:
        text = pdf_to_text(data, expression).replace("\x00", "")
    problem = text_problem(text)
    if problem is not None:
        raise invalid(UNPROCESSABLE, "value", f"the decoded text {problem}", f"{expression}.data")
    return text


def _from_presented_form(report: Any, root: str) -> tuple[str | None, str | None]:
    """(text, problem element): the text of the preferred attachment that has some, or the
    element of the first attachment radqc could not use."""
    candidates: list[tuple[int, str, str | None, bytes, str]] = []
    unusable: str | None = None
    for index, attachment in enumerate(report.presentedForm or ()):
        expression = f"{root}.presentedForm[{index}]"
        media, charset = _media_type(attachment.contentType or "")
        if attachment.data is None or media not in _PREFERENCE:
            unusable = unusable or expression
            continue
        candidates.append((_PREFERENCE.index(media), media, charset, attachment.data, expression))
    for _, media, charset, data, expression in sorted(candidates, key=lambda c: c[0]):
        text = _attachment_text(media, charset, data, expression)
        if text.strip():
            return text, None
    return None, unusable


def report_text(report: Any, root: str = "DiagnosticReport") -> str:
    """The report's plain text; :class:`FhirInputError` (422) if it has none radqc can read."""
    text, unusable = _from_presented_form(report, root)
    if text is not None:
        return text
    if report.text is not None and report.text.div:
        narrative = html_to_text(report.text.div)
        if narrative.strip():
            return narrative
    if report.conclusion and report.conclusion.strip():
        return str(report.conclusion)
    if unusable is not None:
        raise invalid(
            UNPROCESSABLE,
            "not-supported",
            "no attachment radqc can read: presentedForm needs inline data (not a url) "
            "of type text/plain, text/html or application/pdf",
            unusable,
        )
    raise _no_text(root)


def _no_text(root: str) -> FhirInputError:
    return invalid(
        UNPROCESSABLE,
        "required",
        "the report has no text: give presentedForm, text.div or conclusion",
        f"{root}.presentedForm",
    )
