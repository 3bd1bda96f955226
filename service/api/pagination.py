"""Keyset (cursor) pagination over items, newest first: ``ORDER BY received_at DESC, id DESC``.

A cursor is an opaque, URL-safe token naming the last row of a page: its ``received_at`` (in
microseconds since the epoch, UTC) and its ``id``, with a short checksum. The checksum catches
edited or truncated cursors; it is not a secret, and it need not be: a forged cursor can only
move the start of a page, never widen what the caller may read. Cursors therefore stay valid
across processes and restarts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from service.api.params import MAX_ROW_ID
from service.errors import InvalidInputError
from service.models import Item

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_VERSION = "v1"
_CHECK_BYTES = 6


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last item's ``received_at`` and ``id``."""

    received_at: dt.datetime
    item_id: int

    @classmethod
    def of(cls, item: Item) -> Position:
        return cls(item.received_at, item.id)


def _micros(moment: dt.datetime) -> int:
    delta = moment.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _check(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_CHECK_BYTES, person=b"radqc-cursor").digest()


def encode_cursor(position: Position) -> str:
    payload = f"{_VERSION}:{_micros(position.received_at)}:{position.item_id}".encode()
    return base64.urlsafe_b64encode(payload + _check(payload)).decode().rstrip("=")


def decode_cursor(token: str) -> Position:
    """The position a cursor names; :class:`InvalidInputError` for anything we did not issue."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("invalid cursor", location="cursor") from exc
    payload, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
    if len(raw) <= _CHECK_BYTES or _check(payload) != check:
        raise InvalidInputError("invalid cursor", location="cursor")
    try:
        version, micros, item_id = payload.decode("ascii").split(":")
        position = Position(_EPOCH + dt.timedelta(microseconds=int(micros)), int(item_id))
    except (UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise InvalidInputError("invalid cursor", location="cursor") from exc
    if version != _VERSION or not 1 <= position.item_id <= MAX_ROW_ID:
        raise InvalidInputError("invalid cursor", location="cursor")
    return position


def after(position: Position) -> ColumnElement[bool]:
    """Items that come after ``position`` in newest-first order."""
    return or_(
        Item.received_at < position.received_at,
        and_(Item.received_at == position.received_at, Item.id < position.item_id),
    )


NEWEST_FIRST = (Item.received_at.desc(), Item.id.desc())
