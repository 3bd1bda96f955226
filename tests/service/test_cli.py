"""The command layer's process set-up: the HTTP server settles its heap before it serves."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO


def test_the_api_server_freezes_its_startup_heap(tmp_path: Path) -> None:
    """``radqc api`` and ``radqc serve`` build their server through ``_uvicorn_server``, which
    moves the objects alive at start-up to the permanent generation (service.app.settle_heap):
    without it a full collection over them paused the audit worklist for 150-170 ms every dozen
    requests at 1M items. In a child process: freezing is process-wide."""
    code = textwrap.dedent(
        f"""
        import gc, os
        os.environ["RADQC_DATA_DIR"] = {str(tmp_path)!r}
        from service.app import build_components
        from service.cli import _uvicorn_server
        from service.config import load_settings

        settings = load_settings()
        components = build_components(settings)
        assert gc.get_freeze_count() == 0
        _uvicorn_server(settings, components)
        print(gc.get_freeze_count())
        """
    )
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) > 10_000  # modules, mappers, app routes
