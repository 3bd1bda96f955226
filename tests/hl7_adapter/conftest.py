"""A real MLLP listener on loopback over the test databases (SQLite and PostgreSQL), and the
python-hl7 client to talk to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hl7
import pytest
from hl7.client import MLLPClient
from sqlalchemy import func, select

from hl7_adapter import MLLPListener
from service.config import Settings
from service.db import Database
from service.ingest import QueueOptions
from service.models import Item, Job, Report, ReportVersion


def hl7_settings(settings: Settings, **changes: Any) -> Settings:
    values: dict[str, Any] = {"hl7_port": 0, "hl7_receive_timeout_seconds": 5.0, **changes}
    return settings.model_copy(update=values)


@dataclass
class Running:
    listener: MLLPListener
    db: Database
    settings: Settings

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def listener_options(self) -> QueueOptions:
        return options_of(self.settings)

    def send(self, message: str | bytes) -> Any:
        """One message with python-hl7's own MLLP client; the parsed ACK."""
        with MLLPClient("127.0.0.1", self.port) as client:
            return parse_ack(client.send_message(message))

    def counts(self) -> tuple[int, int, int, int]:
        """(reports, report versions, items, QC jobs)."""
        with self.db.reader() as session:
            return (
                session.scalar(select(func.count(Report.id))) or 0,
                session.scalar(select(func.count(ReportVersion.id))) or 0,
                session.scalar(select(func.count(Item.id))) or 0,
                session.scalar(select(func.count(Job.id)).where(Job.kind == "qc")) or 0,
            )


def parse_ack(raw: bytes) -> Any:
    assert raw.startswith(b"\x0b") and raw.endswith(b"\x1c\x0d"), raw[:40]
    return hl7.parse(raw[1:-2].decode("utf-8"))


def ack_code(ack: Any) -> str:
    return str(ack.segment("MSA")(1))


def options_of(settings: Settings) -> QueueOptions:
    return QueueOptions(
        max_attempts=settings.job_max_attempts, study_stable_seconds=settings.study_stable_seconds
    )


def start_listener(settings: Settings, db: Database) -> MLLPListener:
    listener = MLLPListener(settings, db, options_of(settings))
    listener.start()
    return listener


@pytest.fixture
def running(settings: Settings, db: Database) -> Iterator[Running]:
    configured = hl7_settings(settings)
    listener = start_listener(configured, db)
    try:
        yield Running(listener, db, configured)
    finally:
        listener.stop(timeout=5)


def raw_connection(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
