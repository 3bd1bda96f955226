"""The end-to-end load benchmark still runs: a few items for a few seconds, one worker."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.load import run
from bench.load.results import percentile
from bench.load.senders import Pace
from bench.load.watch import summary_key


def test_percentile_counts_unseen_items_as_never() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, math.inf], 50) == 2.0
    assert math.isinf(percentile([1.0, math.inf, math.inf], 95))


def test_pace_is_open_loop() -> None:
    pace = Pace(start=100.0, rate=4.0, count=10)
    assert [pace.due(i) for i in range(3)] == [100.0, 100.25, 100.5]
    assert Pace(start=5.0, rate=None, count=3).due(2) == 5.0


def test_summary_key_names_the_image_or_the_report() -> None:
    image = {"extension": [{"url": "x", "valueOid": "urn:oid:1.2.3"}]}
    report = {"derivedFrom": [{"reference": "DiagnosticReport/r-7/_history/1"}]}
    assert summary_key(image) == "sop:1.2.3"
    assert summary_key(report) == "report:r-7"
    assert summary_key({}) is None


@pytest.mark.timeout(120)
def test_tiny_load_run(
    bench_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--database", bench_database, "--workers", "1", "--seconds", "3",
        "--rate-images", "1", "--rate-reports", "2", "--burst-seconds", "1",
        "--drain-seconds", "30", "--films", "3", "--ceiling-reports", "10",
        "--ceiling-repeats", "1",
        "--out", str(tmp_path),
    ]  # fmt: skip
    assert run.main(argv) == 0
    printed = capsys.readouterr().out
    assert "capacity/s" in printed and "targets (issue 13)" in printed
    stage = json.loads((tmp_path / "results.json").read_text())["stages"][0]
    assert stage["planned"] == stage["sent"] == stage["acked"] == 9  # 3 films, 6 reports
    assert stage["send_errors"] == [] and stage["failed_items"] == 0
    assert stage["latency"]["unseen"] == 0 and stage["latency"]["seen"] == 9
    assert 0 < stage["latency"]["p50"] < 30
    assert stage["capacity_items"] == 3 and stage["capacity"] > 0
    assert stage["cpu_ms_per_item"]["worker"] > 0
    assert {"api", "listen", "worker1"} <= set(stage["rss_mb"])
    assert not (tmp_path / "workers-1" / "data").exists()  # stored films removed
