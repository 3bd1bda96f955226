"""The egress guard: the last check before a request leaves for an external endpoint.

Why: de-identification (:mod:`service.phi.scrub`) works on the report text; but a request also
carries the prompt, the rule findings' messages, the exam name, a corrective retry with the
model's own words. Whatever a missed pattern or a new prompt field lets through, a request that
still holds any identifier radqc knows for the item is never sent. The guard scans every text of
the payload with the same matcher the scrubber uses (:class:`~service.phi.known.KnownIdentifiers`)
and answers with the kinds it found, never the values, so the refusal can be logged and shown.
Image pixels (``data:`` URLs) are not text; burned-in text is blacked out before rendering
(:mod:`service.engines.llm.redact`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from service.phi.known import KnownIdentifiers


def payload_texts(messages: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """Every text an OpenAI-style chat payload carries: message contents (plain or parts), names,
    tool arguments, and image URLs that are not inline pixels."""
    for message in messages:
        for key, value in message.items():
            if key == "content":
                yield from _content_texts(value)
            elif isinstance(value, str) and key != "role":
                yield value
            elif not isinstance(value, str):
                yield from _strings(value)


def _content_texts(content: object) -> Iterator[str]:
    if isinstance(content, str):
        yield content
        return
    for part in content if isinstance(content, list) else [content]:
        if not isinstance(part, Mapping):
            yield from _strings(part)
            continue
        image = part.get("image_url")
        if isinstance(image, Mapping):
            url = image.get("url")
            if isinstance(url, str) and not url.startswith("data:"):
                yield url
            continue
        yield from _strings(part)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _strings(child)


def identifiers_in(messages: Sequence[Mapping[str, Any]], known: KnownIdentifiers) -> list[str]:
    """The kinds of known identifiers the payload still holds (empty: it may leave)."""
    if not len(known):
        return []
    found = {span.kind for text in payload_texts(messages) for span in known.find(text)}
    return sorted(found)
