"""The loop's knobs come from the one settings class."""

from __future__ import annotations

import pytest

from service.config import Settings, load_settings
from service.errors import ConfigurationError
from service.loop.audit_draw import SamplingPlan


def test_sampling_plan_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADQC_AUDIT_DAILY_QUOTA", "17")
    monkeypatch.setenv("RADQC_AUDIT_LOW_CONFIDENCE", "0.4")
    plan = SamplingPlan.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert (plan.daily_quota, plan.low_confidence) == (17, 0.4)


def test_bad_floors_are_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADQC_DRIFT_PRECISION_FLOOR", "1.5")
    monkeypatch.setenv("RADQC_DRIFT_WINDOW_DAYS", "0")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "RADQC_DRIFT_PRECISION_FLOOR" in str(caught.value)
    assert "RADQC_DRIFT_WINDOW_DAYS" in str(caught.value)
