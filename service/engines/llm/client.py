"""The async OpenAI-compatible client: bounded concurrency, retries honouring Retry-After,
structured output with fallbacks.

Why one module: every call that leaves the process goes through :meth:`LLMClient.complete`, so
concurrency, retry and output-format fallback are decided in one place. openai's own retries are
off (``max_retries=0``) so that the policy here is the only one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from service.engines.llm.breaker import CircuitBreaker
from service.errors import EngineError
from service.phi.guard import identifiers_in
from service.phi.known import KnownIdentifiers
from service.retry import backoff_delay, parse_retry_after

log = logging.getLogger(__name__)

FORMATS = ("json_schema", "json_object", "text")


class LLMCallError(EngineError):
    """A question to the model that did not get an answer.

    ``calls`` are the attempts that reached the server before it stopped (each with its error):
    they happened and cost time (and maybe money), so the caller meters them.
    """

    def __init__(self, message: str, calls: Sequence[Completion] = ()) -> None:
        super().__init__(message)
        self.calls: list[Completion] = list(calls)


class LLMUnavailable(LLMCallError):
    """The endpoint could not be reached or kept failing; the LLM part must be retried later."""


class PHIRefused(LLMCallError):
    """The egress guard found identifiers known for the item in the request: it was not sent.

    Final (the same input would be refused again); ``kinds`` says what was found, never the
    values."""

    def __init__(self, kinds: Sequence[str], calls: Sequence[Completion] = ()) -> None:
        super().__init__(
            f"refused before sending: the request held patient identifiers ({', '.join(kinds)})",
            calls,
        )
        self.kinds: list[str] = list(kinds)


@dataclass(frozen=True, slots=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str = "none"
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout: float = 60.0
    concurrency: int = 4
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    samples: int = 1  # self-consistency: independent answers per question


@dataclass(frozen=True, slots=True)
class Completion:
    """One attempt that reached the server. A failed one has ``error`` (what happened) and
    ``failure`` (its kind, a metrics label); tokens are 0 when the server did not report them."""

    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    error: str | None = None
    failure: str | None = None  # timeout | http_429 | http_5xx | http_4xx | connection | ...


def retry_delay(attempt: int, retry_after: str | None, base: float, cap: float) -> float:
    """Seconds before retry ``attempt`` (1-based): the server's Retry-After (seconds or an HTTP
    date) if given, else exponential backoff; at most ``cap`` either way."""
    asked = parse_retry_after(retry_after, cap=cap)
    return asked if asked is not None else backoff_delay(attempt, base, cap)


class LLMClient:
    """One endpoint and model; create once at start-up, share between calls."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "none",
            timeout=config.timeout,
            max_retries=0,
        )
        self._limit = asyncio.Semaphore(config.concurrency)
        self.breaker = CircuitBreaker(config.breaker_threshold, config.breaker_cooldown)
        self._format_index = 0  # falls back when the server rejects a response_format

    async def close(self) -> None:
        await self._client.close()

    async def complete(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], known: KnownIdentifiers
    ) -> list[Completion]:
        """One chat completion, retried on 429, 5xx, timeouts and dropped connections.

        ``known`` are the identifiers radqc holds for the item: if the payload still contains
        any, :class:`PHIRefused` is raised and nothing is sent (the egress guard).
        Returns every attempt that reached the server, the answer last; failed attempts carry
        their error. On giving up, :class:`LLMUnavailable` carries the failed attempts.
        """
        found = identifiers_in(messages, known)
        if found:
            raise PHIRefused(found)
        if not self.breaker.allow():
            raise LLMUnavailable("LLM circuit breaker open: endpoint failing, retry later")
        try:
            done = await self._complete(messages, schema)
        except LLMUnavailable:
            self.breaker.failure()
            raise
        self.breaker.success()
        return done

    async def _complete(
        self, messages: list[dict[str, Any]], schema: dict[str, Any]
    ) -> list[Completion]:
        attempts: list[Completion] = []
        tries = 0  # failed tries that count against max_attempts (format fallbacks do not)
        async with self._limit:
            while True:
                started = time.perf_counter()
                try:
                    attempts.append(await self._once(messages, schema, started))
                    return attempts
                except openai.APIError as exc:
                    failed = _failed_attempt(exc, time.perf_counter() - started)
                    if failed is not None:
                        attempts.append(failed)
                    if self._fall_back(exc):
                        continue
                    tries += 1
                    await self._wait_or_give_up(exc, tries, attempts)

    def _fall_back(self, exc: openai.APIError) -> bool:
        """A 400 while a response_format is sent: try the next, simpler output format."""
        if not isinstance(exc, openai.BadRequestError) or self._format_index + 1 >= len(FORMATS):
            return False
        self._format_index += 1
        log.info("response_format unsupported; falling back to %s", self._fmt())
        return True

    async def _wait_or_give_up(
        self, exc: openai.APIError, tries: int, attempts: list[Completion]
    ) -> None:
        """Retry 429, 5xx, timeouts and lost connections with backoff; give up on other 4xx or
        after ``max_attempts`` tries."""
        retry_after = None
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code < 500 and exc.status_code != 429:
                raise LLMUnavailable(
                    f"LLM endpoint refused: HTTP {exc.status_code}", attempts
                ) from exc
            retry_after = exc.response.headers.get("retry-after")
        if tries >= self.config.max_attempts:
            raise LLMUnavailable(f"LLM endpoint failed {tries} times: {exc}", attempts) from exc
        cfg = self.config
        await asyncio.sleep(retry_delay(tries, retry_after, cfg.backoff_base, cfg.backoff_max))

    def _fmt(self) -> str:
        return FORMATS[self._format_index]

    async def _once(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], started: float
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        fmt = self._fmt()
        if fmt == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "qc_review", "schema": schema},
            }
        elif fmt == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        resp = await self._client.chat.completions.create(
            model=self.config.model,
            messages=messages,  # type: ignore[arg-type]
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            **kwargs,
        )
        latency = time.perf_counter() - started
        text = resp.choices[0].message.content or "" if resp.choices else ""
        usage = resp.usage
        return Completion(
            text=text,
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
            latency_s=latency,
        )


def _failed_attempt(exc: openai.APIError, latency: float) -> Completion | None:
    """The metering record of a failed attempt, or None when the request never reached the
    server (connection refused, name not resolved, connect timeout)."""
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        if isinstance(exc, openai.BadRequestError):
            kind = "format_rejected"
        elif code == 429:
            kind = "http_429"
        else:
            kind = "http_5xx" if code >= 500 else "http_4xx"
        return Completion("", 0, 0, latency, f"HTTP {code}", kind)
    if isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout):
        return None
    if isinstance(exc, openai.APITimeoutError):
        return Completion("", 0, 0, latency, "timed out", "timeout")
    return Completion("", 0, 0, latency, f"connection lost: {exc}", "connection")
