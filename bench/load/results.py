"""What one stage (one worker count) measured, computed from the driver's records, and the
tables printed from it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.load.senders import Sent
from bench.load.watch import Seen

INF = math.inf


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` (0-100); ``inf`` values (never seen) sort last."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if math.isinf(ordered[high]):
        return INF
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Latency:
    """Acknowledgement to readable ``qc.summary``, seconds; unseen items count as infinite."""

    p50: float
    p95: float
    p99: float
    server_p95: float  # acknowledgement to the summary's issued time (no polling delay)
    seen: int
    unseen: int

    @classmethod
    def of(cls, sent: Sequence[Sent], seen: dict[str, Seen]) -> Latency:
        acked = [s for s in sent if s.acked is not None]
        delays, server = [], []
        for item in acked:
            found = seen.get(item.key)
            assert item.acked is not None and item.acked_wall is not None
            delays.append(INF if found is None else found.seen - item.acked)
            if found is not None and found.processed_wall is not None:
                server.append(found.processed_wall - item.acked_wall)
            elif found is None:
                server.append(INF)
        unseen = sum(1 for item in acked if item.key not in seen)
        return cls(
            percentile(delays, 50),
            percentile(delays, 95),
            percentile(delays, 99),
            percentile(server, 95),
            len(acked) - unseen,
            unseen,
        )


@dataclass
class Stage:
    workers: int
    offered: float  # items/s
    seconds: float
    planned: int = 0  # items the fixed-rate phase was to send
    sent: int = 0  # the driver stops sending once 10 s behind schedule
    acked: int = 0
    send_errors: list[str] = field(default_factory=list)
    late_p99: float = 0.0  # how late the driver sent items behind schedule, s
    ack_p95_ms: dict[str, float] = field(default_factory=dict)  # per kind
    latency: Latency | None = None
    latency_by_kind: dict[str, Latency] = field(default_factory=dict)
    done_rate: float = 0.0  # items whose summary was seen / (last seen - first acked)
    capacity: float = math.nan  # burst drained by the workers, items/s
    capacity_items: int = 0
    cpu_ms_per_item: dict[str, float] = field(default_factory=dict)  # per role, and "all"
    rss_mb: dict[str, float] = field(default_factory=dict)  # per process, largest
    queue: list[tuple[float, int, int]] = field(default_factory=list)
    failed_items: int = 0
    log_problems: dict[str, int] = field(default_factory=dict)
    poll_errors: int = 0
    poll_p95_ms: float = 0.0
    load_before: str = ""
    load_after: str = ""

    @property
    def max_qc_queue(self) -> int:
        return max((qc for _, _, qc in self.queue), default=0)

    def record_sends(self, sent: Sequence[Sent]) -> None:
        self.sent = len(sent)
        self.acked = sum(1 for s in sent if s.acked is not None)
        self.send_errors = [s.error for s in sent if s.error]
        self.late_p99 = percentile([s.sent - s.due for s in sent], 99) if sent else 0.0
        for kind in ("image", "report"):
            times = [(s.acked - s.sent) * 1000 for s in sent if s.kind == kind and s.acked]
            self.ack_p95_ms[kind] = percentile(times, 95)

    def record_latency(self, sent: Sequence[Sent], seen: dict[str, Seen]) -> None:
        self.latency = Latency.of(sent, seen)
        for kind in ("image", "report"):
            self.latency_by_kind[kind] = Latency.of([s for s in sent if s.kind == kind], seen)
        acked = [s.acked for s in sent if s.acked is not None]
        done = [seen[s.key].seen for s in sent if s.key in seen]
        if acked and len(done) > 1:
            self.done_rate = len(done) / (max(done) - min(acked))


def capacity(keys: set[str], seen: dict[str, Seen]) -> float:
    """Items/s at which a backlog of ``keys`` was processed: between the first and the last
    summary's issued time (the item's processed_at)."""
    times = sorted(t for k in keys if k in seen and (t := seen[k].processed_wall) is not None)
    if len(times) < 2 or times[-1] <= times[0]:
        return math.nan
    return (len(times) - 1) / (times[-1] - times[0])


def _s(value: float) -> str:
    if math.isinf(value):
        return "never"
    return "-" if math.isnan(value) else f"{value:.2f}"


def _r(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def latency_table(stages: Sequence[Stage], ceiling_rate: float) -> list[str]:
    head = (
        f"{'workers':>7} {'offered/s':>9} {'planned':>7} {'acked':>6} {'done':>6} {'done/s':>7} "
        f"{'capacity/s':>10} {'x ceil':>6} {'x 1 wkr':>7} {'p50 s':>6} {'p95 s':>6} "
        f"{'p99 s':>6} {'srv p95':>7} {'img p95':>7} {'rep p95':>7} {'maxQ':>5} {'errors':>6} "
        f" load avg before -> after"
    )
    lines = [head]
    base = stages[0].capacity if stages else math.nan
    for st in stages:
        lat = st.latency or Latency(math.nan, math.nan, math.nan, math.nan, 0, 0)
        errors = len(st.send_errors) + st.failed_items + st.poll_errors
        lines.append(
            f"{st.workers:>7} {st.offered:>9.1f} {st.planned:>7} {st.acked:>6} {lat.seen:>6} "
            f"{_r(st.done_rate):>7} {_r(st.capacity):>10} {_s(st.capacity / ceiling_rate):>6} "
            f"{_s(st.capacity / base):>7} {_s(lat.p50):>6} {_s(lat.p95):>6} {_s(lat.p99):>6} "
            f"{_s(lat.server_p95):>7} {_s(st.latency_by_kind['image'].p95):>7} "
            f"{_s(st.latency_by_kind['report'].p95):>7} {st.max_qc_queue:>5} {errors:>6}  "
            f"{st.load_before} -> {st.load_after}"
        )
    return lines


def resource_table(stages: Sequence[Stage]) -> list[str]:
    lines = [
        f"{'workers':>7} {'CPU ms/item: listener':>21} {'api':>6} {'workers':>8} {'radqc':>6} "
        f"{'postgres':>8} {'driver':>7} {'all':>6}  RSS MB (largest per process)"
    ]
    for st in stages:
        cpu = st.cpu_ms_per_item
        rss = " ".join(f"{name}={mb:.0f}" for name, mb in sorted(st.rss_mb.items()))
        lines.append(
            f"{st.workers:>7} {cpu.get('listener', 0):>21.1f} {cpu.get('api', 0):>6.1f} "
            f"{cpu.get('worker', 0):>8.1f} {cpu.get('radqc', 0):>6.1f} "
            f"{cpu.get('postgres', 0):>8.1f} {cpu.get('driver', 0):>7.1f} "
            f"{cpu.get('all', 0):>6.1f}  {rss}"
        )
    return lines


def queue_lines(stages: Sequence[Stage], every: float = 10.0) -> list[str]:
    """QC jobs queued or running, every ``every`` seconds of the fixed-rate phase."""
    lines = []
    for st in stages:
        points, next_t = [], 0.0
        for t, _total, qc in st.queue:
            if t >= next_t:
                points.append(str(qc))
                next_t += every
        lines.append(f"{st.workers} worker(s), every {every:.0f} s: " + " ".join(points))
    return lines
