"""Hybrid merge of rule findings and the LLM's answer; the policy is recorded on each finding.

Policies: ``verify`` keeps rule findings the model confirmed (precision first) and adds nothing;
``review`` uses the model's own findings only; ``both`` keeps confirmed rule findings plus the
model's additional discoveries. A rule finding the model did not judge is kept (never suppressed
by silence, so hostile text cannot remove it by making the model say nothing), and a rule
finding at or above ``reject_max_rule_confidence`` is never removed by a "reject": it is kept
with the model's disagreement recorded in its evidence (``llm_verdict: reject``). With
self-consistency the verdicts and confidences are those of :mod:`.consensus`, and the agreement
between samples is recorded on each finding (``self_consistency`` in its evidence).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from service.engines.base import Finding
from service.engines.llm.consensus import Support
from service.engines.llm.schema import ReviewOutput

Mode = Literal["off", "verify", "review", "both"]


def merge(
    mode: Mode,
    rule_findings: list[Finding],
    output: ReviewOutput,
    llm_findings: list[Finding],
    verdict_support: Mapping[int, Support] | None = None,
    reject_max_rule_confidence: float = 1.0,
) -> list[Finding]:
    """The findings to store for the item: rule findings (possibly rejected) and LLM ones.

    ``verdict_support`` (self-consistency) is recorded on each confirmed rule finding."""
    if mode == "off":
        return list(rule_findings)
    verdicts = {v.index: v for v in output.rule_verdicts}
    kept: list[Finding] = []
    for i, f in enumerate(rule_findings):
        v = verdicts.get(i)
        if mode in ("verify", "both") and v is not None and v.verdict == "reject":
            if f.confidence < reject_max_rule_confidence:
                continue
            disagreement = {"llm_verdict": "reject", "llm_confidence": v.confidence}
            f = replace(f, evidence=[*f.evidence, disagreement])
        if v is not None and v.verdict == "confirm" and mode in ("verify", "both"):
            verdict: dict[str, object] = {"llm_verdict": "confirm", "llm_confidence": v.confidence}
            support = (verdict_support or {}).get(i)
            if support is not None:
                verdict["self_consistency"] = support.evidence()
            evidence = [*f.evidence, verdict]
            f = replace(f, evidence=evidence)
        kept.append(f)
    if mode in ("review", "both"):
        rule_codes = {f.code for f in kept}
        kept.extend(f for f in llm_findings if f.code not in rule_codes)
    return kept
