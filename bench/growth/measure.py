"""Timing the queries over HTTP, and ``EXPLAIN ANALYZE`` of the statements behind them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from bench.growth.queries import Query, Samples
from bench.growth.server import Api
from bench.load.results import percentile


@dataclass
class Timing:
    times: list[float]
    rows: int  # CSV lines (with the header) of the last call; 0 for JSON

    @property
    def p50_ms(self) -> float:
        return 1000 * percentile(self.times, 50)

    @property
    def p95_ms(self) -> float:
        return 1000 * percentile(self.times, 95)


def _call(client: httpx.Client, api: Api, query: Query, samples: Samples, call: int) -> int:
    """One request; returns the CSV lines read (0 for other answers)."""
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if query.role == "page":
        cookies["radqc_token"] = api.auditor_token
    else:
        token = api.auditor_token if query.role == "auditor" else api.reader_token
        headers["Authorization"] = f"Bearer {token}"
    params = query.params(samples, call)
    body = query.body(samples) if query.body is not None else None
    client.cookies.clear()
    client.cookies.update(cookies)
    if query.stream:
        lines = 0
        with client.stream(query.method, query.path, params=params, headers=headers) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
        return lines
    response = client.request(query.method, query.path, params=params, headers=headers, json=body)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{query.name}: HTTP {response.status_code}: {response.text[:300]}")
    return 0


def time_query(
    api: Api, query: Query, samples: Samples, calls: int, budget: float, warmup: int = 2
) -> Timing:
    """``warmup`` untimed calls, then ``calls`` timed ones, one at a time; a slow query stops
    early: one warm-up when it took over a tenth of ``budget`` seconds, and no new timed call
    once the timed ones took ``budget`` seconds (at least one is always made)."""
    times: list[float] = []
    rows = 0
    with httpx.Client(base_url=api.base_url, timeout=900) as client:
        for call in range(warmup):
            started = time.perf_counter()
            _call(client, api, query, samples, call)
            if time.perf_counter() - started > budget / 10:
                break
        for call in range(warmup, warmup + calls):
            if times and sum(times) > budget:
                break
            started = time.perf_counter()
            rows = _call(client, api, query, samples, call)
            times.append(time.perf_counter() - started)
    return Timing(times, rows)


@dataclass
class Explained:
    statement: str
    plan: list[str]

    @property
    def execution_ms(self) -> float:
        for line in reversed(self.plan):
            if line.startswith("Execution Time:"):
                return float(line.split(":")[1].split()[0])
        return float("nan")


def explain(engine: Engine, query: Query, samples: Samples) -> list[Explained]:
    """Run the query's own radqc functions once, capturing every SELECT they send, then
    ``EXPLAIN (ANALYZE, BUFFERS)`` each with the same parameters."""
    if query.explain is None:
        return []
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            query.explain(session, samples)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    out = []
    with engine.connect() as conn:
        for statement, parameters in captured:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            out.append(Explained(statement, [str(row[0]) for row in rows]))
    return out
