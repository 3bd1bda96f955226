"""``radqc outbox ...`` and ``radqc writeback-jwks`` (issue 11), through the real CLI entry
point on the real databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from fhir_adapter.publisher import ObservationPublisher
from service.cli import main
from service.db import Database
from service.models import OutboxEntry
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.fhir_adapter.tls_support import write_signing_key


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("RADQC_DATABASE_URL", database_url)
    monkeypatch.setenv("RADQC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADQC_FHIR_WRITEBACK_URL", raising=False)


def entry_ids(db: Database) -> list[int]:
    with db.reader() as session:
        return list(session.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)))


def statuses(db: Database) -> list[str]:
    with db.reader() as session:
        return list(session.scalars(select(OutboxEntry.status).order_by(OutboxEntry.id)))


@pytest.mark.usefixtures("env")
def test_list_show_retry_discard(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    item_id = add_report_item(db)
    store_findings(
        db,
        item_id,
        [finding("report.typo")],
        publisher=ObservationPublisher(writeback_enabled=True),
    )
    first, second = entry_ids(db)
    with db.transaction() as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == first)
            .values(status="refused", http_status=422, refusals=3, outcome_json='{"a": 1}')
        )
    assert main(["outbox", "list", "--status", "refused"]) == 0
    out = capsys.readouterr().out
    assert "refused" in out
    assert "422" in out
    assert "pending" not in out
    assert main(["outbox", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["status"] for e in listed] == ["pending", "refused"]
    assert main(["outbox", "show", str(first)]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == {"a": 1}

    assert main(["outbox", "retry", "--refused"]) == 0
    assert "queued again: 1" in capsys.readouterr().out
    assert statuses(db) == ["pending", "pending"]
    assert main(["outbox", "discard", str(first), str(second)]) == 0
    assert statuses(db) == ["discarded", "discarded"]
    assert main(["outbox", "retry", str(second)]) == 0
    assert statuses(db) == ["discarded", "pending"]
    with db.transaction() as session:
        session.execute(update(OutboxEntry).values(status="delivered"))
    assert main(["outbox", "discard", str(first)]) == 1  # delivered: refused, with a message
    assert main(["outbox", "show", "424242"]) == 1
    assert main(["outbox", "retry"]) == 1  # no ids


def test_backfill(
    db: Database, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id = add_report_item(db)
    store_findings(
        db,
        item_id,
        [finding("report.typo")],
        publisher=ObservationPublisher(writeback_enabled=False),
    )
    assert main(["outbox", "backfill"]) == 1  # write-back off: nothing would send them
    monkeypatch.setenv("RADQC_FHIR_WRITEBACK_URL", "https://fhir.hospital.example/r4")
    assert main(["outbox", "backfill"]) == 0
    assert "queued for write-back: 2" in capsys.readouterr().out
    assert statuses(db) == ["pending", "pending"]


def test_writeback_jwks(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "smart.pem"
    write_signing_key(key, "RS384")
    monkeypatch.setenv("RADQC_FHIR_WRITEBACK_SMART_PRIVATE_KEY_FILE", str(key))
    monkeypatch.setenv("RADQC_FHIR_WRITEBACK_SMART_KEY_ID", "k1")
    assert main(["writeback-jwks"]) == 0
    (jwk,) = json.loads(capsys.readouterr().out)["keys"]
    assert (jwk["kty"], jwk["alg"], jwk["kid"]) == ("RSA", "RS384", "k1")
    assert "d" not in jwk
