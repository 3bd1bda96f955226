"""Running what a pod runs, on this machine: the container's command with the environment the
manifests give it, and its exec probes as the kubelet would (with their timeout)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.manifests import (
    Dockerfile,
    Resource,
    container_env,
    named,
    pod_containers,
)

BIN = Path(sys.executable).parent


def container(resources: list[Resource], deployment: str) -> Resource:
    (found,) = pod_containers(named(resources, "Deployment", deployment))
    return found


def pod_environment(
    resources: list[Resource], container: Resource, overrides: dict[str, str]
) -> dict[str, str]:
    """This machine's environment without any RADQC_ setting, then the container's, then the
    test's ``overrides`` (ports, folders and database of the test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADQC_")}
    env.update(container_env(resources, container))
    env.update(overrides)
    return env


def command_line(container: Resource) -> list[str]:
    """The container's command and args; the image's ENTRYPOINT is this venv's console script."""
    entrypoint = container.get("command", Dockerfile.read().entrypoint)
    (program,) = entrypoint
    return [str(BIN / program), *container.get("args", [])]


def start(container: Resource, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command_line(container), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
        )


def wait_for_log(
    proc: subprocess.Popen[bytes], log: Path, pattern: str, timeout: float = 60
) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while True:
        match = re.search(pattern, log.read_text(errors="replace"))
        if match:
            return match
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process this test started (if it is still running)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


@dataclass(frozen=True)
class ProbeResult:
    returncode: int | None  # None: the probe's timeoutSeconds passed first (a failure)
    seconds: float
    output: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


def run_exec_probe(probe: Resource, env: dict[str, str], cwd: Path) -> ProbeResult:
    """Run an exec probe's command as the kubelet does: success is exit 0 within timeoutSeconds.
    ``python`` is the image's interpreter, with radqc installed: here, this venv's."""
    command = list(probe["exec"]["command"])
    if command[0] == "python":
        command[0] = sys.executable
    timeout = float(probe.get("timeoutSeconds", 1))
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        return ProbeResult(None, time.monotonic() - started, str(out))
    return ProbeResult(done.returncode, time.monotonic() - started, done.stdout + done.stderr)
