"""Association negotiation with a pynetdicom peer: verification, allow-list, limits, contexts."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.association import Association

from dicom_listener.contexts import STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES, VERIFICATION
from dicom_listener.server import StorageSCP
from service.config import Settings
from service.db import Database
from service.errors import RadqcError
from service.ingest import QueueOptions
from service.storage import FileStore
from tests.dicom_listener.conftest import (
    DbState,
    Listener,
    db_state,
    listening,
    pynetdicom_store,
    start_listener,
)
from tests.dicom_listener.samples import copy_with_new_uids

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
BIG_ENDIAN = "1.2.840.10008.1.2.2"


def _associate(
    port: int, ae_title: str = "PYSCU", contexts: list[str] | None = None, called: str = "RADQC"
) -> Association:
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.network_timeout = 30
    for uid in contexts or [VERIFICATION]:
        ae.add_requested_context(uid)
    return ae.associate("127.0.0.1", port, ae_title=called)


def test_c_echo(listener: Listener) -> None:
    assoc = _associate(listener.port)
    assert assoc.is_established
    try:
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


def test_chest_xray_classes_in_every_syntax_are_accepted_others_refused(
    listener: Listener,
) -> None:
    ae = AE(ae_title="PYSCU")
    for sop_class in STORAGE_SOP_CLASSES:
        for syntax in TRANSFER_SYNTAXES:  # one context per syntax, so each is answered alone
            ae.add_requested_context(sop_class, [syntax])
    ae.add_requested_context(CT)
    ae.add_requested_context(MR)
    ae.add_requested_context(STORAGE_SOP_CLASSES[0], [BIG_ENDIAN])
    assoc = ae.associate("127.0.0.1", listener.port, ae_title="RADQC")
    try:
        assert assoc.is_established
        accepted = {(cx.abstract_syntax, cx.transfer_syntax[0]) for cx in assoc.accepted_contexts}
        assert accepted == {(c, s) for c in STORAGE_SOP_CLASSES for s in TRANSFER_SYNTAXES}
        refused = {(cx.abstract_syntax, cx.result) for cx in assoc.rejected_contexts}
        # 0x03: abstract syntax not supported; 0x04: transfer syntax not supported
        assert refused == {(CT, 0x03), (MR, 0x03), (STORAGE_SOP_CLASSES[0], 0x04)}
    finally:
        assoc.release()


def test_allow_list_rejects_other_calling_ae_titles(
    settings: Settings, db: Database, shared_data: Path, tmp_path: Path
) -> None:
    running = start_listener(
        settings.model_copy(update={"dicom_allowed_ae_titles": ["MODALITY1"]}), db
    )
    try:
        intruder = _associate(running.port, "INTRUDER")
        assert intruder.is_rejected
        good = copy_with_new_uids(shared_data / "cxr/udacity_nih_test3.dcm", tmp_path / "g.dcm")
        assert pynetdicom_store(running.port, [good], ae_title="MODALITY1") == [0x0000]
        assert db_state(db) == DbState(1, 1, 1)
    finally:
        running.scp.stop(timeout=5)


def test_a_wrong_called_ae_title_is_rejected_and_logged(
    listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    assoc = _associate(listener.port, called="ANYTHING")
    assert assoc.is_rejected
    answer = assoc.acceptor.primitive
    assert answer is not None
    # rejected-permanent, service user, called AE title not recognised
    assert (answer.result, answer.result_source, answer.diagnostic) == (0x01, 0x01, 0x07)
    assert (
        "association rejected from PYSCU@127.0.0.1" in caplog.text
        and "(called ANYTHING): called AE title not recognised" in caplog.text
    )


def test_any_called_ae_title_is_accepted_when_not_required(
    settings: Settings, db: Database
) -> None:
    with listening(settings, db, dicom_require_called_ae_title=False) as running:
        assoc = _associate(running.port, called="ANYTHING")
        assert assoc.is_established
        try:
            assert assoc.send_c_echo().Status == 0x0000
        finally:
            assoc.release()


def test_associations_beyond_the_limit_are_rejected(settings: Settings, db: Database) -> None:
    running = start_listener(settings.model_copy(update={"dicom_max_associations": 1}), db)
    try:
        first = _associate(running.port)
        assert first.is_established
        second = _associate(running.port)
        assert second.is_rejected
        first.release()
        deadline = time.monotonic() + 10  # the acceptor thread ends just after the release
        while not (third := _associate(running.port)).is_established:
            assert time.monotonic() < deadline, "a freed association slot was not reusable"
            time.sleep(0.05)
        third.release()
    finally:
        running.scp.stop(timeout=5)


def test_port_in_use_is_a_clear_error(settings: Settings, db: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        scp = StorageSCP(
            settings.model_copy(update={"dicom_port": port}),
            db,
            FileStore(settings.dicom_dir),
            QueueOptions(max_attempts=3, study_stable_seconds=1),
        )
        with pytest.raises(RadqcError, match=f"cannot listen on 127.0.0.1:{port}"):
            scp.start()
