"""Building a runnable engine from a stored configuration's parameters.

Rules (:class:`ConfiguredRules`): this build's :class:`RulesEngine` with the configuration's
checks left out, its findings filtered by code and confidence and stamped with the
configuration's rules engine version. A configuration that asks for another rules version
than the one installed cannot be run here (:class:`ConfigurationUnavailable`): old rule code is
not kept in the build.

LLM: built through the LLM package's public factory (:func:`build_stage`) from a copy of this
process's settings with the configuration's model, endpoint, merge policy, temperature and
token limit; the API key is the process's own. The factory loads the prompt template this build
ships, so a configuration naming another prompt version is refused rather than run with the
wrong prompt.

The same builders serve shadow and replay (:class:`ConfiguredEngine`) and live QC, where the
champion's engines replace the pipeline's (:mod:`service.loop.champion`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from service.config import LLM_KINDS, LLMKindSettings, Settings
from service.engines.base import Finding, ImageInput, QCInput, ReportInput, StudyInput
from service.engines.llm.client import PHIRefused
from service.engines.llm.engine import LLMImageEngine, LLMReportEngine, LLMResult
from service.engines.rules import (
    IMAGE_CHECKS,
    REPORT_CHECKS,
    RulesEngine,
    StudyRulesEngine,
)
from service.errors import EngineError
from service.llm_stage import LLMStage, build_stage
from service.loop.engine_configs import (
    EngineParams,
    LLMParams,
    RulesParams,
    prompt_unavailable,
    rules_engine_version,
    rules_unavailable,
)
from service.pipeline import Pipeline
from service.taxonomy import Kind

log = logging.getLogger(__name__)


class ConfigurationUnavailable(EngineError):
    """The configuration cannot be built by this build of radqc (another rules or prompt
    version); shadow jobs for it fail without retries."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a configuration found on one input; ``error`` when its LLM part gave no answer."""

    findings: list[Finding]
    error: str | None = None

    @property
    def codes(self) -> list[str]:
        return sorted({f.code for f in self.findings})


class ConfiguredRules:
    """This build's rules with a configuration's ``rules`` parameters: its disabled checks left
    out, its findings filtered by code and confidence floor and stamped with its rules engine
    version (:func:`rules_engine_version`). An :class:`Engine` for items and a
    :class:`StudyEngine` for study checks (codes and floor apply to those too)."""

    name = RulesEngine.name
    kinds: frozenset[Kind] = frozenset({"image", "report"})

    def __init__(self, rules: RulesParams) -> None:
        problem = rules_unavailable(rules)
        if problem is not None:
            raise ConfigurationUnavailable(problem)
        off = set(rules.disabled_checks)
        self.engine = RulesEngine(
            image_checks=[c for c in IMAGE_CHECKS if c.__name__ not in off],
            report_checks=[c for c in REPORT_CHECKS if c.__name__ not in off],
        )
        self.study = StudyRulesEngine()
        self.disabled_codes = frozenset(rules.disabled_codes)
        self.min_confidence = rules.min_confidence
        self.version = rules_engine_version(rules)

    def review(self, item: QCInput) -> list[Finding]:
        return self._keep(self.engine.review(item))

    def review_study(self, study: StudyInput) -> dict[int, list[Finding]]:
        return {item: self._keep(found) for item, found in self.study.review_study(study).items()}

    def _keep(self, findings: list[Finding]) -> list[Finding]:
        return [
            f if f.engine_version == self.version else replace(f, engine_version=self.version)
            for f in findings
            if f.code not in self.disabled_codes and f.confidence >= self.min_confidence
        ]


def configured_rules(parameters: EngineParams) -> ConfiguredRules | None:
    """The rules engine of a configuration's parameters, or None when it has no rules."""
    return ConfiguredRules(parameters.rules) if parameters.rules is not None else None


class ConfiguredEngine:
    """One stored configuration, runnable on a QC input: its rules, then its LLM reviewers."""

    def __init__(self, parameters: EngineParams, settings: Settings, pipeline: Pipeline) -> None:
        self.rules = configured_rules(parameters)
        self.stage = llm_stage(parameters, settings, pipeline)

    def review(self, qc_input: QCInput) -> Outcome:
        """Run the configuration; LLMUnavailable propagates (the job is retried later)."""
        findings = self._rules(qc_input)
        engine = self._llm_engine(qc_input)
        if engine is None or self.stage is None:
            return Outcome(findings)
        try:
            result = self._llm_review(engine, qc_input, findings)
        except PHIRefused as exc:  # final for this input, as in live QC
            return Outcome(findings, f"llm: {exc}")
        if result.error is not None:
            return Outcome(findings, f"llm: {result.error}")
        return Outcome(result.findings)

    def _llm_review(
        self,
        engine: LLMReportEngine | LLMImageEngine,
        qc_input: QCInput,
        findings: list[Finding],
    ) -> LLMResult:
        assert self.stage is not None
        if isinstance(engine, LLMImageEngine):
            assert isinstance(qc_input, ImageInput)
            return self.stage.runner.run(engine.review(qc_input, findings))
        assert isinstance(qc_input, ReportInput)
        return self.stage.runner.run(engine.review(qc_input, findings))

    def _rules(self, qc_input: QCInput) -> list[Finding]:
        return [] if self.rules is None else self.rules.review(qc_input)

    def _llm_engine(self, qc_input: QCInput) -> LLMReportEngine | LLMImageEngine | None:
        if self.stage is None:
            return None
        if isinstance(qc_input, ImageInput):
            return self.stage.image_engine
        assert isinstance(qc_input, ReportInput)
        return self.stage.report_engine

    def close(self) -> None:
        if self.stage is not None:
            self.stage.runner.close()


def llm_kinds_of(parameters: EngineParams) -> frozenset[str]:
    """The item kinds a configuration reviews with an LLM."""
    return frozenset(parameters.llm)


def llm_stage(parameters: EngineParams, settings: Settings, pipeline: Pipeline) -> LLMStage | None:
    """The LLM stage of a configuration's parameters (None without an LLM), through the LLM
    package's public factory from a copy of ``settings`` (API key, timeouts, prices, image
    size and breaker stay the process's own)."""
    if not parameters.llm:
        return None
    for kind in LLM_KINDS:
        entry = parameters.llm.get(kind)
        if entry is not None:
            problem = prompt_unavailable(kind, entry)
            if problem is not None:
                raise ConfigurationUnavailable(problem)
        settings = settings.with_llm_kind(kind, _llm_settings(settings.llm_kind(kind), entry))
    return build_stage(settings, pipeline)


def _llm_settings(live: LLMKindSettings, entry: LLMParams | None) -> LLMKindSettings:
    """The process's settings of one kind with a configuration's entry for it (off without)."""
    if entry is None:
        return live.model_copy(update={"mode": "off"})
    return live.model_copy(
        update={
            "mode": entry.mode,
            "model": entry.model,
            "base_url": entry.base_url,
            "temperature": entry.temperature,
            "max_tokens": entry.max_tokens,
            # Always set, so the live value does not leak into a configuration that asks for
            # one answer.
            "samples": entry.samples,
        }
    )
