"""The MLLP listener over real sockets, on SQLite and PostgreSQL: python-hl7's own client sends
ORU^R01 messages holding published Open-i reports; the report and its QC job are committed
before the AA; duplicates, corrections and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hl7_adapter.reports import report_id
from service.models import Item, Job, Report, ReportVersion
from tests.fhir_adapter.reports_support import RealReport, iu_reports
from tests.hl7_adapter.conftest import Running, ack_code
from tests.hl7_adapter.messages import ACCESSION, STUDY_UID, Oru, segment


@pytest.fixture(scope="module")
def real_reports(shared_data: Path) -> list[RealReport]:
    return [r for r in iu_reports(shared_data) if r.has_findings and r.has_impression][:20]


def _lines(report: RealReport) -> list[str]:
    return report.text.split("\n")


def _versions(running: Running) -> list[ReportVersion]:
    with running.db.reader() as session:
        rows = session.scalars(select(ReportVersion).order_by(ReportVersion.version)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_a_report_and_its_job_are_committed_before_the_aa(
    running: Running, real_reports: list[RealReport]
) -> None:
    report = real_reports[0]
    ack = running.send(Oru(_lines(report)).text())

    assert ack_code(ack) == "AA"
    assert str(ack.segment("MSA")(2)) == "MSG00001"
    assert str(ack.segment("MSH")(9)) == "ACK^R01^ACK"
    with running.db.reader() as session:
        stored = session.scalars(select(Report)).one()
        version = session.scalars(select(ReportVersion)).one()
        item = session.scalars(select(Item)).one()
        job = session.scalars(select(Job).where(Job.kind == "qc")).one()
        assert stored.report_id == report_id("RIS", ACCESSION)
        assert version.text == report.text
        assert version.status == "final"
        assert version.patient_sex == "female"
        assert (version.exam_code, version.exam_display) == ("36643-5", "XR Chest 2 Views")
        assert version.accession == ACCESSION
        assert version.study_instance_uid == STUDY_UID
        names = [s["name"] for s in version.sections["sections"]]
        assert "findings" in names and "impression" in names
        assert (item.kind, item.report_id, item.report_version) == ("report", stored.report_id, 1)
        assert (job.item_id, job.status) == (item.id, "queued")


def test_the_same_report_again_is_acknowledged_and_stored_once(
    running: Running, real_reports: list[RealReport]
) -> None:
    lines = _lines(real_reports[1])
    first = Oru(lines)
    assert ack_code(running.send(first.text())) == "AA"
    assert ack_code(running.send(first.text())) == "AA"  # the same control id (a retry)
    again = Oru(lines, control_id="MSG00002", extra_msh={7: "20261205111500+0100"})
    assert ack_code(running.send(again.text())) == "AA"  # the same content, a new message
    assert running.counts() == (1, 1, 1, 1)


def test_a_correction_is_a_new_version_and_a_late_retry_undoes_nothing(
    running: Running, real_reports: list[RealReport]
) -> None:
    lines = _lines(real_reports[2])
    original = Oru(lines)
    corrected = Oru([*lines, "ADDENDUM: compared with the prior study."], status="C")
    corrected.control_id = "MSG00002"
    assert ack_code(running.send(original.text())) == "AA"
    assert ack_code(running.send(corrected.text())) == "AA"
    assert ack_code(running.send(original.text())) == "AA"  # a late retry of version 1

    versions = _versions(running)
    assert [(v.version, v.status) for v in versions] == [(1, "final"), (2, "corrected")]
    assert versions[1].text.endswith("compared with the prior study.")
    assert running.counts() == (1, 2, 2, 2)


def test_withdrawn_by_a_cancelled_result_status(
    running: Running, real_reports: list[RealReport]
) -> None:
    lines = _lines(real_reports[3])
    assert ack_code(running.send(Oru(lines).text())) == "AA"
    withdrawn = Oru(lines, status="X", control_id="MSG00003")
    assert ack_code(running.send(withdrawn.text())) == "AA"
    assert [v.status for v in _versions(running)] == ["final", "entered-in-error"]


def _no_text_obx() -> list[str]:
    return [segment("OBX", {1: "1", 2: "CE", 3: "RID5^finding^RADLEX", 5: "RID28493^x^RADLEX"})]


@pytest.mark.parametrize(
    ("change", "error", "where"),
    [
        ({"drop": frozenset({"PID"})}, "100", "PID"),
        ({"drop": frozenset({"OBR"})}, "100", "OBX^1"),
        ({"drop": frozenset({"OBX"})}, "100", "OBX"),
        ({"obx": _no_text_obx()}, "101", "OBX^1^5"),
        ({"status": "Z"}, "103", "OBR^1^25"),
        ({"status": ""}, "101", "OBR^1^25"),
        ({"status": "S"}, "103", "OBR^1^25"),
        ({"exam": ""}, "101", "OBR^1^4"),
        ({"accession": ""}, "101", "OBR^1^3"),
        ({"study_uid": "1.2.x.3"}, "102", "ZDS^1^1"),
        ({"control_id": ""}, "101", "MSH^1^10"),
        ({"charset": "EBCDIC"}, "103", "MSH^1^18"),
    ],
    ids=[
        "no-PID",
        "no-OBR",
        "no-OBX",
        "no-text",
        "bad-status",
        "no-status",
        "no-result-yet",
        "no-exam",
        "no-accession",
        "bad-study-uid",
        "no-control-id",
        "unknown-charset",
    ],
)
def test_content_errors_get_ae_with_err_and_store_nothing(
    running: Running,
    real_reports: list[RealReport],
    change: dict[str, object],
    error: str,
    where: str,
) -> None:
    message = Oru(_lines(real_reports[4]))
    for name, value in change.items():
        setattr(message, name, value)
    ack = running.send(message.text())

    assert ack_code(ack) == "AE"
    err = ack.segment("ERR")
    assert str(err(3)).split("^")[0] == error
    assert str(err(2)) == where
    assert str(ack.segment("MSA")(3))  # a reason for the people at the sender
    assert running.counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"message_type": "ADT^A01^ADT_A01"}, "200"),
        ({"message_type": "ORU^R30^ORU_R30"}, "201"),
        ({"processing_id": "T"}, "202"),
        ({"processing_id": ""}, "202"),
        ({"version": "3.0"}, "203"),
    ],
    ids=["unsupported-type", "unsupported-event", "training", "no-processing-id", "v3"],
)
def test_messages_not_accepted_here_get_ar(
    running: Running, real_reports: list[RealReport], change: dict[str, object], error: str
) -> None:
    message = Oru(_lines(real_reports[5]))
    for name, value in change.items():
        setattr(message, name, value)
    ack = running.send(message.text())
    assert ack_code(ack) == "AR"
    assert str(ack.segment("ERR")(3)).split("^")[0] == error
    assert running.counts() == (0, 0, 0, 0)


def test_a_sender_off_the_allow_list_gets_ar(
    running: Running, real_reports: list[RealReport]
) -> None:
    from tests.hl7_adapter.conftest import hl7_settings, start_listener

    configured = hl7_settings(running.settings, hl7_allowed_senders=["RIS^GENHOSP", "^OTHERHOSP"])
    listener = start_listener(configured, running.db)
    guarded = Running(listener, running.db, configured)
    try:
        lines = _lines(real_reports[6])
        stranger = Oru(lines, sender=("RIS", "ELSEWHERE"))
        ack = guarded.send(stranger.text())
        assert ack_code(ack) == "AR"
        assert str(ack.segment("ERR")(3)).split("^")[0] == "204"
        assert guarded.counts() == (0, 0, 0, 0)
        assert ack_code(guarded.send(Oru(lines).text())) == "AA"
        other = Oru(lines, sender=("PACSRIS", "OTHERHOSP"), accession="ACC-OTHER-1")
        assert ack_code(guarded.send(other.text())) == "AA"
    finally:
        listener.stop(timeout=5)


def test_latin_1_declared_in_msh_18(running: Running) -> None:
    lines = ["FINDINGS: Cœur normal. Poumons clairs, épanchement absent.", "IMPRESSION: Normal."]
    lines[0] = lines[0].replace("œ", "oe")  # not in Latin-1
    message = Oru(lines, charset="8859/1")
    with __import__("hl7.client").client.MLLPClient("127.0.0.1", running.port) as client:
        raw = client.send(b"\x0b" + message.encoded("latin-1") + b"\x1c\x0d")
    assert b"|AA|" in raw
    assert _versions(running)[0].text.startswith("FINDINGS: Coeur normal. Poumons clairs, é")


def test_an_mdm_t02_is_a_version_of_the_same_orders_report(
    running: Running, real_reports: list[RealReport]
) -> None:
    lines = _lines(real_reports[7])
    assert ack_code(running.send(Oru(lines).text())) == "AA"
    mdm = [
        segment(
            "MSH", {3: "RIS", 4: "GENHOSP", 9: "MDM^T02^MDM_T02", 10: "DOC1", 11: "P", 12: "2.5.1"}
        ),
        segment("EVN", {1: "T02", 2: "20261205120000"}),
        segment("PID", {1: "1", 3: "MRN-0042-7731^^^GENHOSP^MR", 8: "F"}),
        segment("PV1", {1: "1", 2: "O"}),
        segment("ORC", {1: "RE", 3: f"{ACCESSION}^RIS"}),
        segment("OBR", {1: "1", 3: f"{ACCESSION}^RIS", 4: "36643-5^XR Chest 2 Views^LN"}),
        segment(
            "TXA",
            {1: "1", 2: "RAD^Radiology report", 3: "TX", 12: "DOC-88^RIS", 17: "AU", 19: "AV"},
        ),
        *(
            segment("OBX", {1: str(n), 2: "TX", 5: line})
            for n, line in enumerate([*lines, "ADDENDUM: dictated again."], 1)
        ),
    ]
    ack = running.send("\r".join(mdm) + "\r")
    assert ack_code(ack) == "AA"
    assert str(ack.segment("MSH")(9)) == "ACK^T02^ACK"
    versions = _versions(running)
    assert [(v.version, v.status) for v in versions] == [(1, "final"), (2, "final")]
    assert running.counts() == (1, 2, 2, 2)


def test_an_unreachable_database_gets_ar_so_the_sender_tries_again(tmp_path: Path) -> None:
    from service.config import Settings
    from service.db import Database
    from tests.hl7_adapter.conftest import start_listener
    from tests.support.servers import free_port

    url = f"postgresql+psycopg://radqc@127.0.0.1:{free_port()}/gone"  # nothing listens there
    configured = Settings(data_dir=tmp_path, database_url=url, hl7_port=0)
    db = Database(url)
    listener = start_listener(configured, db)
    try:
        ack = Running(listener, db, configured).send(Oru(["FINDINGS: Clear."]).text())
        assert ack_code(ack) == "AR"
        assert str(ack.segment("ERR")(3)).split("^")[0] == "207"
        assert "again" in str(ack.segment("MSA")(3))
    finally:
        listener.stop(timeout=5)
        db.dispose()
