"""Settings: defaults run embedded; every bad setting is reported by name, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import load_settings
from service.errors import ConfigurationError


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file here
    settings = load_settings()
    assert settings.is_sqlite
    assert settings.effective_database_url.endswith("radqc-data/radqc.sqlite3")
    assert (settings.http_port, settings.dicom_port, settings.dicom_ae_title) == (
        8080,
        11112,
        "RADQC",
    )
    assert settings.study_stable_seconds == 30 and settings.workers == 1
    assert settings.api_tokens == {} and settings.fhir_writeback_url == ""


def test_environment_is_parsed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADQC_API_TOKENS", "ingest:aaaaaaaaaaaaaaaa1, reader:bbbbbbbbbbbbbbbb2")
    monkeypatch.setenv("RADQC_DICOM_ALLOWED_AE_TITLES", "PACS1, MODALITY_2")
    monkeypatch.setenv("RADQC_DATABASE_URL", "postgresql://radqc@db/radqc")
    monkeypatch.setenv("RADQC_FHIR_WRITEBACK_URL", "http://fhir.local/fhir/")
    settings = load_settings()
    assert settings.api_tokens == {"aaaaaaaaaaaaaaaa1": "ingest", "bbbbbbbbbbbbbbbb2": "reader"}
    assert settings.dicom_allowed_ae_titles == ["PACS1", "MODALITY_2"]
    assert settings.effective_database_url == "postgresql+psycopg://radqc@db/radqc"
    assert settings.fhir_writeback_url == "http://fhir.local/fhir"


def test_a_token_may_name_the_person_who_holds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "RADQC_API_TOKENS",
        "auditor@Alice O'Neil:aaaaaaaaaaaaaaaa1, auditor@bob:bbbbbbbbbbbbbbbb2,"
        "reader:cccccccccccccccc3",
    )
    settings = load_settings()
    assert settings.api_tokens == {
        "aaaaaaaaaaaaaaaa1": "auditor",
        "bbbbbbbbbbbbbbbb2": "auditor",
        "cccccccccccccccc3": "reader",
    }
    assert settings.api_token_people == {
        "aaaaaaaaaaaaaaaa1": "Alice O'Neil",
        "bbbbbbbbbbbbbbbb2": "bob",
    }
    monkeypatch.setenv("RADQC_API_TOKENS", "auditor@<script>:aaaaaaaaaaaaaaaa1")
    with pytest.raises(ConfigurationError, match="RADQC_API_TOKENS"):
        load_settings()


def test_every_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    bad = {
        "RADQC_HTTP_PORT": "99999",
        "RADQC_DICOM_AE_TITLE": "THIS-AE-TITLE-IS-TOO-LONG",
        "RADQC_API_TOKENS": "wizard:0123456789abcdef",
        "RADQC_FHIR_WRITEBACK_URL": "ftp://fhir",
        "RADQC_DATABASE_URL": "mysql://x",
        "RADQC_WORKERS": "-1",
        "RADQC_STUDY_STABLE_SECONDS": "soon",
    }
    for name, value in bad.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    for name in bad:
        assert name in str(raised.value)


@pytest.mark.parametrize("tokens", ["reader:short", "reader:changeme", "reader", "ingest:"])
def test_weak_or_malformed_tokens_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tokens: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADQC_API_TOKENS", tokens)
    with pytest.raises(ConfigurationError, match="RADQC_API_TOKENS"):
        load_settings()


def test_llm_url_and_model_go_together(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADQC_LLM_BASE_URL", "http://127.0.0.1:8000/v1")
    with pytest.raises(ConfigurationError, match="RADQC_LLM_MODEL"):
        load_settings()


def test_several_listener_processes_need_a_fixed_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADQC_DICOM_LISTENER_PROCESSES", "2")
    monkeypatch.setenv("RADQC_DICOM_PORT", "0")
    with pytest.raises(ConfigurationError, match="RADQC_DICOM_LISTENER_PROCESSES"):
        load_settings()
    monkeypatch.setenv("RADQC_DICOM_PORT", "11112")
    assert load_settings().dicom_listener_processes == 2
