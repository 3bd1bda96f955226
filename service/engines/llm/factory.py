"""Building the LLM engines and their stage from settings, once at start-up (composition root).

Why here and not in app.py: one function turns the per-kind settings into clients, engines and
prices, so the wiring in the composition root stays a few lines.
"""

from __future__ import annotations

from service.config import Settings
from service.engines.llm.client import LLMClient, LLMConfig
from service.engines.llm.engine import LLMImageEngine, LLMReportEngine
from service.engines.llm.stage import LLMStage, Prices
from service.pipeline import Pipeline
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


def build_stage(settings: Settings, pipeline: Pipeline) -> LLMStage | None:
    """The LLM stage for the configured kinds, or None when the LLM is off for both."""
    report_cfg, image_cfg = llm_config(settings, "report"), llm_config(settings, "image")
    if report_cfg is None and image_cfg is None:
        return None
    report = (
        LLMReportEngine(
            LLMClient(report_cfg),
            mode=settings.llm_report_mode,
            reject_max_rule_confidence=settings.llm_reject_max_rule_confidence,
        )
        if report_cfg
        else None
    )
    image = (
        LLMImageEngine(
            LLMClient(image_cfg),
            mode=settings.llm_image_mode,
            max_side=settings.llm_image_max_side,
            reject_max_rule_confidence=settings.llm_reject_max_rule_confidence,
        )
        if image_cfg
        else None
    )
    prices = {
        kind: Prices(
            getattr(settings, f"llm_{kind}_price_in_per_1k"),
            getattr(settings, f"llm_{kind}_price_out_per_1k"),
        )
        for kind in ("image", "report")
    }
    return LLMStage(pipeline, report_engine=report, image_engine=image, prices=prices)
