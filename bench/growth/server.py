"""radqc's HTTP API (REST, FHIR, audit pages) in a process of its own, on the settings in its
environment, WITHOUT upgrading the schema: ``radqc api`` migrates to head at start, and the
growth benchmark measures the schema before its indexes too.

``python -m bench.growth.server`` is what :class:`Api` starts; the same application as
``radqc api`` (``service.app.build_api`` under uvicorn, one process, no access log).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bench.load.stack import free_port


def main() -> None:
    import uvicorn

    from service.app import build_api, build_components, settle_heap
    from service.config import load_settings

    settings = load_settings()
    components = build_components(settings)
    app = build_api(components)
    settle_heap()  # as radqc api does
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
    )


@dataclass
class Api:
    """One API process on ``database_url``; tokens for a reader and an auditor."""

    database_url: str
    folder: Path
    port: int = field(default_factory=free_port)
    reader_token: str = field(default_factory=lambda: "reader-" + secrets.token_hex(12))
    auditor_token: str = field(default_factory=lambda: "auditor-" + secrets.token_hex(12))
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RADQC_")}
        env.update(
            RADQC_DATA_DIR=str(self.folder / "data"),
            RADQC_DATABASE_URL=self.database_url,
            RADQC_HTTP_PORT=str(self.port),
            RADQC_API_TOKENS=f"reader:{self.reader_token},auditor@bench:{self.auditor_token}",
            RADQC_LOG_LEVEL="WARNING",
        )
        self._log = (self.folder / "api.log").open("ab")
        command = [sys.executable, "-m", "bench.growth.server"]
        self.proc = subprocess.Popen(command, env=env, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited with {self.proc.returncode}: see its log")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the API did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()


if __name__ == "__main__":
    main()
