"""multipart/related bodies: the request's Content-Type, and splitting a body into its parts
(RFC 2046 5.1), against bodies written as dicomweb-client writes them and by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicom_listener.dicomweb.multipart import (
    DICOM,
    MAX_HEADER_BYTES,
    UnsupportedMediaType,
    split,
    stow_boundary,
)
from service.errors import InvalidInputError

B = b"0f3cf5c0-70e0-41ef-baef-c6f9f65ec3e1"


def _contents(body: bytes, boundary: bytes = B, max_parts: int = 100) -> list[bytes]:
    return [body[part.start : part.end] for part in split(body, boundary, max_parts=max_parts)]


@pytest.mark.parametrize(
    ("header", "boundary"),
    [
        ('multipart/related; type="application/dicom"; boundary="abc"', b"abc"),
        ("Multipart/Related; Type=Application/DICOM; Boundary=abc", b"abc"),
        ("multipart/related; boundary=abc", b"abc"),  # type unsaid: the parts say
        ('multipart/related; type="application/dicom"; boundary="a b:c"', b"a b:c"),
    ],
)
def test_stow_content_types(header: str, boundary: bytes) -> None:
    assert stow_boundary(header) == boundary


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "application/dicom",
        "multipart/form-data; boundary=abc",
        'multipart/related; type="application/dicom+xml"; boundary=abc',
        'multipart/related; type="application/octet-stream"; boundary=abc',
    ],
)
def test_other_media_types_are_unsupported(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        stow_boundary(header)


@pytest.mark.parametrize(
    "header",
    [
        'multipart/related; type="application/dicom"',
        'multipart/related; type="application/dicom"; boundary=""',
        f'multipart/related; type="application/dicom"; boundary="{"x" * 71}"',
    ],
)
def test_a_missing_or_invalid_boundary_is_bad_syntax(header: str) -> None:
    with pytest.raises(InvalidInputError, match="boundary"):
        stow_boundary(header)


def test_the_body_dicomweb_client_writes() -> None:
    body = b"".join(
        b"\r\n--" + B + b"\r\nContent-Type: application/dicom\r\n\r\n" + content
        for content in (b"one", b"", b"three\r\n")
    )
    body += b"\r\n--" + B + b"--"
    assert _contents(body) == [b"one", b"", b"three\r\n"]


def test_preamble_padding_headerless_parts_and_epilogue() -> None:
    body = (
        b"a preamble to ignore\r\n--" + B + b"  \t\r\n"  # transport padding after the boundary
        b"Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n"
        b"Content-Length: 3\r\n\r\nabc\r\n--" + B + b"\r\n"
        b"\r\nno headers\r\n--" + B + b"\r\n"
        b"content-type: TEXT/Plain\r\n\r\nhi\r\n--" + B + b"--\r\nan epilogue"
    )
    parts = split(body, B, max_parts=10)
    assert [body[p.start : p.end] for p in parts] == [b"abc", b"no headers", b"hi"]
    assert [p.content_type for p in parts] == [DICOM, DICOM, "text/plain"]
    assert [p.index for p in parts] == [1, 2, 3]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"no delimiter at all", "no part of the body"),
        (b"--" + B + b"\r\n\r\nabc", "without its closing boundary"),
        (b"--" + B + b"\r\n\r\nabc\r\n--" + B, "not followed by a line break"),
        (b"--" + B + b"X\r\n\r\nabc\r\n--" + B + b"--", "not followed by a line break"),
        (b"--" + B + b"\r\nX: " + b"y" * MAX_HEADER_BYTES + b"\r\n\r\n", "does not end within"),
    ],
    ids=["no-delimiter", "no-close", "cut-after-boundary", "longer-boundary", "endless-header"],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        split(body, B, max_parts=10)


def test_too_many_parts() -> None:
    body = b"".join(b"--" + B + b"\r\n\r\nx\r\n" for _ in range(4)) + b"--" + B + b"--"
    assert len(split(body, B, max_parts=4)) == 4
    with pytest.raises(InvalidInputError, match="more than 3 parts"):
        split(body, B, max_parts=3)


@given(st.lists(st.binary(max_size=300), max_size=8), st.booleans())
def test_any_contents_come_back_as_they_were_sent(contents: list[bytes], leading: bool) -> None:
    delimiter = b"\r\n--" + B
    contents = [content.replace(delimiter, b"") for content in contents]
    body = b"".join(
        (b"\r\n" if leading or n else b"") + b"--" + B + b"\r\n\r\n" + content
        for n, content in enumerate(contents)
    )
    body += (b"\r\n" if contents or leading else b"") + b"--" + B + b"--"
    assert _contents(body) == contents
