"""The Storage SCP against a real pynetdicom SCU, on SQLite and PostgreSQL.

Files are sent with ``send_c_store(path)``, which puts the file's dataset bytes on the wire
without decoding them, so "stored exactly as sent" is a byte comparison with the source file.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.dsutils import encode

from dicom_listener.handlers import (
    CANNOT_UNDERSTAND,
    DATASET_DOES_NOT_MATCH_SOP_CLASS,
    OUT_OF_RESOURCES,
    SUCCESS,
)
from service.config import Settings
from service.db import Database
from service.dicom_receive.part10 import IMPLEMENTATION_CLASS_UID
from service.storage import FileStore
from tests.dicom_listener.conftest import (
    DbState,
    Listener,
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
from tests.dicom_listener.samples import (
    CR,
    DX_PRESENTATION,
    Sample,
    copy_with_new_uids,
    encoded,
    header_dataset,
    set_raw,
    write_part_ten,
)

EXPLICIT = "1.2.840.10008.1.2.1"
GOOD = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"  # 127 kB


def assert_stored_as_sent(
    listener: Listener, sop_instance_uid: str, sent: bytes, syntax: str, version: int = 1
) -> None:
    rows = [
        row for row in stored_instances(listener.db, sop_instance_uid) if row.version == version
    ]
    assert len(rows) == 1, f"no version {version} of {sop_instance_uid}"
    stored = part_ten(listener.files.path(rows[0].path))
    assert stored.dataset == sent, "the stored dataset differs from the bytes sent"
    assert (stored.sop_instance_uid, stored.transfer_syntax) == (sop_instance_uid, syntax)
    assert rows[0].transfer_syntax_uid == syntax
    header = dcmread(listener.files.path(rows[0].path), stop_before_pixels=True)
    assert header.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID


def fresh_copy(shared_data: Path, tmp_path: Path, name: str = "good.dcm") -> Path:
    return copy_with_new_uids(shared_data / GOOD, tmp_path / name)


def test_every_shared_cxr_file_is_stored_exactly_as_sent(
    listener: Listener, shared_data: Path
) -> None:
    files = cxr_files(shared_data)
    sent_by_uid: dict[str, list[bytes]] = defaultdict(list)  # distinct datasets per UID, in order
    for path in files:
        if has_file_meta(path):
            statuses = pynetdicom_store(listener.port, [path])
            sent, syntax = part_ten(path).dataset, part_ten(path).transfer_syntax
            uid = part_ten(path).sop_instance_uid
        else:  # the legacy file without preamble or meta: read with force, sent re-encoded
            ds = dcmread(path, force=True)
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
            statuses = pynetdicom_store(listener.port, [ds])
            sent, syntax, uid = (
                encode(ds, True, True),
                str(ImplicitVRLittleEndian),
                ds.SOPInstanceUID,
            )
        assert statuses == [SUCCESS], path.name
        if sent not in sent_by_uid[uid]:
            sent_by_uid[uid].append(sent)
        version = sent_by_uid[uid].index(sent) + 1
        assert_stored_as_sent(listener, uid, sent, syntax, version)
    distinct = sum(len(versions) for versions in sent_by_uid.values())
    assert db_state(listener.db) == DbState(instances=distinct, items=distinct, qc_jobs=distinct)
    assert_one_job_per_item(listener.db)
    for uid, versions in sent_by_uid.items():
        assert conflict_flags(listener.db, uid) == [False] + [True] * (len(versions) - 1)
    # The shared data has same-UID files with different bytes (udacity test1/4/5/6, nhsx).
    assert distinct > len(sent_by_uid)

    # Sending everything again creates nothing new.
    with_meta = [path for path in files if has_file_meta(path)]
    assert pynetdicom_store(listener.port, with_meta) == [SUCCESS] * len(with_meta)
    assert db_state(listener.db) == DbState(distinct, distinct, distinct)


def test_every_accepted_transfer_syntax_is_stored_as_is(
    listener: Listener, transfer_syntax_samples: list[Sample]
) -> None:
    samples = transfer_syntax_samples
    assert len({sample.transfer_syntax for sample in samples}) == 12
    statuses = pynetdicom_store(listener.port, [sample.path for sample in samples])
    assert statuses == [SUCCESS] * len(samples)
    for sample in samples:
        split = part_ten(sample.path)
        assert split.transfer_syntax == sample.transfer_syntax
        assert_stored_as_sent(
            listener, split.sop_instance_uid, split.dataset, split.transfer_syntax
        )
    assert_one_job_per_item(listener.db)


def test_same_uid_with_different_bytes_is_a_new_version_flagged_as_conflict(
    listener: Listener, shared_data: Path, tmp_path: Path
) -> None:
    first = fresh_copy(shared_data, tmp_path)
    ds = dcmread(first)
    ds.InstitutionName = "Another hospital"  # same UIDs, different content
    second = tmp_path / "second.dcm"
    ds.save_as(second, enforce_file_format=True)
    uid = ds.SOPInstanceUID

    assert pynetdicom_store(listener.port, [first, first]) == [SUCCESS, SUCCESS]
    assert db_state(listener.db) == DbState(1, 1, 1)
    assert pynetdicom_store(listener.port, [second, second, first]) == [SUCCESS] * 3
    assert db_state(listener.db) == DbState(2, 2, 2)
    assert [row.version for row in stored_instances(listener.db, uid)] == [1, 2]
    assert conflict_flags(listener.db, uid) == [False, True]
    split = part_ten(second)
    assert_stored_as_sent(listener, uid, split.dataset, split.transfer_syntax, version=2)
    assert_one_job_per_item(listener.db)


def _malformed(tmp_path: Path) -> list[tuple[str, Path]]:
    cases = []
    garbage = bytes(range(256)) * 16
    cases.append(
        ("garbage", write_part_ten(tmp_path / "garbage.dcm", CR, "1.2.3.4", EXPLICIT, garbage))
    )
    no_study = header_dataset(StudyInstanceUID=None)
    cases.append(
        (
            "no StudyInstanceUID",
            write_part_ten(
                tmp_path / "nostudy.dcm", CR, no_study.SOPInstanceUID, EXPLICIT, encoded(no_study)
            ),
        )
    )
    bad_uid = header_dataset()
    set_raw(bad_uid, 0x0020000D, b"1.2.840.abc")
    cases.append(
        (
            "invalid StudyInstanceUID",
            write_part_ten(
                tmp_path / "baduid.dcm", CR, bad_uid.SOPInstanceUID, EXPLICIT, encoded(bad_uid)
            ),
        )
    )
    truncated = header_dataset()
    body = encoded(truncated)
    cut = body.index(b"CR")  # cut inside the elements that come before the UIDs
    cases.append(
        (
            "truncated",
            write_part_ten(
                tmp_path / "truncated.dcm", CR, truncated.SOPInstanceUID, EXPLICIT, body[: cut - 20]
            ),
        )
    )
    return cases


def test_malformed_datasets_are_refused_with_c210_and_the_next_file_is_stored(
    listener: Listener, shared_data: Path, tmp_path: Path
) -> None:
    for label, path in _malformed(tmp_path):
        good = fresh_copy(shared_data, tmp_path, f"good-{label}.dcm")
        assert pynetdicom_store(listener.port, [path, good]) == [CANNOT_UNDERSTAND, SUCCESS], label
    assert db_state(listener.db) == DbState(4, 4, 4)


def test_dataset_not_matching_its_context_is_refused_with_a900(
    listener: Listener, shared_data: Path, tmp_path: Path
) -> None:
    dx = header_dataset(DX_PRESENTATION)  # a DX dataset sent as CR
    wrong_class = write_part_ten(
        tmp_path / "class.dcm", CR, dx.SOPInstanceUID, EXPLICIT, encoded(dx)
    )
    cr = header_dataset(CR)  # the request names another instance than the dataset holds
    wrong_instance = write_part_ten(
        tmp_path / "instance.dcm", CR, "1.2.3.999", EXPLICIT, encoded(cr)
    )
    good = fresh_copy(shared_data, tmp_path)
    statuses = pynetdicom_store(listener.port, [wrong_class, wrong_instance, good])
    assert statuses == [DATASET_DOES_NOT_MATCH_SOP_CLASS, DATASET_DOES_NOT_MATCH_SOP_CLASS, SUCCESS]
    assert db_state(listener.db) == DbState(1, 1, 1)


def test_storage_failure_is_a700_with_nothing_in_the_database(
    settings: Settings,
    db: Database,
    shared_data: Path,
    tmp_path: Path,
    blocked_store: tuple[FileStore, Path],
) -> None:
    files, blocker = blocked_store
    running = start_listener(settings, db, files)
    try:
        good = fresh_copy(shared_data, tmp_path)
        assert pynetdicom_store(running.port, [good]) == [OUT_OF_RESOURCES]
        assert db_state(db) == DbState(0, 0, 0)
        assert not blocker.is_dir()
        blocker.unlink()  # the disk problem is fixed: the sender's retry now succeeds
        assert pynetdicom_store(running.port, [good]) == [SUCCESS]
        assert db_state(db) == DbState(1, 1, 1)
    finally:
        running.scp.stop(timeout=5)


def test_database_failure_is_a700_and_the_listener_keeps_answering(
    settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    unreachable = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'radqc.sqlite3'}")
    running = start_listener(settings, unreachable, FileStore(tmp_path / "files"))
    try:
        good = fresh_copy(shared_data, tmp_path)
        assert pynetdicom_store(running.port, [good, good]) == [OUT_OF_RESOURCES] * 2
    finally:
        running.scp.stop(timeout=5)
        unreachable.dispose()


def test_four_concurrent_associations_store_at_once(
    listener: Listener, shared_data: Path, tmp_path: Path
) -> None:
    per_association = 5
    batches = [
        [fresh_copy(shared_data, tmp_path, f"c{a}-{i}.dcm") for i in range(per_association)]
        for a in range(4)
    ]
    barrier = threading.Barrier(4)
    results: dict[int, list[int]] = {}

    def send(index: int) -> None:
        barrier.wait(timeout=30)
        results[index] = pynetdicom_store(listener.port, batches[index], ae_title=f"SCU{index}")

    threads = [threading.Thread(target=send, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == {index: [SUCCESS] * per_association for index in range(4)}
    total = 4 * per_association
    assert db_state(listener.db) == DbState(total, total, total)
    assert_one_job_per_item(listener.db)
    for batch in batches:
        for path in batch:
            split = part_ten(path)
            assert_stored_as_sent(
                listener, split.sop_instance_uid, split.dataset, split.transfer_syntax
            )


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_stop_lets_the_association_in_progress_finish(
    listener: Listener, shared_data: Path, tmp_path: Path
) -> None:
    path = copy_with_new_uids(
        shared_data / "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm", tmp_path / "big.dcm"
    )
    ae = AE(ae_title="PYSCU")
    ae.add_requested_context(CR, [EXPLICIT])
    assoc = ae.associate("127.0.0.1", listener.port, ae_title="RADQC")
    assert assoc.is_established
    stopper = threading.Thread(target=listener.scp.stop, kwargs={"timeout": 20})
    stopper.start()
    try:
        deadline = time.monotonic() + 10
        while not _refuses_connections(listener.port):  # stop() has closed the listening socket
            assert time.monotonic() < deadline, "stop() did not close the listening socket"
            time.sleep(0.02)
        assert stopper.is_alive()  # ...and is waiting for our association
        assert assoc.send_c_store(path).Status == SUCCESS
    finally:
        assoc.release()
        stopper.join(timeout=30)
    assert not stopper.is_alive()
    assert db_state(listener.db) == DbState(1, 1, 1)


def test_stop_aborts_associations_still_open_after_the_timeout(listener: Listener) -> None:
    ae = AE(ae_title="PYSCU")
    ae.add_requested_context(CR, [EXPLICIT])
    assoc = ae.associate("127.0.0.1", listener.port, ae_title="RADQC")
    assert assoc.is_established
    started = time.monotonic()
    listener.scp.stop(timeout=0.5)
    assert time.monotonic() - started < 10
    deadline = time.monotonic() + 10
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.02)
    assert assoc.is_aborted


@pytest.mark.parametrize(
    "name", ["pydicom_CT_small.dcm", "barre_CT-MONO2-16-chest_jpegLossless.dcm"]
)
def test_ct_is_refused_at_negotiation(listener: Listener, shared_data: Path, name: str) -> None:
    split = part_ten(shared_data / "non_cxr" / name)
    ae = AE(ae_title="PYSCU")
    ae.add_requested_context(split.sop_class_uid, [split.transfer_syntax])
    ae.add_requested_context(CR, [EXPLICIT])
    assoc = ae.associate("127.0.0.1", listener.port, ae_title="RADQC")
    try:
        assert assoc.is_established
        rejected = [cx.abstract_syntax for cx in assoc.rejected_contexts]
        accepted = [cx.abstract_syntax for cx in assoc.accepted_contexts]
        assert rejected == [split.sop_class_uid]
        assert accepted == [CR]
        with pytest.raises(ValueError, match="No presentation context"):
            assoc.send_c_store(shared_data / "non_cxr" / name)
    finally:
        assoc.release()
    assert db_state(listener.db) == DbState(0, 0, 0)
