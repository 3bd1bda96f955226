"""Schemathesis against radqc's real OpenAPI document, over HTTP on loopback.

One run is schemathesis' own engine (the ``st run`` engine: explicit examples, boundary and
negative "coverage" cases, random fuzzing) with one bearer token or none. Every response is
counted by status class; a 5xx, and a response that contradicts what the schema documents
(its JSON schema, its content type), is recorded with the operation that produced it.
Used by ``tests/service/api/test_schemathesis.py`` (bounded) and ``bench/fuzz/rest_api.py`` (long).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.engine import events, from_schema

from tests.service.api.conftest import ADMIN, AUDITOR, INGEST, READER

ROLE_TOKENS: dict[str, str | None] = {
    "none": None,
    "ingest": INGEST,
    "reader": READER,
    "auditor": AUDITOR,
    "admin": ADMIN,
}
CHECKS = ("not_a_server_error", "response_schema_conformance", "content_type_conformance")
ALL_PHASES = ("examples", "coverage", "fuzzing")


@dataclass
class FuzzReport:
    """What one or more runs sent and got back."""

    cases: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, other: FuzzReport) -> None:
        self.cases += other.cases
        self.by_class.update(other.by_class)
        self.server_errors.extend(other.server_errors)
        self.failures.update(other.failures)
        self.seconds += other.seconds

    def summary(self) -> str:
        classes = ", ".join(f"{name} {count}" for name, count in sorted(self.by_class.items()))
        return (
            f"{self.cases} cases in {self.seconds:.1f} s: {classes}; "
            f"server errors {len(self.server_errors)}; check failures {sum(self.failures.values())}"
        )


def _config(
    token: str | None, *, max_examples: int, max_time: int, seed: int, phases: Sequence[str]
) -> Any:
    config = schemathesis.Config()
    config.update(seed=seed, max_time=max_time, max_failures=None)
    project = config.projects.override
    headers = {"Authorization": f"Bearer {token}"} if token else None
    project.update(headers=headers, workers=1, request_timeout=20)
    project.generation.update(max_examples=max_examples, database="none")
    project.phases.update(phases=list(phases))
    project.checks.update(included_check_names=list(CHECKS))
    return config


def _status_class(status: int | None) -> str:
    return "no response" if status is None else f"{status // 100}xx"


def _record(report: FuzzReport, label: str, recorder: Any) -> None:
    for interaction in recorder.interactions.values():
        status = interaction.response.status_code if interaction.response else None
        report.cases += 1
        report.by_class[_status_class(status)] += 1
        if status is None or status >= 500:
            request = interaction.request
            report.server_errors.append(f"{request.method} {request.uri} -> {status}")
    for checks in recorder.checks.values():
        for check in checks:
            if check.status.value == "failure":
                report.failures[f"{check.name}: {label}"] += 1


def fuzz_api(
    openapi_url: str,
    token: str | None,
    *,
    max_examples: int,
    max_time: int,
    seed: int = 10,
    phases: Sequence[str] = ALL_PHASES,
) -> FuzzReport:
    """Run schemathesis against ``openapi_url`` with ``token`` (or none) and count the results."""
    config = _config(token, max_examples=max_examples, max_time=max_time, seed=seed, phases=phases)
    schema = schemathesis.openapi.from_url(openapi_url, config=config)
    report = FuzzReport()
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            _record(report, getattr(event, "label", None) or "fuzz scenario", event.recorder)
        elif isinstance(event, events.FatalError):
            raise RuntimeError(f"schemathesis could not run: {event.exception!r}")
    report.seconds = time.monotonic() - started
    return report
