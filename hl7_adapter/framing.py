"""MLLP framing: ``<VT> message <FS><CR>``, read off an asyncio stream without trusting the peer.

- White space between frames is skipped (some senders end a frame with a newline).
- Any other byte where a frame should start is garbage: :class:`FramingError`, and the caller
  closes the connection (there is no way to find the next frame reliably).
- A frame must be complete within ``receive_timeout`` of its first byte; a connection may stay
  silent between frames for ``idle_timeout``.
- A frame longer than ``max_bytes`` is :class:`FrameTooLarge`, carrying its first bytes so that
  the message can still be refused in HL7's terms.
- A start block inside a frame means the frame before it was cut off (its sender gave up on it
  and started again): the cut-off part is dropped and the frame read from the last start block.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from service.errors import RadqcError

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
log = logging.getLogger(__name__)

_BETWEEN_FRAMES = frozenset(b"\r\n\t ")
_PREFIX_BYTES = 4096


@dataclass(frozen=True, slots=True)
class FrameLimits:
    max_bytes: int
    receive_timeout: float
    idle_timeout: float


class FramingError(RadqcError):
    """The peer broke MLLP framing; the connection cannot go on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FrameTooLarge(FramingError):
    def __init__(self, prefix: bytes, limit: int) -> None:
        super().__init__(f"a message longer than {limit} bytes")
        self.prefix = prefix


async def _first_byte(reader: asyncio.StreamReader, idle_timeout: float) -> bytes:
    """The first byte of the next frame, or ``b""`` when the peer closed between frames."""
    while True:
        try:
            byte = await asyncio.wait_for(reader.read(1), idle_timeout)
        except TimeoutError:
            raise FramingError("idle for too long") from None
        if not byte or byte[0] not in _BETWEEN_FRAMES:
            return byte


async def read_frame(reader: asyncio.StreamReader, limits: FrameLimits) -> bytes | None:
    """The next frame's message (without the blocks); ``None`` when the peer closed cleanly."""
    first = await _first_byte(reader, limits.idle_timeout)
    if not first:
        return None
    if first != START_BLOCK:
        raise FramingError("data outside an MLLP frame (no start block)")
    try:
        data = await asyncio.wait_for(reader.readuntil(END_BLOCK), limits.receive_timeout)
    except TimeoutError:
        raise FramingError("a message not finished within the receive timeout") from None
    except asyncio.IncompleteReadError:
        raise FramingError("the connection closed inside a message (truncated frame)") from None
    except asyncio.LimitOverrunError:
        prefix = await reader.read(_PREFIX_BYTES)
        raise FrameTooLarge(prefix, limits.max_bytes) from None
    message = data[: -len(END_BLOCK)]
    restart = message.rfind(START_BLOCK)
    if restart >= 0:
        log.warning("a message without its end block was dropped (a new one started)")
        message = message[restart + 1 :]
    if len(message) > limits.max_bytes:
        raise FrameTooLarge(message[:_PREFIX_BYTES], limits.max_bytes)
    return message


def frame(message: bytes) -> bytes:
    return START_BLOCK + message + END_BLOCK
