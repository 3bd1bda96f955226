"""The LLM endpoint configuration of each item kind, from the settings.

The engines and their pipeline stage are built from it in :mod:`service.llm_stage`.
"""

from __future__ import annotations

from service.config import LLM_KINDS, Settings
from service.engines.llm.client import LLMConfig
from service.taxonomy import Kind


def llm_config(settings: Settings, kind: Kind) -> LLMConfig | None:
    """The endpoint configuration for ``kind``, or None when the LLM is off for it."""
    per_kind = settings.llm_kind(kind)
    if per_kind.mode == "off":
        return None
    base_url = per_kind.base_url or settings.llm_base_url
    model = per_kind.model or settings.llm_model
    if not base_url or not model:
        return None
    return LLMConfig(
        base_url=base_url,
        model=model,
        api_key=per_kind.api_key or settings.llm_api_key or "none",
        temperature=per_kind.temperature,
        max_tokens=per_kind.max_tokens,
        timeout=per_kind.timeout_seconds,
        concurrency=per_kind.concurrency,
        max_attempts=settings.llm_max_attempts,
        breaker_threshold=settings.llm_breaker_failures,
        breaker_cooldown=settings.llm_breaker_open_seconds,
        samples=per_kind.samples,
    )


def llm_kinds(settings: Settings) -> frozenset[str]:
    """The item kinds that get an LLM job after the rules."""
    return frozenset(k for k in LLM_KINDS if llm_config(settings, k) is not None)
