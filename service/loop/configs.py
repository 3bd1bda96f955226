"""Versioned engine configurations, the champion, and the promotion trail (issue 5 §4).

A configuration's ``parameters`` are plain JSON::

    {"rules": {"version": "rules-0.1.0", "disabled_checks": [], "disabled_codes": [],
               "min_confidence": 0.0},                       # or null: no rules engine
     "llm": {"report": {"model": ..., "base_url": ..., "mode": "both", "temperature": 0.0,
                        "max_tokens": 1024, "prompt": "report_review.v2@<sha>"},
             "image": {...}}}                                  # kinds without an LLM are absent

No secret is ever stored: the API key of an LLM configuration comes from the settings of the
process that runs it. The same parameters under the same name are the same version
(``fingerprint``: the hash of the canonical JSON), so recording the running configuration at
every start-up is idempotent. Exactly one configuration is the champion; promoting another
retires it and writes an :class:`EnginePromotion` row in the same transaction. The champion is
what live QC runs: workers build their engines from its parameters and pick up a promotion
between jobs (:mod:`service.loop.champion`); the settings only describe a candidate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from service.config import Settings
from service.db import Database
from service.engines.llm import prompts
from service.engines.llm.engine import LLMImageEngine, LLMReportEngine, llm_engine_version
from service.engines.llm.factory import llm_config
from service.engines.rules import IMAGE_CHECKS, REPORT_CHECKS, RULES_VERSION
from service.errors import InvalidInputError, NotFoundError
from service.loop.models import EngineConfig, EnginePromotion
from service.taxonomy import CODES

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
RETIRED = "retired"
ROLES = (CHAMPION, CHALLENGER, RETIRED)
RUNNING_NAME = "live"  # the name under which the settings-derived configuration is recorded
MODES = ("verify", "review", "both")
CHECK_NAMES = frozenset(c.__name__ for c in (*IMAGE_CHECKS, *REPORT_CHECKS))
_TEMPLATES = {"report": LLMReportEngine.template_name, "image": LLMImageEngine.template_name}


def prompt_version(kind: str) -> str:
    """``<template>@<sha>`` of the prompt this build ships for ``kind``."""
    template = prompts.load(_TEMPLATES[kind])
    return f"{template.name}@{template.sha}"


def parameters_from_settings(settings: Settings) -> dict[str, Any]:
    """The configuration this process runs, as parameters (the API keys left out)."""
    llm: dict[str, Any] = {}
    for kind in ("report", "image"):
        config = llm_config(settings, kind)
        if config is None:
            continue
        llm[kind] = {
            "model": config.model,
            "base_url": config.base_url,
            "mode": getattr(settings, f"llm_{kind}_mode"),
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
            "prompt": prompt_version(kind),
        }
        if config.samples > 1:  # self-consistency
            llm[kind]["samples"] = config.samples
    return {"rules": default_rules(), "llm": llm}


def default_rules() -> dict[str, Any]:
    return {
        "version": RULES_VERSION,
        "disabled_checks": [],
        "disabled_codes": [],
        "min_confidence": 0.0,
    }


def normalise(parameters: dict[str, Any]) -> dict[str, Any]:
    """Validate ``parameters`` and fill defaults; InvalidInputError names the bad part."""
    if not isinstance(parameters, dict) or set(parameters) - {"rules", "llm"}:
        raise InvalidInputError("parameters must be an object with 'rules' and/or 'llm'")
    llm = parameters.get("llm") or {}
    if not isinstance(llm, dict):
        raise InvalidInputError("llm takes 'report' and 'image' objects", location="llm")
    try:
        out = {
            "rules": _rules(parameters["rules"]) if parameters.get("rules") is not None else None,
            "llm": {kind: _llm(kind, entry) for kind, entry in llm.items()},
        }
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"invalid engine parameters: {exc}") from exc
    if out["rules"] is None and not out["llm"]:
        raise InvalidInputError("a configuration needs rules or an LLM")
    return out


def _rules(rules: Any) -> dict[str, Any]:
    if not isinstance(rules, dict):
        raise InvalidInputError("rules must be an object or null", location="rules")
    merged = {**default_rules(), **rules}
    unknown = set(merged) - set(default_rules())
    if unknown:
        raise InvalidInputError(f"unknown rules parameters {sorted(unknown)}", location="rules")
    codes, checks = set(merged["disabled_codes"]), set(merged["disabled_checks"])
    if codes - set(CODES):
        raise InvalidInputError(
            f"unknown codes {sorted(codes - set(CODES))}", location="rules.disabled_codes"
        )
    if checks - CHECK_NAMES:
        raise InvalidInputError(
            f"unknown checks {sorted(checks - CHECK_NAMES)}", location="rules.disabled_checks"
        )
    floor = float(merged["min_confidence"])
    if not 0.0 <= floor <= 1.0:
        raise InvalidInputError("must be within 0..1", location="rules.min_confidence")
    return {
        "version": str(merged["version"]),
        "disabled_checks": sorted(checks),
        "disabled_codes": sorted(codes),
        "min_confidence": floor,
    }


def _llm(kind: str, entry: Any) -> dict[str, Any]:
    if kind not in _TEMPLATES or not isinstance(entry, dict):
        raise InvalidInputError("llm takes 'report' and 'image' objects", location="llm")
    if not entry.get("model") or not entry.get("base_url"):
        raise InvalidInputError("model and base_url are required", location=f"llm.{kind}")
    if entry.get("mode", "both") not in MODES:
        raise InvalidInputError(f"mode must be one of {MODES}", location=f"llm.{kind}.mode")
    out = {
        "model": str(entry["model"]),
        "base_url": str(entry["base_url"]).rstrip("/"),
        "mode": entry.get("mode", "both"),
        "temperature": float(entry.get("temperature", 0.0)),
        "max_tokens": int(entry.get("max_tokens", 1024)),
        "prompt": str(entry.get("prompt") or prompt_version(kind)),
    }
    if int(entry.get("samples", 1)) > 1:
        out["samples"] = int(entry["samples"])
    return out


def rules_unavailable(rules: dict[str, Any]) -> str | None:
    """Why this build cannot run these ``rules`` parameters (another rules version), or None."""
    if rules["version"] != RULES_VERSION:
        return (
            f"rules version {rules['version']} is not installed (this build runs {RULES_VERSION})"
        )
    return None


def prompt_unavailable(kind: str, entry: dict[str, Any]) -> str | None:
    """Why this build cannot run an LLM entry (another prompt version), or None."""
    shipped = prompt_version(kind)
    if entry["prompt"] != shipped:
        return f"prompt {entry['prompt']} is not installed (this build ships {shipped})"
    return None


def unrunnable(parameters: dict[str, Any]) -> str | None:
    """Why this build cannot run ``parameters`` (another rules or prompt version), or None."""
    rules = parameters.get("rules")
    problems = [rules_unavailable(rules)] if rules is not None else []
    problems += [
        prompt_unavailable(kind, entry)
        for kind, entry in sorted((parameters.get("llm") or {}).items())
    ]
    return next((problem for problem in problems if problem is not None), None)


def fingerprint(parameters: dict[str, Any]) -> str:
    """The configuration's identity. Not :func:`service.canonical.content_hash`: fingerprints
    are stored in ``engine_configs`` since issue 5 with this (key-sorted, default separators)
    form, and changing it would make every stored configuration look new."""
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()


def settings_fingerprint(settings: Settings) -> str:
    """The fingerprint of the configuration these settings describe."""
    return fingerprint(normalise(parameters_from_settings(settings)))


def rules_engine_version(rules: dict[str, Any]) -> str:
    """The ``engine_version`` a configuration's rule findings carry: the rules version and, when
    the configuration changes what the rules report (checks or codes left out, a confidence
    floor), a short hash of that tuning, so that its findings are told apart from the plain
    rules' in evaluations and comparisons. The default tuning keeps the bare rules version."""
    tuning = {key: rules[key] for key in ("disabled_checks", "disabled_codes", "min_confidence")}
    if (
        not tuning["disabled_checks"]
        and not tuning["disabled_codes"]
        and not tuning["min_confidence"]
    ):
        return str(rules["version"])
    digest = hashlib.sha256(json.dumps(tuning, sort_keys=True).encode()).hexdigest()[:8]
    return f"{rules['version']}+{digest}"


