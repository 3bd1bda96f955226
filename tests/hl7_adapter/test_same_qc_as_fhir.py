"""A report sent by HL7 v2 gets the same QC as the same report sent as a FHIR DiagnosticReport
(issue 12: "a report by FHIR or HL7 v2 with the same QC"): the same text, sections, sex and
exam reach the rules engine, so the same findings come out, evidence offsets included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fhir_adapter.reports import parse_report
from service.engines.rules import RulesEngine, StudyRulesEngine
from service.ingest import ingest, store_report
from service.models import Item
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from tests.fhir_adapter.reports_support import (
    ACSN_TYPE,
    contained_patient,
    iu_reports,
    plain,
)
from tests.hl7_adapter.conftest import Running, ack_code
from tests.hl7_adapter.messages import Oru

# Errors put into real reports so that there is something to find (DESIGN §4).
_MUTATIONS = [
    lambda t: t,
    lambda t: t.replace("IMPRESSION: ", "IMPRESSION: Left lower lobe pneumonia. ", 1),
    lambda t: t.replace("FINDINGS: ", "FINDINGS: The prostate is enlarged. ", 1),
    lambda t: t.replace(
        "FINDINGS: ",
        "FINDINGS: There is a 3 mm right pleural effusion measuring 45 cm. The lungs are celar. ",
        1,
    ),
    lambda t: t.split("\nIMPRESSION:")[0],
]


def _findings(running: Running, pipeline: Pipeline, item_id: int) -> list[tuple[Any, ...]]:
    pipeline.process_item(item_id)
    with running.db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return sorted(
            (f.code, f.severity, f.message, json.dumps(f.evidence, sort_keys=True), f.confidence)
            for f in item.findings
        )


def test_hl7_and_fhir_reports_get_the_same_findings(
    running: Running, shared_data: Path, tmp_path: Path
) -> None:
    pipeline = Pipeline(
        running.db, FileStore(tmp_path), [RulesEngine()], [StudyRulesEngine()], NullPublisher()
    )
    reports = [r for r in iu_reports(shared_data) if r.has_findings and r.has_impression]
    found = 0
    for number, (report, mutate) in enumerate(zip(reports[20:40], _MUTATIONS * 4, strict=False)):
        text = mutate(report.text)
        accession = f"ACC-SAME-{number}"
        resource = contained_patient(plain(text), "female")
        resource["identifier"] = [{"type": ACSN_TYPE, "value": accession}]
        received = parse_report(
            resource, report_id=f"fhir-{number}", resource_json=json.dumps(resource)
        )
        by_fhir = ingest(running.db, store_report, received, running.listener_options)

        message = Oru(text.split("\n"), accession=accession, control_id=f"S{number}")
        ack = running.send(message.text())
        assert ack_code(ack) == "AA"
        with running.db.reader() as session:
            by_hl7 = session.scalars(
                select(Item.id).where(Item.accession == accession, Item.id != by_fhir.item_id)
            ).one()

        from_fhir = _findings(running, pipeline, by_fhir.item_id)
        assert _findings(running, pipeline, by_hl7) == from_fhir, report.key
        found += len(from_fhir)
    assert found > 0  # the comparison compared something
