"""The LLM reviewers of reports and images: de-identify, prompt, ask, merge with the rules.

Why a separate ``review`` signature from the rules engine: the LLM part needs the rule findings
(to verify them) and returns its calls for metering and an explicit error instead of raising, so a
bad answer is recorded on the item and never crashes the worker. ``LLMUnavailable`` propagates so
the caller can leave the LLM part queued.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.engines.base import Finding, ImageInput, ReportInput
from service.engines.llm import prompts
from service.engines.llm.ask import ask_samples
from service.engines.llm.client import Completion, LLMClient
from service.engines.llm.consensus import Support
from service.engines.llm.merge import Mode, merge
from service.engines.llm.redacted_png import RenderError, render_png
from service.phi.known import KnownIdentifiers
from service.phi.scrub import deidentify
from service.taxonomy import Kind, Severity, codes_for

log = logging.getLogger(__name__)

ENGINE_NAME = "llm"


@dataclass(slots=True)
class LLMResult:
    """What one LLM review produced: merged findings, every call made, and any engine error."""

    findings: list[Finding]
    calls: list[Completion] = field(default_factory=list)
    error: str | None = None


def llm_engine_version(model: str, prompt: str, mode: str, samples: int) -> str:
    """The ``engine_version`` of LLM findings: the configuration that produced them (model,
    prompt ``<template>@<sha>``, merge policy and, with self-consistency, the samples)."""
    suffix = f"+n{samples}" if samples > 1 else ""
    return f"{model}+{prompt}+{mode}{suffix}"


class _LLMEngine:
    kind: Kind
    template_name: str

    def __init__(
        self, client: LLMClient, mode: Mode = "both", reject_max_rule_confidence: float = 0.9
    ) -> None:
        self.client = client
        self.mode: Mode = mode
        self.reject_max_rule_confidence = reject_max_rule_confidence
        self.template = prompts.load(self.template_name)
        self.codes = codes_for(self.kind)
        self.allowed = frozenset(c.code for c in self.codes)
        self.name = ENGINE_NAME
        self.samples = client.config.samples
        self.version = llm_engine_version(
            client.config.model, f"{self.template.name}@{self.template.sha}", mode, self.samples
        )

    async def _review(
        self,
        messages: list[dict[str, Any]],
        rules: list[Finding],
        known: KnownIdentifiers,
        sent: str | None = None,
        text: str = "",
    ) -> LLMResult:
        """Ask and merge. ``sent`` is the de-identified text the model saw: a finding whose
        quote is not in it is dropped (a hostile or confused answer cannot invent evidence);
        ``text`` is the original, for the evidence's offsets. Without ``sent`` (images) there
        is no text to quote."""
        answer = await ask_samples(self.client, messages, self.allowed, self.samples, known)
        if answer.output is None:
            return LLMResult(list(rules), answer.calls, answer.error)
        support = answer.consensus.findings if answer.consensus else {}
        claimed = answer.output.findings
        if sent is not None:
            claimed = [f for f in claimed if quoted(f.quote, sent)]
            if len(claimed) < len(answer.output.findings):
                log.info(
                    "dropped %d LLM finding(s) whose quote is not in the report",
                    len(answer.output.findings) - len(claimed),
                )
        own = [
            self._finding(f.code, f.severity, f.message, f.quote, f.confidence, text)
            for f in claimed
        ]
        own = [_with_support(f, support.get(f.code)) for f in own]
        verdicts = answer.consensus.verdicts if answer.consensus else None
        merged = merge(
            self.mode, rules, answer.output, own, verdicts, self.reject_max_rule_confidence
        )
        return LLMResult(merged, answer.calls)

    def _system(self, rules: list[Finding], clean: Callable[[str], str], **extra: Any) -> str:
        """The system prompt; the rule findings' messages are de-identified like the text (a
        message may quote it: a typo check quotes the unknown word, which may be a name)."""
        # In "review" mode the model works alone: it is not shown the rule findings.
        shown = (
            [{"code": r.code, "message": clean(r.message)} for r in rules]
            if self.mode in ("verify", "both")
            else []
        )
        return self.template.render(codes=self.codes, rule_findings=shown, **extra)

    def _finding(
        self, code: str, severity: str, message: str, quote: str, confidence: float, text: str
    ) -> Finding:
        evidence: dict[str, object] = {"quote": quote, "merge_policy": self.mode}
        start = text.find(quote) if quote and text else -1
        if start >= 0:
            evidence.update(start=start, end=start + len(quote))
        return Finding(
            code=code,
            severity=Severity(severity),
            message=message,
            evidence=[evidence],
            confidence=confidence,
            engine=ENGINE_NAME,
            engine_version=self.version,
        )


_QUOTED = re.compile(r"'([^'\n]{1,120})'")


def only_sent_quotes(message: str, sent: str) -> str:
    """A rule message quotes the report ("Possible misspelling: 'Quixworth'"): a quoted fragment
    the de-identified text no longer holds was removed from it, so it goes from the message too."""
    return _QUOTED.sub(lambda m: m.group(0) if m.group(1) in sent else "'[REDACTED]'", message)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def quoted(quote: str, text: str) -> bool:
    """Whether ``quote`` stands in ``text`` (case and runs of white space ignored); an empty
    quote quotes nothing."""
    needle = _squash(quote)
    return bool(needle) and needle in _squash(text)


def _with_support(f: Finding, support: Support | None) -> Finding:
    if support is None:
        return f
    evidence = [{**f.evidence[0], "self_consistency": support.evidence()}, *f.evidence[1:]]
    return Finding(
        f.code, f.severity, f.message, evidence, f.confidence, f.engine, f.engine_version
    )


class LLMReportEngine(_LLMEngine):
    """Reviews de-identified report text, fenced as data in the user message between markers
    that carry a random nonce per call, so the text cannot close the fence and speak as the
    prompt."""

    kind: Kind = "report"
    template_name = "report_review.v2"

    async def review(self, item: ReportInput, rule_findings: list[Finding]) -> LLMResult:
        known = item.known_identifiers
        key = item.accession or item.report_id

        def clean(value: str) -> str:
            return deidentify(value, key, known)

        text = clean(item.text)
        exam = clean(item.exam_display) if item.exam_display else None
        marker = f"report-{secrets.token_hex(8)}"

        def clean_message(message: str) -> str:
            return only_sent_quotes(clean(message), text)

        system = self._system(
            rule_findings, clean_message, sex=item.patient_sex, exam=exam, marker=marker
        )
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": f"<{marker}>\n{text}\n</{marker}>"},
        ]
        return await self._review(messages, rule_findings, known, sent=text, text=item.text)


class LLMImageEngine(_LLMEngine):
    """Reviews the rendered pixels only, burned-in text blacked out; no header value is sent.

    An image that cannot be rendered is an engine error on the item (it would fail the same
    way on every retry), not an unavailable endpoint.
    """

    kind: Kind = "image"
    template_name = "image_review.v2"

    @staticmethod
    def _clean(item: ImageInput) -> Callable[[str], str]:
        def clean(value: str) -> str:
            return deidentify(value, item.sop_instance_uid, item.known_identifiers)

        return clean

    def __init__(
        self,
        client: LLMClient,
        mode: Mode = "both",
        max_side: int = 768,
        reject_max_rule_confidence: float = 0.9,
    ) -> None:
        super().__init__(client, mode, reject_max_rule_confidence)
        self.max_side = max_side

    async def review(self, item: ImageInput, rule_findings: list[Finding]) -> LLMResult:
        try:  # CPU work off the shared event loop, so other calls keep flowing
            png = await asyncio.to_thread(render_png, item.path, self.max_side, item)
        except RenderError as exc:
            return LLMResult(list(rule_findings), [], f"image not rendered: {exc}")
        url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self._system(rule_findings, self._clean(item))},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Review this chest X-ray."},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            },
        ]
        return await self._review(messages, rule_findings, item.known_identifiers)
