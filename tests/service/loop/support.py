"""Audited items with a known truth, made through the real core: ingest, a worker running a
scripted engine, the real Observation publisher, and the real audit service."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import numpy as np

from fhir_adapter.publisher import ObservationPublisher
from service.components import Components
from service.loop.audit import AuditRequest, AuditService, MissedIn, VerdictIn
from service.loop.audited_sample import CODE_INDEX, CODE_LIST
from service.models import FindingRow
from service.taxonomy import Severity
from tests.service.api.support import ScriptedEngine, add_report, drain

# What the scripted LLM server answers for a report (a laterality finding), for LLM challengers.
LLM_ANSWER = json.dumps(
    {
        "findings": [
            {
                "code": "report.laterality",
                "severity": "major",
                "message": "Left in findings, right in impression.",
                "quote": "left",
                "confidence": 0.7,
            }
        ],
        "rule_verdicts": [],
    }
)

REPORT_CODES = ("report.laterality", "report.typo", "report.omission", "report.measurement")


@dataclass
class Truth:
    item_ids: list[int]
    truth: np.ndarray  # items x CODE_LIST
    flags: np.ndarray


def audited_reports(comps: Components, n: int, seed: int = 0, auditor: str = "auditor:t") -> Truth:
    """``n`` report items: random flags by the engine, random truth, each audited once."""
    rng = random.Random(seed)
    ids = [
        add_report(comps, f"eval-{seed}-{i}", text=f"FINDINGS: {i}.\nIMPRESSION: ok.")
        for i in range(n)
    ]
    truth = np.zeros((n, len(CODE_LIST)), dtype=bool)
    flags = np.zeros_like(truth)
    script = {}
    for row, item_id in enumerate(ids):
        for code in REPORT_CODES:
            is_true = rng.random() < 0.3
            flagged = rng.random() < (0.7 if is_true else 0.15)
            truth[row, CODE_INDEX[code]] = is_true
            flags[row, CODE_INDEX[code]] = flagged
        script[item_id] = [(c, Severity.MAJOR) for c in REPORT_CODES if flags[row, CODE_INDEX[c]]]
    engine = ScriptedEngine(script=script)  # type: ignore[arg-type]
    assert drain(comps, engine, ObservationPublisher(writeback_enabled=False)) == n
    service = AuditService(comps.db)
    for row, item_id in enumerate(ids):
        with comps.db.reader() as session:
            findings = session.query(FindingRow).filter(FindingRow.item_id == item_id).all()
        verdicts = [
            VerdictIn(f.id, "confirmed" if truth[row, CODE_INDEX[f.code]] else "rejected", "t")
            for f in findings
        ]
        missed = [
            MissedIn(code)
            for code in REPORT_CODES
            if truth[row, CODE_INDEX[code]] and not flags[row, CODE_INDEX[code]]
        ]
        service.submit(item_id, auditor, AuditRequest(verdicts, missed))
    return Truth(ids, truth, flags)
