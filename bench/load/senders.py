"""The load driver's senders: C-STORE over pynetdicom associations, FHIR PUT over httpx.

Both send on a fixed schedule (open loop): item ``i`` is due at ``start + i / rate``, however
long the previous ones took, so a slow service shows up as latency and as ``late`` (how long
after its due time an item left), not as a lower offered rate. A sender stops at ``count`` items
or when it is ``give_up`` seconds behind (bounded in count and time). Every item is recorded
with the moment its acknowledgement arrived: the C-STORE response, or the HTTP 2xx.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.association import Association

from bench.load.corpus import OutgoingReport, load_films, renew

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True, slots=True)
class Sent:
    """One item the driver sent. Times are ``time.monotonic()``; ``acked_wall`` is UTC epoch."""

    key: str  # "sop:<SOP Instance UID>" or "report:<id>": what the qc.summary names
    kind: str  # image | report
    due: float
    sent: float
    acked: float | None  # None: not acknowledged (error)
    acked_wall: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Pace:
    """Item ``i`` is due at ``start + i / rate`` (``rate`` None: all at once, a burst)."""

    start: float
    rate: float | None
    count: int
    give_up: float = 10.0  # stop once this many seconds behind schedule

    def due(self, index: int) -> float:
        return self.start if self.rate is None else self.start + index / self.rate

    def wait(self, index: int, stop: threading.Event) -> float | None:
        """Sleep until item ``index`` is due; None when it should not be sent."""
        due = self.due(index)
        delay = due - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return None
        if stop.is_set() or time.monotonic() - due > self.give_up:
            return None
        return due


Record = Callable[[Sent], None]


@dataclass
class Journal:
    """Every item sent, from all sender threads."""

    items: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.items.append(sent)

    def snapshot(self) -> list[Sent]:
        with self.lock:
            return list(self.items)


# -- DICOM -------------------------------------------------------------------------------------
class DicomSender:
    """One association (re-opened after a failure) sending every ``stride``-th film of a pace."""

    def __init__(self, port: int, paths: Sequence[Path], prefix: str, ae_title: str = "LOADSCU"):
        self.port = port
        self.films = load_films(list(paths))  # this thread's own copies: UIDs change in place
        self.prefix = prefix
        self.ae = AE(ae_title=ae_title)
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = 60
        pairs = {(str(f.SOPClassUID), str(f.file_meta.TransferSyntaxUID)) for f in self.films}
        for sop_class, syntax in sorted(pairs):
            self.ae.add_requested_context(sop_class, [syntax])
        self.assoc: Association | None = None

    def _association(self) -> Association:
        if self.assoc is None or not self.assoc.is_established:
            self.assoc = self.ae.associate("127.0.0.1", self.port, ae_title="RADQC")
            if not self.assoc.is_established:
                self.assoc = None
                raise ConnectionError("association refused or failed")
        return self.assoc

    def _store(self, film: Dataset) -> str | None:
        """C-STORE ``film``; None on success, else what went wrong."""
        try:
            status = self._association().send_c_store(film)
        except (ConnectionError, RuntimeError, OSError) as exc:
            self.assoc = None
            return f"{type(exc).__name__}: {exc}"
        code = int(status.Status) if "Status" in status else -1
        if code == -1:
            self.assoc = None  # no answer: the association was aborted
        return None if code == 0 else f"C-STORE status 0x{code & 0xFFFF:04X}"

    def run(
        self, pace: Pace, first: int, stride: int, record: Record, stop: threading.Event
    ) -> None:
        try:
            for index in range(first, pace.count, stride):
                due = pace.wait(index, stop)
                if due is None:
                    break
                film = self.films[index % len(self.films)]
                sop = renew(film, f"{self.prefix}{index:07d}")
                record(_timed(f"sop:{sop}", "image", due, partial(self._store, film)))
        finally:
            if self.assoc is not None and self.assoc.is_established:
                self.assoc.release()


# -- FHIR --------------------------------------------------------------------------------------
class ReportSender:
    """HTTP clients that PUT the reports in order, each when it is due."""

    def __init__(self, base_url: str, token: str, reports: Sequence[OutgoingReport]):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON}
        self.bodies = [(r.report_id, json.dumps(r.resource).encode()) for r in reports]
        self.next = itertools.count()
        self.lock = threading.Lock()

    def _take(self) -> int:
        with self.lock:
            return next(self.next)

    def run(self, pace: Pace, record: Record, stop: threading.Event) -> None:
        count = min(pace.count, len(self.bodies))
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60) as client:
            while (index := self._take()) < count:
                due = pace.wait(index, stop)
                if due is None:
                    break
                report_id, body = self.bodies[index]
                record(
                    _timed(
                        f"report:{report_id}", "report", due, partial(_put, client, report_id, body)
                    )
                )


def _timed(key: str, kind: str, due: float, send: Callable[[], str | None]) -> Sent:
    """Send one item now; when it was acknowledged, or what went wrong."""
    sent = time.monotonic()
    error = send()
    if error is not None:
        return Sent(key, kind, due, sent, None, None, error)
    return Sent(key, kind, due, sent, time.monotonic(), time.time())


def _put(client: httpx.Client, report_id: str, body: bytes) -> str | None:
    try:
        answer = client.put(f"/fhir/DiagnosticReport/{report_id}", content=body)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if answer.status_code in (200, 201) else f"HTTP {answer.status_code}"


def send_all(
    dicom: Sequence[DicomSender],
    reports: ReportSender | None,
    report_threads: int,
    paces: tuple[Pace, Pace],
    journal: Journal,
    stop: threading.Event,
) -> list[threading.Thread]:
    """Start the sender threads (images, reports); the caller joins them."""
    image_pace, report_pace = paces
    threads = [
        threading.Thread(
            target=sender.run,
            args=(image_pace, k, len(dicom), journal.add, stop),
            name=f"dicom-{k}",
        )
        for k, sender in enumerate(dicom)
    ]
    if reports is not None:
        threads += [
            threading.Thread(
                target=reports.run, args=(report_pace, journal.add, stop), name=f"fhir-{k}"
            )
            for k in range(report_threads)
        ]
    for thread in threads:
        thread.start()
    return threads
