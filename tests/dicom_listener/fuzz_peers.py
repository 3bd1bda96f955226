"""The fuzzing peers (see ``fuzzing.py``): a pynetdicom SCU that sends the cases over a few reused
associations, and raw TCP peers that send garbage, cut-short, slow, half-open and hostile
connections. Everything is bounded in time and deterministic for a seed."""

from __future__ import annotations

import random
import socket
import struct
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pynetdicom import AE
from pynetdicom.association import Association

from tests.dicom_listener import raw
from tests.dicom_listener.fuzzing import CONTEXTS, Case

SUCCESS: Final = 0x0000


@dataclass
class DatasetResults:
    statuses: Counter[str] = field(default_factory=Counter)  # "0xC210", "aborted"...
    stored: list[Case] = field(default_factory=list)  # answered with success
    wrongly_stored: list[Case] = field(default_factory=list)  # malformed, yet success
    associations: int = 0
    malformed: int = 0  # cases malformed by construction

    def record(self, case: Case, status: int | None) -> None:
        self.malformed += case.must_fail
        self.statuses["aborted" if status is None else f"0x{status:04X}"] += 1
        if status == SUCCESS or (status is not None and status >> 12 == 0xB):  # warnings
            self.stored.append(case)
            if case.must_fail:
                self.wrongly_stored.append(case)


