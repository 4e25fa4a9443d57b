"""Settings read from the environment (and an optional `.env`), checked at start-up."""

from __future__ import annotations

import enum
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from flask import current_app
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from akta_service.core.storage import StorageBackend
from akta_service.core.storage_crypto import MasterKey, MasterKeyError


class Environment(enum.StrEnum):
    """AKTA_ENV: where the service runs; production refuses unsafe defaults."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class RegistrationPeriod(enum.StrEnum):
    """AKTA_REGNO_PERIOD: how long a registration-number serial runs before starting again."""

    DAILY = "daily"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class DukcapilMode(enum.StrEnum):
    """AKTA_DUKCAPIL: the synthetic registry in process, or a Dukcapil (or sandbox) server."""

    SANDBOX = "sandbox"
    HTTP = "http"


class JobsMode(enum.StrEnum):
    """AKTA_JOBS: threads in the web process, workers via a broker, or only when run explicitly
    (tests, maintenance)."""

    INPROCESS = "inprocess"
    CELERY = "celery"
    MANUAL = "manual"


class SigningServiceMode(enum.StrEnum):
    """AKTA_SIGNING_SERVICE: the sandbox signing service started beside the service, or a
    signing service (BSrE, or a sandbox run on its own) reached over HTTP."""

    EMBEDDED = "embedded"
    HTTP = "http"


class SealTokenKind(enum.StrEnum):
    """AKTA_SEAL_TOKEN: where the office's seal keys live: a PKCS#11 token (SoftHSM2), key
    files encrypted with AKTA_SECRET_KEY, or the token when SoftHSM2 is installed."""

    AUTO = "auto"
    SOFTHSM = "softhsm"
    SOFTWARE = "software"


DEFAULT_SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names the variable and what to do."""


