"""QIDO-RS over what was received, for the reading roles: studies and instances, matching by
keyword or tag, wildcards, paging, the latest version of an instance sent twice."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.dicom_listener.dicomweb.conftest import INGEST, READER, Api, multipart

GOOD = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"


def _study(
    api: Api, shared_data: Path, tmp_path: Path, accession: str, patient: str, n: int
) -> str:
    """``n`` instances of one new study, in two series; its Study Instance UID."""
    study, series = generate_uid(), [generate_uid(), generate_uid()]
    for index in range(n):
        ds = dcmread(shared_data / GOOD)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series[index % 2]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.AccessionNumber, ds.PatientID = accession, patient
        path = tmp_path / f"{accession}-{index}.dcm"
        ds.save_as(path, enforce_file_format=True)
        assert api.stow(multipart([path.read_bytes()])).status_code == 200
    return study


def _get(api: Api, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{api.url}/dicomweb{path}", params=params, headers=READER, timeout=10)


def _values(response: httpx.Response, tag: str) -> list[object]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/dicom+json"
    return [found[tag]["Value"][0] if tag in found else None for found in response.json()]


def test_studies_and_instances(api: Api, shared_data: Path, tmp_path: Path) -> None:
    one = _study(api, shared_data, tmp_path, "ACC-100", "PAT-1", 3)
    two = _study(api, shared_data, tmp_path, "ACC-200", "PAT-2", 1)

    assert _values(_get(api, "/studies"), "0020000D") == [one, two]
    (study,) = _get(api, "/studies", StudyInstanceUID=one).json()
    assert study["00080050"]["Value"] == ["ACC-100"]
    assert study["00100020"]["Value"] == ["PAT-1"]
    assert study["00080061"]["Value"] == ["CR"]
    assert (study["00201206"]["Value"], study["00201208"]["Value"]) == ([2], [3])
    assert _values(_get(api, "/studies", AccessionNumber="ACC-2*"), "0020000D") == [two]
    assert _values(_get(api, "/studies", **{"00100020": "PAT-?"}), "0020000D") == [one, two]
    assert _values(_get(api, "/studies", PatientID="PAT-1", limit="1"), "0020000D") == [one]
    assert _values(_get(api, "/studies", limit="1", offset="1"), "0020000D") == [two]
    assert _get(api, "/studies", AccessionNumber="NONE").json() == []
    assert _get(api, "/studies", StudyInstanceUID=f"{one},{two}").json() != []

    instances = _get(api, f"/studies/{one}/instances")
    assert len(_values(instances, "00080018")) == 3
    assert set(_values(instances, "0020000D")) == {one}
    assert len(_values(_get(api, "/instances"), "00080018")) == 4
    uid = _values(instances, "00080018")[0]
    assert _values(_get(api, "/instances", SOPInstanceUID=str(uid)), "0020000D") == [one]

    ignored = _get(api, "/studies", PatientName="X*", fuzzymatching="true")
    assert len(ignored.json()) == 2
    assert "PatientName" in ignored.headers["warning"]
    assert _get(api, "/studies", limit="0").status_code == 422


def test_an_instance_sent_again_with_other_bytes_is_listed_once(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    ds = dcmread(shared_data / GOOD)
    ds.StudyInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    first = tmp_path / "first.dcm"
    ds.save_as(first, enforce_file_format=True)
    ds.InstitutionName = "Another hospital"
    second = tmp_path / "second.dcm"
    ds.save_as(second, enforce_file_format=True)
    assert api.stow(multipart([first.read_bytes(), second.read_bytes()])).status_code == 200
    (study,) = _get(api, "/studies").json()
    assert study["00201208"]["Value"] == [1]
    assert len(_get(api, "/instances").json()) == 1


def test_qido_needs_a_reading_role(api: Api) -> None:
    url = f"{api.url}/dicomweb/studies"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=INGEST).status_code == 403
    auditor = {"Authorization": "Bearer auditor-token-0123456789"}
    assert httpx.get(url, headers=auditor).status_code == 200
