"""The LLM part of an item as its own durable job (kind ``llm``): a pipeline stage, not an engine.

The engines (:mod:`service.engines.llm`) take a stored input and return findings; this stage
loads the input, runs the engine, and writes findings, metering and the item's status in one
transaction. :func:`build_stage` builds it from the settings once at start-up.

Why a separate job: the rules result is written and published at once; the LLM part follows,
and the item stays ``processing`` until it has run (then ``done``, DESIGN section 4). If the
endpoint is down, :class:`LLMUnavailable` fails the job and the queue retries it with backoff
while the rules result stands; the attempts that reached the endpoint are metered first (an
``llm_calls`` row each, with its error). When it succeeds, the LLM findings (and the rule
findings it rejected, in verify/both modes) are written in one transaction with the call
metering and the item's status, and the item's Observations are republished (the publisher
versions them). A malformed answer (after its corrective retry) or an unrenderable image is an
engine error on the item: the item is ``done`` with ``error`` set and the rules result kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import metrics
from service.config import LLM_KINDS, Settings
from service.engines.base import Finding, ImageInput, ReportInput
from service.engines.llm.client import Completion, LLMClient, LLMUnavailable, PHIRefused
from service.engines.llm.engine import LLMImageEngine, LLMReportEngine, LLMResult
from service.engines.llm.factory import llm_config
from service.engines.llm.runner import LoopRunner
from service.findings import flag, replace_findings
from service.models import FindingRow, Item, ItemStatus, LLMCall, utcnow
from service.pipeline import Pipeline
from service.taxonomy import Severity

log = logging.getLogger(__name__)

JOB_KIND = "llm"


@dataclass(frozen=True, slots=True)
class Prices:
    """Price per 1000 tokens in and out (any currency; summed as configured)."""

    per_1k_in: float = 0.0
    per_1k_out: float = 0.0

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return tokens_in / 1000 * self.per_1k_in + tokens_out / 1000 * self.per_1k_out


@dataclass
class LLMStage:
    pipeline: Pipeline
    report_engine: LLMReportEngine | None = None
    image_engine: LLMImageEngine | None = None
    prices: Mapping[str, Prices] | None = None
    runner: LoopRunner = field(default_factory=LoopRunner)

    def process(self, item_id: int) -> None:
        """Run the LLM part of ``item_id``; LLMUnavailable propagates so the job is retried
        (the attempts that reached the endpoint are metered first: they happened)."""
        qc_input = self.pipeline.stored_input(item_id)
        rules = self._rule_findings(item_id)
        engine: LLMReportEngine | LLMImageEngine | None = (
            self.image_engine if isinstance(qc_input, ImageInput) else self.report_engine
        )
        if engine is None:  # the LLM was switched off for this kind since the job was queued
            self._store(item_id, None, rules, LLMResult(list(rules)))
            return
        try:
            result = self.runner.run(self._review(engine, qc_input, rules))
        except LLMUnavailable as exc:
            self._meter_failed(item_id, engine, exc.calls)
            raise
        except PHIRefused as exc:
            # The egress guard stopped a request: final for this input. The rule findings
            # stand; the item says why (the kinds found, never the values).
            metrics.LLM_PHI_REFUSED.labels(engine.kind).inc()
            log.warning("item %s: LLM request refused by the egress guard (%s)", item_id, exc)
            result = LLMResult(list(rules), exc.calls, str(exc))
        try:
            self._store(item_id, engine, rules, result)
        except Exception:  # rolled back: the calls still happened, and the job will run again
            self._meter_failed(item_id, engine, result.calls)
            raise

    async def _review(
        self,
        engine: LLMReportEngine | LLMImageEngine,
        qc_input: ImageInput | ReportInput,
        rules: list[Finding],
    ) -> LLMResult:
        if isinstance(engine, LLMImageEngine):
            assert isinstance(qc_input, ImageInput)
            return await engine.review(qc_input, rules)
        assert isinstance(qc_input, ReportInput)
        return await engine.review(qc_input, rules)

    def _rule_findings(self, item_id: int) -> list[Finding]:
        with self.pipeline.db.reader() as session:
            rows = session.scalars(
                select(FindingRow).where(
                    FindingRow.item_id == item_id,
                    FindingRow.engine == "rules",
                    FindingRow.scope == "item",
                )
            ).all()
            return [
                Finding(
                    r.code,
                    Severity(r.severity),
                    r.message,
                    list(r.evidence),
                    r.confidence,
                    r.engine,
                    r.engine_version,
                )
                for r in rows
            ]

    def _store(
        self,
        item_id: int,
        engine: LLMReportEngine | LLMImageEngine | None,
        rules: list[Finding],
        result: LLMResult,
    ) -> None:
        """Findings, metering and the item's status in one transaction; then republish."""
        with self.pipeline.db.transaction() as session:
            item = session.get(Item, item_id)
            assert item is not None
            if engine is not None:
                self._add_calls(session, item_id, engine, result.calls)
            if result.error is not None:
                item.error = f"llm: {result.error}"[:2000]
            elif engine is not None:
                # Rule findings the model rejected go; confirmed ones carry its verdict.
                kept_rules = [f for f in result.findings if f.engine == "rules"]
                replace_findings(session, item, "rules", "item", kept_rules)
                llm = [f for f in result.findings if f.engine != "rules"]
                replace_findings(session, item, "llm", "item", llm)
                flag(item, self.pipeline.flag_min_confidence)
                item.error = None
            # Every engine configured for the item has now run (DESIGN section 4).
            item.status = ItemStatus.DONE
            item.processed_at = utcnow()
            self.pipeline.publisher.publish(session, item)
        if engine is not None:
            self._count(engine, result.calls)
        log.info("item %s llm part done (%d calls)", item_id, len(result.calls))

    def _meter_failed(
        self, item_id: int, engine: LLMReportEngine | LLMImageEngine, calls: list[Completion]
    ) -> None:
        """Meter the attempts of a review that gave up (the job will be retried)."""
        if not calls:
            return
        try:
            with self.pipeline.db.transaction() as session:
                self._add_calls(session, item_id, engine, calls)
        except Exception:  # the original error matters more; the queue retries the job
            log.exception("item %s: could not meter %d failed LLM calls", item_id, len(calls))
            return
        self._count(engine, calls)

    def _add_calls(
        self,
        session: Session,
        item_id: int,
        engine: LLMReportEngine | LLMImageEngine,
        calls: list[Completion],
    ) -> None:
        prices = (self.prices or {}).get(engine.kind, Prices())
        session.add_all(
            LLMCall(
                item_id=item_id,
                kind=engine.kind,
                engine_version=engine.version,
                tokens_in=call.tokens_in,
                tokens_out=call.tokens_out,
                latency_ms=call.latency_s * 1000,
                cost=prices.cost(call.tokens_in, call.tokens_out),
                error=call.error,
            )
            for call in calls
        )

    def _count(self, engine: LLMReportEngine | LLMImageEngine, calls: list[Completion]) -> None:
        """Prometheus counters, once the rows are committed."""
        prices = (self.prices or {}).get(engine.kind, Prices())
        version = engine.version
        for call in calls:
            metrics.LLM_CALLS.labels(version, "error" if call.error else "ok").inc()
            if call.error:
                metrics.LLM_FAILURES.labels(version, call.failure or "other").inc()
            metrics.LLM_TOKENS.labels(version, "in").inc(call.tokens_in)
            metrics.LLM_TOKENS.labels(version, "out").inc(call.tokens_out)
            metrics.LLM_COST.labels(version).inc(prices.cost(call.tokens_in, call.tokens_out))
            metrics.LLM_SECONDS.labels(version).observe(call.latency_s)


def build_stage(settings: Settings, pipeline: Pipeline) -> LLMStage | None:
    """The LLM stage for the configured kinds, or None when the LLM is off for both."""
    report_cfg, image_cfg = llm_config(settings, "report"), llm_config(settings, "image")
    if report_cfg is None and image_cfg is None:
        return None
    report = (
        LLMReportEngine(
            LLMClient(report_cfg),
            mode=settings.llm_report.mode,
            reject_max_rule_confidence=settings.llm_reject_max_rule_confidence,
        )
        if report_cfg
        else None
    )
    image = (
        LLMImageEngine(
            LLMClient(image_cfg),
            mode=settings.llm_image.mode,
            max_side=settings.llm_image.max_side,
            reject_max_rule_confidence=settings.llm_reject_max_rule_confidence,
        )
        if image_cfg
        else None
    )
    per_kind = {kind: settings.llm_kind(kind) for kind in LLM_KINDS}
    prices: dict[str, Prices] = {
        kind: Prices(values.price_in_per_1k, values.price_out_per_1k)
        for kind, values in per_kind.items()
    }
    return LLMStage(pipeline, report_engine=report, image_engine=image, prices=prices)
