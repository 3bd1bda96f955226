"""Prometheus metrics measured in-process (stores, jobs, timings).

Counts that must be right across processes and hosts (items by status, queue depth, outbox
backlog) are read from the database at scrape time by :mod:`service.api.health`. When
``PROMETHEUS_MULTIPROC_DIR`` is set (``radqc serve`` sets it for its worker processes), the
values below are aggregated across the processes of one host.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

RECEIVED = Counter(
    "radqc_received_total", "Objects received, by source and outcome", ["source", "outcome"]
)
REJECTED = Counter(
    "radqc_rejected_total", "Objects refused, by source and reason", ["source", "reason"]
)
STORE_SECONDS = Histogram(
    "radqc_store_seconds", "Time to store a received object durably", ["source"], buckets=_SECONDS
)
JOBS_DONE = Counter("radqc_jobs_processed_total", "Jobs completed, by kind", ["kind"])
JOBS_RETRIED = Counter(
    "radqc_jobs_retried_total", "Job attempts that failed and will be retried", ["kind"]
)
JOBS_FAILED = Counter("radqc_jobs_failed_total", "Jobs dead-lettered, by kind", ["kind"])
JOB_SECONDS = Histogram(
    "radqc_job_processing_seconds",
    "Time a worker spent on a job, by kind",
    ["kind"],
    buckets=_SECONDS,
)
WRITEBACK = Counter(
    "radqc_writeback_total", "Observation PUTs to the hospital FHIR server", ["outcome"]
)
PACS_DOCUMENTS = Counter(
    "radqc_pacs_documents_total",
    "QC documents (SR, KOS) C-STOREd to the PACS, by document and outcome",
    ["document", "outcome"],
)
LLM_CALLS = Counter(
    "radqc_llm_calls_total", "LLM calls, by engine configuration and outcome", ["engine", "outcome"]
)
LLM_TOKENS = Counter(
    "radqc_llm_tokens_total",
    "LLM tokens, by engine configuration and direction",
    ["engine", "direction"],
)
LLM_COST = Counter("radqc_llm_cost_total", "LLM cost in configured currency units", ["engine"])
LLM_SECONDS = Histogram(
    "radqc_llm_call_seconds", "Latency of LLM calls", ["engine"], buckets=_SECONDS
)
LLM_FAILURES = Counter(
    "radqc_llm_call_failures_total",
    "LLM calls that reached the endpoint and failed, by engine configuration and kind "
    "(timeout, http_429, http_5xx, http_4xx, connection, format_rejected, malformed)",
    ["engine", "kind"],
)
LLM_PHI_REFUSED = Counter(
    "radqc_llm_phi_refused_total",
    "LLM requests the egress guard refused because they still held a known patient identifier, "
    "by item kind (nothing was sent; the rule findings stand)",
    ["kind"],
)

# The closed loop (service.loop): per-process gauges, aggregated as their mode says.
QUALITY_ROLLING = Gauge(
    "radqc_rolling_quality",
    "A code's precision or recall over the audits of the rolling window",
    ["code", "metric"],
    multiprocess_mode="max",
)
DRIFT_ALERT = Gauge(
    "radqc_drift_alert",
    "1 when a code's rolling precision or recall is below the configured floor",
    ["code", "metric"],
    multiprocess_mode="max",
)
CANARY_RECALL = Gauge(
    "radqc_canary_recall",
    "Share of injected canary errors a configuration caught, by code (rolling window)",
    ["config", "code"],
    multiprocess_mode="max",
)
LIVE_ENGINE_WORKERS = Gauge(
    "radqc_live_engine_workers",
    "Worker processes whose live QC runs this engine configuration (after a promotion, watch "
    "them move to the new champion)",
    ["config"],
    multiprocess_mode="livesum",
)
