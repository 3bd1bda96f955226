"""Self-consistency: n samples per question, scripted to differ, through the real client and the
loopback server; confidence = share of samples x the model's own mean confidence."""

from __future__ import annotations

import asyncio
import json

import pytest

from service.engines.base import Finding
from service.engines.llm.client import LLMClient, LLMConfig, LLMUnavailable
from service.engines.llm.consensus import combine
from service.engines.llm.engine import LLMReportEngine, LLMResult
from service.engines.llm.schema import ReviewOutput
from service.taxonomy import Severity
from tests.service.engines.support import report_input
from tests.support.llm_server import Reply, llm_server

TEXT = "FINDINGS: Opacity in the right lower lobe.\nIMPRESSION: Pneumonia in the left lower lobe."


def _answer(
    *findings: tuple[str, str, float], verdicts: tuple[tuple[int, str, float], ...] = ()
) -> str:
    return json.dumps(
        {
            "findings": [
                {
                    "code": c,
                    "severity": s,
                    "message": f"{c} seen.",
                    "quote": "left",
                    "confidence": p,
                }
                for c, s, p in findings
            ],
            "rule_verdicts": [{"index": i, "verdict": v, "confidence": p} for i, v, p in verdicts],
        }
    )


def _rule(code: str) -> Finding:
    return Finding(code, Severity.MINOR, "Rule.", [{"quote": "x"}], 0.7, "rules", "rules-0.2.0")


def _run(url: str, samples: int, rules: list[Finding]) -> LLMResult:
    async def go() -> LLMResult:
        cfg = LLMConfig(base_url=url, model="m", temperature=0.7, samples=samples)
        client = LLMClient(cfg)
        try:
            return await LLMReportEngine(client, mode="both").review(report_input(TEXT), rules)
        finally:
            await client.close()

    return asyncio.run(go())


def test_confidence_is_the_share_of_samples_times_the_models_confidence() -> None:
    with llm_server() as (srv, url):
        srv.push(
            Reply(_answer(("report.laterality", "major", 0.9), verdicts=((0, "reject", 0.8),))),
            Reply(
                _answer(
                    ("report.laterality", "critical", 0.6),
                    ("report.typo", "minor", 0.9),
                    verdicts=((0, "reject", 0.6), (1, "confirm", 0.9)),
                )
            ),
            Reply(_answer(("report.laterality", "major", 0.6), verdicts=((0, "confirm", 0.5),))),
            Reply(_answer(verdicts=((0, "reject", 1.0),))),
        )
        result = _run(url, 4, [_rule("report.omission"), _rule("report.measurement")])
    assert len(srv.requests) == 4 and len(result.calls) == 4  # four separate, metered calls
    assert result.error is None
    by_code = {f.code: f for f in result.findings}
    # laterality: 3 of 4 samples, mean model confidence 0.7 -> 0.75 x 0.7
    lat = by_code["report.laterality"]
    assert lat.engine == "llm" and lat.confidence == pytest.approx(0.525)
    assert lat.severity == Severity.MAJOR  # the most frequent severity among the three
    assert lat.evidence[0]["self_consistency"] == {
        "samples": 4,
        "agreeing": 3,
        "share": 0.75,
        "model_confidence": 0.7,
    }
    assert "+n4" in lat.engine_version
    assert "report.typo" not in by_code  # 1 of 4 samples: under half, dropped
    # rule 0: 3 rejects against 1 confirm -> rejected; rule 1: one confirm of 4 -> unjudged, kept
    assert "report.omission" not in by_code
    kept = by_code["report.measurement"]
    assert not any("llm_verdict" in e for e in kept.evidence)


def test_a_confirmed_rule_finding_records_the_agreement() -> None:
    with llm_server() as (srv, url):
        srv.push(
            Reply(_answer(verdicts=((0, "confirm", 0.8),))),
            Reply(_answer(verdicts=((0, "confirm", 0.6),))),
            Reply(_answer(verdicts=((0, "reject", 0.9),))),
        )
        result = _run(url, 3, [_rule("report.omission")])
    [f] = result.findings
    verdict = f.evidence[-1]
    assert verdict["llm_verdict"] == "confirm"
    assert verdict["llm_confidence"] == pytest.approx(round(2 / 3 * 0.7, 4))
    assert verdict["self_consistency"]["agreeing"] == 2


def test_malformed_samples_are_left_out_and_metered() -> None:
    with llm_server() as (srv, url):
        srv.push(
            Reply(_answer(("report.laterality", "major", 0.8))),
            Reply("not json"),
            Reply("still not json"),
        )
        result = _run(url, 2, [])
    assert len(result.calls) == 3
    assert [c.failure for c in result.calls].count("malformed") == 2
    [f] = result.findings  # one valid sample: it alone decides
    assert f.evidence[0]["self_consistency"]["samples"] == 1 and f.confidence == 0.8


def test_one_sample_unavailable_makes_the_question_unavailable_with_every_call() -> None:
    with llm_server() as (srv, url):
        srv.push(Reply(_answer()), Reply(status=503))

        async def go() -> None:
            cfg = LLMConfig(base_url=url, model="m", temperature=1, samples=2, max_attempts=1)
            client = LLMClient(cfg)
            try:
                await LLMReportEngine(client).review(report_input(TEXT), [])
            finally:
                await client.close()

        with pytest.raises(LLMUnavailable) as caught:
            asyncio.run(go())
    # both samples reached the server: the answered one and the failed one are both metered
    assert sorted((c.error or "", c.failure or "") for c in caught.value.calls) == [
        ("", ""),
        ("HTTP 503", "http_5xx"),
    ]


def test_combine_is_identity_for_one_sample() -> None:
    out = ReviewOutput.model_validate_json(_answer(("report.typo", "minor", 0.4)))
    consensus = combine([out])
    assert consensus.output.findings[0].confidence == 0.4
    assert consensus.findings["report.typo"].share == 1.0
