"""The one settings class (DESIGN §9): ``RADQC_*`` environment variables, or a ``.env`` file.

Every setting is validated when the process starts; :func:`load_settings` reports every bad
setting by name at once instead of stopping at the first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.errors import ConfigurationError

Role = Literal["ingest", "reader", "auditor", "admin"]
# The signature algorithms accepted on OpenID tokens by default: asymmetric ones only.
OIDC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
ROLES: tuple[Role, ...] = ("ingest", "reader", "auditor", "admin")

_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # DICOM AE: 16 chars, no backslash
# an HL7 sender in RADQC_HL7_ALLOWED_SENDERS: APP, APP^FACILITY or ^FACILITY
_HL7_SENDER = re.compile(r"^(?:[^|~\\&^\s][^|~\\&^]*)?(?:\^[^|~\\&^\s][^|~\\&^]*)?$")
_PERSON = re.compile(r"^[\w .'@-]{1,64}$")
_MIN_TOKEN_LENGTH = 16
_PLACEHOLDER_TOKENS = {"changeme", "change-me", "secret", "token", "password", "example"}


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _token_pairs(value: str) -> dict[str, tuple[str, str]]:
    """``role:token`` or ``role@person:token`` entries, comma-separated: token -> (role, person)."""
    tokens: dict[str, tuple[str, str]] = {}
    for pair in (part.strip() for part in value.split(",") if part.strip()):
        holder, sep, token = pair.partition(":")
        if not sep:
            raise ValueError(f"expected role:token or role@person:token, got {holder!r}")
        role, _, person = (part.strip() for part in holder.partition("@"))
        token = token.strip()
        if person and not _PERSON.match(person):
            raise ValueError("a token holder's name is 1-64 letters, digits, spaces or .'_-@")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        if token in tokens:
            raise ValueError("the same token is given twice")
        tokens[token] = (role, person)
    return tokens


LLMMode = Literal["off", "verify", "review", "both"]
LLMKind = Literal["image", "report"]
LLM_KINDS: tuple[LLMKind, ...] = ("image", "report")
_Temperature = Annotated[float, Field(ge=0, le=2)]
_MaxTokens = Annotated[int, Field(ge=16)]
_Timeout = Annotated[float, Field(gt=0)]
_Concurrency = Annotated[int, Field(ge=1, le=256)]
_Price = Annotated[float, Field(ge=0)]
_Samples = Annotated[int, Field(ge=1, le=16)]
_MaxSide = Annotated[int, Field(ge=64, le=4096)]


class LLMKindSettings(BaseModel):
    """The LLM settings of one item kind, typed: ``RADQC_LLM_<KIND>_<FIELD>`` (e.g.
    ``RADQC_LLM_REPORT_TIMEOUT_SECONDS``). The environment names stay flat: the values are the
    :class:`Settings` fields ``llm_<kind>_<field>``, read through ``Settings.llm_report`` and
    ``Settings.llm_image``. Empty ``base_url``/``model``/``api_key`` fall back to
    ``RADQC_LLM_*`` (:func:`service.engines.llm.factory.llm_config`)."""

    model_config = ConfigDict(frozen=True)

    mode: LLMMode
    base_url: str
    model: str
    api_key: str
    temperature: _Temperature
    max_tokens: _MaxTokens
    timeout_seconds: _Timeout
    concurrency: _Concurrency
    price_in_per_1k: _Price
    price_out_per_1k: _Price
    samples: _Samples


class LLMImageSettings(LLMKindSettings):
    """The image reviewer's settings: those of every kind, and the side images are scaled to."""

    max_side: _MaxSide


