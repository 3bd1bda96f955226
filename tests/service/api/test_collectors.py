"""The database gauges of /metrics from one snapshot of counts (no database needed)."""

from __future__ import annotations

from prometheus_client.metrics_core import Metric

from service.api.collectors import DatabaseCollector, DatabaseCounts


def _families(counts: DatabaseCounts | None) -> dict[str, Metric]:
    return {family.name: family for family in DatabaseCollector(counts).collect()}


def _by_label(family: Metric, label: str) -> dict[str, float]:
    return {sample.labels[label]: sample.value for sample in family.samples}


def test_due_jobs_and_outbox_statuses_are_exported_by_label() -> None:
    counts = DatabaseCounts(
        items={},
        flagged={},
        jobs={},
        findings={},
        due={"qc": 4, "shadow": 2},
        outbox={"pending": 3, "superseded": 1},
    )
    families = _families(counts)
    # known kinds and statuses are there at 0, others as they come
    assert _by_label(families["radqc_queue_due"], "kind") == {
        "qc": 4,
        "study": 0,
        "writeback": 0,
        "shadow": 2,
    }
    assert _by_label(families["radqc_outbox"], "status") == {
        "pending": 3,
        "delivered": 0,
        "refused": 0,
        "discarded": 0,
        "superseded": 1,
    }
    assert families["radqc_outbox_pending"].samples[0].value == 3


def test_without_a_database_only_its_absence_is_exported() -> None:
    families = _families(None)
    assert list(families) == ["radqc_database_up"]
    assert families["radqc_database_up"].samples[0].value == 0
