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
from dataclasses import dataclass
from typing import Any

import openai

from service.engines.llm.breaker import CircuitBreaker
from service.errors import EngineError

log = logging.getLogger(__name__)

FORMATS = ("json_schema", "json_object", "text")


class LLMUnavailable(EngineError):
    """The endpoint could not be reached or kept failing; the LLM part must be retried later."""


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


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float


def retry_delay(attempt: int, retry_after: str | None, base: float, cap: float) -> float:
    """Seconds before retry ``attempt`` (1-based): Retry-After if given, else exponential."""
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), cap)
        except ValueError:
            pass
    return float(min(base * 2 ** (attempt - 1), cap))


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

    async def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any]) -> Completion:
        """One chat completion, retried on 429, 5xx, timeouts and dropped connections."""
        if not self.breaker.allow():
            raise LLMUnavailable("LLM circuit breaker open: endpoint failing, retry later")
        try:
            done = await self._complete(messages, schema)
        except LLMUnavailable:
            self.breaker.failure()
            raise
        self.breaker.success()
        return done

    async def _complete(self, messages: list[dict[str, Any]], schema: dict[str, Any]) -> Completion:
        async with self._limit:
            attempt = 0
            while True:
                attempt += 1
                try:
                    return await self._once(messages, schema)
                except openai.BadRequestError:
                    if self._format_index + 1 >= len(FORMATS):
                        raise
                    self._format_index += 1
                    log.info("response_format unsupported; falling back to %s", self._fmt())
                except (openai.RateLimitError, openai.InternalServerError) as exc:
                    header = exc.response.headers.get("retry-after")
                    await self._wait_or_give_up(attempt, header, exc)
                except openai.APIStatusError as exc:
                    if exc.status_code < 500:
                        raise LLMUnavailable(
                            f"LLM endpoint refused: HTTP {exc.status_code}"
                        ) from exc
                    await self._wait_or_give_up(
                        attempt, exc.response.headers.get("retry-after"), exc
                    )
                except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                    await self._wait_or_give_up(attempt, None, exc)

    def _fmt(self) -> str:
        return FORMATS[self._format_index]

    async def _wait_or_give_up(self, attempt: int, retry_after: str | None, exc: Exception) -> None:
        if attempt >= self.config.max_attempts:
            raise LLMUnavailable(f"LLM endpoint failed {attempt} times: {exc}") from exc
        cfg = self.config
        await asyncio.sleep(retry_delay(attempt, retry_after, cfg.backoff_base, cfg.backoff_max))

    async def _once(self, messages: list[dict[str, Any]], schema: dict[str, Any]) -> Completion:
        kwargs: dict[str, Any] = {}
        fmt = self._fmt()
        if fmt == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "qc_review", "schema": schema},
            }
        elif fmt == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        started = time.perf_counter()
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
