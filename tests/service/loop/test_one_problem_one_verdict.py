"""Issue 15, "one problem, one verdict": each distinct problem is its own finding, so an auditor
confirms or rejects it alone, it has its own Observation, and the evaluation counts each verdict.

Real rules (the header checks) on a real veterinary film whose header has two ``cxr.metadata``
problems (ViewPosition missing, a veterinary subject), the real pipeline, Observation publisher,
audit service and evaluation, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fhir_adapter import observations as obs
from fhir_adapter.publisher import ObservationPublisher
from service.components import Components
from service.engines.base import Finding
from service.engines.rules import HEADER_CHECKS, RulesEngine
from service.findings import by_problem, problem_key
from service.loop.audit import AuditRequest, AuditService, VerdictIn, observation_status
from service.loop.audited_sample import CODE_INDEX
from service.loop.evaluation import EvaluationRequest, EvaluationService
from service.loop.models import AuditFinding
from service.models import FindingRow, Item, Observation, OutboxEntry
from service.pipeline import Pipeline
from service.taxonomy import SUMMARY_CODE, Severity
from tests.service.api.support import add_image
from tests.service.engines.support import CXR_FILES
from tests.service.loop.support import REPORT_CODES, audited_reports

VIEW = "ViewPosition+PatientPosition"


def _finding(code: str, evidence: list[dict[str, object]], message: str = "m") -> Finding:
    return Finding(code, Severity.MINOR, message, evidence, 0.8, "rules", "t")


# -- the problem key ---------------------------------------------------------------------------
def test_the_problem_key_names_the_place_not_the_values() -> None:
    view = [
        {"tag": "(0018,5101)", "keyword": "ViewPosition", "value": None},
        {"tag": "(0018,5100)", "keyword": "PatientPosition", "value": "XX"},
    ]
    assert problem_key(view) == VIEW
    assert problem_key([{**view[0], "value": "PA"}, view[1]]) == VIEW
    text = {"section": "impression", "start": 120, "end": 134, "quote": "left lung"}
    assert problem_key([text]) == "impression@120-134"
    region = {"keyword": "PixelData", "region": [0, 0, 512, 1024], "metric": "apex", "value": 1}
    assert problem_key([region]) == "PixelData@0,0,512,1024[apex]"
    duplicate = {"keyword": "SOPInstanceUID", "value": None, "duplicate_of_item": 7}
    assert problem_key([duplicate]) == "SOPInstanceUID[duplicate_of_item=7]"
    assert problem_key([{"field": "exam_display", "value": "CT HEAD"}]) == "exam_display"
    quoted = problem_key([{"quote": "lft", "merge_policy": "both"}])
    assert quoted.startswith("#") and "lft" not in quoted  # an LLM quote without offsets
    assert problem_key([]) == problem_key([{"quote": ""}]) == ""
    long = problem_key([{"keyword": f"K{i:03d}"} for i in range(40)])
    assert long.startswith("sha256:") and len(long) <= 128


def test_what_an_llm_adds_to_the_evidence_keeps_the_key() -> None:
    """The LLM stage stores the rule findings again with its verdict and agreement added to
    their evidence: the same problem, the same row."""
    first = [{"section": "findings", "start": 3, "end": 9, "quote": "lefft"}]
    verified = [
        {**first[0], "self_consistency": {"agree": 3, "samples": 3}},
        {"llm_verdict": "confirm", "llm_confidence": 0.9},
    ]
    assert problem_key(verified) == problem_key(first) == "findings@3-9"


def test_problems_of_one_code_stay_apart_and_one_problem_is_folded() -> None:
    view = _finding("cxr.metadata", [{"keyword": "ViewPosition"}], "ViewPosition is missing.")
    sex = _finding("cxr.metadata", [{"keyword": "PatientSex"}], "PatientSex is missing.")
    again = _finding("cxr.metadata", [{"keyword": "ViewPosition"}], "No projection recorded.")
    verdict = _finding(  # the first one again, with an LLM's verdict
        "cxr.metadata",
        [{"keyword": "ViewPosition"}, {"llm_verdict": "confirm"}],
        "ViewPosition is missing.",
    )
    kept = by_problem([view, sex, again, verdict])
    assert sorted(kept) == [("cxr.metadata", "PatientSex"), ("cxr.metadata", "ViewPosition")]
    folded = kept[("cxr.metadata", "ViewPosition")]
    assert folded.message == "ViewPosition is missing. No projection recorded."
    assert folded.evidence == [{"keyword": "ViewPosition"}, {"llm_verdict": "confirm"}]
    assert problem_key(folded.evidence) == "ViewPosition"


# -- stored, audited, published, evaluated -----------------------------------------------------
def _pipeline(comps: Components, publisher: ObservationPublisher) -> Pipeline:
    engine = RulesEngine(image_checks=HEADER_CHECKS)
    return Pipeline(comps.db, comps.files, [engine], [], publisher)


def _metadata(comps: Components, item_id: int) -> dict[str, tuple[int, str]]:
    """The item's cxr.metadata findings: problem key -> (finding id, message)."""
    with comps.db.reader() as session:
        rows = session.scalars(
            select(FindingRow).where(
                FindingRow.item_id == item_id, FindingRow.code == "cxr.metadata"
            )
        ).all()
        return {r.problem_key: (r.id, r.message) for r in rows}


def _observations(comps: Components, item_id: int) -> dict[str, tuple[int | None, str, int]]:
    """The item's finding Observations: id -> (finding id, status, version)."""
    with comps.db.reader() as session:
        rows = session.scalars(
            select(Observation).where(
                Observation.item_id == item_id, Observation.code != SUMMARY_CODE
            )
        ).all()
        return {r.id: (r.finding_id, r.status, r.version) for r in rows}


