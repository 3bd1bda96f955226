"""A circuit breaker for the LLM endpoint.

Why: while the endpoint is down, every queued LLM job would otherwise spend its timeouts and
retries on it. After ``threshold`` consecutive failed calls the breaker opens for ``cooldown``
seconds: calls fail at once (the job is retried later by the queue, the rules result stands);
after the cooldown one trial call is let through (half-open) and success closes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    def allow(self) -> bool:
        """Whether a call may go out now (closed, or half-open after the cooldown)."""
        if self._opened_at is None:
            return True
        if self._clock() - self._opened_at >= self.cooldown:
            self._opened_at = self._clock()  # one trial call per cooldown
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def failure(self) -> None:
        self._failures += 1
        if self._failures >= self.threshold:
            self._opened_at = self._clock()

    @property
    def open(self) -> bool:
        return self._opened_at is not None
