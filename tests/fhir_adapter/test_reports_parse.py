"""Unit tests of the DiagnosticReport parser: text, context, hashing, ids and every error path."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from fhir_adapter.inbound_bundle import parse_bundle
from fhir_adapter.inbound_errors import FhirInputError
from fhir_adapter.inbound_text import html_to_text
from fhir_adapter.reports import (
    content_hash,
    identifier_report_id,
    load_json,
    parse_report,
    report_id_for,
    require_type,
)
from service.ingest import ReceivedReport
from tests.fhir_adapter.reports_support import (
    ACSN_TYPE,
    b64,
    bundle,
    conclusion,
    contained_patient,
    entry,
    iu_reports,
    minimal_pdf,
    mt_reports,
    narrative,
    plain,
    report,
)

TEXT = "FINDINGS: Heart size normal. Lungs clear.\nIMPRESSION: No acute disease."
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def parse(resource: dict[str, Any], **kw: Any) -> ReceivedReport:
    return parse_report(resource, report_id="r1", resource_json=json.dumps(resource), **kw)


def rejected(resource: dict[str, Any]) -> FhirInputError:
    with pytest.raises(FhirInputError) as caught:
        parse(resource)
    return caught.value


def names(received: ReceivedReport) -> list[str]:
    return [section["name"] for section in received.sections["sections"]]


# -- where the text comes from --------------------------------------------------------------------


def test_plain_text_attachment_is_the_text_and_gives_sections() -> None:
    received = parse(plain(TEXT))
    assert received.text == TEXT
    assert names(received) == ["findings", "impression"]
    impression = received.sections["sections"][1]
    assert received.text[impression["start"] : impression["end"]] == "No acute disease."


def test_plain_text_in_a_declared_charset() -> None:
    text = "FINDINGS: Épanchement pleural gauche.\nIMPRESSION: Pleurésie."
    form = [{"contentType": "text/plain; charset=ISO-8859-1", "data": b64(text, "latin-1")}]
    assert parse(report(presentedForm=form)).text == text


def test_html_attachment_loses_tags_and_decodes_entities() -> None:
    markup = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<h2>FINDINGS:</h2><p>Heart &amp; mediastinum normal; no effusion &lt;1 cm.</p>"
        "<script>alert(1)</script><p>IMPRESSION: Normal.<br/>Stable.</p></body></html>"
    )
    form = [{"contentType": "text/html", "data": b64(markup)}]
    received = parse(report(presentedForm=form))
    assert received.text == (
        "FINDINGS:\nHeart & mediastinum normal; no effusion <1 cm.\nIMPRESSION: Normal.\nStable."
    )
    assert names(received) == ["findings", "impression"]


def test_plain_text_is_preferred_over_html_and_presented_form_over_narrative() -> None:
    form = [
        {"contentType": "text/html", "data": b64("<p>FINDINGS: html</p>")},
        {"contentType": "text/plain", "data": b64("FINDINGS: plain")},
    ]
    resource = report(
        presentedForm=form,
        conclusion="IMPRESSION: conclusion",
        text={"status": "generated", "div": "<div>FINDINGS: narrative</div>"},
    )
    assert parse(resource).text == "FINDINGS: plain"


def test_narrative_div_when_there_is_no_attachment() -> None:
    received = parse(narrative(TEXT, conclusion="not this"))
    assert received.text == TEXT
    assert names(received) == ["findings", "impression"]


def test_conclusion_when_there_is_nothing_else() -> None:
    received = parse(conclusion("IMPRESSION: Right lower lobe pneumonia."))
    assert received.text == "IMPRESSION: Right lower lobe pneumonia."
    assert names(received) == ["impression"]


def test_html_to_text_keeps_one_block_a_line() -> None:
    text = html_to_text("<div><ul><li>one  \n two</li><li>three&nbsp;&#233;</li></ul></div>")
    assert text == "one two\nthree\xa0é"


def test_pdf_attachment_gives_its_text_layer() -> None:
    lines = [
        "FINDINGS: The lungs are clear. No pleural effusion.",
        "IMPRESSION: No acute cardiopulmonary disease (stable).",
    ]
    form = [
        {"contentType": "application/pdf", "data": base64.b64encode(minimal_pdf(lines)).decode()}
    ]
    received = parse(report(presentedForm=form))
    assert "The lungs are clear. No pleural effusion." in received.text
    assert "No acute cardiopulmonary disease (stable)." in received.text
    assert names(received) == ["findings", "impression"]


def test_a_broken_pdf_is_rejected_naming_its_data() -> None:
    form = [{"contentType": "application/pdf", "data": b64("%PDF-1.4 this is not a PDF")}]
    error = rejected(report(presentedForm=form))
    assert (error.status, error.location) == (422, "DiagnosticReport.presentedForm[0].data")


def test_an_unreadable_pdf_is_an_error_not_a_silent_fallback_to_the_conclusion() -> None:
    form = [
        {"contentType": "application/pdf", "data": b64("%PDF-1.4 broken")},
        {"contentType": "image/png", "data": b64("png")},
    ]
    resource = report(presentedForm=form, conclusion="IMPRESSION: Normal.")
    assert rejected(resource).location == "DiagnosticReport.presentedForm[0].data"


def test_attachment_by_url_only_and_no_other_text_is_not_supported() -> None:
    form = [{"contentType": "text/plain", "url": "https://ris.example/reports/1.txt"}]
    error = rejected(report(presentedForm=form))
    assert (error.status, error.issues[0]["code"]) == (422, "not-supported")
    assert error.location == "DiagnosticReport.presentedForm[0]"


def test_report_without_any_text_is_rejected() -> None:
    error = rejected(report())
    assert (error.status, error.issues[0]["code"]) == (422, "required")
    assert error.location == "DiagnosticReport.presentedForm"


def test_text_that_is_not_in_its_charset_is_rejected() -> None:
    form = [{"contentType": "text/plain", "data": base64.b64encode(b"FINDINGS: \xff\xfe").decode()}]
    error = rejected(report(presentedForm=form))
    assert (error.status, error.location) == (422, "DiagnosticReport.presentedForm[0].data")
    form = [{"contentType": "text/plain; charset=klingon", "data": b64("x")}]
    assert rejected(report(presentedForm=form)).location == (
        "DiagnosticReport.presentedForm[0].contentType"
    )


# -- context: sex, exam, accession, study, subject -------------------------------------------------


def test_sex_from_a_contained_patient() -> None:
    received = parse(contained_patient(plain(TEXT), "female"))
    assert received.patient_sex == "female"
    assert received.subject_reference == "#pat"


def test_sex_from_a_patient_sent_alongside_and_none_when_unknown() -> None:
    resource = plain(TEXT, subject={"reference": "Patient/p7"})
    assert parse(resource, patients={"Patient/p7": "male"}).patient_sex == "male"
    assert parse(resource, patients={"Patient/other": "male"}).patient_sex is None
    assert parse(resource).patient_sex is None


def test_exam_code_and_display_from_the_first_coding_or_the_text() -> None:
    received = parse(plain(TEXT))
    assert (received.exam_code, received.exam_display) == ("36643-5", "XR Chest 2 Views")
    received = parse(plain(TEXT, code={"text": "CT ABDOMEN W CONTRAST"}))
    assert (received.exam_code, received.exam_display) == (None, "CT ABDOMEN W CONTRAST")


def test_accession_from_an_acsn_identifier_or_an_accession_system() -> None:
    identifiers = [
        {"system": "urn:oid:1.2.3.4", "value": "RPT-1"},
        {"type": ACSN_TYPE, "value": "ACC123"},
    ]
    assert parse(plain(TEXT, identifier=identifiers)).accession == "ACC123"
    by_system = [{"system": "https://hospital.example/accession-number", "value": "A-9"}]
    assert parse(plain(TEXT, identifier=by_system)).accession == "A-9"
    assert parse(plain(TEXT, identifier=identifiers[:1])).accession is None


def test_study_uid_from_the_imaging_study_reference_identifier() -> None:
    refs = [{"identifier": {"system": "urn:dicom:uid", "value": "urn:oid:1.2.840.113619.2.5"}}]
    assert parse(plain(TEXT, imagingStudy=refs)).study_instance_uid == "1.2.840.113619.2.5"


def test_study_uid_and_accession_from_a_contained_imaging_study() -> None:
    study = {
        "resourceType": "ImagingStudy",
        "id": "st",
        "status": "available",
        "subject": {"reference": "Patient/p1"},
        "identifier": [
            {"system": "urn:dicom:uid", "value": "urn:oid:1.2.3.4.5"},
            {"type": ACSN_TYPE, "value": "ACC-77"},
        ],
    }
    received = parse(plain(TEXT, contained=[study], imagingStudy=[{"reference": "#st"}]))
    assert received.study_instance_uid == "1.2.3.4.5"
    assert received.accession == "ACC-77"


def test_a_malformed_study_uid_is_rejected_naming_it() -> None:
    refs = [{"identifier": {"system": "urn:dicom:uid", "value": "urn:oid:1.2.abc"}}]
    error = rejected(plain(TEXT, imagingStudy=refs))
    assert (error.status, error.location) == (
        422,
        "DiagnosticReport.imagingStudy[0].identifier.value",
    )


def test_values_longer_than_their_column_are_rejected() -> None:
    identifiers = [{"type": ACSN_TYPE, "value": "A" * 65}]
    error = rejected(plain(TEXT, identifier=identifiers))
    assert (error.status, error.issues[0]["code"]) == (422, "too-long")
    assert error.location == "DiagnosticReport.identifier[0].value"


# -- hashing and ids ------------------------------------------------------------------------------


def test_content_hash_ignores_meta_and_id_but_not_content() -> None:
    first = plain(TEXT, id="a1", meta={"versionId": "7", "lastUpdated": "2024-01-01T00:00:00Z"})
    again = plain(TEXT, meta={"source": "ris-2"})
    changed = plain(TEXT + " Addendum.", id="a1")
    assert content_hash(first) == content_hash(again) == parse(again).content_hash
    assert content_hash(first) != content_hash(changed)
    reordered = dict(reversed(list(first.items())))
    assert content_hash(reordered) == content_hash(first)


def test_resource_json_is_kept_as_received() -> None:
    raw = (
        '{ "resourceType" : "DiagnosticReport", "status":"final", "code":{"text":"CXR"},\n'
        ' "conclusion": "IMPRESSION: clear \\u00e9" }'
    )
    data, text = load_json(raw.encode())
    received = parse_report(
        require_type(data, "DiagnosticReport"), report_id="x", resource_json=text
    )
    assert received.resource_json == raw
    assert received.text == "IMPRESSION: clear é"


def test_report_ids_own_then_identifier_then_new() -> None:
    assert report_id_for(plain(TEXT, id="rep-1")) == "rep-1"
    identified = plain(TEXT, identifier=[{"system": "urn:ris", "value": "R/2024/001"}])
    derived = report_id_for(identified)
    assert (
        derived == report_id_for(dict(identified)) == identifier_report_id("urn:ris", "R/2024/001")
    )
    assert FHIR_ID.match(derived)
    assert derived != identifier_report_id("urn:other", "R/2024/001")
    fresh = {report_id_for(plain(TEXT)) for _ in range(3)}
    assert len(fresh) == 3
    assert all(FHIR_ID.match(i) for i in fresh)


# -- invalid input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "code", "expression"),
    [
        (
            {"resourceType": "DiagnosticReport", "code": {"text": "x"}, "conclusion": "c"},
            "required",
            "DiagnosticReport.status",
        ),
        (
            {"resourceType": "DiagnosticReport", "status": "final", "conclusion": "c"},
            "required",
            "DiagnosticReport.code",
        ),
        (conclusion("c", status="bogus"), "value", "DiagnosticReport.status"),
        (conclusion("c", bogus=1), "structure", "DiagnosticReport.bogus"),
        (conclusion("c", code="CXR"), "value", "DiagnosticReport.code"),
        (conclusion("c", issued="2024-01-01T10:00:00"), "value", "DiagnosticReport.issued"),
        (
            conclusion("c", presentedForm=[{"contentType": "text/plain", "data": "!!!"}]),
            "value",
            "DiagnosticReport.presentedForm[0].data",
        ),
        (
            conclusion("c", contained=[{"resourceType": "Patient", "id": "p", "sex": "m"}]),
            "structure",
            "DiagnosticReport.contained[0].sex",
        ),
        (
            conclusion("c", contained=[{"resourceType": "Patient", "id": "p", "gender": "M"}]),
            "value",
            "DiagnosticReport.contained[0].gender",
        ),
        (
            conclusion("c", contained=[{"id": "p"}]),
            "required",
            "DiagnosticReport.contained[0].resourceType",
        ),
        (
            conclusion("c", contained=[{"resourceType": "Nonsense", "id": "p"}]),
            "value",
            "DiagnosticReport.contained[0].resourceType",
        ),
        (
            report(conclusion="c", text={"status": "auto", "div": "<div>x</div>"}),
            "value",
            "DiagnosticReport.text.status",
        ),
        (
            conclusion("c", identifier=[{"use": "primary", "value": "1"}]),
            "value",
            "DiagnosticReport.identifier[0].use",
        ),
        (conclusion("c", id="not an id"), "value", "DiagnosticReport.id"),
    ],
)
def test_invalid_reports_are_422_naming_the_element(
    resource: dict[str, Any], code: str, expression: str
) -> None:
    error = rejected(resource)
    assert error.status == 422
    assert any(i["code"] == code and i["expression"] == [expression] for i in error.issues), (
        error.issues
    )
    assert all(i["diagnostics"].startswith(i["expression"][0]) for i in error.issues)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"resourceType": "DiagnosticReport", ', "not valid JSON"),
        (b'{"resourceType": "DiagnosticReport", "x": NaN}', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_bodies_that_are_not_json_are_400(body: bytes, says: str) -> None:
    with pytest.raises(FhirInputError) as caught:
        load_json(body)
    assert caught.value.status == 400
    assert caught.value.issues[0]["code"] == "structure"
    assert says in caught.value.issues[0]["diagnostics"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([report()], "got a JSON array"),
        ("DiagnosticReport", "got a JSON str"),
        ({"resourceType": "Patient"}, "expected 'DiagnosticReport', got 'Patient'"),
        ({"status": "final"}, "required element missing"),
    ],
)
def test_anything_but_a_diagnostic_report_is_400_naming_resource_type(data: Any, says: str) -> None:
    with pytest.raises(FhirInputError) as caught:
        require_type(data, "DiagnosticReport")
    assert caught.value.status == 400
    assert caught.value.location == "resourceType"
    assert says in caught.value.issues[0]["diagnostics"]


# -- bundles (parsing only; storing is tested over HTTP) ------------------------------------------


def test_bundle_entry_errors_name_the_entry() -> None:
    bad = plain(TEXT, status="bogus")
    twice = plain(TEXT, id="same")
    parsed = parse_bundle(bundle([entry(twice), entry(twice), entry(bad)]))
    assert [e.error is None for e in parsed.entries] == [True, False, False]
    error = parsed.transaction_error()
    assert error is not None
    assert error.status == 400
    expressions = [i["expression"][0] for i in error.issues]
    assert "Bundle.entry[2].resource.status" in expressions
    assert "Bundle.entry[1].resource" in expressions  # the same report written twice


def test_bundle_patient_gives_the_sex_by_full_url_or_by_id() -> None:
    patient = {"resourceType": "Patient", "id": "p9", "gender": "female"}
    by_url = plain(TEXT, subject={"reference": "urn:uuid:7d3f"}, id="a")
    by_id = plain(TEXT, subject={"reference": "Patient/p9"}, id="b")
    parsed = parse_bundle(
        bundle([entry(patient, "PUT", "Patient/p9", "urn:uuid:7d3f"), entry(by_url), entry(by_id)])
    )
    assert [r.patient_sex for r in parsed.reports] == ["female", "female"]


# -- every real report parses into the sections it has ------------------------------------------


def test_every_real_report_parses_with_its_sections(shared_data: Path) -> None:
    reports = iu_reports(shared_data) + mt_reports(shared_data)
    assert len(reports) > 2000
    empty = 0
    for real in reports:
        if not real.text:  # a few Open-i reports have no text at all: nothing to check
            assert rejected(plain(real.text)).location == "DiagnosticReport.presentedForm"
            empty += 1
            continue
        received = parse(plain(real.text))
        found = set(names(received))
        assert received.text == real.text
        if real.has_findings:
            assert found & {"findings", "findings_impression"}, (real.source, real.key, found)
        if real.has_impression:
            assert found & {"impression", "findings_impression"}, (real.source, real.key, found)
    assert empty < 20