def _describe(parameters: dict[str, Any]) -> dict[str, Any]:
    """The headline columns of a configuration, derived from its parameters."""
    rules, llm = parameters["rules"], parameters["llm"]
    kinds = {"image", "report"} if rules else set()
    kinds |= set(llm)
    first = llm.get("report") or llm.get("image") or {}
    versions = [f"rules@{rules_engine_version(rules)}"] if rules else []
    for kind in sorted(llm):
        entry = llm[kind]
        version = llm_engine_version(
            entry["model"], entry["prompt"], entry["mode"], entry.get("samples", 1)
        )
        versions.append(f"llm@{version}")
    return {
        "kinds": sorted(kinds),
        "rules_version": rules["version"] if rules else None,
        "llm_model": first.get("model"),
        "prompt_version": first.get("prompt"),
        "merge_policy": first.get("mode"),
        "engine_versions": versions,
    }


class EngineRegistry:
    """Stores configurations and promotions; one transaction per change."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self, name: str, parameters: dict[str, Any], created_by: str, role: str = CHALLENGER
    ) -> EngineConfig:
        """Store ``parameters`` under ``name`` (a new version), or return the stored version
        with the same parameters. A new configuration is a challenger unless told otherwise."""
        if role not in ROLES:
            raise InvalidInputError(f"role must be one of {ROLES}", location="role")
        params = normalise(parameters)
        digest = fingerprint(params)
        for _attempt in range(3):
            existing = self._by_fingerprint(name, digest)
            if existing is not None:
                return existing
            try:
                return self._insert(name, params, digest, created_by, role)
            except IntegrityError:  # another process recorded it (or the version) first
                log.info("engine configuration %s recorded concurrently; reading it", name)
        raise InvalidInputError(f"could not record engine configuration {name}")

    def _by_fingerprint(self, name: str, digest: str) -> EngineConfig | None:
        with self.db.reader() as session:
            return session.scalar(
                select(EngineConfig).where(
                    EngineConfig.name == name, EngineConfig.fingerprint == digest
                )
            )

    def _insert(
        self, name: str, params: dict[str, Any], digest: str, created_by: str, role: str
    ) -> EngineConfig:
        with self.db.transaction() as session:
            latest = session.scalar(
                select(func.max(EngineConfig.version)).where(EngineConfig.name == name)
            )
            has_champion = session.scalar(select(func.count()).where(EngineConfig.role == CHAMPION))
            if role == CHAMPION and has_champion:
                role = CHALLENGER  # a champion only changes through promote()
            config = EngineConfig(
                name=name,
                version=int(latest or 0) + 1,
                fingerprint=digest,
                parameters=params,
                role=role,
                created_by=created_by,
                **_describe(params),
            )
            session.add(config)
            session.flush()
            if role == CHAMPION:
                session.add(
                    EnginePromotion(
                        from_config_id=None,
                        to_config_id=config.id,
                        promoted_by=created_by,
                        reason="first champion: the configuration running at start-up",
                    )
                )
        log.info("engine configuration %s v%d recorded as %s", name, config.version, role)
        return config

    def record_running(self, settings: Settings) -> EngineConfig:
        """Record the configuration these settings describe (idempotent), as a candidate.

        The first configuration ever recorded becomes the champion. After that, settings never
        change the champion: new parameters are recorded as a challenger (run in shadow), known
        ones keep their role (a retired configuration stays retired), and only :meth:`promote`
        makes a champion. Live QC runs the champion (:mod:`service.loop.champion`), so a
        difference is logged."""
        config = self.record(
            RUNNING_NAME, parameters_from_settings(settings), "start-up", role=CHAMPION
        )
        champion = self.champion()
        if champion is not None and champion.id != config.id:
            log.warning(
                "the settings describe engine configuration %s v%d (id %d, %s), but the champion "
                "is %s v%d (id %d): live QC runs the champion; promote %d to run the settings",
                config.name,
                config.version,
                config.id,
                config.role,
                champion.name,
                champion.version,
                champion.id,
                config.id,
            )
        return config

    def champion(self) -> EngineConfig | None:
        with self.db.reader() as session:
            return session.scalar(select(EngineConfig).where(EngineConfig.role == CHAMPION))

    def challengers(self) -> list[EngineConfig]:
        with self.db.reader() as session:
            return list(
                session.scalars(
                    select(EngineConfig)
                    .where(EngineConfig.role == CHALLENGER)
                    .order_by(EngineConfig.id)
                )
            )

    def get(self, config_id: int) -> EngineConfig:
        with self.db.reader() as session:
            config = session.get(EngineConfig, config_id)
        if config is None:
            raise NotFoundError(f"engine configuration {config_id} does not exist")
        return config

    def all(self) -> list[EngineConfig]:
        with self.db.reader() as session:
            return list(session.scalars(select(EngineConfig).order_by(EngineConfig.id)))

    def promote(self, config_id: int, promoted_by: str, reason: str) -> EnginePromotion:
        """Make ``config_id`` the champion; the previous champion is retired (and so stops:
        to keep it running in shadow, register its parameters again as a challenger). Live QC
        switches to the new champion between jobs (:mod:`service.loop.champion`), so a
        configuration this build cannot run is refused."""
        if not reason.strip():
            raise InvalidInputError("a promotion needs a reason", location="reason")
        with self.db.transaction() as session:
            target = session.get(EngineConfig, config_id, with_for_update=True)
            if target is None:
                raise NotFoundError(f"engine configuration {config_id} does not exist")
            problem = unrunnable(target.parameters)
            if problem is not None:
                raise InvalidInputError(f"engine configuration {config_id} cannot run: {problem}")
            previous = session.scalar(
                select(EngineConfig).where(EngineConfig.role == CHAMPION).with_for_update()
            )
            if previous is not None and previous.id == config_id:
                raise InvalidInputError(f"engine configuration {config_id} is the champion")
            session.execute(
                update(EngineConfig)
                .where(EngineConfig.role == CHAMPION)
                .values(role=RETIRED)
                .execution_options(synchronize_session=False)
            )
            target.role = CHAMPION
            promotion = EnginePromotion(
                from_config_id=previous.id if previous else None,
                to_config_id=config_id,
                promoted_by=promoted_by,
                reason=reason.strip(),
            )
            session.add(promotion)
        log.info(
            "engine configuration %s promoted to champion by %s (was %s)",
            config_id,
            promoted_by,
            previous.id if previous else None,
        )
        return promotion

    def promotions(self, limit: int = 100) -> list[EnginePromotion]:
        with self.db.reader() as session:
            return list(
                session.scalars(
                    select(EnginePromotion).order_by(EnginePromotion.id.desc()).limit(limit)
                )
            )


def record_at_startup(db: Database, settings: Settings) -> EngineConfig | None:
    """Record the running configuration when a process starts; a failure is logged, not fatal
    (the API must come up even if the configuration table cannot be written just now)."""
    try:
        return EngineRegistry(db).record_running(settings)
    except Exception:
        log.exception("could not record the running engine configuration")
        return None
