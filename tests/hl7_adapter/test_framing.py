"""MLLP framing errors over raw sockets: garbage, no start block, a truncated frame, a frame cut
off by a new one, oversize, wrong encoding characters, a silent sender. None of them ends the
listener: the next message, on another connection or an open one, is stored."""

from __future__ import annotations

import socket
import time

import pytest
from hl7.client import MLLPClient

from tests.hl7_adapter.conftest import (
    Running,
    ack_code,
    hl7_settings,
    parse_ack,
    raw_connection,
    read_until_closed,
    start_listener,
)
from tests.hl7_adapter.messages import Oru

LINES = ["FINDINGS: The lungs are clear. No effusion.", "IMPRESSION: No acute disease."]


def _frame(data: bytes) -> bytes:
    return b"\x0b" + data + b"\x1c\x0d"


def _good(running: Running, control_id: str = "GOOD1", accession: str = "ACC-GOOD-1") -> None:
    ack = running.send(Oru(LINES, control_id=control_id, accession=accession).text())
    assert ack_code(ack) == "AA"


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: radqc\r\n\r\n",
        b"MSH|^~\\&|RIS|GENHOSP|||||ORU^R01|1|P|2.5\r\x1c\x0d",  # no start block
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
        b"\x00" * 64,
    ],
    ids=["http", "no-start-block", "tls", "zeros"],
)
def test_garbage_closes_its_connection_only(running: Running, garbage: bytes) -> None:
    with MLLPClient("127.0.0.1", running.port) as open_client:  # opened before the garbage
        sock = raw_connection(running.port)
        sock.sendall(garbage)
        assert read_until_closed(sock) == b""
        sock.close()
        ack = parse_ack(open_client.send_message(Oru(LINES, control_id="OPEN1").text()))
        assert ack_code(ack) == "AA"
    _good(running, accession="ACC-GOOD-2")
    assert running.counts()[:2] == (2, 2)


def test_a_truncated_frame_stores_nothing_and_the_next_connection_works(running: Running) -> None:
    message = Oru(LINES).encoded()
    sock = raw_connection(running.port)
    sock.sendall(b"\x0b" + message[: len(message) // 2])
    sock.shutdown(socket.SHUT_WR)
    assert read_until_closed(sock) == b""  # no ACK for half a message
    sock.close()
    assert running.counts() == (0, 0, 0, 0)
    _good(running)


def test_a_frame_cut_off_by_a_new_one_is_dropped_and_the_new_one_answered(
    running: Running,
) -> None:
    cut = Oru(LINES, control_id="CUT1", accession="ACC-CUT-1").encoded()
    whole = Oru(LINES, control_id="WHOLE1", accession="ACC-WHOLE-1").encoded()
    with MLLPClient("127.0.0.1", running.port) as client:
        ack = parse_ack(client.send(b"\x0b" + cut[:60] + _frame(whole)))
    assert ack_code(ack) == "AA"
    assert str(ack.segment("MSA")(2)) == "WHOLE1"
    assert running.counts()[:2] == (1, 1)


def test_several_frames_on_one_connection_with_newlines_between(running: Running) -> None:
    first = Oru(LINES, control_id="A1", accession="ACC-A-1").encoded()
    second = Oru(LINES, control_id="A2", accession="ACC-A-2").encoded()
    sock = raw_connection(running.port)
    sock.sendall(_frame(first) + b"\r\n" + _frame(second))
    data = b""
    while data.count(b"\x1c\x0d") < 2:
        data += sock.recv(65536)
    sock.close()
    acks = [parse_ack(part + b"\x1c\x0d") for part in data.split(b"\x1c\x0d") if part]
    assert [(ack_code(a), str(a.segment("MSA")(2))) for a in acks] == [("AA", "A1"), ("AA", "A2")]
    assert running.counts()[:2] == (2, 2)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"MSH|^~|RIS|GENHOSP|||||ORU^R01|1|P|2.5\rPID|1\r", "encoding characters"),
        (b"MSH|^^\\&|RIS|GENHOSP|||||ORU^R01|1|P|2.5\rPID|1\r", "encoding characters"),
        (b"MSHA^~\\&ARIS\r", "encoding characters"),
        (b"HELLO WORLD", "MSH"),
        (b"", "MSH"),
    ],
    ids=["three-characters", "repeated", "letter-separator", "not-hl7", "empty"],
)
def test_an_unreadable_header_gets_ar_and_the_connection_closed(
    running: Running, payload: bytes, reason: str
) -> None:
    sock = raw_connection(running.port)
    sock.sendall(_frame(payload))
    data = read_until_closed(sock)
    sock.close()
    ack = parse_ack(data)
    assert ack_code(ack) == "AR"
    assert reason in str(ack.segment("MSA")(3))
    _good(running)


def test_an_oversize_message_gets_ar_and_nothing_is_stored(running: Running) -> None:
    configured = hl7_settings(running.settings, hl7_max_message_bytes=2048)
    listener = start_listener(configured, running.db)
    try:
        long_lines = [*LINES, "FINDINGS: " + "Clear lungs. " * 400]
        sock = raw_connection(listener.port)
        sock.sendall(_frame(Oru(long_lines, control_id="BIG1").encoded()))
        ack = parse_ack(read_until_closed(sock))
        sock.close()
        assert ack_code(ack) == "AR"
        assert str(ack.segment("MSA")(2)) == "BIG1"
        assert "2048 bytes" in str(ack.segment("MSA")(3))
        assert running.counts() == (0, 0, 0, 0)
        small = Running(listener, running.db, configured)
        _good(small)
    finally:
        listener.stop(timeout=5)


def test_a_sender_that_stops_inside_a_message_is_cut_off(running: Running) -> None:
    configured = hl7_settings(running.settings, hl7_receive_timeout_seconds=0.5)
    listener = start_listener(configured, running.db)
    try:
        sock = raw_connection(listener.port)
        sock.sendall(b"\x0bMSH|^~\\&|RIS|GENHOSP|")
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started < 5
        sock.close()
        _good(Running(listener, running.db, configured))
    finally:
        listener.stop(timeout=5)


def test_stop_closes_idle_connections_and_the_port(running: Running) -> None:
    configured = hl7_settings(running.settings)
    listener = start_listener(configured, running.db)
    port = listener.port
    sock = raw_connection(port)
    deadline = time.monotonic() + 5
    while listener.connections == 0 and time.monotonic() < deadline:  # served, then idle
        time.sleep(0.01)
    started = time.monotonic()
    listener.stop(timeout=10)
    assert time.monotonic() - started < 5  # an idle connection does not hold the shutdown
    assert read_until_closed(sock) == b""
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
