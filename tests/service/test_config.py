"""Settings: defaults run embedded; every bad setting is reported by name, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import LLMImageSettings, LLMKindSettings, Settings, load_settings
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


# -- the per-kind LLM settings: one typed model per kind, the flat environment names kept -----

# Every per-kind LLM variable radqc has read since issue 4; none may change its name.
_LEGACY_LLM_ENV = {
    kind: {
        f"RADQC_LLM_{kind.upper()}_{name}"
        for name in (
            "MODE",
            "BASE_URL",
            "MODEL",
            "API_KEY",
            "TEMPERATURE",
            "MAX_TOKENS",
            "TIMEOUT_SECONDS",
            "CONCURRENCY",
            "PRICE_IN_PER_1K",
            "PRICE_OUT_PER_1K",
            "SAMPLES",
            *(("MAX_SIDE",) if kind == "image" else ()),
        )
    }
    for kind in ("image", "report")
}


def _env_values(kind: str) -> dict[str, str]:
    """A distinct, valid value for every legacy variable of ``kind``."""
    offset = 1 if kind == "image" else 2
    values = {
        "MODE": "verify" if kind == "image" else "review",
        "BASE_URL": f"http://llm-{kind}.example/v1/",
        "MODEL": f"model-{kind}",
        "API_KEY": f"key-{kind}",
        "TEMPERATURE": f"0.{offset}",
        "MAX_TOKENS": str(500 + offset),
        "TIMEOUT_SECONDS": str(30 + offset),
        "CONCURRENCY": str(2 + offset),
        "PRICE_IN_PER_1K": f"0.0{offset}",
        "PRICE_OUT_PER_1K": f"0.0{offset + 2}",
        "SAMPLES": str(1 + offset),
        "MAX_SIDE": "512",
    }
    prefix = f"RADQC_LLM_{kind.upper()}_"
    return {prefix + k: v for k, v in values.items() if prefix + k in _LEGACY_LLM_ENV[kind]}


def test_llm_kind_settings_keep_their_flat_environment_names() -> None:
    for kind, model in (("image", LLMImageSettings), ("report", LLMKindSettings)):
        flat = {
            f"RADQC_{name.upper()}"
            for name in Settings.model_fields
            if name.startswith(f"llm_{kind}_")
        }
        typed = {f"RADQC_LLM_{kind.upper()}_{name.upper()}" for name in model.model_fields}
        assert flat == typed == _LEGACY_LLM_ENV[kind]


def test_llm_kind_settings_are_read_from_the_legacy_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for kind in ("image", "report"):
        for name, value in _env_values(kind).items():
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.llm_image == LLMImageSettings(
        mode="verify",
        base_url="http://llm-image.example/v1",
        model="model-image",
        api_key="key-image",
        temperature=0.1,
        max_tokens=501,
        timeout_seconds=31,
        concurrency=3,
        price_in_per_1k=0.01,
        price_out_per_1k=0.03,
        samples=2,
        max_side=512,
    )
    assert settings.llm_report == LLMKindSettings(
        mode="review",
        base_url="http://llm-report.example/v1",
        model="model-report",
        api_key="key-report",
        temperature=0.2,
        max_tokens=502,
        timeout_seconds=32,
        concurrency=4,
        price_in_per_1k=0.02,
        price_out_per_1k=0.04,
        samples=3,
    )
    assert settings.llm_kind("image") == settings.llm_image
    # The flat attributes stay too (scripts and .env files use them).
    assert (settings.llm_report_timeout_seconds, settings.llm_image_max_side) == (32, 512)


def test_llm_kind_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.llm_image.mode, settings.llm_report.mode) == ("off", "both")
    assert (settings.llm_image.timeout_seconds, settings.llm_report.timeout_seconds) == (120, 60)
    assert settings.llm_image.max_side == 768
    # Keyword overrides keep the flat names too.
    assert load_settings(llm_report_max_tokens=64).llm_report.max_tokens == 64


def test_with_llm_kind_replaces_one_kind_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    changed = settings.with_llm_kind(
        "report", settings.llm_report.model_copy(update={"mode": "off", "model": "m2"})
    )
    assert (changed.llm_report.mode, changed.llm_report.model) == ("off", "m2")
    assert (changed.llm_report_mode, changed.llm_report_model) == ("off", "m2")
    assert changed.llm_image == settings.llm_image
    assert settings.llm_report.mode == "both"  # the original is untouched
