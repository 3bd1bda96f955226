"""The RADQC_HL7_* settings, and ``radqc listen`` deciding whether to bring the MLLP listener."""

from __future__ import annotations

import pytest

from service.config import load_settings
from service.errors import ConfigurationError
from service.supervisor import PARENT_ENV, companions


def test_hl7_is_off_unless_a_port_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RADQC_HL7_PORT", raising=False)
    assert load_settings().hl7_port is None
    monkeypatch.setenv("RADQC_HL7_PORT", "")
    assert load_settings().hl7_port is None
    monkeypatch.setenv("RADQC_HL7_PORT", "2575")
    settings = load_settings()
    assert (settings.hl7_host, settings.hl7_port) == ("127.0.0.1", 2575)


def test_allowed_senders_are_app_facility_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADQC_HL7_ALLOWED_SENDERS", "RIS^GENHOSP, PACSRIS ,^OTHERHOSP")
    assert load_settings().hl7_allowed_senders == ["RIS^GENHOSP", "PACSRIS", "^OTHERHOSP"]


@pytest.mark.parametrize("bad", ["RIS^A^B", "R|S", "^", "RIS^"])
def test_a_bad_sender_is_named_at_start_up(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("RADQC_HL7_ALLOWED_SENDERS", bad)
    with pytest.raises(ConfigurationError, match="RADQC_HL7_ALLOWED_SENDERS"):
        load_settings()


def test_listen_brings_the_mllp_listener_only_when_its_port_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PARENT_ENV, raising=False)
    monkeypatch.delenv("RADQC_HL7_PORT", raising=False)
    assert companions("listen") == []
    monkeypatch.setenv("RADQC_HL7_PORT", "2575")
    assert companions("listen") == ["hl7_adapter"]
    assert companions("worker") == []
    monkeypatch.setenv(PARENT_ENV, "1")  # a supervised listener: its parent started it already
    assert companions("listen") == []
