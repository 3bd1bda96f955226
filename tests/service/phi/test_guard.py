"""The egress guard finds known identifiers anywhere in a chat payload, never in inline pixels."""

from __future__ import annotations

import base64

from service.phi.guard import identifiers_in
from service.phi.known import from_fhir, from_ids

KNOWN = from_fhir(
    {"resourceType": "Patient", "name": [{"family": "Quillfeather", "given": ["Zyxwvut"]}]}
) | from_ids("MRN-0042-7731")


def test_identifiers_in_any_message_part_are_found_by_kind() -> None:
    clean = [{"role": "system", "content": "Check the report."}, {"role": "user", "content": "ok"}]
    assert identifiers_in(clean, KNOWN) == []
    in_system = [{"role": "system", "content": "Rule: a typo near QUILLFEATHER."}]
    assert identifiers_in(in_system, KNOWN) == ["name"]
    in_parts = [
        {"role": "user", "content": [{"type": "text", "text": "mrn 0042-7731"}]},
        {"role": "assistant", "content": "Zyxwvut"},
    ]
    assert identifiers_in(in_parts, KNOWN) == ["id", "name"]
    url = {"type": "image_url", "image_url": {"url": "https://x/Quillfeather.png"}}
    in_url = [{"role": "user", "content": [url]}]
    assert identifiers_in(in_url, KNOWN) == ["name"]


def test_inline_pixels_are_not_scanned_as_text() -> None:
    pixels = base64.b64encode(b"Quillfeather" * 50).decode()
    assert "Quillfeather" not in pixels  # base64 hides it anyway; the URL is skipped as data
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,UXVpbGxmZWF0aGVy"}}
    assert identifiers_in([{"role": "user", "content": [image]}], KNOWN) == []


def test_nothing_known_nothing_refused() -> None:
    assert identifiers_in([{"role": "user", "content": "Quillfeather"}], from_ids()) == []