@dataclass(frozen=True)
class Settings:
    """The service's configuration, already validated."""

    env: Environment
    instance_path: Path
    database_url: str
    secret_key: str = field(repr=False)
    #: kab/kota codes this deployment registers births for; the first is the default.
    region_codes: tuple[str, ...]
    timezone: str
    #: Where migrations connect: as the schema's owner, while the service connects as a
    #: role that may not change the journal (AKTA_MIGRATION_DATABASE_URL; default: the same).
    migration_database_url: str = field(default="", repr=False)
    #: The office's Ed25519 key (PEM) that signs the journal's daily seal.
    journal_seal_key_path: Path = Path("instance/journal-seal-key.pem")
    #: Days after the birth within which a report is on time (UU 24/2013: 60).
    on_time_days: int = 60
    regno_on_time_code: str = "LU"
    regno_late_code: str = "LT"
    regno_period: RegistrationPeriod = RegistrationPeriod.DAILY
    dukcapil_mode: DukcapilMode = DukcapilMode.SANDBOX
    dukcapil_url: str | None = None
    dukcapil_api_key: str | None = None
    dukcapil_connect_timeout: float = 2.0
    dukcapil_read_timeout: float = 5.0
    #: Tries per call (with exponential backoff and jitter) before a call counts as failed.
    dukcapil_attempts: int = 3
    #: Failed calls in a row that open the circuit breaker, and how long it stays open.
    dukcapil_breaker_fail_max: int = 5
    dukcapil_breaker_reset_seconds: float = 30.0
    sandbox_seed: int = 2026
    #: Families per kab/kota in the sandbox population.
    sandbox_families: int = 60
    jobs: JobsMode = JobsMode.INPROCESS
    broker_url: str = "redis://127.0.0.1:6379/0"
    #: First wait before retrying verification while Dukcapil is down; doubles each time.
    verify_retry_base_seconds: float = 5.0
    verify_retry_max_seconds: float = 300.0
    #: A report whose verification waited this long for Dukcapil shows as stalled to clerks.
    stalled_after_minutes: int = 30
    sweep_interval_seconds: float = 15.0
    #: How long a due job may sit in the queue before the sweep assumes it was lost.
    sweep_grace_seconds: float = 30.0
    #: A pooled PostgreSQL connection idle longer than this is checked before use.
    db_idle_check_seconds: float = 10.0
    #: Where stored files (documents, pictures, issued akta) live: a folder or the database.
    storage_backend: StorageBackend = StorageBackend.FOLDER
    #: Folder of stored files with the folder backend.
    storage_path: Path = Path("instance/files")
    #: Wraps every new file key (AKTA_STORAGE_MASTER_KEY); never stored in the database.
    storage_master_key: MasterKey = field(default_factory=MasterKey.generate, repr=False)
    #: Older master keys still wrapping file keys until `akta storage rotate-key` has run.
    storage_previous_master_keys: tuple[MasterKey, ...] = field(default=(), repr=False)
    #: Folder with the trust root (ca.pem) the akta's signatures are checked against; no key.
    signing_path: Path = Path("instance/pki")
    signing_service: SigningServiceMode = SigningServiceMode.EMBEDDED
    #: The signing service's base URL (CSC API under /csc/v1, TSA at /tsa).
    signing_service_url: str = "http://127.0.0.1:5002"
    signing_service_api_key: str | None = field(default=None, repr=False)
    #: Where the seal keys (QR and status list) live, and the PKCS#11 module of the token.
    seal_token: SealTokenKind = SealTokenKind.AUTO
    softhsm2_module: str = DEFAULT_SOFTHSM2_MODULE
    #: The seal token's user PIN (AKTA_SEAL_TOKEN_PIN); outside production, when unset,
    #: derived from the secret key.
    seal_token_pin: str | None = field(default=None, repr=False)
    #: How the public reaches this service: the QR code on the akta points here.
    public_base_url: str = "http://127.0.0.1:5000"
    #: Where rate-limit counters live: memory:// (one process) or redis://... (shared by every
    #: process; required in production).
    ratelimit_storage_uri: str = "memory://"
    #: Prefix of the counters' keys in that store: deployments sharing one Redis keep apart.
    ratelimit_key_prefix: str = "akta"
    ratelimit_enabled: bool = True
    #: Reverse proxies in front of the service that set X-Forwarded-For, -Proto and -Host;
    #: 0 trusts none of these headers. Limits per address count the address they yield.
    trusted_proxy_hops: int = 0
    # Limits (Flask-Limiter syntax). The real ones count per report, per draft, per account
    # and per credential; those per address are generous backstops, since a carrier puts
    # thousands of phones behind one public address (carrier-grade NAT).
    #: Requests each facility credential may make.
    api_rate_limit: str = "600 per minute"
    #: Attempts to open one report's status page with its code + PIN.
    report_rate_limit: str = "10 per hour"
    #: Saves of one web-form draft (steps and document actions).
    draft_rate_limit: str = "300 per hour"
    #: Documents uploaded to one web-form draft, or to one report's correction.
    upload_rate_limit: str = "30 per hour"
    #: Backstop per address: attempts to open a status page with code + PIN.
    status_rate_limit: str = "300 per minute"
    #: Backstop per address: web-form drafts started, and reports submitted.
    submit_rate_limit: str = "1000 per hour"
    #: Backstop per address: documents uploaded to web-form drafts.
    address_upload_rate_limit: str = "3000 per hour"
    #: Backstop per address: checks of akta on the public page behind the QR code.
    verify_rate_limit: str = "300 per minute"
    #: Bytes all the documents of one draft (or one report) may take together.
    document_quota_bytes: int = 20 * 1024 * 1024
    #: Days an unfinished web-form draft is kept after its last change.
    draft_days: int = 30
    #: Days after a facility's birth notification on which the family is reminded to complete it.
    notification_reminder_days: tuple[int, ...] = (7, 30, 50)
    #: Days after the birth when a notification never completed is marked expired (kept).
    notification_expire_days: int = 365
    #: smtp://host:port (or smtp+starttls://user:pass@host:port); empty: e-mail goes to the log.
    smtp_url: str | None = None
    mail_from: str = "akta@localhost"
    #: Webhooks may point at loopback and private addresses (local test receivers); never in
    #: production. Link-local and metadata addresses are refused regardless.
    webhook_allow_private: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == Environment.PRODUCTION

    def flask_config(self) -> dict[str, Any]:
        """The keys Flask and its extensions read."""
        # PostgreSQL connections are checked only after sitting idle in the pool (see
        # core.db.configure_engine_events), not with pool_pre_ping's query on every use.
        # A refused statement is logged with its traceback: never with its parameters, which
        # carry NIKs, names and phone numbers.
        engine_options: dict[str, Any] = {"hide_parameters": True}
        if self.database_url.startswith("sqlite"):
            engine_options["connect_args"] = {"timeout": 15}
        return {
            # Documents are at most 10 MB; anything larger is refused before it is read.
            "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "AKTA_SETTINGS": self,
            "TESTING": self.env == Environment.TEST,
            **self.extra,
        }


