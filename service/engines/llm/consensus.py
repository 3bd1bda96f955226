"""Self-consistency: several independent answers to one question, combined into one.

Why: one sample's confidence is the model's own claim; agreement between samples is evidence
the model cannot fake. With ``n`` valid samples, a finding (one per code, as findings are
stored) is kept when at least half the samples produced it, and its confidence is

    confidence = share of samples that produced it x mean of the model's own confidence
                 in the samples that produced it

so a finding every sample reports at 0.8 keeps 0.8, one reported by 2 of 4 samples at 0.8 gets
0.4. Severity is the most frequent among those samples (ties: the more severe); message and
quote come from the most confident sample. A verdict on a rule finding wins when strictly more
samples gave it than the opposite verdict and at least half the samples gave it; otherwise the
rule finding counts as unjudged (kept, see :mod:`service.engines.llm.merge`). The agreement is
recorded on each finding's evidence as ``self_consistency``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from service.engines.llm.schema import LLMFinding, ReviewOutput, RuleVerdict
from service.taxonomy import Severity

MIN_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Support:
    samples: int  # valid samples
    agreeing: int  # samples that produced the finding (or gave the verdict)
    model_confidence: float  # mean of the model's own confidence in those samples

    @property
    def share(self) -> float:
        return self.agreeing / self.samples if self.samples else 0.0

    @property
    def confidence(self) -> float:
        return round(self.share * self.model_confidence, 4)

    def evidence(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "agreeing": self.agreeing,
            "share": round(self.share, 4),
            "model_confidence": round(self.model_confidence, 4),
        }


@dataclass(frozen=True, slots=True)
class Consensus:
    output: ReviewOutput  # confidences already combined
    findings: dict[str, Support]  # by code
    verdicts: dict[int, Support]  # by rule finding index


def combine(outputs: list[ReviewOutput]) -> Consensus:
    """One answer from ``outputs`` (each a valid sample)."""
    n = len(outputs)
    findings, support = _findings(outputs, n)
    verdicts, verdict_support = _verdicts(outputs, n)
    return Consensus(
        ReviewOutput(findings=findings, rule_verdicts=verdicts), support, verdict_support
    )


def _findings(outputs: list[ReviewOutput], n: int) -> tuple[list[LLMFinding], dict[str, Support]]:
    by_code: dict[str, list[LLMFinding]] = defaultdict(list)
    for out in outputs:
        best: dict[str, LLMFinding] = {}
        for f in out.findings:  # one vote per sample and code: its most confident finding
            if f.code not in best or f.confidence > best[f.code].confidence:
                best[f.code] = f
        for code, f in best.items():
            by_code[code].append(f)
    kept: list[LLMFinding] = []
    support: dict[str, Support] = {}
    for code, votes in by_code.items():
        s = Support(n, len(votes), sum(f.confidence for f in votes) / len(votes))
        if s.share < MIN_SHARE:
            continue
        counts = Counter(f.severity for f in votes)
        severity = max(counts, key=lambda sev: (counts[sev], Severity(sev).rank))
        top = max(votes, key=lambda f: f.confidence)
        kept.append(top.model_copy(update={"severity": severity, "confidence": s.confidence}))
        support[code] = s
    return kept, support


def _verdicts(outputs: list[ReviewOutput], n: int) -> tuple[list[RuleVerdict], dict[int, Support]]:
    by_index: dict[int, list[RuleVerdict]] = defaultdict(list)
    for out in outputs:
        seen: set[int] = set()
        for v in out.rule_verdicts:  # one verdict per sample and rule finding: its first
            if v.index not in seen:
                seen.add(v.index)
                by_index[v.index].append(v)
    verdicts: list[RuleVerdict] = []
    support: dict[int, Support] = {}
    for index, votes in sorted(by_index.items()):
        counts = Counter(v.verdict for v in votes)
        winner, count = counts.most_common(1)[0]
        if count <= len(votes) - count or count / n < MIN_SHARE:
            continue
        agreeing = [v for v in votes if v.verdict == winner]
        s = Support(n, count, sum(v.confidence for v in agreeing) / count)
        verdicts.append(RuleVerdict(index=index, verdict=winner, confidence=s.confidence))
        support[index] = s
    return verdicts, support
