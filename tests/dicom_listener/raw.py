"""Raw TCP peers for the listener's defences: a hand-built A-ASSOCIATE-RQ, half-open and garbage
connections, from any loopback address (all of 127.0.0.0/8 is this host on Linux)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT = "1.2.840.10008.1.2"
CR = "1.2.840.10008.5.1.4.1.1.1"
EXPLICIT = "1.2.840.10008.1.2.1"


def _item(item_type: int, body: bytes) -> bytes:
    return struct.pack(">BBH", item_type, 0, len(body)) + body


def association_request(
    called: str = "RADQC",
    calling: str = "PROBE",
    contexts: tuple[tuple[str, str], ...] = ((VERIFICATION, IMPLICIT), (CR, EXPLICIT)),
) -> bytes:
    """A complete, valid A-ASSOCIATE-RQ PDU (PS3.8 9.3.2), built by hand."""
    items = _item(0x10, b"1.2.840.10008.3.1.1.1")  # DICOM application context
    for index, (abstract, transfer) in enumerate(contexts):
        body = _item(0x30, abstract.encode()) + _item(0x40, transfer.encode())
        items += _item(0x20, bytes([2 * index + 1, 0, 0xFF, 0]) + body)
    user = struct.pack(">BBHI", 0x51, 0, 4, 16384) + _item(0x52, b"1.2.826.0.1.3680043.9.9999")
    items += _item(0x50, user)
    fixed = b"\x00\x01\x00\x00" + called.encode().ljust(16) + calling.encode().ljust(16)
    body = fixed + b"\x00" * 32 + items
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def p_data(payload: bytes, context_id: int = 3, control: int = 0x03) -> bytes:
    """A P-DATA-TF PDU with one presentation data value (``control`` 3: last command fragment)."""
    pdv = struct.pack(">IB", len(payload) + 2, context_id) + bytes([control]) + payload
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


RELEASE_RQ = struct.pack(">BBI", 0x05, 0, 4) + b"\x00" * 4
ABORT = struct.pack(">BBI", 0x07, 0, 4) + b"\x00\x00\x00\x00"


def connect(port: int, source: str = "127.0.0.1", timeout: float = 5) -> socket.socket:
    sock = socket.create_connection(
        ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
    )
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_and_close(port: int, data: bytes, source: str = "127.0.0.1") -> None:
    """Connect, send ``data`` and close at once (a reset if the listener already closed)."""
    with connect(port, source) as sock, suppress(OSError):  # the listener may close first
        sock.sendall(data)


def closed_by_listener(sock: socket.socket, within: float) -> bool:
    """Whether the listener closes ``sock`` within ``within`` seconds (whatever it sent first)."""
    deadline = time.monotonic() + within
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except OSError:  # reset
            return True
    return False


@contextmanager
def half_open(
    port: int, count: int, sources: list[str], payload: bytes | None = None
) -> Iterator[list[socket.socket]]:
    """``count`` connections, spread over ``sources``, that each send ``payload`` (by default the
    first ten bytes of an A-ASSOCIATE-RQ) and then stay open until the block ends."""
    payload = association_request()[:10] if payload is None else payload
    sockets: list[socket.socket] = []
    try:
        for index in range(count):
            sock = connect(port, sources[index % len(sources)])
            sockets.append(sock)
            with suppress(OSError):  # already closed by the listener: still a connection
                sock.sendall(payload)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def loopback(first: int, count: int) -> list[str]:
    """``count`` loopback addresses from 127.0.0.<first>."""
    return [f"127.0.0.{first + index}" for index in range(count)]