def _environment(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: v for k, v in dotenv_values(Path.cwd() / ".env").items() if v is not None
    }
    values.update(os.environ)
    values.update(overrides or {})
    return values


def _database_url(
    raw: str | None, instance_path: Path, production: bool, name: str = "AKTA_DATABASE_URL"
) -> str:
    if not raw:
        if production:
            raise ConfigError(
                f"{name} is required when AKTA_ENV=production, "
                "e.g. postgresql://akta@db.example/akta"
            )
        return f"sqlite:///{instance_path / 'akta.sqlite3'}"
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(f"{name} is not a database URL: {exc}") from exc
    if url.drivername.split("+")[0] in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if not url.drivername.startswith(("postgresql", "sqlite")):
        raise ConfigError(f"{name} uses {url.drivername!r}; use postgresql://... or sqlite:///...")
    if production and url.drivername.startswith("sqlite"):
        raise ConfigError(f"{name} must point at PostgreSQL when AKTA_ENV=production")
    return url.render_as_string(hide_password=False)


def _migration_database_url(
    values: Mapping[str, Any], database_url: str, instance_path: Path, production: bool
) -> str:
    raw = values.get("AKTA_MIGRATION_DATABASE_URL")
    if not raw:
        return database_url
    return _database_url(raw, instance_path, production, "AKTA_MIGRATION_DATABASE_URL")


