"""Typed engine parameters (issue 14): they parse from and serialise to the JSON stored in
``engine_configs`` since issue 5, so stored configurations stay readable and keep their
fingerprints."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from service.components import Components
from service.config import Settings
from service.errors import InvalidInputError
from service.loop.engine_configs import (
    EngineParams,
    EngineRegistry,
    LLMParams,
    RulesParams,
    default_rules,
    fingerprint,
    normalise,
    parameters_from_settings,
    prompt_version,
    rules_engine_version,
    settings_fingerprint,
)

# Submitted parameters, the JSON the untyped code stored for them, and its fingerprint, all
# computed with the code before the typed parameters (do not recompute them).
_LEGACY = [
    (
        {"rules": {"min_confidence": 0.8, "version": "rules-0.4.0"}},
        {
            "llm": {},
            "rules": {
                "disabled_checks": [],
                "disabled_codes": [],
                "min_confidence": 0.8,
                "version": "rules-0.4.0",
            },
        },
        "16a0a829e8b4f5f45f466d769a6e4f1e5ed450a50f64d1fa42a20b32dbf26468",
    ),
    (
        {
            "rules": {
                "disabled_codes": ["report.typo"],
                "disabled_checks": [],
                "version": "rules-0.0.1",
                "min_confidence": 1,
            }
        },
        {
            "llm": {},
            "rules": {
                "disabled_checks": [],
                "disabled_codes": ["report.typo"],
                "min_confidence": 1.0,
                "version": "rules-0.0.1",
            },
        },
        "071dd4edce47cedec6708190996ce143932da74b498d0649943f8f9fd33dc685",
    ),
    (
        {
            "rules": None,
            "llm": {
                "report": {
                    "model": "m",
                    "base_url": "http://h/v1/",
                    "temperature": 0,
                    "max_tokens": "512",
                    "prompt": "report_review.v1@abc",
                },
                "image": {
                    "model": "v",
                    "base_url": "http://h/v1",
                    "mode": "verify",
                    "samples": 3,
                    "temperature": 0.7,
                    "prompt": "p@1",
                },
            },
        },
        {
            "llm": {
                "image": {
                    "base_url": "http://h/v1",
                    "max_tokens": 1024,
                    "mode": "verify",
                    "model": "v",
                    "prompt": "p@1",
                    "samples": 3,
                    "temperature": 0.7,
                },
                "report": {
                    "base_url": "http://h/v1",
                    "max_tokens": 512,
                    "mode": "both",
                    "model": "m",
                    "prompt": "report_review.v1@abc",
                    "temperature": 0.0,
                },
            },
            "rules": None,
        },
        "51cdb94c57794c090a8ec804253f1f7db96a8b61fd594131df09b1bf5de5f6a7",
    ),
    (
        {"llm": {"report": {"model": "m", "base_url": "http://h", "samples": 1, "prompt": "x@y"}}},
        {
            "llm": {
                "report": {
                    "base_url": "http://h",
                    "max_tokens": 1024,
                    "mode": "both",
                    "model": "m",
                    "prompt": "x@y",
                    "temperature": 0.0,
                }
            },
            "rules": None,
        },
        "3e9f3f361f936d70c1a8e68d9e87d787ea8b047173df1748f755947cb8e9eff0",
    ),
]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(("submitted", "stored", "digest"), _LEGACY)
def test_submitted_parameters_store_the_legacy_json_and_fingerprint(
    submitted: dict[str, Any], stored: dict[str, Any], digest: str
) -> None:
    params = EngineParams.parse(submitted)
    assert _dumps(params.to_json()) == _dumps(stored)  # same JSON, floats stay floats
    assert _dumps(normalise(submitted)) == _dumps(stored)
    assert fingerprint(params) == digest


@pytest.mark.parametrize(("stored", "digest"), [(s, d) for _, s, d in _LEGACY])
def test_stored_parameters_round_trip_unchanged(stored: dict[str, Any], digest: str) -> None:
    params = EngineParams.stored(stored)
    assert _dumps(params.to_json()) == _dumps(stored)
    assert fingerprint(params) == digest
    assert EngineParams.stored(params.to_json()) == params


def test_stored_parameters_are_read_even_with_checks_this_build_lacks() -> None:
    stored = {"rules": {**default_rules(), "disabled_checks": ["a_check_removed_since"]}}
    with pytest.raises(InvalidInputError) as refused:
        EngineParams.parse(stored)
    assert refused.value.location == "rules.disabled_checks"
    params = EngineParams.stored(stored)
    assert params.rules is not None and params.rules.disabled_checks == ("a_check_removed_since",)


@pytest.mark.parametrize(
    ("bad", "location"),
    [
        ({}, None),
        ({"rules": {"disabled_codes": ["report.nope"]}}, "rules.disabled_codes"),
        ({"rules": {"min_confidence": 2}}, "rules.min_confidence"),
        ({"rules": {"colour": "red"}}, "rules.colour"),
        ({"llm": {"report": {"model": "m"}}}, "llm.report.base_url"),
        ({"llm": {"report": {"model": "m", "base_url": "http://h", "mode": "x"}}}, None),
        ({"llm": {"video": {"model": "m", "base_url": "http://h"}}}, None),
        ({"llm": ["report"]}, "llm"),
        ({"rules": {}, "extra": 1}, "extra"),
    ],
)
def test_invalid_parameters_name_the_bad_part(bad: dict[str, Any], location: str | None) -> None:
    with pytest.raises(InvalidInputError) as refused:
        EngineParams.parse(bad)
    if location is not None:
        assert refused.value.location == location


def test_defaults_are_filled() -> None:
    params = EngineParams.parse({"llm": {"report": {"model": "m", "base_url": "http://h/"}}})
    assert params.rules is None
    assert params.llm["report"] == LLMParams(
        model="m", base_url="http://h", prompt=prompt_version("report")
    )
    assert params.llm["report"].mode == "both" and params.llm["report"].samples == 1
    assert "samples" not in params.to_json()["llm"]["report"]
    assert EngineParams.parse({"rules": {}}).rules == RulesParams()


def test_rules_engine_version_keeps_its_tuning_hash() -> None:
    assert rules_engine_version(RulesParams(version="rules-9")) == "rules-9"
    tuned = RulesParams(version="rules-9", disabled_codes=("report.typo",), min_confidence=0.5)
    # The hash of the tuning's JSON, as computed before the parameters were typed.
    assert rules_engine_version(tuned) == "rules-9+" + _tuning_digest(
        {"disabled_checks": [], "disabled_codes": ["report.typo"], "min_confidence": 0.5}
    )


def _tuning_digest(tuning: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(tuning, sort_keys=True).encode()).hexdigest()[:8]


def test_settings_parameters_are_typed(settings: Settings) -> None:
    with_llm = settings.model_copy(
        update={
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_model": "m",
            "llm_report_samples": 3,
            "llm_report_temperature": 0.5,
        }
    )
    params = parameters_from_settings(with_llm)
    report = params.llm["report"]
    assert (report.model, report.mode, report.samples, report.temperature) == ("m", "both", 3, 0.5)
    assert "image" not in params.llm  # off by default
    assert params.rules == RulesParams()
    assert settings_fingerprint(with_llm) == fingerprint(EngineParams.parse(params.to_json()))


@pytest.mark.parametrize(("submitted", "stored", "digest"), _LEGACY)
def test_the_database_keeps_the_legacy_form(
    comps: Components, submitted: dict[str, Any], stored: dict[str, Any], digest: str
) -> None:
    registry = EngineRegistry(comps.db)
    config = registry.record("legacy", submitted, "t")
    again = registry.get(config.id)
    assert config.fingerprint == again.fingerprint == digest
    assert _dumps(again.parameters) == _dumps(stored)
    assert registry.record("legacy", EngineParams.stored(again.parameters), "t").id == config.id
