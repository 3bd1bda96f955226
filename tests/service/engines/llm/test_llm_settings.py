"""The LLM settings that shape the client: breaker thresholds and self-consistency samples,
validated at start-up and carried through the factory into the client that runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import load_settings
from service.engines.llm.client import LLMUnavailable
from service.engines.llm.factory import llm_config, llm_kinds
from service.errors import ConfigurationError
from service.llm_stage import build_stage
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from tests.service.engines.support import report_input
from tests.support.llm_server import Reply, llm_server


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RADQC_LLM_BREAKER_FAILURES", "0"),
        ("RADQC_LLM_BREAKER_FAILURES", "many"),
        ("RADQC_LLM_BREAKER_OPEN_SECONDS", "0"),
        ("RADQC_LLM_BREAKER_OPEN_SECONDS", "-5"),
        ("RADQC_LLM_REPORT_SAMPLES", "0"),
        ("RADQC_LLM_IMAGE_SAMPLES", "17"),
        ("RADQC_LLM_IMAGE_MAX_SIDE", "32"),
        ("RADQC_LLM_REPORT_TEMPERATURE", "3"),
        ("RADQC_LLM_IMAGE_CONCURRENCY", "0"),
        ("RADQC_LLM_REPORT_MODE", "sometimes"),
        ("RADQC_LLM_IMAGE_PRICE_OUT_PER_1K", "-1"),
    ],
)
def test_bad_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        load_settings()


def test_samples_need_a_temperature(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADQC_LLM_REPORT_SAMPLES", "3")
    with pytest.raises(ConfigurationError, match="RADQC_LLM_REPORT_TEMPERATURE"):
        load_settings()
    monkeypatch.setenv("RADQC_LLM_REPORT_TEMPERATURE", "0.7")
    assert load_settings().llm_report_samples == 3


def test_breaker_settings_reach_the_running_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with llm_server() as (srv, url):
        srv.default = Reply(status=503)
        monkeypatch.setenv("RADQC_LLM_BASE_URL", url)
        monkeypatch.setenv("RADQC_LLM_MODEL", "m")
        monkeypatch.setenv("RADQC_LLM_MAX_ATTEMPTS", "1")
        monkeypatch.setenv("RADQC_LLM_BREAKER_FAILURES", "3")
        monkeypatch.setenv("RADQC_LLM_BREAKER_OPEN_SECONDS", "600")
        settings = load_settings()
        cfg = llm_config(settings, "report")
        assert cfg is not None
        assert (cfg.breaker_threshold, cfg.breaker_cooldown, cfg.samples) == (3, 600.0, 1)
        files = FileStore(tmp_path / "f")
        stage = build_stage(settings, Pipeline(None, files, [], [], NullPublisher()))  # type: ignore[arg-type]
        assert stage is not None and stage.report_engine is not None
        engine = stage.report_engine

        async def go() -> int:
            failures = 0
            try:
                for _ in range(5):
                    try:
                        await engine.review(report_input("FINDINGS: x. IMPRESSION: y."), [])
                    except LLMUnavailable:
                        failures += 1
            finally:
                await engine.client.close()
            return failures

        assert stage.runner.run(go()) == 5
        stage.runner.close()
    assert len(srv.requests) == 3  # open after the third failure: calls 4 and 5 never left


def test_each_kind_reaches_its_client_with_the_shared_fallbacks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADQC_LLM_BASE_URL", "http://shared.example/v1")
    monkeypatch.setenv("RADQC_LLM_MODEL", "shared")
    monkeypatch.setenv("RADQC_LLM_API_KEY", "shared-key")
    monkeypatch.setenv("RADQC_LLM_IMAGE_MODE", "verify")
    monkeypatch.setenv("RADQC_LLM_IMAGE_MODEL", "vision")
    monkeypatch.setenv("RADQC_LLM_IMAGE_TIMEOUT_SECONDS", "90")
    monkeypatch.setenv("RADQC_LLM_REPORT_API_KEY", "report-key")
    monkeypatch.setenv("RADQC_LLM_REPORT_CONCURRENCY", "7")
    monkeypatch.setenv("RADQC_LLM_REPORT_MAX_TOKENS", "256")
    settings = load_settings()
    image, report = llm_config(settings, "image"), llm_config(settings, "report")
    assert image is not None and report is not None
    assert (image.base_url, image.model, image.api_key, image.timeout) == (
        "http://shared.example/v1",
        "vision",
        "shared-key",
        90.0,
    )
    assert (report.model, report.api_key, report.concurrency, report.max_tokens) == (
        "shared",
        "report-key",
        7,
        256,
    )
    assert llm_kinds(settings) == {"image", "report"}
    assert (
        llm_config(
            settings.with_llm_kind("image", settings.llm_image.model_copy(update={"mode": "off"})),
            "image",
        )
        is None
    )
