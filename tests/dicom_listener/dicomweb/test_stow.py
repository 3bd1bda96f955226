"""STOW-RS against the real HTTP application on loopback, on SQLite and PostgreSQL: dicomweb-client
(a client nobody here wrote), raw multipart bodies good and bad, the PS3.18 answers, and that a
STOW and a C-STORE of the same file are one object."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread, dcmwrite

from dicom_listener.dicomweb.stow import (
    CANNOT_UNDERSTAND,
    DATA_SET_DOES_NOT_MATCH_SOP_CLASS,
    SOP_CLASS_NOT_SUPPORTED,
)
from service.config import Settings
from service.db import Database
from service.dicom_receive.part10 import read_file_meta
from tests.dicom_listener.conftest import (
    DbState,
    assert_one_job_per_item,
    conflict_flags,
    cxr_files,
    db_state,
    has_file_meta,
    part_ten,
    pynetdicom_store,
    start_listener,
    stored_instances,
)
from tests.dicom_listener.dicomweb.conftest import (
    INGEST,
    READER,
    STOW_TYPE,
    Api,
    failure_reasons,
    item_and_job,
    multipart,
    referenced_uids,
    serving,
)
from tests.dicom_listener.samples import Sample, copy_with_new_uids, encoded, header_dataset

GOOD = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"  # 127 kB
DICOM_JSON = "application/dicom+json"


def fresh(shared_data: Path, tmp_path: Path, name: str = "good.dcm") -> Path:
    return copy_with_new_uids(shared_data / GOOD, tmp_path / name)


def assert_stored_as_sent(api: Api, path: Path, version: int = 1) -> None:
    split = part_ten(path)
    rows = [
        row for row in stored_instances(api.db, split.sop_instance_uid) if row.version == version
    ]
    assert len(rows) == 1, f"no version {version} of {path.name}"
    assert part_ten(api.files.path(rows[0].path)).dataset == split.dataset
    assert rows[0].transfer_syntax_uid == split.transfer_syntax


def stored_files(api: Api) -> int:
    return len(list(api.files.root.glob("??/??/*.dcm")))


# --- dicomweb-client ---------------------------------------------------------------------------


def _client(api: Api, headers: dict[str, str] = INGEST) -> DICOMwebClient:
    return DICOMwebClient(url=f"{api.url}/dicomweb", headers=headers)


def _encoded_as_the_client_does(path: Path) -> tuple[str, bytes]:
    """(SOP Instance UID, dataset bytes) of the file dicomweb-client makes of ``path``."""
    buffer = io.BytesIO()
    dcmwrite(buffer, dcmread(path))
    data = buffer.getvalue()
    meta = read_file_meta(data)
    return str(meta.sop_instance_uid), data[meta.dataset_offset :]


def test_dicomweb_client_stores_every_shared_cxr_file(api: Api, shared_data: Path) -> None:
    paths = [path for path in cxr_files(shared_data) if has_file_meta(path)]
    assert len(paths) >= 15
    answer = _client(api).store_instances([dcmread(path) for path in paths])
    assert "FailedSOPSequence" not in answer
    assert [str(item.ReferencedSOPInstanceUID) for item in answer.ReferencedSOPSequence] == [
        str(dcmread(path, stop_before_pixels=True).SOPInstanceUID) for path in paths
    ]
    versions: dict[str, list[bytes]] = defaultdict(list)
    for path in paths:
        uid, data = _encoded_as_the_client_does(path)
        if data not in versions[uid]:
            versions[uid].append(data)
    distinct = sum(len(datasets) for datasets in versions.values())
    assert distinct > len(versions)  # the shared data has same-UID files with different bytes
    assert db_state(api.db) == DbState(distinct, distinct, distinct)
    assert_one_job_per_item(api.db)
    for uid, datasets in versions.items():
        assert conflict_flags(api.db, uid) == [False] + [True] * (len(datasets) - 1)

    again = _client(api).store_instances([dcmread(path) for path in paths])  # all duplicates
    assert len(again.ReferencedSOPSequence) == len(paths)
    assert db_state(api.db) == DbState(distinct, distinct, distinct)


def test_dicomweb_client_to_a_study_and_its_search(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    path = fresh(shared_data, tmp_path)
    ds = dcmread(path)
    answer = _client(api).store_instances([ds], study_instance_uid=ds.StudyInstanceUID)
    assert answer.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
    reader = _client(api, READER)
    (study,) = reader.search_for_studies(search_filters={"StudyInstanceUID": ds.StudyInstanceUID})
    assert study["0020000D"]["Value"] == [ds.StudyInstanceUID]
    (instance,) = reader.search_for_instances(study_instance_uid=ds.StudyInstanceUID)
    assert instance["00080018"]["Value"] == [ds.SOPInstanceUID]


def test_dicomweb_client_sees_409_when_nothing_is_stored(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    ds = dcmread(fresh(shared_data, tmp_path))
    with pytest.raises(requests.HTTPError) as raised:
        _client(api).store_instances([ds], study_instance_uid="1.2.3.4")
    assert raised.value.response.status_code == 409
    assert db_state(api.db) == DbState(0, 0, 0)


# --- raw multipart: good and bad parts ---------------------------------------------------------


def test_one_file_200_and_its_item_and_job_exist_when_answered(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    path = fresh(shared_data, tmp_path)
    response = api.stow(multipart([path.read_bytes()]))
    assert response.status_code == 200
    assert response.headers["content-type"] == DICOM_JSON
    uid = part_ten(path).sop_instance_uid
    assert referenced_uids(response) == [uid]
    assert "00081190" not in response.json()  # no Retrieve URL: radqc serves no WADO-RS
    # Durable before the answer: the item and its QC job are committed, read straight after.
    ((item_id, job_status),) = item_and_job(api.db, uid)
    assert item_id > 0
    assert job_status == "queued"
    assert_stored_as_sent(api, path)


def test_good_and_bad_parts_202_each_with_its_reason(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    good = [fresh(shared_data, tmp_path, f"good{n}.dcm") for n in range(2)]
    ct = shared_data / "non_cxr" / "pydicom_CT_small.dcm"
    cut = good[0].read_bytes()[:-100]  # a file cut inside its pixel data
    body = multipart(
        [
            good[0].read_bytes(),
            b"%PDF-1.7 not a DICOM file" * 20,  # declared application/dicom
            ("text/plain", b"hello"),
            ct.read_bytes(),
            cut,
            good[1].read_bytes(),
        ]
    )
    response = api.stow(body)
    assert response.status_code == 202
    assert failure_reasons(response) == [
        CANNOT_UNDERSTAND,
        CANNOT_UNDERSTAND,
        SOP_CLASS_NOT_SUPPORTED,
        CANNOT_UNDERSTAND,
    ]
    failed = response.json()["00081198"]["Value"]
    assert "00081155" not in failed[0]  # unreadable: no UIDs to name
    assert failed[2]["00081155"]["Value"] == [str(dcmread(ct).SOPInstanceUID)]
    assert referenced_uids(response) == [part_ten(path).sop_instance_uid for path in good]
    warnings = response.headers.get_list("warning")
    assert len(warnings) == 4
    assert warnings[0].startswith("299 radqc: part 2 failed with C000: not a DICOM file")
    assert db_state(api.db) == DbState(2, 2, 2)
    assert stored_files(api) == 2  # nothing half-stored
    for path in good:
        assert_stored_as_sent(api, path)


def test_the_same_bytes_twice_is_one_item(api: Api, shared_data: Path, tmp_path: Path) -> None:
    data = fresh(shared_data, tmp_path).read_bytes()
    assert api.stow(multipart([data])).status_code == 200
    twice = api.stow(multipart([data, data]))
    assert twice.status_code == 200
    assert len(referenced_uids(twice)) == 2
    assert db_state(api.db) == DbState(1, 1, 1)


def test_same_uid_other_bytes_is_a_new_version_flagged_as_conflict(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    first = fresh(shared_data, tmp_path)
    ds = dcmread(first)
    ds.InstitutionName = "Another hospital"
    second = tmp_path / "second.dcm"
    ds.save_as(second, enforce_file_format=True)
    response = api.stow(multipart([first.read_bytes(), second.read_bytes()]))
    assert response.status_code == 200
    assert db_state(api.db) == DbState(2, 2, 2)
    assert conflict_flags(api.db, ds.SOPInstanceUID) == [False, True]
    assert_stored_as_sent(api, second, version=2)
    assert len(item_and_job(api.db, ds.SOPInstanceUID)) == 2


def test_an_instance_of_another_study_than_the_url_fails_with_a900(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    path = fresh(shared_data, tmp_path)
    study = str(dcmread(path, stop_before_pixels=True).StudyInstanceUID)
    wrong = api.stow(multipart([path.read_bytes()]), study="1.2.826.0.1.3680043.2.1")
    assert wrong.status_code == 409
    assert failure_reasons(wrong) == [DATA_SET_DOES_NOT_MATCH_SOP_CLASS]
    assert db_state(api.db) == DbState(0, 0, 0)
    assert stored_files(api) == 0
    other = fresh(shared_data, tmp_path, "other.dcm")  # mixed: 202
    mixed = api.stow(multipart([path.read_bytes(), other.read_bytes()]), study=study)
    assert mixed.status_code == 202
    assert referenced_uids(mixed) == [part_ten(path).sop_instance_uid]
    assert api.stow(b"", study="1.2.x").status_code == 400  # not a UID at all


def test_a_dataset_not_matching_its_file_meta_fails_with_a900(api: Api, tmp_path: Path) -> None:
    from tests.dicom_listener.samples import CR, write_part_ten

    ds = header_dataset()
    path = write_part_ten(tmp_path / "x.dcm", CR, "1.2.3.999", "1.2.840.10008.1.2.1", encoded(ds))
    response = api.stow(multipart([path.read_bytes()]))
    assert (response.status_code, failure_reasons(response)) == (
        409,
        [DATA_SET_DOES_NOT_MATCH_SOP_CLASS],
    )


def test_a_non_dicom_part_alone_is_409_c000(api: Api) -> None:
    response = api.stow(multipart([b"\x00" * 128 + b"DICX" + b"\x01" * 64]))
    assert response.status_code == 409
    assert response.headers["content-type"] == DICOM_JSON
    assert failure_reasons(response) == [CANNOT_UNDERSTAND]
    assert db_state(api.db) == DbState(0, 0, 0)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (multipart([b"x"], boundary="another"), STOW_TYPE, 400, "no part of the body"),
        (multipart([b"x"])[:-20], STOW_TYPE, 400, "without its closing boundary"),
        (b"", STOW_TYPE, 400, "empty"),
        (multipart([b"x"]), "multipart/related; type=application/dicom", 400, "no boundary"),
        (multipart([b"x"]), "application/dicom", 415, "must be multipart/related"),
        (multipart([b"x"]), "application/json", 415, "must be multipart/related"),
        (
            multipart([b"x"]),
            'multipart/related; type="application/dicom+json"; boundary=b',
            415,
            'only type="application/dicom"',
        ),
    ],
    ids=["wrong-boundary", "cut-short", "empty", "no-boundary", "dicom", "json", "metadata"],
)
def test_bodies_that_are_not_stow_requests(
    api: Api, body: bytes, content_type: str, status: int, message: str
) -> None:
    response = api.stow(body, content_type=content_type)
    assert response.status_code == status
    assert message in response.json()["message"]
    assert db_state(api.db) == DbState(0, 0, 0)


def test_a_body_cut_after_a_whole_part_stores_nothing(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    whole = multipart([fresh(shared_data, tmp_path).read_bytes(), b"more"])
    cut = whole[: whole.rindex(b"more")]  # the first part complete, then the body ends
    assert api.stow(cut).status_code == 400
    assert db_state(api.db) == DbState(0, 0, 0)
    assert stored_files(api) == 0


def test_oversized_bodies_413_and_the_service_keeps_serving(
    settings: Settings, db: Database, shared_data: Path, tmp_path: Path
) -> None:
    small = fresh(shared_data, tmp_path).read_bytes()  # 127 kB
    big = multipart([small, small, small])
    limit = len(big) - 1
    with serving(settings, db, dicomweb_max_body_bytes=limit, max_body_bytes=4096) as api:
        declared = api.stow(big)
        assert declared.status_code == 413
        assert str(limit) in declared.json()["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        streamed = httpx.post(
            f"{api.url}/dicomweb/studies",
            content=chunks(),
            headers={"Content-Type": STOW_TYPE, **INGEST},
            timeout=60,
        )
        assert streamed.status_code == 413
        assert db_state(db) == DbState(0, 0, 0)
        # Well over the API's own 4 KiB limit, under DICOMweb's: stored.
        assert api.stow(multipart([small])).status_code == 200
        assert db_state(db) == DbState(1, 1, 1)
        # ...and the API keeps its limit.
        fhir = httpx.post(
            f"{api.url}/fhir/DiagnosticReport",
            content=b"{" + b" " * 8192 + b"}",
            headers={"Content-Type": "application/fhir+json", **INGEST},
            timeout=10,
        )
        assert fhir.status_code == 413


def test_tokens_and_roles(api: Api, shared_data: Path, tmp_path: Path) -> None:
    body = multipart([fresh(shared_data, tmp_path).read_bytes()])
    url = f"{api.url}/dicomweb/studies"
    anonymous = httpx.post(url, content=body, headers={"Content-Type": STOW_TYPE})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    unknown = {"Content-Type": STOW_TYPE, "Authorization": "Bearer not-a-token-at-all"}
    assert httpx.post(url, content=body, headers=unknown).status_code == 401
    reader = httpx.post(url, content=body, headers={"Content-Type": STOW_TYPE, **READER})
    assert reader.status_code == 403
    admin = {"Content-Type": STOW_TYPE, "Authorization": "Bearer admin-token-01234567890"}
    assert httpx.post(url, content=body, headers=admin).status_code == 200
    assert httpx.get(url, headers=INGEST).status_code == 403  # QIDO is for the reading roles
    assert httpx.get(url).status_code == 401
    assert db_state(api.db) == DbState(1, 1, 1)


def test_every_accepted_transfer_syntax_is_stored_as_sent(
    api: Api, transfer_syntax_samples: list[Sample]
) -> None:
    paths = [sample.path for sample in transfer_syntax_samples]
    response = api.stow(multipart([path.read_bytes() for path in paths]))
    assert response.status_code == 200, response.text
    for path in paths:
        assert_stored_as_sent(api, path)
    assert_one_job_per_item(api.db)


# --- one core entry: C-STORE and STOW of the same file -----------------------------------------


def test_c_store_and_stow_of_the_same_file_are_one_item_and_one_job(
    api: Api, shared_data: Path, tmp_path: Path
) -> None:
    listener = start_listener(api.settings, api.db, api.files)
    try:
        first, second = fresh(shared_data, tmp_path, "a.dcm"), fresh(shared_data, tmp_path, "b.dcm")
        assert pynetdicom_store(listener.port, [first]) == [0x0000]
        assert api.stow(multipart([first.read_bytes()])).status_code == 200
        assert api.stow(multipart([second.read_bytes()])).status_code == 200
        assert pynetdicom_store(listener.port, [second]) == [0x0000]
    finally:
        listener.scp.stop(timeout=5)
    assert db_state(api.db) == DbState(2, 2, 2)
    assert stored_files(api) == 2
    for path in (first, second):
        (one,) = item_and_job(api.db, part_ten(path).sop_instance_uid)
        assert one[1] == "queued"
        assert_stored_as_sent(api, path)
