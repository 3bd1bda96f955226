"""The gate in front of pynetdicom: a connection becomes an association only once it has sent a
whole, decodable A-ASSOCIATE-RQ (issue 10).

pynetdicom reads a PDU with blocking ``recv`` calls and counts every acceptor thread against
``maximum_associations``. Left alone, a peer that sends ten bytes of an A-ASSOCIATE-RQ and goes
quiet blocks its thread, and holds its slot, for as long as it keeps the connection open; a peer
that sends garbage and closes holds its slot until the ACSE timeout. So the request handler first
waits for the A-ASSOCIATE-RQ itself, peeking (the bytes stay in the socket for pynetdicom) with
``SO_RCVLOWAT``, so the wait is one ``poll`` and costs no CPU:

- a connection is handed to pynetdicom only when its whole A-ASSOCIATE-RQ has arrived, within the
  ACSE timeout, and decodes; anything else (silence, a close, garbage, another PDU, a request over
  :data:`MAX_REQUEST_BYTES`) is closed at once and logged, without ever taking an association slot;
- one peer address may have at most ``per_peer`` connections waiting at this gate; more are
  closed on accept, so one address cannot pile up threads;
- the accepted socket gets the network timeout as kernel read and write timeouts, so a read stuck
  in the middle of a later PDU ends too (pynetdicom's own idle timer only runs between PDUs).

Plain TCP only: with TLS the peeked bytes would be TLS records.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from pynetdicom.ae import ApplicationEntity
from pynetdicom.events import EventHandlerType
from pynetdicom.pdu import A_ASSOCIATE_RQ
from pynetdicom.presentation import PresentationContext
from pynetdicom.transport import RequestHandler, ThreadedAssociationServer

from service import metrics

logger = logging.getLogger(__name__)

_HEADER: Final = 6  # PDU type, reserved byte, 4-byte length
_ASSOCIATE_RQ: Final = 0x01
# Real requests are a few KiB (DCMTK's storescu proposing every storage class: 9.6 KiB); the
# kernel grows the receive buffer to hold SO_RCVLOWAT bytes, so this is also a memory bound.
MAX_REQUEST_BYTES: Final = 256 * 1024
_SOURCE: Final = "dicom"


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    acse_timeout: float  # for the whole A-ASSOCIATE-RQ to arrive
    network_timeout: float  # for any one read once associated
    per_peer: int  # connections one address may have waiting at the gate


def _peek(sock: socket.socket, size: int, deadline: float) -> bytes:
    """Up to ``size`` bytes without consuming them: all of them, or fewer when the peer closed
    the connection or the deadline passed first."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, size)
    poller = select.poll()  # not select(): descriptors above 1023 are fine
    poller.register(sock, select.POLLIN)
    while (remaining := deadline - time.monotonic()) > 0:
        if poller.poll(remaining * 1000):  # readable: size bytes are in, or the peer closed
            break
    try:
        return sock.recv(size, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:  # nothing arrived (EAGAIN), or the peer reset the connection
        return b""


CLOSED_SILENTLY: Final = "closed before sending anything"


def await_association_request(sock: socket.socket, timeout: float) -> str | None:
    """Wait up to ``timeout`` seconds for a whole A-ASSOCIATE-RQ; None when it is there to be
    read, else why the connection should be dropped (no patient data: there is none yet)."""
    deadline = time.monotonic() + timeout
    header = _peek(sock, _HEADER, deadline)
    if len(header) < _HEADER:
        return _incomplete("PDU header", len(header), _HEADER, deadline)
    pdu_type, _, length = struct.unpack(">BBL", header)
    if pdu_type != _ASSOCIATE_RQ:
        return f"PDU type 0x{pdu_type:02X} where an A-ASSOCIATE-RQ was expected"
    if length > MAX_REQUEST_BYTES:
        return f"A-ASSOCIATE-RQ of {length} bytes, over the {MAX_REQUEST_BYTES}-byte limit"
    pdu = _peek(sock, _HEADER + length, deadline)
    if len(pdu) < _HEADER + length:
        return _incomplete("A-ASSOCIATE-RQ", len(pdu), _HEADER + length, deadline)
    try:  # what pynetdicom's reader will do with it; a request it cannot decode is dropped here
        request = A_ASSOCIATE_RQ()
        request.decode(pdu)
        request.to_primitive()
    except Exception as exc:
        return f"undecodable A-ASSOCIATE-RQ ({type(exc).__name__})"
    return None


def _incomplete(what: str, received: int, expected: int, deadline: float) -> str:
    if time.monotonic() >= deadline:
        return f"ACSE timeout with {received} of {expected} bytes of the {what}"
    if received == 0:
        return CLOSED_SILENTLY
    return f"closed after {received} of {expected} bytes of the {what}"


class _Waiting:
    """How many connections each peer address has waiting at the gate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: Counter[str] = Counter()

    def enter(self, address: str, limit: int) -> bool:
        with self._lock:
            if self._count[address] >= limit:
                return False
            self._count[address] += 1
            return True

    def leave(self, address: str) -> None:
        with self._lock:
            self._count[address] -= 1
            if self._count[address] <= 0:
                del self._count[address]


def _drop(sock: socket.socket, peer: str, reason: str) -> None:
    # A TCP health check (Kubernetes' readinessProbe) connects and closes: not worth a warning.
    level = logging.DEBUG if reason == CLOSED_SILENTLY else logging.WARNING
    if level == logging.WARNING:
        metrics.REJECTED.labels(source=_SOURCE, reason="connection_dropped").inc()
    logger.log(level, "connection from %s dropped before association: %s", peer, reason)
    with contextlib.suppress(OSError):  # already reset by the peer
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _io_timeouts(sock: socket.socket, seconds: float) -> None:
    """A read or write that makes no progress for ``seconds`` fails (and pynetdicom then closes
    the connection). Kernel timeouts rather than ``settimeout``, which would add a poll() to every
    4 KiB read of an image."""
    whole, fraction = divmod(seconds, 1)
    timeval = struct.pack("ll", int(whole), int(fraction * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


class GuardedRequestHandler(RequestHandler):
    """pynetdicom's request handler behind the gate (see the module docstring)."""

    server: GuardedAssociationServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        address, port = self.client_address[0], self.client_address[1]
        limits = self.server.limits
        try:
            reason = await_association_request(sock, limits.acse_timeout)
        finally:
            self.server.waiting.leave(address)
        if reason is not None:
            _drop(sock, f"{address}:{port}", reason)
            return
        if self.server.closing:
            _drop(sock, f"{address}:{port}", "the listener is stopping")
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)  # pynetdicom polls for 1 byte
        _io_timeouts(sock, limits.network_timeout)
        super().handle()


