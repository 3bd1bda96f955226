"""What the driver watches while it sends: the ``qc.summary`` Observations and the queue.

- :class:`SummaryWatcher` polls radqc's FHIR search (``GET /fhir/Observation?code=qc.summary&
  _lastUpdated=ge<t>``) a few times a second for the summaries stored since its last poll
  (less a margin for transactions still open then), and records when each item's summary was
  first readable. The item is recognised from the contract: an image's summary carries its SOP
  Instance UID (extension), a report's is ``derivedFrom`` ``DiagnosticReport/<id>/_history/<v>``.
  One query per poll whatever the number of items waiting, so the watching costs the API little.
- :class:`QueueSampler` counts queued and running jobs in the database once a second.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from bench.load.stack import driver_engine


@dataclass(frozen=True, slots=True)
class Seen:
    seen: float  # time.monotonic() when the poll that first returned it answered
    processed_wall: float | None  # the summary's issued time (the item's processed_at)
    result: str  # pass | fail


def summary_key(resource: dict[str, Any]) -> str | None:
    """``sop:<uid>`` or ``report:<id>`` for a qc.summary Observation."""
    for extension in resource.get("extension", []):
        value = extension.get("valueOid") or extension.get("valueString")
        if isinstance(value, str):
            return "sop:" + value.removeprefix("urn:oid:")
    for derived in resource.get("derivedFrom", []):
        reference = derived.get("reference", "")
        if isinstance(reference, str) and reference.startswith("DiagnosticReport/"):
            return "report:" + reference.split("/")[1]
    return None


def _epoch(instant: str | None) -> float | None:
    if not instant:
        return None
    return dt.datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp()


def _fhir_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="microseconds")


@dataclass
class SummaryWatcher:
    base_url: str
    token: str
    interval: float = 0.25
    margin: float = 5.0  # seconds looked back past the previous poll's start
    found: dict[str, Seen] = field(default_factory=dict)
    poll_seconds: list[float] = field(default_factory=list)
    errors: int = 0
    _since: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self, since_wall: float) -> None:
        self._since = since_wall - self.margin
        self._thread = threading.Thread(target=self._loop, name="summaries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def seen(self) -> dict[str, Seen]:
        with self._lock:
            return dict(self.found)

    def wait_for(self, keys: set[str], timeout: float) -> bool:
        """Until every key's summary is readable (True) or ``timeout`` seconds (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if keys <= self.found.keys():
                    return True
            time.sleep(0.1)
        return False

    def _loop(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            while not self._stop.wait(self.interval):
                started, started_wall = time.monotonic(), time.time()
                try:
                    self._poll(client)
                except (httpx.HTTPError, ValueError):
                    self.errors += 1
                    continue
                self.poll_seconds.append(time.monotonic() - started)
                self._since = started_wall - self.margin

    def _poll(self, client: httpx.Client) -> None:
        params = {
            "code": "qc.summary",
            "_lastUpdated": f"ge{_fhir_time(self._since)}",
            "_count": "500",
        }
        answer = client.get("/fhir/Observation", params=params)
        while True:
            answer.raise_for_status()
            bundle = answer.json()
            self._record(bundle, time.monotonic())
            link = next((x["url"] for x in bundle.get("link", []) if x["relation"] == "next"), "")
            if not link:
                return
            answer = client.get(link)

    def _record(self, bundle: dict[str, Any], now: float) -> None:
        with self._lock:
            for entry in bundle.get("entry", []):
                resource = entry["resource"]
                key = summary_key(resource)
                if key is None or key in self.found:
                    continue
                coding = resource.get("valueCodeableConcept", {}).get("coding", [{}])
                self.found[key] = Seen(
                    now, _epoch(resource.get("issued")), coding[0].get("code", "")
                )


@dataclass
class QueueSampler:
    """Queued + running jobs (all kinds, and QC jobs alone) every ``interval`` seconds."""

    database_url: str
    interval: float = 1.0
    each: Callable[[], None] | None = None  # also run once a second (e.g. find new backends)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, all, qc)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _start: float = 0.0

    def start(self) -> None:
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="queue", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        engine = driver_engine(self.database_url)
        query = text(
            "SELECT kind, count(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind"
        )
        try:
            while True:
                with engine.connect() as conn:
                    counts = {str(kind): int(n) for kind, n in conn.execute(query)}
                total = sum(counts.values())
                self.samples.append((time.monotonic() - self._start, total, counts.get("qc", 0)))
                if self.each is not None:
                    self.each()
                if self._stop.wait(self.interval):
                    return
        finally:
            engine.dispose()
