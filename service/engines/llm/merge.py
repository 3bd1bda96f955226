"""Hybrid merge of rule findings and the LLM's answer; the policy is recorded on each finding.

Policies: ``verify`` keeps rule findings the model confirmed (precision first) and adds nothing;
``review`` uses the model's own findings only; ``both`` keeps confirmed rule findings plus the
model's additional discoveries. A rule finding the model did not judge is kept (never suppressed
by silence, so hostile text cannot remove it by making the model say nothing).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from service.engines.base import Finding
from service.engines.llm.schema import ReviewOutput

Mode = Literal["off", "verify", "review", "both"]


def merge(
    mode: Mode,
    rule_findings: list[Finding],
    output: ReviewOutput,
    llm_findings: list[Finding],
) -> list[Finding]:
    """The findings to store for the item: rule findings (possibly rejected) and LLM ones."""
    if mode == "off":
        return list(rule_findings)
    verdicts = {v.index: v for v in output.rule_verdicts}
    kept: list[Finding] = []
    for i, f in enumerate(rule_findings):
        v = verdicts.get(i)
        if mode in ("verify", "both") and v is not None and v.verdict == "reject":
            continue
        if v is not None and v.verdict == "confirm" and mode in ("verify", "both"):
            evidence = [*f.evidence, {"llm_verdict": "confirm", "llm_confidence": v.confidence}]
            f = replace(f, evidence=evidence)
        kept.append(f)
    if mode in ("review", "both"):
        rule_codes = {f.code for f in kept}
        kept.extend(f for f in llm_findings if f.code not in rule_codes)
    return kept