def _associate(port: int) -> Association:
    ae = AE(ae_title="FUZZSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    for sop_class, syntax in CONTEXTS:
        ae.add_requested_context(sop_class, [syntax])
    assoc = ae.associate("127.0.0.1", port, ae_title="RADQC")
    if not assoc.is_established:
        raise RuntimeError("the listener refused the fuzzing association")
    # pynetdicom sends a C-STORE in several small writes: without this, Nagle's algorithm and the
    # listener's delayed ACK cost 40 ms a request.
    sock = assoc.dul.socket
    assert sock is not None and sock.socket is not None
    sock.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return assoc


def send_cases(
    port: int, cases: Iterable[Case], folder: Path, per_association: int
) -> DatasetResults:
    """C-STORE every case, its dataset bytes as they are (``send_c_store(path)`` with
    ``_config.STORE_SEND_CHUNKED_DATASET``), ``per_association`` per association; an aborted
    association is counted and replaced."""
    results = DatasetResults()
    path = folder / "case.dcm"
    assoc: Association | None = None
    sent_here = 0
    try:
        for case in cases:
            if assoc is None or not assoc.is_established or sent_here == per_association:
                if assoc is not None and assoc.is_established:
                    assoc.release()
                assoc, sent_here = _associate(port), 0
                results.associations += 1
            path.write_bytes(case.file_bytes())
            answer = assoc.send_c_store(path)
            sent_here += 1
            results.record(case, int(answer.Status) if "Status" in answer else None)
    finally:
        if assoc is not None and assoc.is_established:
            assoc.release()
    return results


# --- raw connections ---------------------------------------------------------------------------

KINDS: Final = (
    "garbage",
    "cut_request",
    "half_open",
    "silent",
    "dribble",
    "flipped_request",
    "wrong_called",
    "then_garbage",
    "bad_command",
    "stall",
    "polite",
)
HELD: Final = {"half_open", "silent", "dribble", "stall"}  # the listener must close these
_PDU_NAMES: Final = {2: "AC", 3: "RJ", 4: "P-DATA", 6: "RP", 7: "ABORT"}


@dataclass(frozen=True)
class Limits:
    acse_timeout: float
    network_timeout: float

    @property
    def hold(self) -> float:  # how long a held connection may stay open
        return max(self.acse_timeout, self.network_timeout) + 3


def _read_pdu(sock: socket.socket, timeout: float) -> str:
    """The next PDU's name, "closed" or "silent"."""
    sock.settimeout(timeout)
    try:
        header = sock.recv(6, socket.MSG_WAITALL)
        if len(header) < 6:
            return "closed"
        pdu_type, _, length = struct.unpack(">BBI", header)
        sock.recv(length, socket.MSG_WAITALL)
    except TimeoutError:
        return "silent"
    except OSError:
        return "closed"
    return _PDU_NAMES.get(pdu_type, f"0x{pdu_type:02X}")


def _associated(sock: socket.socket) -> bool:
    sock.sendall(raw.association_request())
    return _read_pdu(sock, 5) == "AC"


def _held(sock: socket.socket, limits: Limits) -> str:
    return "closed by listener" if raw.closed_by_listener(sock, limits.hold) else "STILL OPEN"


def _dribble(sock: socket.socket, limits: Limits) -> str:
    request = raw.association_request()
    deadline = time.monotonic() + limits.hold
    step = limits.acse_timeout / 5
    for byte in request:  # one byte a step: the whole request would take far too long
        if time.monotonic() > deadline:
            return "STILL OPEN"
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return "closed by listener"
        if raw.closed_by_listener(sock, step):
            return "closed by listener"
    return "completed"


def _flipped(rng: random.Random) -> bytes:
    request = bytearray(raw.association_request())
    for _ in range(rng.randrange(1, 5)):
        request[rng.randrange(6, len(request))] ^= rng.randrange(1, 256)
    return bytes(request)


def _after_association(kind: str, sock: socket.socket, rng: random.Random, limits: Limits) -> str:
    if not _associated(sock):
        return "not associated"
    if kind == "then_garbage":
        sock.sendall(rng.randbytes(rng.randrange(6, 600)))
    elif kind == "bad_command":
        sock.sendall(raw.p_data(rng.randbytes(rng.randrange(1, 300))))
    elif kind == "stall":
        sock.sendall(raw.p_data(b"\x00" * 200)[: rng.randrange(1, 100)])
        return _held(sock, limits)
    else:  # polite
        sock.sendall(raw.RELEASE_RQ)
    return _read_pdu(sock, limits.hold)


def connection(port: int, kind: str, seed: int, source: str, limits: Limits) -> str:
    """One raw connection of ``kind``; what the listener did with it."""
    rng = random.Random(seed)
    try:
        sock = raw.connect(port, source)
    except OSError:
        return "refused"
    with sock:
        try:
            return _run(kind, sock, rng, limits)
        except OSError:
            return "reset"


def _run(kind: str, sock: socket.socket, rng: random.Random, limits: Limits) -> str:
    request = raw.association_request()
    if kind == "garbage":
        sock.sendall(rng.randbytes(rng.randrange(1, 2048)))
        return "sent"
    if kind == "cut_request":
        sock.sendall(request[: rng.randrange(1, len(request))])
        return "sent"
    if kind in ("half_open", "silent"):
        sock.sendall(request[: rng.randrange(1, len(request))] if kind == "half_open" else b"")
        return _held(sock, limits)
    if kind == "dribble":
        return _dribble(sock, limits)
    if kind in ("flipped_request", "wrong_called"):
        called = f"X{rng.randrange(10**6)}"
        sock.sendall(
            _flipped(rng) if kind == "flipped_request" else raw.association_request(called)
        )
        return _read_pdu(sock, limits.hold)
    return _after_association(kind, sock, rng, limits)


def run_connections(
    port: int, count: int, seed: int, sources: list[str], limits: Limits, workers: int = 16
) -> Counter[str]:
    """``count`` connections of every kind in turn, ``workers`` at a time; outcome counts."""
    rng = random.Random(seed)
    jobs = [(KINDS[index % len(KINDS)], rng.randrange(1 << 30)) for index in range(count)]

    def one(index: int) -> str:
        kind, job_seed = jobs[index]
        return f"{kind}: {connection(port, kind, job_seed, sources[index % len(sources)], limits)}"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return Counter(pool.map(one, range(count)))
