"""Process supervision for ``radqc serve`` and ``radqc listen``: child processes, signals, restarts.

:class:`Supervisor` keeps ``count`` processes of ``radqc <command>`` running and restarts one that
dies; each child is told its parent's pid (``RADQC_SUPERVISOR_PID``) so that it stops, releasing
its work, when the parent is gone even if the parent was killed without a chance to stop it
(:func:`stop_when_orphaned`). A command may bring companion processes along, supervised the same
way (:data:`COMPANIONS`): ``listen`` brings the MLLP listener when ``RADQC_HL7_PORT`` is set.
:func:`on_terminate` turns SIGTERM and SIGINT into an event that the command waits on, so a
shutdown is always a clean one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from service.config import Settings, load_settings

log = logging.getLogger(__name__)

PARENT_ENV = "RADQC_SUPERVISOR_PID"


@dataclass(frozen=True, slots=True)
class Companion:
    """A process that a command's top-level process starts beside itself (``python -m
    <module>``) when ``wanted(settings)``; restarted if it dies, stopped with the command."""

    module: str
    wanted: Callable[[Settings], bool]


# Named by module, never imported: the core imports no adapter (DESIGN §3). The HL7 listener
# runs as a process of its own beside the DICOM listener (issue 12): one process per host
# however many DICOM listener processes share the DICOM port.
COMPANIONS: dict[str, tuple[Companion, ...]] = {
    "listen": (Companion("hl7_adapter", lambda settings: settings.hl7_port is not None),),
}


def companions(command: str) -> list[str]:
    """The companion modules ``command`` starts in this process: none in a supervised child
    (its parent started them already)."""
    wanted = COMPANIONS.get(command, ())
    if not wanted or is_supervised():
        return []
    settings = load_settings()
    return [companion.module for companion in wanted if companion.wanted(settings)]


def on_terminate(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (and are logged) instead of ending the process."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def is_supervised() -> bool:
    """Started by ``serve`` or by a ``listen`` with more listener processes (a Supervisor)."""
    return bool(os.environ.get(PARENT_ENV))


def stop_when_orphaned(stop: threading.Event) -> None:
    """A process started by a :class:`Supervisor` sets ``stop`` (so it releases its job or its
    associations) when its parent is gone, even when the parent was killed without a chance to
    stop its children. Does nothing in a process nobody supervises."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != int(parent):
                log.warning("the supervising process %s is gone; stopping", parent)
                stop.set()

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


class Supervisor:
    """Keeps ``count`` processes of ``radqc <command>`` running, and the command's companions
    (:data:`COMPANIONS`); restarts one that dies."""

    def __init__(self, command: str, count: int, env: dict[str, str]) -> None:
        self.command = command
        self.count = count
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.argvs: list[list[str]] = []  # what each of procs runs
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        env = {**self.env, PARENT_ENV: str(os.getpid())}
        return subprocess.Popen(argv, env=env)

    def start(self) -> None:
        own = [[sys.executable, "-m", "service.cli", self.command]] * self.count
        self.argvs = own + [[sys.executable, "-m", m] for m in companions(self.command)]
        if not self.argvs:
            return
        self.procs = [self._spawn(argv) for argv in self.argvs]
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None and not self.stopping.is_set():
                    log.warning(
                        "%s process %d exited with %s; restarting",
                        self.argvs[i][-1],
                        proc.pid,
                        proc.returncode,
                    )
                    self.procs[i] = self._spawn(self.argvs[i])

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM to every child, then wait up to ``timeout`` seconds for each; kill the rest."""
        self.stopping.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.error(
                    "%s process %d did not stop in %.0f s; killing it",
                    self.command,
                    proc.pid,
                    timeout,
                )
                proc.kill()
