"""The queue benchmark still runs and still checks that no job is claimed twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.queue import run


@pytest.mark.timeout(120)
def test_tiny_queue_run(
    bench_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "queue.json"
    argv = [
        "--database", bench_database, "--jobs", "150", "--workers", "3", "--items", "60",
        "--api-requests", "5", "--idle-seconds", "1", "--json", str(out),
    ]  # fmt: skip
    assert run.main(argv) == 0
    result = json.loads(out.read_text())
    assert result["all_once"] and result["claimed_twice"] == 0
    assert result["claimed"] == result["distinct"] == 150
    assert result["db_states"] == {"done/attempts=1": 150}
    assert result["jobs_per_second"] > 0
    assert result["api_ms"]["idle before"][2] == 5
    assert "jobs/s" in capsys.readouterr().out
