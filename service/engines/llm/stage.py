"""The LLM part of an item as its own durable job (kind ``llm``).

Why a separate job: the rules result is written and published at once; the LLM part follows. If
the endpoint is down, :class:`LLMUnavailable` fails the job and the queue retries it with backoff
while the rules result stands. When it succeeds, the LLM findings (and the rule findings it
rejected, in verify/both modes) are written in one transaction with the call metering, and the
item's Observations are republished (the publisher versions them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from service import metrics
from service.engines.base import Finding, ImageInput, ReportInput
from service.engines.llm.engine import LLMImageEngine, LLMReportEngine, LLMResult
from service.engines.llm.runner import LoopRunner
from service.findings import replace_findings
from service.models import Finding as FindingRow
from service.models import Item, LLMCall
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
        """Run the LLM part of ``item_id``; LLMUnavailable propagates so the job is retried."""
        qc_input = self.pipeline._start_llm(item_id)
        rules = self._rule_findings(item_id)
        engine: LLMReportEngine | LLMImageEngine | None = (
            self.image_engine if isinstance(qc_input, ImageInput) else self.report_engine
        )
        if engine is None:
            return
        result = self.runner.run(self._review(engine, qc_input, rules))
        self._store(item_id, engine, rules, result)

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
        engine: LLMReportEngine | LLMImageEngine,
        rules: list[Finding],
        result: LLMResult,
    ) -> None:
        prices = (self.prices or {}).get(engine.kind, Prices())
        with self.pipeline.db.transaction() as session:
            item = session.get(Item, item_id)
            assert item is not None
            for n, call in enumerate(result.calls):
                cost = prices.cost(call.tokens_in, call.tokens_out)
                last = n == len(result.calls) - 1
                error = result.error if last else None
                session.add(
                    LLMCall(
                        item_id=item_id,
                        kind=engine.kind,
                        engine_version=engine.version,
                        tokens_in=call.tokens_in,
                        tokens_out=call.tokens_out,
                        latency_ms=call.latency_s * 1000,
                        cost=cost,
                        error=error,
                    )
                )
                metrics.LLM_CALLS.labels(engine.version, "error" if error else "ok").inc()
                metrics.LLM_TOKENS.labels(engine.version, "in").inc(call.tokens_in)
                metrics.LLM_TOKENS.labels(engine.version, "out").inc(call.tokens_out)
                metrics.LLM_COST.labels(engine.version).inc(cost)
                metrics.LLM_SECONDS.labels(engine.version).observe(call.latency_s)
            if result.error is not None:
                item.error = f"llm: {result.error}"[:2000]
            else:
                # Rule findings the model rejected go; confirmed ones carry its verdict.
                kept_rules = [f for f in result.findings if f.engine == "rules"]
                replace_findings(session, item, "rules", "item", kept_rules)
                llm = [f for f in result.findings if f.engine != "rules"]
                replace_findings(session, item, "llm", "item", llm)
            self.pipeline.publisher.publish(session, item)
        log.info("item %s llm part done (%d calls)", item_id, len(result.calls))
