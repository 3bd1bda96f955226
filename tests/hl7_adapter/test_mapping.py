"""HL7 fields -> the received report, without sockets: text types, headings from OBX-3, ED
content, PID sex, dates, the FHIR resource kept, the ACK's layout."""

from __future__ import annotations

import json
from typing import Any

import hl7
import pytest

from hl7_adapter.ack import build_ack
from hl7_adapter.errors import AckCode, ErrorCode, HL7Problem
from hl7_adapter.fields import fhir_date_time
from hl7_adapter.message import Unreadable, parse
from hl7_adapter.reports import oru_reports
from service.ingest import ReceivedReport
from tests.fhir_adapter.reports_support import minimal_pdf
from tests.hl7_adapter.messages import MRN, Oru, ed_obx, segment


def _report(message: Oru) -> ReceivedReport:
    parsed = parse(message.encoded())
    (report,) = oru_reports(parsed.header, parsed.message)
    return report


def _obx(n: int, kind: str, value: str, observation: str = "") -> str:
    return segment("OBX", {1: str(n), 2: kind, 3: observation, 5: value, 11: "F"})


def test_tx_lines_are_joined_in_order_and_escapes_undone() -> None:
    report = _report(Oru(["FINDINGS: A | B ^ C & D ~ E \\ F.", "IMPRESSION: Normal."]))
    assert report.text == "FINDINGS: A | B ^ C & D ~ E \\ F.\nIMPRESSION: Normal."


def test_ft_line_breaks_and_repetitions() -> None:
    obx = [_obx(1, "FT", "FINDINGS: Clear.\\.br\\\\H\\IMPRESSION:\\N\\ Normal.~Signed.")]
    report = _report(Oru([], obx=obx))
    assert report.text == "FINDINGS: Clear.\nIMPRESSION: Normal.\nSigned."
    assert [s["name"] for s in report.sections["sections"]] == ["findings", "impression"]


def test_an_unescaped_caret_in_text_stays_text() -> None:
    report = _report(Oru([], obx=[_obx(1, "TX", "FINDINGS: T^2 signal clear.")]))
    assert report.text == "FINDINGS: T^2 signal clear."


@pytest.mark.parametrize(
    ("findings_id", "impression_id"),
    [
        ("18782-3^Findings^LN", "19005-8^Impression^LN"),
        ("^^^&GDT", "^^^&IMP"),
        ("GDT", "IMP"),
    ],
)
def test_obx_identifiers_name_the_sections(findings_id: str, impression_id: str) -> None:
    obx = [
        _obx(1, "TX", "Heart size normal.", findings_id),
        _obx(2, "TX", "Lungs clear.", findings_id),
        _obx(3, "TX", "No acute disease.", impression_id),
    ]
    report = _report(Oru([], obx=obx))
    assert report.text == (
        "FINDINGS:\nHeart size normal.\nLungs clear.\nIMPRESSION:\nNo acute disease."
    )
    assert [s["name"] for s in report.sections["sections"]] == ["findings", "impression"]


def test_a_heading_already_in_the_text_is_not_repeated() -> None:
    obx = [_obx(1, "TX", "IMPRESSION: No acute disease.", "19005-8^Impression^LN")]
    assert _report(Oru([], obx=obx)).text == "IMPRESSION: No acute disease."


def test_coded_and_numeric_observations_are_not_text() -> None:
    obx = [
        _obx(1, "CE", "RID5^x^RADLEX"),
        _obx(2, "NM", "42"),
        _obx(3, "TX", "FINDINGS: Clear."),
    ]
    assert _report(Oru([], obx=obx)).text == "FINDINGS: Clear."


def test_ed_base64_text() -> None:
    text = b"FINDINGS: Clear lungs.\r\nIMPRESSION: Normal."
    report = _report(Oru([], obx=[ed_obx(text, subtype="TEXT", kind="TEXT")]))
    assert report.text == "FINDINGS: Clear lungs.\nIMPRESSION: Normal."


def test_ed_base64_pdf() -> None:
    pdf = minimal_pdf(["FINDINGS: Clear lungs.", "IMPRESSION: Normal."])
    report = _report(Oru([], obx=[ed_obx(pdf)]))
    assert "FINDINGS: Clear lungs." in report.text and "IMPRESSION: Normal." in report.text