def _generated_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in the instance folder (outside production), made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: two processes
        # starting at once both end up reading the one complete secret.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def _secret_key(raw: str | None, instance_path: Path, production: bool) -> str:
    if raw:
        if production and len(raw) < 32:
            raise ConfigError("AKTA_SECRET_KEY must be at least 32 characters in production")
        return raw
    if production:
        raise ConfigError(
            "AKTA_SECRET_KEY is required when AKTA_ENV=production; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    key_file = instance_path / "secret_key"
    key = _generated_secret(key_file, lambda: secrets.token_urlsafe(48))
    if len(key) < 32:
        raise ConfigError(
            f"{key_file} is empty or damaged; delete it to generate a new AKTA_SECRET_KEY"
        )
    return key


def _master_key(values: Mapping[str, Any], instance_path: Path, production: bool) -> MasterKey:
    name = "AKTA_STORAGE_MASTER_KEY"
    raw = str(values.get(name) or "")
    if not raw and production:
        raise ConfigError(
            f"{name} is required when AKTA_ENV=production: it encrypts every stored document "
            "and is kept outside the database; make one with: akta storage new-master-key"
        )
    if not raw:
        raw = _generated_secret(
            instance_path / "storage-master-key", lambda: MasterKey.generate().encoded()
        )
        name = str(instance_path / "storage-master-key")
    try:
        return MasterKey.parse(raw)
    except MasterKeyError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _storage(values: Mapping[str, Any], instance_path: Path, production: bool) -> dict[str, Any]:
    default = StorageBackend.DATABASE if production else StorageBackend.FOLDER
    current = _master_key(values, instance_path, production)
    previous = []
    for text in str(values.get("AKTA_STORAGE_PREVIOUS_MASTER_KEYS") or "").split(","):
        if not text.strip():
            continue
        try:
            previous.append(MasterKey.parse(text))
        except MasterKeyError as exc:
            raise ConfigError(f"AKTA_STORAGE_PREVIOUS_MASTER_KEYS: {exc}") from None
    if any(key.id == current.id for key in previous):
        raise ConfigError(
            f"AKTA_STORAGE_PREVIOUS_MASTER_KEYS repeats the current master key's id {current.id!r}"
        )
    return {
        "storage_backend": _choice(values, "AKTA_STORAGE_BACKEND", StorageBackend, default),
        "storage_path": Path(values.get("AKTA_STORAGE_PATH") or instance_path / "files").resolve(),
        "storage_master_key": current,
        "storage_previous_master_keys": tuple(previous),
    }


N = TypeVar("N", int, float)


def _number(
    values: Mapping[str, Any], name: str, default: N, minimum: N, kind: Callable[[Any], N]
) -> N:
    raw = values.get(name)
    if raw in (None, ""):
        return default
    try:
        number = kind(raw)
    except (TypeError, ValueError) as exc:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from exc
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def _int(values: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    return _number(values, name, default, minimum, int)


def _float(values: Mapping[str, Any], name: str, default: float, minimum: float) -> float:
    return _number(values, name, default, minimum, float)


def _days(values: Mapping[str, Any], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Comma-separated whole days ("7,30,50"), each at least 1, in increasing order."""
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    try:
        days = tuple(sorted({int(part) for part in str(raw).split(",") if part.strip()}))
    except ValueError as exc:
        raise ConfigError(f"{name} must be whole days separated by commas, got {raw!r}") from exc
    if not days or days[0] < 1:
        raise ConfigError(f"{name} must name days of at least 1, got {raw!r}")
    return days


E = TypeVar("E", bound=enum.StrEnum)


def _choice(values: Mapping[str, Any], name: str, choices: type[E], default: E) -> E:
    value = str(values.get(name) or default)
    try:
        return choices(value)
    except ValueError:
        known = ", ".join(choices)
        raise ConfigError(f"{name} must be one of {known}, got {value!r}") from None


def _dukcapil(values: Mapping[str, Any], production: bool) -> dict[str, Any]:
    mode = _choice(
        values,
        "AKTA_DUKCAPIL",
        DukcapilMode,
        DukcapilMode.HTTP if production else DukcapilMode.SANDBOX,
    )
    url = values.get("AKTA_DUKCAPIL_URL") or None
    if mode == DukcapilMode.SANDBOX and production:
        raise ConfigError("AKTA_DUKCAPIL=sandbox is not allowed when AKTA_ENV=production")
    if mode == DukcapilMode.HTTP and not url:
        raise ConfigError("AKTA_DUKCAPIL_URL is required when AKTA_DUKCAPIL=http")
    if url and not str(url).startswith(("http://", "https://")):
        raise ConfigError(f"AKTA_DUKCAPIL_URL must start with http:// or https://, got {url!r}")
    return {
        "dukcapil_mode": mode,
        "dukcapil_url": url,
        "dukcapil_api_key": values.get("AKTA_DUKCAPIL_API_KEY") or None,
        "dukcapil_connect_timeout": _float(values, "AKTA_DUKCAPIL_CONNECT_TIMEOUT", 2.0, 0.01),
        "dukcapil_read_timeout": _float(values, "AKTA_DUKCAPIL_READ_TIMEOUT", 5.0, 0.01),
        "dukcapil_attempts": _int(values, "AKTA_DUKCAPIL_ATTEMPTS", 3, 1),
        "dukcapil_breaker_fail_max": _int(values, "AKTA_DUKCAPIL_BREAKER_FAIL_MAX", 5, 1),
        "dukcapil_breaker_reset_seconds": _float(
            values, "AKTA_DUKCAPIL_BREAKER_RESET_SECONDS", 30.0, 0.1
        ),
        "sandbox_seed": _int(values, "AKTA_SANDBOX_SEED", 2026, 0),
        "sandbox_families": _int(values, "AKTA_SANDBOX_FAMILIES", 60, 10),
    }


def _jobs(values: Mapping[str, Any]) -> dict[str, Any]:
    broker = str(values.get("AKTA_BROKER_URL") or "redis://127.0.0.1:6379/0")
    if not broker.startswith(("redis://", "rediss://", "amqp://")):
        raise ConfigError(f"AKTA_BROKER_URL must be a redis:// or amqp:// URL, got {broker!r}")
    return {
        "jobs": _choice(values, "AKTA_JOBS", JobsMode, JobsMode.INPROCESS),
        "broker_url": broker,
        "verify_retry_base_seconds": _float(values, "AKTA_VERIFY_RETRY_BASE_SECONDS", 5.0, 0.01),
        "verify_retry_max_seconds": _float(values, "AKTA_VERIFY_RETRY_MAX_SECONDS", 300.0, 0.01),
        "stalled_after_minutes": _int(values, "AKTA_STALLED_AFTER_MINUTES", 30, 1),
        "sweep_interval_seconds": _float(values, "AKTA_SWEEP_INTERVAL_SECONDS", 15.0, 0.05),
        "sweep_grace_seconds": _float(values, "AKTA_SWEEP_GRACE_SECONDS", 30.0, 0.0),
        "db_idle_check_seconds": _float(values, "AKTA_DB_IDLE_CHECK_SECONDS", 10.0, 0.0),
    }


#: Rate-limit stores every process of a deployment shares (limits' storage schemes).
SHARED_LIMIT_STORES = ("redis://", "rediss://", "redis+sentinel://", "redis+cluster://")

#: The limits, by setting name: (variable, default).
LIMIT_VARIABLES = {
    "api_rate_limit": ("AKTA_API_RATE_LIMIT", "600 per minute"),
    "report_rate_limit": ("AKTA_REPORT_RATE_LIMIT", "10 per hour"),
    "draft_rate_limit": ("AKTA_DRAFT_RATE_LIMIT", "300 per hour"),
    "upload_rate_limit": ("AKTA_UPLOAD_RATE_LIMIT", "30 per hour"),
    "status_rate_limit": ("AKTA_STATUS_RATE_LIMIT", "300 per minute"),
    "submit_rate_limit": ("AKTA_SUBMIT_RATE_LIMIT", "1000 per hour"),
    "address_upload_rate_limit": ("AKTA_ADDRESS_UPLOAD_RATE_LIMIT", "3000 per hour"),
    "verify_rate_limit": ("AKTA_VERIFY_RATE_LIMIT", "300 per minute"),
}


def _limit(values: Mapping[str, Any], name: str, default: str) -> str:
    text = str(values.get(name) or default)
    try:
        parse_many(text)
    except ValueError as exc:
        raise ConfigError(
            f"{name} must be a rate limit such as '10 per hour' or '300/minute', got {text!r}"
        ) from exc
    return text


def _limits(values: Mapping[str, Any], production: bool) -> dict[str, Any]:
    storage = str(values.get("AKTA_RATELIMIT_STORAGE_URI") or "memory://")
    enabled = str(values.get("AKTA_RATELIMIT_ENABLED") or "1").lower() not in ("0", "false", "no")
    if production and not storage.startswith(SHARED_LIMIT_STORES):
        raise ConfigError(
            "AKTA_RATELIMIT_STORAGE_URI must be a Redis store shared by every process when "
            f"AKTA_ENV=production, got {storage!r} (memory:// counts in each process alone and "
            "forgets at every restart); set e.g. redis://127.0.0.1:6379/1"
        )
    if production and not enabled:
        raise ConfigError("AKTA_RATELIMIT_ENABLED cannot be switched off when AKTA_ENV=production")
    quota_mb = _int(values, "AKTA_DOCUMENT_QUOTA_MB", 20, 1)
    return {
        "ratelimit_storage_uri": storage,
        "ratelimit_key_prefix": str(values.get("AKTA_RATELIMIT_KEY_PREFIX") or "akta"),
        "ratelimit_enabled": enabled,
        "trusted_proxy_hops": _int(values, "AKTA_TRUSTED_PROXY_HOPS", 0, 0),
        "document_quota_bytes": quota_mb * 1024 * 1024,
        **{
            setting: _limit(values, variable, default)
            for setting, (variable, default) in LIMIT_VARIABLES.items()
        },
    }


def _signing(values: Mapping[str, Any], production: bool, instance_path: Path) -> dict[str, Any]:
    mode = _choice(
        values,
        "AKTA_SIGNING_SERVICE",
        SigningServiceMode,
        SigningServiceMode.HTTP if production else SigningServiceMode.EMBEDDED,
    )
    if mode == SigningServiceMode.EMBEDDED and production:
        raise ConfigError("AKTA_SIGNING_SERVICE=embedded is not allowed when AKTA_ENV=production")
    url = str(values.get("AKTA_SIGNING_SERVICE_URL") or "").rstrip("/")
    if mode == SigningServiceMode.HTTP and not url:
        raise ConfigError("AKTA_SIGNING_SERVICE_URL is required when AKTA_SIGNING_SERVICE=http")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"AKTA_SIGNING_SERVICE_URL must start with http:// or https://, got {url!r}"
        )
    return {
        "signing_path": Path(values.get("AKTA_SIGNING_PATH") or instance_path / "pki").resolve(),
        "signing_service": mode,
        "signing_service_url": url or "http://127.0.0.1:5002",
        "signing_service_api_key": values.get("AKTA_SIGNING_SERVICE_API_KEY") or None,
    }


def _seal_token(values: Mapping[str, Any], production: bool) -> dict[str, Any]:
    kind = _choice(values, "AKTA_SEAL_TOKEN", SealTokenKind, SealTokenKind.AUTO)
    module = str(values.get("AKTA_SOFTHSM2_MODULE") or DEFAULT_SOFTHSM2_MODULE)
    pin = str(values.get("AKTA_SEAL_TOKEN_PIN") or "") or None
    in_token = kind == SealTokenKind.SOFTHSM or (
        kind == SealTokenKind.AUTO and Path(module).is_file()
    )
    if production and in_token and not pin:
        raise ConfigError(
            "AKTA_SEAL_TOKEN_PIN is required when AKTA_ENV=production: the office's seal keys "
            f"are in the PKCS#11 token ({module}), which opens only with its PIN"
        )
    if pin is not None and not 4 <= len(pin) <= 255:
        raise ConfigError("AKTA_SEAL_TOKEN_PIN must be 4 to 255 characters")
    return {"seal_token": kind, "softhsm2_module": module, "seal_token_pin": pin}


def _public_base_url(values: Mapping[str, Any], production: bool) -> str:
    url = str(values.get("AKTA_PUBLIC_BASE_URL") or "").rstrip("/")
    if not url:
        if production:
            raise ConfigError(
                "AKTA_PUBLIC_BASE_URL is required when AKTA_ENV=production: the QR code on "
                "every akta points there, e.g. https://akta.cirebonkota.go.id"
            )
        return "http://127.0.0.1:5000"
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"AKTA_PUBLIC_BASE_URL must start with http:// or https://, got {url!r}")
    return url


def _webhook_allow_private(values: Mapping[str, Any], production: bool) -> bool:
    raw = str(values.get("AKTA_WEBHOOK_ALLOW_PRIVATE") or "").strip().lower()
    if raw in ("", "default"):
        return not production
    if raw not in ("1", "true", "yes", "0", "false", "no"):
        raise ConfigError(f"AKTA_WEBHOOK_ALLOW_PRIVATE must be true or false, got {raw!r}")
    allowed = raw in ("1", "true", "yes")
    if allowed and production:
        raise ConfigError(
            "AKTA_WEBHOOK_ALLOW_PRIVATE=true is not allowed when AKTA_ENV=production: webhooks "
            "must reach facilities over the internet, never the office's own network"
        )
    return allowed


def _region_codes(raw: str | None) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in (raw or "3274").split(",") if c.strip())
    bad = [c for c in codes if not re.fullmatch(r"[0-9]{4}", c)]
    if not codes or bad:
        raise ConfigError(
            f"AKTA_REGIONS must list 4-digit kab/kota codes separated by commas, got {raw!r}"
        )
    return codes


def _letters(values: Mapping[str, Any], name: str, default: str) -> str:
    code = str(values.get(name) or default)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ConfigError(f"{name} must be two capital letters, got {code!r}")
    return code


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError naming the first bad variable."""
    values = _environment(overrides)
    env = _choice(values, "AKTA_ENV", Environment, Environment.DEVELOPMENT)
    production = env == Environment.PRODUCTION
    instance_path = Path(values.get("AKTA_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    timezone = str(values.get("AKTA_TIMEZONE") or "Asia/Jakarta")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"AKTA_TIMEZONE is not a known time zone: {timezone!r}") from exc
    extra = {k: v for k, v in (overrides or {}).items() if not k.startswith("AKTA_")}
    database_url = _database_url(values.get("AKTA_DATABASE_URL"), instance_path, production)
    return Settings(
        env=env,
        instance_path=instance_path,
        database_url=database_url,
        migration_database_url=_migration_database_url(
            values, database_url, instance_path, production
        ),
        journal_seal_key_path=Path(
            values.get("AKTA_JOURNAL_SEAL_KEY") or instance_path / "journal-seal-key.pem"
        ).resolve(),
        secret_key=_secret_key(values.get("AKTA_SECRET_KEY"), instance_path, production),
        region_codes=_region_codes(values.get("AKTA_REGIONS")),
        timezone=timezone,
        on_time_days=_int(values, "AKTA_ON_TIME_DAYS", 60, 1),
        regno_on_time_code=_letters(values, "AKTA_REGNO_ON_TIME_CODE", "LU"),
        regno_late_code=_letters(values, "AKTA_REGNO_LATE_CODE", "LT"),
        regno_period=_choice(
            values, "AKTA_REGNO_PERIOD", RegistrationPeriod, RegistrationPeriod.DAILY
        ),
        **_dukcapil(values, production),
        **_jobs(values),
        **_storage(values, instance_path, production),
        **_signing(values, production, instance_path),
        public_base_url=_public_base_url(values, production),
        smtp_url=values.get("AKTA_SMTP_URL") or None,
        mail_from=str(values.get("AKTA_MAIL_FROM") or "akta@localhost"),
        **_limits(values, production),
        **_seal_token(values, production),
        webhook_allow_private=_webhook_allow_private(values, production),
        draft_days=_int(values, "AKTA_DRAFT_DAYS", 30, 1),
        notification_reminder_days=_days(values, "AKTA_NOTIFICATION_REMINDER_DAYS", (7, 30, 50)),
        notification_expire_days=_int(values, "AKTA_NOTIFICATION_EXPIRE_DAYS", 365, 1),
        extra=extra,
    )


def current_settings() -> Settings:
    """The settings of the running app."""
    settings: Settings = current_app.config["AKTA_SETTINGS"]
    return settings