def test_two_header_problems_of_one_code_are_two_findings_audited_and_published_apart(
    comps: Components, shared_data: Path
) -> None:
    publisher = ObservationPublisher(writeback_enabled=True, status_of=observation_status)
    pipeline = _pipeline(comps, publisher)
    item_id = add_image(
        comps,
        shared_data,
        "1.2.826.0.1.3680043.8.498.77",
        "1.2.826.0.1.3680043.8.498.7",
        None,
        file=CXR_FILES["nonhuman"],
    )
    pipeline.process_item(item_id)

    found = _metadata(comps, item_id)
    assert len(found) == 2, found  # ViewPosition missing; a veterinary subject
    view_id, view_message = found[VIEW]
    [(animal_key, (animal_id, animal_message))] = [(k, v) for k, v in found.items() if k != VIEW]
    assert "ViewPosition is missing" in view_message and "veterinary" not in view_message
    assert "veterinary" in animal_message and "ViewPosition" not in animal_message

    # one Observation per problem, with an id from the problem key; the summary links both
    with comps.db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        key = obs.item_key(item)
    wanted = {
        obs.finding_observation_id(key, "rules", "cxr.metadata", "item", VIEW): view_id,
        obs.finding_observation_id(key, "rules", "cxr.metadata", "item", animal_key): animal_id,
    }
    published = _observations(comps, item_id)
    assert {i: published[i][0] for i in wanted} == wanted
    with comps.db.reader() as session:
        summary = json.loads(
            session.scalars(
                select(Observation.resource_json).where(
                    Observation.item_id == item_id, Observation.code == SUMMARY_CODE
                )
            ).one()
        )
    assert {m["reference"] for m in summary["hasMember"]} >= {f"Observation/{i}" for i in wanted}

    # each problem gets its own verdict, and its Observation follows it
    audits = AuditService(comps.db, on_audited=publisher.publish)
    others = [
        VerdictIn(fid, "confirmed", None)
        for fid in _finding_ids(comps, item_id)
        if fid not in (view_id, animal_id)
    ]
    audits.submit(
        item_id,
        "auditor:one",
        AuditRequest(
            [
                VerdictIn(view_id, "confirmed", None),
                VerdictIn(animal_id, "rejected", "a dog"),
                *others,
            ]
        ),
    )
    with comps.db.reader() as session:
        judged = dict(
            session.execute(
                select(AuditFinding.finding_id, AuditFinding.verdict).where(
                    AuditFinding.finding_id.in_([view_id, animal_id])
                )
            ).all()
        )
    assert judged == {view_id: "confirmed", animal_id: "rejected"}
    view_obs, animal_obs = (
        obs.finding_observation_id(key, "rules", "cxr.metadata", "item", k)
        for k in (VIEW, animal_key)
    )
    statuses = {i: s for i, (_, s, _) in _observations(comps, item_id).items()}
    assert (statuses[view_obs], statuses[animal_obs]) == ("final", "cancelled")

    # processed again: the same findings, the same Observations, nothing new to write back
    before, outbox = _observations(comps, item_id), _outbox(comps)
    pipeline.process_item(item_id)
    assert _metadata(comps, item_id) == found
    assert _observations(comps, item_id) == before
    assert _outbox(comps) == outbox

    # the evaluation: the code is true on the item (one problem confirmed); per finding, one
    # confirmed and one rejected
    run = EvaluationService(comps.db).run(EvaluationRequest(weighted=False), "tester")
    metadata = run.metrics["per_code"]["cxr.metadata"]
    assert (metadata["tp"], metadata["fp"], metadata["fn"]) == (1, 0, 0)
    judged_metadata = metadata["findings"]
    assert (judged_metadata["confirmed"], judged_metadata["rejected"]) == (1, 1)
    assert judged_metadata["precision"]["value"] == pytest.approx(0.5)


def _finding_ids(comps: Components, item_id: int) -> list[int]:
    with comps.db.reader() as session:
        return list(session.scalars(select(FindingRow.id).where(FindingRow.item_id == item_id)))


def _outbox(comps: Components) -> int:
    with comps.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)


def test_the_evaluation_counts_every_verdict_given(comps: Components) -> None:
    """Per finding, as judged: a confirmed finding is confirmed, a rejected one rejected, per
    code (beside the code's item figures) and pooled, for the run's configuration and for each
    configuration found."""
    known = audited_reports(comps, 20, seed=7)
    run = EvaluationService(comps.db).run(EvaluationRequest(weighted=False), "tester")
    for code in REPORT_CODES:
        column = CODE_INDEX[code]
        flagged, true = known.flags[:, column], known.truth[:, column]
        confirmed, rejected = int((flagged & true).sum()), int((flagged & ~true).sum())
        if confirmed + rejected == 0:
            assert "findings" not in run.metrics["per_code"].get(code, {})
            continue
        entry = run.metrics["per_code"][code]["findings"]
        assert (entry["confirmed"], entry["rejected"]) == (confirmed, rejected)
        share = entry["precision"]
        assert share["value"] == pytest.approx(confirmed / (confirmed + rejected))
        assert share["low"] <= share["value"] <= share["high"]
    pooled = run.metrics["findings"]
    assert pooled["confirmed"] == int((known.flags & known.truth).sum())
    assert pooled["rejected"] == int((known.flags & ~known.truth).sum())
    assert run.metrics["by_configuration"]["rules@scripted-1"]["findings"] == pooled
    other = EvaluationService(comps.db).run(EvaluationRequest(engine="llm"), "tester")
    assert other.metrics["findings"] == {
        "confirmed": 0,
        "rejected": 0,
        "precision": {"value": None, "low": None, "high": None, "n": 0},
    }