class GuardedAssociationServer(ThreadedAssociationServer):
    """pynetdicom's threaded server with the gate, optionally binding with SO_REUSEPORT so that
    several listener processes accept on one port (``RADQC_DICOM_LISTENER_PROCESSES``)."""

    # socketserver's default backlog of 5 drops the SYN of a sixth connection arriving before the
    # acceptor thread catches up, and the sender waits a second for its TCP retry.
    request_queue_size = 128
    daemon_threads = True  # a connection waiting at the gate does not hold up the process's exit

    def __init__(  # the signature AE.make_server calls, plus the two keywords
        self,
        ae: ApplicationEntity,
        address: tuple[str, int],
        ae_title: str,
        contexts: list[PresentationContext],
        ssl_context: None = None,
        evt_handlers: list[EventHandlerType] | None = None,
        *,
        limits: ConnectionLimits,
        reuse_port: bool = False,
    ) -> None:
        if ssl_context is not None:
            raise ValueError("the gate peeks at plain TCP: TLS is not supported")
        self.limits = limits
        self.reuse_port = reuse_port
        self.waiting = _Waiting()
        self.closing = False
        super().__init__(
            ae,
            address,
            ae_title,
            contexts,
            evt_handlers=evt_handlers,
            request_handler=GuardedRequestHandler,
        )

    def server_bind(self) -> None:
        if self.reuse_port:
            assert self.socket is not None
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()

    def shutdown(self) -> None:
        self.closing = True  # connections still at the gate are not handed over any more
        super().shutdown()

    def process_request(self, request: Any, client_address: Any) -> None:
        address = str(client_address[0])
        if not self.waiting.enter(address, self.limits.per_peer):
            reason = f"{self.limits.per_peer} connections from this address already waiting"
            _drop(request, f"{address}:{client_address[1]}", reason)
            return
        try:
            super().process_request(request, client_address)  # starts the handler's thread
        except BaseException:
            self.waiting.leave(address)
            raise
