"""The LLM endpoint configuration of each item kind, from the settings.

The engines and their pipeline stage are built from it in :mod:`service.llm_stage`.
"""

from __future__ import annotations

from service.config import Settings
from service.engines.llm.client import LLMConfig
from service.taxonomy import Kind


def llm_config(settings: Settings, kind: Kind) -> LLMConfig | None:
    """The endpoint configuration for ``kind``, or None when the LLM is off for it."""
    if getattr(settings, f"llm_{kind}_mode") == "off":
        return None
    base_url = getattr(settings, f"llm_{kind}_base_url") or settings.llm_base_url
    model = getattr(settings, f"llm_{kind}_model") or settings.llm_model
    if not base_url or not model:
        return None
    return LLMConfig(
        base_url=base_url,
        model=model,
        api_key=getattr(settings, f"llm_{kind}_api_key") or settings.llm_api_key or "none",
        temperature=getattr(settings, f"llm_{kind}_temperature"),
        max_tokens=getattr(settings, f"llm_{kind}_max_tokens"),
        timeout=getattr(settings, f"llm_{kind}_timeout_seconds"),
        concurrency=getattr(settings, f"llm_{kind}_concurrency"),
        max_attempts=settings.llm_max_attempts,
        breaker_threshold=settings.llm_breaker_failures,
        breaker_cooldown=settings.llm_breaker_open_seconds,
        samples=getattr(settings, f"llm_{kind}_samples"),
    )


def llm_kinds(settings: Settings) -> frozenset[str]:
    """The item kinds that get an LLM job after the rules."""
    kinds: tuple[Kind, ...] = ("image", "report")
    return frozenset(k for k in kinds if llm_config(settings, k) is not None)
