"""Issue 10: connections that never become associations, or too many from one address, cannot
lock real senders out. Real sockets on loopback (sources spread over 127.0.0.0/8), real pynetdicom
and DCMTK senders. These are network tests: they run on SQLite only."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.association import Association

from dicom_listener.handlers import LOCAL_LIMIT_EXCEEDED, SUCCESS
from service.config import Settings
from service.db import Database
from tests.dicom_listener import raw
from tests.dicom_listener.conftest import listening, option_for
from tests.dicom_listener.samples import CR, copy_with_new_uids
from tests.dicom_listener.test_dcmtk import OK, storescu

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

GOOD = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
EXPLICIT = "1.2.840.10008.1.2.1"
GARBAGE = [
    b"\x00" * 10,
    b"GET / HTTP/1.1\r\nHost: radqc\r\n\r\n",
    bytes(range(256)),
    raw.RELEASE_RQ,  # a valid PDU, in the wrong state
    raw.ABORT,
    raw.p_data(b"\x00" * 32),
    b"\x01\x00\xff\xff\xff\xff",  # an A-ASSOCIATE-RQ claiming 4 GiB
    b"\x01\x00\x00\x00\x00\x10" + b"\xee" * 16,  # an A-ASSOCIATE-RQ that does not decode
    raw.association_request()[:100],  # cut short, then closed
    b"",  # connect and close (a TCP health check)
]


def _copy(shared_data: Path, tmp_path: Path, name: str) -> Path:
    return copy_with_new_uids(shared_data / GOOD, tmp_path / name)


def _associate(port: int, source: str = "127.0.0.1", called: str = "RADQC") -> Association:
    ae = AE(ae_title="PYSCU")
    ae.acse_timeout = ae.network_timeout = 10
    ae.add_requested_context(CR, [EXPLICIT])
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.7", ["1.2.840.10008.1.2.4.50"])
    return ae.associate("127.0.0.1", port, ae_title=called, bind_address=(source, 0))


def _store_once(port: int, path: Path, source: str = "127.0.0.1") -> int | None:
    """The C-STORE status, or None when no association could be made."""
    assoc = _associate(port, source)
    if not assoc.is_established:
        return None
    try:
        return int(assoc.send_c_store(path).Status)
    finally:
        assoc.release()


def _store_within(port: int, path: Path, seconds: float) -> float:
    """Retry until a pynetdicom C-STORE succeeds; how long it took. Fails after ``seconds``."""
    started = time.monotonic()
    while _store_once(port, path) != SUCCESS:
        assert time.monotonic() - started < seconds, f"no successful store within {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


def _storescu_within(port: int, path: Path, seconds: float) -> float:
    started = time.monotonic()
    while storescu(port, [path], option_for(path)) != (0, [OK]):
        assert time.monotonic() - started < seconds, f"storescu did not store within {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_complete_hand_built_request_is_accepted(settings: Settings, db: Database) -> None:
    """The raw peer's A-ASSOCIATE-RQ is valid, so what the tests below cut short is real."""
    with listening(settings, db) as running, raw.connect(running.port) as sock:
        sock.sendall(raw.association_request())
        assert sock.recv(1) == b"\x02"  # A-ASSOCIATE-AC


def test_half_open_connections_from_many_addresses_do_not_lock_out_senders(
    settings: Settings, db: Database, shared_data: Path, tmp_path: Path
) -> None:
    # The ACSE timeout is long: only connections that never took a slot explain success here.
    with (
        listening(settings, db, dicom_acse_timeout_seconds=60) as running,
        raw.half_open(running.port, 24, raw.loopback(2, 12)) as held,
    ):
        assert running.settings.dicom_max_associations < len(held)
        assert _store_once(running.port, _copy(shared_data, tmp_path, "a.dcm")) == SUCCESS
        path = _copy(shared_data, tmp_path, "b.dcm")
        assert storescu(running.port, [path], option_for(path)) == (0, [OK])
        assert not any(raw.closed_by_listener(sock, 0.01) for sock in held)  # still waiting


def test_half_open_connections_are_closed_at_the_acse_timeout(
    settings: Settings, db: Database, shared_data: Path, tmp_path: Path
) -> None:
    """Twenty connections from the sender's own address, each ten bytes into its A-ASSOCIATE-RQ:
    all but the four this address may keep waiting are closed at once, those four at the ACSE
    timeout, and both senders have stored by then (before: locked out for as long as they stay)."""
    acse = 1.5
    with (
        listening(settings, db, dicom_acse_timeout_seconds=acse) as running,
        raw.half_open(running.port, 20, ["127.0.0.1"]) as held,
    ):
        started = time.monotonic()
        _store_within(running.port, _copy(shared_data, tmp_path, "a.dcm"), acse + 3)
        _storescu_within(running.port, _copy(shared_data, tmp_path, "b.dcm"), acse + 3)
        assert all(raw.closed_by_listener(sock, acse + 1) for sock in held)
        assert time.monotonic() - started < acse + 4


