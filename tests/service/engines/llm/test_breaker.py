"""The circuit breaker's states with a controlled clock."""

from __future__ import annotations

from service.engines.llm.breaker import CircuitBreaker


def test_open_then_half_open_then_closed() -> None:
    now = [0.0]
    b = CircuitBreaker(threshold=2, cooldown=10, clock=lambda: now[0])
    b.failure()
    assert b.allow() and not b.open
    b.failure()
    assert b.open and not b.allow()
    now[0] = 10.0
    assert b.allow() and not b.allow()  # one trial call per cooldown
    b.success()
    assert not b.open and b.allow()
