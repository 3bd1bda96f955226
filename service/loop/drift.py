"""Drift alert: a code's rolling precision or recall below a floor (issue 5 §4).

``DriftMonitor.check`` evaluates the audits of items received in the last ``window_days``
(weighted, every engine together) and, per code with at least ``min_count`` items behind the
figure, sets the Prometheus gauges below; a figure under the floor sets the alert gauge to 1 and
logs one WARNING line naming the code, the figure, its value, the floor and the count. The
loop's Prometheus metrics live here, apart from the core's ``service/metrics.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from service import metrics
from service.db import Database
from service.loop.audited_sample import CODE_LIST, SampleQuery, load_sample
from service.loop.stats import FloatArray, ratio
from service.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DriftAlert:
    code: str
    metric: str  # precision | recall
    value: float
    floor: float
    count: int


class DriftMonitor:
    def __init__(
        self,
        db: Database,
        *,
        precision_floor: float = 0.5,
        recall_floor: float = 0.5,
        window_days: int = 30,
        min_count: int = 20,
    ) -> None:
        self.db = db
        self.floors = {"precision": precision_floor, "recall": recall_floor}
        self.window = dt.timedelta(days=window_days)
        self.min_count = min_count

    def check(self, now: dt.datetime | None = None) -> list[DriftAlert]:
        now = now or utcnow()
        with self.db.reader() as session:
            sample = load_sample(session, SampleQuery(since=now - self.window, until=now))
        truth, flags = sample.truth.astype(float), sample.flags(None).astype(float)
        alerts: list[DriftAlert] = []
        for j, code in enumerate(CODE_LIST):
            hits: FloatArray = truth[:, j] * flags[:, j]
            for metric, denominator in (("precision", flags[:, j]), ("recall", truth[:, j])):
                estimate = ratio(hits, denominator, sample.weights)
                if estimate.value is None or estimate.n < self.min_count:
                    continue
                metrics.QUALITY_ROLLING.labels(code, metric).set(estimate.value)
                below = estimate.value < self.floors[metric]
                metrics.DRIFT_ALERT.labels(code, metric).set(1 if below else 0)
                if below:
                    alert = DriftAlert(
                        code, metric, estimate.value, self.floors[metric], estimate.n
                    )
                    alerts.append(alert)
                    log.warning(
                        "drift: %s %s %.3f below floor %.2f over the last %d days (n=%d)",
                        code,
                        metric,
                        alert.value,
                        alert.floor,
                        self.window.days,
                        alert.count,
                    )
        return alerts