def test_garbage_that_closes_at_once_does_not_block_the_next_store(
    settings: Settings,
    db: Database,
    shared_data: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dicom_listener")
    with listening(settings, db, dicom_acse_timeout_seconds=60) as running:
        for _ in range(4):  # 40 connections, more than the 16 association slots
            for index, data in enumerate(GARBAGE):
                raw.send_and_close(running.port, data, raw.loopback(1, 3)[index % 3])
        # Far below the ACSE timeout each of them would have held a slot for before.
        assert _store_within(running.port, _copy(shared_data, tmp_path, "a.dcm"), 3) < 3
        path = _copy(shared_data, tmp_path, "b.dcm")
        assert _storescu_within(running.port, path, 3) < 3
    dropped = [r.getMessage() for r in caplog.records if "dropped before association" in r.message]
    assert any("PDU type 0x47 where an A-ASSOCIATE-RQ was expected" in m for m in dropped)
    assert any("over the 262144-byte limit" in m for m in dropped)
    assert any("undecodable A-ASSOCIATE-RQ" in m for m in dropped)
    assert any("closed after 100 of" in m for m in dropped)


def test_one_address_may_keep_only_its_limit_of_connections_waiting(
    settings: Settings, db: Database
) -> None:
    with (
        listening(
            settings, db, dicom_acse_timeout_seconds=60, dicom_max_associations_per_peer=2
        ) as running,
        raw.half_open(running.port, 5, ["127.0.0.3"]) as held,
    ):
        closed = [raw.closed_by_listener(sock, 0.5) for sock in held]
        assert closed == [False, False, True, True, True]


def test_the_per_address_limit_rejects_one_more_while_another_address_is_accepted(
    settings: Settings,
    db: Database,
    shared_data: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with listening(settings, db, dicom_max_associations_per_peer=2) as running:
        held = [_associate(running.port), _associate(running.port)]
        assert all(assoc.is_established for assoc in held)
        try:
            third = _associate(running.port)
            assert third.is_rejected
            answer = third.acceptor.primitive
            assert answer is not None
            rejection = (answer.result, answer.result_source, answer.diagnostic)
            assert rejection == LOCAL_LIMIT_EXCEEDED
            path = _copy(shared_data, tmp_path, "dcmtk.dcm")
            code, lines = storescu(running.port, [path], option_for(path))
            assert code != 0
            assert "F: Reason: Local Limit Exceeded" in lines, lines
            other = _copy(shared_data, tmp_path, "other.dcm")
            assert _store_once(running.port, other, source="127.0.0.2") == SUCCESS
        finally:
            held.pop().release()
        # A freed slot is usable again (the released association is not counted).
        _store_within(running.port, _copy(shared_data, tmp_path, "again.dcm"), 3)
        held[0].release()
    assert "127.0.0.1 already holds 2 associations (per-address limit 2)" in caplog.text


def test_a_pdu_stalled_half_way_is_aborted_at_the_network_timeout(
    settings: Settings,
    db: Database,
    shared_data: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Associated, then a P-DATA-TF cut short: pynetdicom's idle timer never runs while its read
    blocks, so only a timeout on the socket frees the one association slot."""
    with listening(
        settings, db, dicom_network_timeout_seconds=1, dicom_max_associations=1
    ) as running:
        with raw.connect(running.port) as sock:
            sock.sendall(raw.association_request())
            assert sock.recv(1) == b"\x02"
            sock.sendall(raw.p_data(b"\x00" * 100)[:20])
            assert raw.closed_by_listener(sock, 4)
        _store_within(running.port, _copy(shared_data, tmp_path, "a.dcm"), 3)
    assert "association aborted from PROBE@127.0.0.1" in caplog.text


def test_a_silent_association_is_aborted_at_the_network_timeout(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        listening(settings, db, dicom_network_timeout_seconds=1) as running,
        raw.connect(running.port) as sock,
    ):
        sock.sendall(raw.association_request())
        assert sock.recv(1) == b"\x02"
        assert raw.closed_by_listener(sock, 4)
    assert "nothing received for the network timeout (1 s)" in caplog.text


def test_an_abort_from_the_peer_is_logged_with_its_reason(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with listening(settings, db) as running:
        assoc = _associate(running.port)
        assert assoc.is_established
        assoc.abort()
        deadline = time.monotonic() + 5
        while "A-ABORT from the peer's service user" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.05)
