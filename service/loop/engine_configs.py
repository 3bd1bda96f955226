"""Versioned engine configurations, the champion, and the promotion trail (issue 5 §4).

A configuration's ``parameters`` are typed (:class:`EngineParams`, :class:`RulesParams`,
:class:`LLMParams`) and stored as this JSON, the form stored since issue 5::

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
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from service.config import LLM_KINDS, Settings
from service.db import Database
from service.engines.llm import prompts
from service.engines.llm.engine import LLMImageEngine, LLMReportEngine, llm_engine_version
from service.engines.llm.factory import llm_config
from service.engines.rules import IMAGE_CHECKS, REPORT_CHECKS, RULES_VERSION
from service.errors import InvalidInputError, NotFoundError
from service.loop.models import EngineConfig, EnginePromotion
from service.taxonomy import CODES, Kind

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
RETIRED = "retired"
ROLES = (CHAMPION, CHALLENGER, RETIRED)
RUNNING_NAME = "live"  # the name under which the settings-derived configuration is recorded
CHECK_NAMES = frozenset(c.__name__ for c in (*IMAGE_CHECKS, *REPORT_CHECKS))
_TEMPLATES = {"report": LLMReportEngine.template_name, "image": LLMImageEngine.template_name}


def prompt_version(kind: str) -> str:
    """``<template>@<sha>`` of the prompt this build ships for ``kind``."""
    template = prompts.load(_TEMPLATES[kind])
    return f"{template.name}@{template.sha}"


class RulesParams(BaseModel):
    """The ``rules`` part: the rules version, checks and codes left out, a confidence floor."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    version: str = RULES_VERSION
    disabled_checks: tuple[str, ...] = ()
    disabled_codes: tuple[str, ...] = ()
    min_confidence: float = Field(0.0, ge=0, le=1)

    @field_validator("disabled_checks", "disabled_codes")
    @classmethod
    def _sorted(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        checks = info.field_name == "disabled_checks"
        unknown = set(value) - (CHECK_NAMES if checks else frozenset(CODES))
        # Registering checks names against this build; a stored configuration is read as is.
        if unknown and not (info.context or {}).get("stored"):
            raise ValueError(f"unknown {'checks' if checks else 'codes'} {sorted(unknown)}")
        return tuple(sorted(set(value)))


class LLMParams(BaseModel):
    """One kind's LLM reviewer. ``samples`` is left out of the JSON when it is 1 (the form
    stored since issue 5); unknown keys are dropped, as they always were."""

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)

    model: str = Field(min_length=1)
    base_url: str = Field(min_length=1)
    mode: Literal["verify", "review", "both"] = "both"
    temperature: float = 0.0
    max_tokens: int = 1024
    prompt: str = Field(min_length=1)
    samples: int = 1

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("samples")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        return max(value, 1)

    @model_serializer(mode="wrap")
    def _json(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self.samples <= 1:
            out.pop("samples", None)
        return out


class EngineParams(BaseModel):
    """A configuration's parameters, typed; :meth:`to_json` is the stored JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: RulesParams | None = None
    llm: dict[Kind, LLMParams] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _fill_prompts(cls, data: Any) -> Any:
        """A missing prompt is the one this build ships for the kind."""
        if not isinstance(data, dict) or not isinstance(data.get("llm") or {}, dict):
            return data
        llm = {
            kind: {**entry, "prompt": prompt_version(kind)}
            if kind in _TEMPLATES and isinstance(entry, dict) and not entry.get("prompt")
            else entry
            for kind, entry in (data.get("llm") or {}).items()
        }
        return {**data, "llm": llm}

    @model_validator(mode="after")
    def _not_empty(self) -> EngineParams:
        if self.rules is None and not self.llm:
            raise ValueError("a configuration needs rules or an LLM")
        return self

    @classmethod
    def parse(cls, parameters: Any) -> EngineParams:
        """Validate submitted parameters and fill defaults; InvalidInputError names the part."""
        return cls._validate(parameters, stored=False)

    @classmethod
    def stored(cls, parameters: Any) -> EngineParams:
        """Read stored parameters (``EngineConfig.parameters``), written by any earlier build."""
        return cls._validate(parameters, stored=True)

    @classmethod
    def _validate(cls, parameters: Any, *, stored: bool) -> EngineParams:
        try:
            return cls.model_validate(parameters, context={"stored": stored})
        except ValidationError as exc:
            error = exc.errors()[0]
            location = ".".join(str(part) for part in error["loc"]) or None
            raise InvalidInputError(
                f"invalid engine parameters: {error['msg']}", location=location
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """The stored form: ``{"rules": {...} or null, "llm": {kind: {...}}}``."""
        return self.model_dump(mode="json")


def parameters_from_settings(settings: Settings) -> EngineParams:
    """The configuration this process runs, as parameters (the API keys left out)."""
    llm: dict[Kind, LLMParams] = {}
    for kind in LLM_KINDS:
        config = llm_config(settings, kind)
        if config is None:
            continue
        mode = settings.llm_kind(kind).mode
        assert mode != "off"  # llm_config is None when off
        llm[kind] = LLMParams(
            model=config.model,
            base_url=config.base_url,
            mode=mode,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            prompt=prompt_version(kind),
            samples=config.samples,
        )
    return EngineParams(rules=RulesParams(), llm=llm)


def default_rules() -> dict[str, Any]:
    """The rules part with every default, as JSON."""
    return RulesParams().model_dump(mode="json")


def normalise(parameters: Any) -> dict[str, Any]:
    """Validate ``parameters`` and fill defaults, as the stored JSON; InvalidInputError names
    the bad part."""
    return EngineParams.parse(parameters).to_json()


def rules_unavailable(rules: RulesParams) -> str | None:
    """Why this build cannot run these ``rules`` parameters (another rules version), or None."""
    if rules.version != RULES_VERSION:
        return f"rules version {rules.version} is not installed (this build runs {RULES_VERSION})"
    return None


def prompt_unavailable(kind: str, entry: LLMParams) -> str | None:
    """Why this build cannot run an LLM entry (another prompt version), or None."""
    shipped = prompt_version(kind)
    if entry.prompt != shipped:
        return f"prompt {entry.prompt} is not installed (this build ships {shipped})"
    return None


def unrunnable(parameters: EngineParams) -> str | None:
    """Why this build cannot run ``parameters`` (another rules or prompt version), or None."""
    rules = parameters.rules
    problems = [rules_unavailable(rules)] if rules is not None else []
    problems += [prompt_unavailable(kind, entry) for kind, entry in sorted(parameters.llm.items())]
    return next((problem for problem in problems if problem is not None), None)


def fingerprint(parameters: EngineParams) -> str:
    """The configuration's identity. Not :func:`service.canonical.content_hash`: fingerprints
    are stored in ``engine_configs`` since issue 5 with this (key-sorted, default separators)
    form of the stored JSON, and changing it would make every stored configuration look new."""
    return hashlib.sha256(json.dumps(parameters.to_json(), sort_keys=True).encode()).hexdigest()


def settings_fingerprint(settings: Settings) -> str:
    """The fingerprint of the configuration these settings describe."""
    return fingerprint(parameters_from_settings(settings))


def rules_engine_version(rules: RulesParams) -> str:
    """The ``engine_version`` a configuration's rule findings carry: the rules version and, when
    the configuration changes what the rules report (checks or codes left out, a confidence
    floor), a short hash of that tuning, so that its findings are told apart from the plain
    rules' in evaluations and comparisons. The default tuning keeps the bare rules version."""
    if not rules.disabled_checks and not rules.disabled_codes and not rules.min_confidence:
        return rules.version
    tuning = rules.model_dump(mode="json", exclude={"version"})
    digest = hashlib.sha256(json.dumps(tuning, sort_keys=True).encode()).hexdigest()[:8]
    return f"{rules.version}+{digest}"


def _describe(parameters: EngineParams) -> dict[str, Any]:
    """The headline columns of a configuration, derived from its parameters."""
    rules, llm = parameters.rules, parameters.llm
    kinds: set[str] = {"image", "report"} if rules else set()
    kinds |= set(llm)
    first = llm.get("report") or llm.get("image")
    versions = [f"rules@{rules_engine_version(rules)}"] if rules else []
    for kind in sorted(llm):
        entry = llm[kind]
        version = llm_engine_version(entry.model, entry.prompt, entry.mode, entry.samples)
        versions.append(f"llm@{version}")
    return {
        "kinds": sorted(kinds),
        "rules_version": rules.version if rules else None,
        "llm_model": first.model if first else None,
        "prompt_version": first.prompt if first else None,
        "merge_policy": first.mode if first else None,
        "engine_versions": versions,
    }


class EngineRegistry:
    """Stores configurations and promotions; one transaction per change."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        name: str,
        parameters: EngineParams | Mapping[str, Any],
        created_by: str,
        role: str = CHALLENGER,
    ) -> EngineConfig:
        """Store ``parameters`` under ``name`` (a new version), or return the stored version
        with the same parameters. A new configuration is a challenger unless told otherwise."""
        if role not in ROLES:
            raise InvalidInputError(f"role must be one of {ROLES}", location="role")
        params = (
            parameters if isinstance(parameters, EngineParams) else EngineParams.parse(parameters)
        )
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
        self, name: str, params: EngineParams, digest: str, created_by: str, role: str
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
                parameters=params.to_json(),
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
            problem = unrunnable(EngineParams.stored(target.parameters))
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
