"""Known identifiers: collected from DICOM headers and FHIR resources, found in any order, case,
accent and punctuation; clinical words that are also name components survive."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from service.phi.known import KnownIdentifiers, from_dicom, from_fhir, from_ids

PATIENT = {
    "resourceType": "Patient",
    "id": "pat",
    "name": [{"family": "Quillfeather", "given": ["Zyxwvut", "Ólafur"]}],
    "identifier": [{"system": "urn:oid:1.2.3", "value": "MRN-0042-7731"}],
    "telecom": [
        {"system": "phone", "value": "+1 (617) 555-0142", "use": "home"},
        {"system": "email", "value": "zq@example.org"},
    ],
    "address": [{"line": ["12 Baker Street"], "city": "Marlowtown", "postalCode": "MA 02139"}],
    "birthDate": "1953-04-12",
}
REPORT = {
    "resourceType": "DiagnosticReport",
    "id": "r1",
    "status": "final",
    "contained": [PATIENT],
    "subject": {"reference": "#pat", "display": "Zyxwvut Quillfeather"},
    "performer": [{"reference": "Practitioner/dr7", "display": "Dr. Henrietta Vasquez-Obi"}],
    "resultsInterpreter": [{"reference": "Organization/o1", "display": "Marlow General"}],
    "identifier": [{"system": "urn:acc", "value": "ACC2024-99871"}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "36643-5", "display": "XR Chest"}]},
}


@pytest.fixture(scope="module")
def known() -> KnownIdentifiers:
    return from_fhir(REPORT)


@pytest.mark.parametrize(
    "text",
    [
        "Patient Zyxwvut Quillfeather, cough.",
        "QUILLFEATHER, ZYXWVUT was seen",
        "discussed with quillfeather's wife",
        "Mr Quillfeather-Smith arrived",  # hyphenated with another name
        "Olafur",  # accent-insensitive (Ólafur)
        "Z. Q. attended",  # dotted initials
        "MRN 0042 7731",
        "mrn00427731",
        "call 555-0142",
        "call (617) 555 0142",
        "mail ZQ@EXAMPLE.ORG",
        "lives at 12 Baker St.",
        "Marlowtown",
        "born 04/12/1953",
        "born 12.04.1953",
        "born April 12, 1953",
        "born 12 Apr 1953",
        "read by Dr Vasquez-Obi",
        "at Marlow General",
        "accession ACC2024-99871",
    ],
)
def test_every_form_of_a_known_identifier_is_found(known: KnownIdentifiers, text: str) -> None:
    assert known.find(text), text
    out = known.redact(text)
    for word in ("quillfeather", "zyxwvut", "0142", "7731", "baker", "1953", "vasquez", "99871"):
        assert word not in out.lower()


def test_clinical_text_around_identifiers_survives(known: KnownIdentifiers) -> None:
    text = "Patient Quillfeather, 12 Baker Street. Left lung clear. Heart size normal, 3.2 cm."
    out = known.redact(text)
    assert out == "Patient [NAME], [ADDRESS]. Left lung clear. Heart size normal, 3.2 cm."


def test_a_name_that_is_a_clinical_word_is_removed_only_as_a_whole_name() -> None:
    known = from_fhir({"resourceType": "Patient", "name": [{"family": "White", "given": ["Rose"]}]})
    assert known.redact("Rose White has white matter changes") == "[NAME] has white matter changes"


def test_short_ids_and_code_displays_are_not_identifiers() -> None:
    known = from_fhir(REPORT) | from_ids("r1", "7")
    assert known.redact("XR Chest: r1 7 views") == "XR Chest: r1 7 views"


def test_dicom_header_people_ids_and_places(shared_data: Path) -> None:
    ds = dcmread(shared_data / "cxr/udacity_nih_test1.dcm", stop_before_pixels=True)
    ds.PatientName = "Zyxwvut^Quillfeather^Q^Mr"
    ds.PatientID = "PID-558811"
    ds.OtherPatientIDs = ["NHS 943 476 5919"]
    ds.AccessionNumber = "A77120"
    ds.ReferringPhysicianName = "Okonkwo^Chidi"
    ds.InstitutionName = "St Elsewhere Infirmary"
    ds.PatientBirthDate = "19611130"
    known = from_dicom(ds)
    text = (
        "Quillfeather Zyxwvut (pid558811, NHS 9434765919, acc A77120), DOB 30/11/1961, "
        "referred by Dr Okonkwo from St. Elsewhere Infirmary. No effusion."
    )
    out = known.redact(text)
    for value in ("Quillfeather", "Zyxwvut", "558811", "9434765919", "A77120", "Okonkwo"):
        assert value not in out
    assert "1961" not in out and "Elsewhere" not in out
    assert out.endswith("No effusion.")
    # The UIDs of the study are identifiers too.
    assert str(ds.StudyInstanceUID) not in known.redact(f"uid {ds.StudyInstanceUID}")


def test_empty_sources_know_nothing() -> None:
    assert len(from_dicom(Dataset())) == 0
    assert len(from_fhir({"resourceType": "DiagnosticReport"})) == 0
    assert KnownIdentifiers().redact("Patient Smith") == "Patient Smith"
