"""The drift alert: rolling precision/recall per code against a floor, as a Prometheus gauge and
a log line, on audits stored in the real database."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from prometheus_client import REGISTRY

from service.components import Components
from service.loop.audited_sample import CODE_INDEX
from service.loop.drift import DriftMonitor
from tests.service.loop.support import REPORT_CODES, audited_reports


def _gauge(name: str, code: str, metric: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"code": code, "metric": metric})


def test_alert_when_a_code_falls_below_the_floor(
    comps: Components, caplog: pytest.LogCaptureFixture
) -> None:
    known = audited_reports(comps, 40, seed=9)
    recalls = {}
    for code in REPORT_CODES:
        j = CODE_INDEX[code]
        if known.truth[:, j].sum():
            recalls[code] = (known.truth[:, j] & known.flags[:, j]).sum() / known.truth[:, j].sum()
    worst = min(recalls, key=lambda c: recalls[c])
    floor = float(recalls[worst]) + 0.01  # just above the worst code's recall
    monitor = DriftMonitor(comps.db, precision_floor=0.0, recall_floor=floor, min_count=1)
    with caplog.at_level(logging.WARNING, logger="service.loop.drift"):
        alerts = monitor.check()
    below = {a.code for a in alerts}
    assert worst in below
    assert below == {c for c, r in recalls.items() if r < floor}
    assert all(a.metric == "recall" for a in alerts)
    assert _gauge("radqc_drift_alert", worst, "recall") == 1
    assert _gauge("radqc_rolling_quality", worst, "recall") == pytest.approx(recalls[worst])
    assert any(f"drift: {worst} recall" in r.getMessage() for r in caplog.records)

    relaxed = DriftMonitor(comps.db, precision_floor=0.0, recall_floor=0.0, min_count=1)
    assert relaxed.check() == []
    assert _gauge("radqc_drift_alert", worst, "recall") == 0
    assert np.isfinite(_gauge("radqc_rolling_quality", worst, "precision") or 0)