class Settings(BaseSettings):
    """radqc's configuration. Defaults run embedded: SQLite and files under ``data_dir``."""

    model_config = SettingsConfigDict(
        env_prefix="RADQC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./radqc-data")
    database_url: str = ""

    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    # DICOMweb STOW-RS bodies (several images of ~10 MB each): streamed to a temporary file under
    # the data folder, never held in memory; larger bodies get 413.
    dicomweb_max_body_bytes: int = Field(1024 * 1024 * 1024, ge=1024)

    dicom_host: str = "127.0.0.1"
    dicom_port: int = Field(11112, ge=0, le=65535)
    dicom_ae_title: str = "RADQC"
    dicom_allowed_ae_titles: Annotated[list[str], NoDecode] = Field(default_factory=list)
    dicom_max_associations: int = Field(16, ge=1, le=256)
    # Listener processes sharing the DICOM port (SO_REUSEPORT): the kernel spreads associations
    # over them, so concurrent senders use more than one core. One association stays in one
    # process; a single sender gains nothing (bench/ingest/README.md).
    dicom_listener_processes: int = Field(1, ge=1, le=32)
    # Against senders that connect and go quiet (issue 10): an association that has not finished
    # its A-ASSOCIATE exchange within the ACSE timeout, or sends nothing for the network timeout,
    # is dropped and frees its slot; one peer address may hold at most this many associations.
    dicom_acse_timeout_seconds: float = Field(10.0, gt=0, le=600)
    dicom_network_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    dicom_dimse_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    dicom_max_associations_per_peer: int = Field(4, ge=1, le=256)
    # Refuse an association whose called AE title is not ours (false: accept any called title).
    dicom_require_called_ae_title: bool = True

    # HL7 v2 reports over MLLP (issue 12, hl7_adapter): `radqc listen` also listens here when a
    # port is set (empty: off; 0: an ephemeral port). Senders allowed: `APP`, `APP^FACILITY` or
    # `^FACILITY` (MSH-3 / MSH-4 namespace ids), comma-separated; empty = any. A message longer
    # than the limit is refused (AR) and its connection closed; a connection that stays silent
    # for the idle timeout, or does not finish a started message within the receive timeout, is
    # closed. MSH-11 must be the processing id below (P production, T training, D debugging).
    hl7_host: str = "127.0.0.1"
    hl7_port: int | None = Field(None, ge=0, le=65535)
    hl7_allowed_senders: Annotated[list[str], NoDecode] = Field(default_factory=list)
    hl7_max_message_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    hl7_receive_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    hl7_idle_timeout_seconds: float = Field(3600.0, gt=0)
    hl7_max_connections: int = Field(32, ge=1, le=1024)
    hl7_processing_id: Literal["P", "T", "D"] = "P"

    api_tokens: Annotated[dict[str, Role], NoDecode] = Field(default_factory=dict)
    # Who holds each token (``role@person:token`` in RADQC_API_TOKENS): audits name the person.
    api_token_people: dict[str, str] = Field(default_factory=dict, exclude=True)
    # OpenID Connect (service/api/oidc.py): bearer JWTs of the hospital's identity provider are
    # accepted besides the static tokens when the issuer and the audience are set. The role is
    # read from the claim at this dotted path (Keycloak: `realm_access.roles`); the map (JSON,
    # e.g. {"radqc-auditors": "auditor"}) turns the provider's values into radqc roles (empty:
    # values that are radqc role names count as they are). Only asymmetric algorithms.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_roles_claim: str = "roles"
    oidc_role_map: dict[str, Role] = Field(default_factory=dict)
    oidc_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(OIDC_ALGORITHMS)
    )
    oidc_leeway_seconds: float = Field(30.0, ge=0, le=600)
    oidc_jwks_cache_seconds: float = Field(300.0, gt=0)
    oidc_ca_bundle: Path | None = None
    # /metrics: with a token, a scrape must send it as a bearer token; without one it is served
    # to loopback clients only, unless metrics_open (anyone who can reach the port).
    metrics_token: str = ""
    metrics_open: bool = False

    # QC results back to PACS as DICOM SR and KOS (dicom_results; off unless a host is set): the
    # PACS's address and AE title; radqc calls it as RADQC_PACS_CALLING_AE_TITLE (default: its
    # own RADQC_DICOM_AE_TITLE). A study's documents are sent this long after its last image was
    # processed (its other images and study checks go in the same document); a document the PACS
    # keeps refusing is recorded as refused after this many attempts.
    pacs_host: str = ""
    pacs_port: int = Field(104, ge=1, le=65535)
    pacs_ae_title: str = "PACS"
    pacs_calling_ae_title: str = ""
    pacs_delay_seconds: float = Field(60.0, ge=0)
    pacs_timeout_seconds: float = Field(30.0, gt=0, le=600)
    pacs_max_refusals: int = Field(3, ge=1, le=100)

    fhir_writeback_url: str = ""
    fhir_writeback_timeout: float = Field(10.0, gt=0)

    # -- write-back a hospital can secure, and its refusals (issue 11) --------------------------
    # How radqc authenticates to the hospital FHIR server: none; bearer (a static token); basic
    # (user and password); smart (SMART Backend Services: an OAuth 2.0 client-credentials grant
    # with a JWT client assertion signed by our private key, RS384 or ES384; the access token is
    # cached, refreshed before it expires, and refreshed once when the server answers 401).
    # Credentials are never sent over plain http:// except to a loopback address.
    fhir_writeback_auth: Literal["none", "bearer", "basic", "smart"] = "none"
    fhir_writeback_bearer_token: SecretStr = SecretStr("")
    fhir_writeback_basic_user: str = ""
    fhir_writeback_basic_password: SecretStr = SecretStr("")
    # SMART: the client id registered with the hospital's authorization server (the assertion's
    # iss and sub); its token endpoint (empty: read from {base}/.well-known/smart-configuration);
    # the PEM private key (RSA for RS384, EC P-384 for ES384; its public key, or a JWKS URL
    # serving it, is what the hospital registers) and its key id (the JWT's kid); the scopes.
    fhir_writeback_smart_client_id: str = ""
    fhir_writeback_smart_token_url: str = ""
    fhir_writeback_smart_private_key_file: Path | None = None
    fhir_writeback_smart_key_id: str = ""
    fhir_writeback_smart_algorithm: Literal["RS384", "ES384"] = "RS384"
    fhir_writeback_smart_scope: str = "system/Observation.write"
    # An access token is renewed this many seconds before it expires (at most half its life).
    fhir_writeback_token_refresh_seconds: float = Field(60.0, ge=0, le=3600)
    # TLS: the CA bundle (PEM) that verifies the server (empty: the public CAs of certifi), and a
    # client certificate (PEM) with its private key for servers that require mutual TLS (the key
    # may be in the certificate file: leave RADQC_FHIR_WRITEBACK_CLIENT_KEY empty).
    fhir_writeback_ca_bundle: Path | None = None
    fhir_writeback_client_cert: Path | None = None
    fhir_writeback_client_key: Path | None = None
    # A 4xx answer other than 408, 409 and 429 is a refusal: after this many refusals of one
    # Observation version its outbox entry becomes `refused` (the server's OperationOutcome is
    # kept) and it is not sent again until an admin retries it. 5xx, 408, 409, 429 and no answer
    # are outages: retried with backoff for as long as they last.
    fhir_writeback_max_refusals: int = Field(3, ge=1, le=100)
    # How written-back Observations refer to the patient, the report and the study on the
    # hospital server (never a _history reference to radqc's own versions): identifier (logical
    # references: MRN, the report's identifier or accession, Study Instance UID; the RIS's
    # literal reference where no identifier is known), literal (the ids the RIS sent, e.g.
    # Patient/p1, where the hospital server holds them; identifiers where there are none), both.
    fhir_writeback_references: Literal["identifier", "literal", "both"] = "identifier"
    # The identifier system of a DICOM PatientID at this hospital (its MRN system, e.g.
    # urn:oid:1.2.3.4); empty: urn:radqc:dicom-patient-id.
    fhir_writeback_patient_id_system: str = ""

    @field_validator(
        "fhir_writeback_smart_private_key_file",
        "fhir_writeback_ca_bundle",
        "fhir_writeback_client_cert",
        "fhir_writeback_client_key",
        mode="before",
    )
    @classmethod
    def _empty_path(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "fhir_writeback_smart_private_key_file",
        "fhir_writeback_ca_bundle",
        "fhir_writeback_client_cert",
        "fhir_writeback_client_key",
    )
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("no such file")
        return value

    @model_validator(mode="after")
    def _check_writeback_security(self) -> Settings:
        """Every credential the chosen auth needs, and none of them sent in clear text."""
        name = "RADQC_FHIR_WRITEBACK_"
        auth = self.fhir_writeback_auth
        needed = {
            "bearer": {"BEARER_TOKEN": self.fhir_writeback_bearer_token.get_secret_value()},
            "basic": {
                "BASIC_USER": self.fhir_writeback_basic_user,
                "BASIC_PASSWORD": self.fhir_writeback_basic_password.get_secret_value(),
            },
            "smart": {
                "SMART_CLIENT_ID": self.fhir_writeback_smart_client_id,
                "SMART_PRIVATE_KEY_FILE": str(self.fhir_writeback_smart_private_key_file or ""),
            },
        }.get(auth, {})
        problems = [
            f"{name}AUTH={auth} needs {name}{key}"
            for key, value in needed.items()
            if not value.strip() or value.strip().lower() in _PLACEHOLDER_TOKENS
        ]
        token_url = self.fhir_writeback_smart_token_url
        if token_url and not re.match(r"^https?://[^\s/]+", token_url):
            problems.append(f"{name}SMART_TOKEN_URL must be an http:// or https:// URL")
        urls = [self.fhir_writeback_url, token_url if auth == "smart" else ""]
        if auth != "none" and any(self._clear_text_remote(url) for url in urls):
            problems.append(
                f"{name}AUTH={auth} would send credentials over plain http:// to another host: "
                "use https://"
            )
        if self.fhir_writeback_client_key and not self.fhir_writeback_client_cert:
            problems.append(f"{name}CLIENT_KEY needs {name}CLIENT_CERT")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @staticmethod
    def _clear_text_remote(url: str) -> bool:
        """An http:// URL whose host is not this machine."""
        if not url.lower().startswith("http://"):
            return False
        host = urlsplit(url).hostname or ""
        return host not in ("localhost", "127.0.0.1", "::1") and not host.startswith("127.")

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    # Per item kind (issue 4): empty base URL/model/key fall back to the RADQC_LLM_* values above.
    # Off until asked for. Burned-in text is always blacked out before an image is sent
    # (service/engines/llm/redact.py; no setting turns that off). Read them together, typed, as
    # ``settings.llm_image`` / ``settings.llm_report`` (:class:`LLMKindSettings`).
    llm_image_mode: LLMMode = "off"
    llm_image_base_url: str = ""
    llm_image_model: str = ""
    llm_image_api_key: str = ""
    llm_image_temperature: _Temperature = 0.0
    llm_image_max_tokens: _MaxTokens = 1024
    llm_image_timeout_seconds: _Timeout = 120.0
    llm_image_concurrency: _Concurrency = 4
    llm_image_price_in_per_1k: _Price = 0.0
    llm_image_price_out_per_1k: _Price = 0.0
    llm_image_max_side: _MaxSide = 768
    llm_image_samples: _Samples = 1  # self-consistency: answers per question
    llm_report_mode: LLMMode = "both"
    llm_report_base_url: str = ""
    llm_report_model: str = ""
    llm_report_api_key: str = ""
    llm_report_temperature: _Temperature = 0.0
    llm_report_max_tokens: _MaxTokens = 1024
    llm_report_timeout_seconds: _Timeout = 60.0
    llm_report_concurrency: _Concurrency = 4
    llm_report_price_in_per_1k: _Price = 0.0
    llm_report_price_out_per_1k: _Price = 0.0
    llm_report_samples: _Samples = 1
    llm_max_attempts: int = Field(4, ge=1, le=20)
    # A rule finding at or above this confidence is never removed by the model's "reject": the
    # disagreement is recorded on the finding instead (hostile or mistaken answers, issue 10).
    llm_reject_max_rule_confidence: float = Field(0.9, ge=0, le=1)
    # Circuit breaker per endpoint: open after this many failed calls in a row, for this long.
    llm_breaker_failures: int = Field(5, ge=1, le=1000)
    llm_breaker_open_seconds: float = Field(30.0, gt=0, le=3600)

    study_stable_seconds: float = Field(30.0, ge=0)
    # Precision first (issue 9): a finding below this confidence is stored and shown on its item
    # but does not flag the item or fail its qc.summary (chosen on bench/quality, see README).
    flag_min_confidence: float = Field(0.5, ge=0, le=1)

    # The closed loop (DESIGN section 7): audit sampling and the drift alert.
    audit_daily_quota: int = Field(200, ge=0)
    audit_low_confidence: float = Field(0.6, ge=0, le=1)
    # Passed items (recall is estimated from them): at least this many expected in a draw (all
    # when fewer), and this share of the daily quota kept for them before the flagged strata.
    audit_passed_min: int = Field(5, ge=0)
    audit_passed_share: float = Field(0.1, ge=0, le=1)
    # Seconds between scheduled audit draws by the workers (0: only on demand, `radqc sample`).
    audit_sample_interval_seconds: float = Field(0.0, ge=0)
    # Share of processed report items copied with an injected error as shadow canaries (0: off).
    canary_rate: float = Field(0.0, ge=0, le=1)
    # Seconds between a worker's checks for a newly promoted champion (swapped between jobs).
    engine_refresh_seconds: float = Field(10.0, gt=0, le=3600)
    drift_precision_floor: float = Field(0.5, ge=0, le=1)
    drift_recall_floor: float = Field(0.5, ge=0, le=1)
    drift_window_days: int = Field(30, ge=1)
    drift_min_count: int = Field(20, ge=1)
    workers: int = Field(1, ge=0, le=64)
    job_lease_seconds: float = Field(60.0, gt=0)
    job_max_attempts: int = Field(5, ge=1)
    job_backoff_base_seconds: float = Field(2.0, gt=0)
    job_backoff_max_seconds: float = Field(300.0, gt=0)
    worker_poll_seconds: float = Field(0.5, gt=0)

    # Retention (`radqc retention`, service/retention.py); 0 turns a rule off. Finished (done)
    # jobs last updated more than this many days ago are deleted (failed ones are kept).
    retention_job_days: float = Field(30.0, ge=0)
    # The stored DICOM file of a done image item received more than this many days ago is
    # deleted (the item, findings and Observations stay); never one pending work may still read.
    retention_file_days: float = Field(0.0, ge=0)
    # When the disk holding RADQC_DATA_DIR is fuller than this (percent), the oldest such files
    # are deleted until it is down to RETENTION_DISK_LOW_PERCENT (0: five points lower).
    retention_disk_high_percent: float = Field(0.0, ge=0, le=100)
    retention_disk_low_percent: float = Field(0.0, ge=0, le=100)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("dicom_allowed_ae_titles", mode="before")
    @classmethod
    def _parse_ae_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("oidc_algorithms", mode="before")
    @classmethod
    def _parse_algorithms(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("oidc_algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str]) -> list[str]:
        symmetric = [name for name in value if name == "none" or name.startswith("HS")]
        if symmetric:
            raise ValueError(f"RADQC_OIDC_ALGORITHMS may not include {', '.join(symmetric)}")
        return value

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        if bool(self.oidc_issuer) != bool(self.oidc_audience):
            raise ValueError("RADQC_OIDC_ISSUER and RADQC_OIDC_AUDIENCE are set together")
        return self

    @field_validator("hl7_allowed_senders", mode="before")
    @classmethod
    def _parse_senders(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("hl7_allowed_senders")
    @classmethod
    def _check_senders(cls, value: list[str]) -> list[str]:
        bad = [entry for entry in value if not _HL7_SENDER.match(entry)]
        if bad:
            raise ValueError(
                "each sender is APP, APP^FACILITY or ^FACILITY (no |~\\& and at most one ^); "
                f"invalid: {', '.join(bad)}"
            )
        return value

    @field_validator("hl7_port", mode="before")
    @classmethod
    def _empty_port(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("dicom_ae_title", "pacs_ae_title")
    @classmethod
    def _check_ae_title(cls, value: str) -> str:
        if not _AE_TITLE.match(value) or not value.strip():
            raise ValueError("must be 1-16 printable characters without a backslash")
        return value

    @field_validator("pacs_calling_ae_title")
    @classmethod
    def _check_calling_ae_title(cls, value: str) -> str:
        return cls._check_ae_title(value) if value else value

    @field_validator("dicom_allowed_ae_titles")
    @classmethod
    def _check_ae_titles(cls, value: list[str]) -> list[str]:
        bad = [title for title in value if not _AE_TITLE.match(title)]
        if bad:
            raise ValueError(f"invalid AE titles: {', '.join(bad)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _token_people(cls, data: object) -> object:
        """``role@person:token`` names the person who holds a token (issue 15: an audit trail
        names people, not a shared role token); the person goes to ``api_token_people``."""
        if isinstance(data, dict) and isinstance(data.get("api_tokens"), str):
            try:
                pairs = _token_pairs(data["api_tokens"])
            except ValueError:  # reported by the field's own validator, under its name
                return data
            people = {token: person for token, (_role, person) in pairs.items() if person}
            data = {**data, "api_token_people": people}
        return data

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _parse_tokens(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return {token: role for token, (role, _person) in _token_pairs(value).items()}

    @field_validator("api_tokens")
    @classmethod
    def _check_tokens(cls, value: dict[str, Role]) -> dict[str, Role]:
        for token in value:
            if len(token) < _MIN_TOKEN_LENGTH or token.lower() in _PLACEHOLDER_TOKENS:
                raise ValueError(
                    f"tokens must be at least {_MIN_TOKEN_LENGTH} characters and not placeholders"
                )
        return value

    @field_validator(
        "fhir_writeback_url", "llm_base_url", "llm_image_base_url", "llm_report_base_url"
    )
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        if value.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we install; make the bare form work too.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @model_validator(mode="after")
    def _check_listener_processes(self) -> Settings:
        if self.dicom_listener_processes > 1 and self.dicom_port == 0:
            raise ValueError(
                "RADQC_DICOM_LISTENER_PROCESSES > 1 needs a fixed RADQC_DICOM_PORT "
                "(0 would give each process a port of its own)"
            )
        return self

    @model_validator(mode="after")
    def _check_retention(self) -> Settings:
        low, high = self.retention_disk_low_percent, self.retention_disk_high_percent
        if low and (not high or low >= high):
            raise ValueError(
                "RADQC_RETENTION_DISK_LOW_PERCENT must be under RADQC_RETENTION_DISK_HIGH_PERCENT"
            )
        return self

    @model_validator(mode="after")
    def _check_llm(self) -> Settings:
        if bool(self.llm_base_url) != bool(self.llm_model):
            raise ValueError("RADQC_LLM_BASE_URL and RADQC_LLM_MODEL must be set together")
        for kind in LLM_KINDS:
            per_kind = self.llm_kind(kind)
            if per_kind.samples > 1 and per_kind.temperature == 0:
                raise ValueError(
                    f"RADQC_LLM_{kind.upper()}_SAMPLES > 1 needs "
                    f"RADQC_LLM_{kind.upper()}_TEMPERATURE > 0 (else the samples are identical)"
                )
        return self

    @property
    def llm_image(self) -> LLMImageSettings:
        """The ``RADQC_LLM_IMAGE_*`` settings, typed."""
        return LLMImageSettings.model_validate(self._llm_values("image", LLMImageSettings))

    @property
    def llm_report(self) -> LLMKindSettings:
        """The ``RADQC_LLM_REPORT_*`` settings, typed."""
        return LLMKindSettings.model_validate(self._llm_values("report", LLMKindSettings))

    def llm_kind(self, kind: LLMKind) -> LLMKindSettings:
        """The LLM settings of one item kind (an :class:`LLMImageSettings` for images)."""
        return self.llm_image if kind == "image" else self.llm_report

    def with_llm_kind(self, kind: LLMKind, values: LLMKindSettings) -> Settings:
        """A copy of these settings with ``kind``'s LLM settings replaced by ``values``."""
        update = {f"llm_{kind}_{name}": value for name, value in values.model_dump().items()}
        return self.model_copy(update=update)

    def _llm_values(self, kind: LLMKind, model: type[LLMKindSettings]) -> dict[str, object]:
        # The one place that maps a kind's model to its flat fields (RADQC_LLM_<KIND>_<NAME>);
        # tests/service/test_config.py checks that the two sets of names agree.
        return {name: getattr(self, f"llm_{kind}_{name}") for name in model.model_fields}

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'radqc.sqlite3').resolve()}"

    @property
    def dicom_dir(self) -> Path:
        return self.data_dir / "dicom"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def _describe(error: dict[str, object]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if isinstance(part, str | int)]  # type: ignore[attr-defined]
    name = "RADQC_" + loc[0].upper() if loc else "settings"
    return f"{name}: {error.get('msg')}"


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; one :class:`ConfigurationError` lists every problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [_describe(dict(err)) for err in exc.errors()]
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(problems)) from exc