@pytest.mark.parametrize(
    ("obx", "code"),
    [
        (segment("OBX", {1: "1", 2: "ED", 5: "RIS^AP^PDF^Base64^!!notbase64!!"}), "102"),
        (ed_obx(b"not a pdf at all"), "102"),
        (ed_obx(b"\x89PNG....", subtype="PNG", kind="IM"), "103"),
        (segment("OBX", {1: "1", 2: "ED", 5: "RIS^AP^PDF^UUENCODE^abc"}), "103"),
    ],
    ids=["bad-base64", "bad-pdf", "image", "unknown-encoding"],
)
def test_ed_content_that_is_not_report_text_is_an_error(obx: str, code: str) -> None:
    with pytest.raises(HL7Problem) as caught:
        _report(Oru([], obx=[obx]))
    assert caught.value.ack is AckCode.ERROR
    assert caught.value.code.value.startswith(code)


@pytest.mark.parametrize(
    ("sex", "expected"),
    [
        ("M", "male"),
        ("F", "female"),
        ("O", "other"),
        ("A", "other"),
        ("U", "unknown"),
        ("", None),
        ("Q", None),
    ],
)
def test_pid_8_is_the_patient_sex(sex: str, expected: str | None) -> None:
    assert _report(Oru(["FINDINGS: Clear."], sex=sex)).patient_sex == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("F", "final"),
        ("C", "corrected"),
        ("P", "preliminary"),
        ("A", "partial"),
        ("R", "partial"),
        ("X", "entered-in-error"),
    ],
)
def test_obr_25_is_the_status(status: str, expected: str) -> None:
    assert _report(Oru(["FINDINGS: Clear."], status=status)).status == expected


def test_the_resource_kept_is_a_fhir_diagnostic_report() -> None:
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    report = _report(Oru(["FINDINGS: Clear.", "IMPRESSION: Normal."]))
    resource: dict[str, Any] = json.loads(report.resource_json)
    DiagnosticReport.model_validate(resource)
    patient = resource["contained"][0]
    assert patient["identifier"][0]["value"] == MRN
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.3.4"
    assert (patient["gender"], patient["birthDate"]) == ("female", "1950-01-02")
    assert resource["subject"] == {"reference": "#patient"}
    assert resource["effectiveDateTime"] == "2026-12-05T09:30:00+01:00"
    assert report.subject_reference == "#patient"


def test_the_same_report_under_another_control_id_has_the_same_hash() -> None:
    first = _report(Oru(["FINDINGS: Clear."]))
    again = _report(Oru(["FINDINGS: Clear."], control_id="X9", extra_msh={7: "20270101"}))
    changed = _report(Oru(["FINDINGS: Clear!"]))
    assert first.content_hash == again.content_hash != changed.content_hash
    assert first.report_id == again.report_id == changed.report_id


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026", "2026"),
        ("202612", "2026-12"),
        ("20261205", "2026-12-05"),
        ("202612051030", "2026-12-05"),  # a time without a zone: the date only
        ("20261205103015.123+0100", "2026-12-05T10:30:15+01:00"),
        ("20261305", None),
        ("yesterday", None),
    ],
)
def test_hl7_timestamps_as_fhir(ts: str, expected: str | None) -> None:
    assert fhir_date_time(ts) == expected


def test_wrong_encoding_characters_are_unreadable() -> None:
    with pytest.raises(Unreadable):
        parse(b"MSH|^~|RIS|H|||||ORU^R01|1|P|2.5\r")


def test_the_ack_has_msa_and_err_in_v2_5_layout() -> None:
    parsed = parse(Oru(["FINDINGS: Clear."]).encoded())
    text = build_ack(
        AckCode.ERROR,
        parsed.header.raw_fields,
        reason="PID-3 | missing",
        error=ErrorCode.REQUIRED_FIELD,
        location="PID^1^3",
    )
    ack = hl7.parse(text)
    msh, msa, err = ack.segment("MSH"), ack.segment("MSA"), ack.segment("ERR")
    assert (str(msh(3)), str(msh(5)), str(msh(6))) == ("RADQC", "RIS", "GENHOSP")
    assert str(msh(9)) == "ACK^R01^ACK"
    assert (str(msa(1)), str(msa(2))) == ("AE", "MSG00001")
    assert ack.unescape(str(msa(3))) == "PID-3 | missing"
    assert str(err(2)) == "PID^1^3"
    assert str(err(3)) == "101^Required field missing^HL70357"
    assert str(err(4)) == "E"
