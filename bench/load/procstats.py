"""CPU time and resident memory of processes, read from ``/proc`` (Linux), and the load average.

A :class:`Monitor` samples a set of named processes (and their children: ``radqc listen`` starts
its extra listener processes itself) once a second, keeping each one's last CPU time and its
largest resident set, so that CPU spent by a process is still counted after it exits.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, as the kernel prints them."""
    return " ".join((_PROC / "loadavg").read_text().split()[:3])


@dataclass(frozen=True, slots=True)
class Sample:
    cpu_seconds: float  # user + system, this process only (not its children)
    rss_bytes: int


def sample(pid: int) -> Sample | None:
    """The process's CPU time and resident memory now; None when it is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        status = (_PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15
    rss = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
            break
    return Sample(cpu, rss)


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class _Watched:
    role: str
    name: str
    cpu_seconds: float = 0.0
    rss_max: int = 0


@dataclass
class Monitor:
    """Samples the processes it is told about, and their children, every ``interval`` s."""

    interval: float = 1.0
    _watched: dict[int, _Watched] = field(default_factory=dict)
    _roots: dict[int, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def watch(self, pid: int, role: str, name: str, *, with_children: bool = True) -> None:
        """Follow ``pid`` (and the children it starts) under ``role``."""
        with self._lock:
            if pid in self._watched:
                return
            if with_children:
                self._roots[pid] = (role, name)
            watched = self._watched[pid] = _Watched(role, name)
            now = sample(pid)
            if now is not None:
                watched.cpu_seconds, watched.rss_max = now.cpu_seconds, now.rss_bytes

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="procstats", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample_now()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample_now()

    def sample_now(self) -> None:
        with self._lock:
            for root, (role, name) in list(self._roots.items()):
                for index, child in enumerate(children(root)):
                    self._watched.setdefault(child, _Watched(role, f"{name}.{index + 1}"))
            for pid, watched in self._watched.items():
                now = sample(pid)
                if now is not None:
                    watched.cpu_seconds = now.cpu_seconds
                    watched.rss_max = max(watched.rss_max, now.rss_bytes)

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds each role has used so far (exited processes: up to their last sample)."""
        totals: dict[str, float] = {}
        with self._lock:
            for watched in self._watched.values():
                totals[watched.role] = totals.get(watched.role, 0.0) + watched.cpu_seconds
        return totals

    def rss_max_by_process(self, roles: frozenset[str] | None = None) -> dict[str, int]:
        """The largest resident set of each process (of ``roles``, default all)."""
        with self._lock:
            return {
                w.name: w.rss_max
                for w in self._watched.values()
                if roles is None or w.role in roles
            }
