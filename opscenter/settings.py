"""One settings object, read from environment variables prefixed ``OPSCENTER_``."""

import os
import re
from enum import StrEnum
from functools import cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from monitoring.promql import PrometheusSettings, RangeSelectors


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    TEXT = "text"  # one line a person reads
    JSON = "json"  # one JSON object a line, for a log collector (Loki, Elasticsearch, journald's JSON export)


MIN_METRICS_TOKEN = 16
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
# Settings that are secrets may also be read from a file: OPSCENTER_<NAME>_FILE (a Docker or Kubernetes secret, a
# file readable by the service's user only), so the secret is in no process environment and no shell history.
SECRET_SETTINGS = (
    "database_url",
    "database_replica_url",
    "metrics_token",
    "prometheus_bearer_token",
    "prometheus_password",
    "redis_url",
    "audit_signing_key",
)


class Settings(BaseSettings):
    """Everything an operator may tune; every field is ``OPSCENTER_<NAME>`` in the environment."""

    # hide_input_in_errors: a refused setting is named, never echoed (it may be a password or a token).
    model_config = SettingsConfigDict(env_prefix="OPSCENTER_", extra="ignore", frozen=True, hide_input_in_errors=True)

    database_url: str = Field(
        default="sqlite:///opscenter.db",
        description="`sqlite:///path` (embedded default, WAL) or `postgresql://user@host/db`.",
    )
    # Off by default: error bodies never carry tracebacks, SQL or file paths unless a developer asks for them.
    # The server log has them either way.
    debug: bool = Field(default=False, description="Show exception text and tracebacks in 500 bodies (development).")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: LogLevel = LogLevel.INFO
    log_format: LogFormat = Field(default=LogFormat.TEXT, description="`text` (people) or `json` (collectors)")
    # Libraries talk a lot at INFO (httpx a line per Prometheus query, Alembic on every command, APScheduler on
    # every run of a job every second): WARNING unless someone asks (`opscenter --verbose` sets INFO).
    log_libraries: LogLevel = Field(
        default=LogLevel.WARNING, description="Level of httpx, Alembic and APScheduler's loggers"
    )
    # One line per request (method, route template, status, duration, request id, actor id) at INFO.
    log_requests: bool = True
    # Traces (opscenter/tracing.py): off unless an OTLP/HTTP endpoint is set, here or in OTEL_EXPORTER_OTLP_ENDPOINT.
    otel_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP base URL of a collector (…:4318); traces are off when unset"
    )
    otel_service_name: str = "opscenter"
    # The burn-rate rules (sla/budget): the worker keeps this file current and asks Prometheus to reload.
    sla_budget_rules_file: str | None = Field(
        default=None,
        description="Where the worker writes the burn-rate rules (e.g. …/monitoring/generated/sla-budget.yml)",
    )

    # The PromQL HTTP API the SLA pull reads (Prometheus, Thanos Query, Grafana Mimir, VictoriaMetrics).
    prometheus_url: str = Field(
        default="http://127.0.0.1:9090",
        description="Base URL of the query API, without /api/v1 (Mimir: …/prometheus)",
    )
    prometheus_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    prometheus_read_timeout_seconds: float = Field(default=30.0, gt=0)
    prometheus_bearer_token: SecretStr | None = None
    prometheus_username: str | None = Field(default=None, description="Basic auth, with prometheus_password")
    prometheus_password: SecretStr | None = None
    prometheus_headers: dict[str, str] = Field(
        default_factory=dict, description='Extra headers as JSON, e.g. {"X-Scope-OrgID": "bureau"} for Mimir'
    )
    prometheus_ca_bundle: str | None = Field(default=None, description="PEM file of the CAs to trust for https")
    prometheus_retries: int = Field(default=3, ge=0, le=10, description="After connection errors and 5xx only")
    prometheus_retry_backoff_seconds: float = Field(default=0.5, ge=0, description="Doubled after each retry")
    prometheus_range_selectors: RangeSelectors = Field(
        default=RangeSelectors.CLOSED,
        description="`closed` [t-d, t] (Prometheus 2.x, Thanos, Mimir 2.x) or `left_open` (t-d, t] (Prometheus 3.x): "
        "how windows are cut to the exact sample",
    )

    # SLA: the hourly pull measures complete days this far back, once a day has been over this long.
    sla_pull_horizon_days: int = Field(default=35, ge=1, le=400)
    sla_pull_settle_minutes: int = Field(default=15, ge=0, le=24 * 60)

    # SQLite waits this long for the write lock before giving up.
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0, description="PostgreSQL only; 0 disables.")

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # What one uploaded CSV or XLSX file may make the server do (opscenter/sheets/): a file
    # beyond any of these is refused with a 422 naming the limit, before its batch is locked.
    upload_max_rows: int = Field(
        default=20_000, ge=1, le=1_048_575, description="Rows below the header, blank ones included"
    )
    upload_max_cell_chars: int = Field(default=32_768, ge=256, le=1_048_576, description="Characters in one cell")
    upload_max_unpacked_bytes: int = Field(
        default=48 * 1024 * 1024,
        ge=1024 * 1024,
        description="What the parts of an XLSX workbook that are read (sheet, shared strings, styles) unpack to",
    )
    upload_parse_seconds: float = Field(
        default=20.0, gt=0, description="Processor time to read and check one file (not time waiting for a core)"
    )
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=200, ge=1)

    # API keys: last-used time is written at most this often per key, so reads stay reads.
    api_key_touch_interval_seconds: int = Field(default=60, ge=0)
    # How long a process trusts what it read about a key (see opscenter/auth/cache.py); 0 reads it every time.
    api_key_cache_seconds: float = Field(default=5.0, ge=0)

    # The console (people at a desk): sessions in the database, ended after this long without a request, and after
    # console_session_hours whatever happens; cookies marked Secure when the console is served behind TLS.
    console_idle_minutes: int = Field(default=30, ge=1)
    console_session_hours: int = Field(default=12, ge=1)
    console_secure_cookies: bool = False
    # Guessing passwords: after this many failures in a row for one login name (or, separately, from one client
    # address, which many people may share behind a NAT), the next failure locks logins for console_lockout_minutes.
    console_max_failures_per_user: int = Field(default=5, ge=1)
    console_max_failures_per_address: int = Field(default=20, ge=1)
    console_lockout_minutes: int = Field(default=15, ge=1)

    # uvicorn's line per request; off by default: /metrics counts requests and errors are logged once.
    access_log: bool = False
    # /metrics: the process's own metrics (requests, jobs, the scheduler, the audit backlog) are open to any
    # scraper; the business figures (budgets and spend by department, SLA, ratings, tickets, statements) go only
    # to one that sends `Authorization: Bearer <this token>` (Prometheus: `authorization: {credentials_file: …}`).
    metrics_token: SecretStr | None = Field(
        default=None,
        description="The bearer token Prometheus sends for the business figures on /metrics (at least 16 "
        "characters); unset, no scraper gets them",
    )

    # Scale-out (README "Production topology").
    database_replica_url: str | None = Field(
        default=None,
        description="A PostgreSQL streaming replica that list pages (GET answers that are a page) may read from.",
    )
    replica_retry_seconds: float = Field(
        default=30.0, gt=0, description="After the replica fails, lists read from the primary this long."
    )
    scheduler_poll_seconds: float = Field(
        default=10.0,
        gt=0,
        le=30,
        description="How often a standby process tries to become the scheduler's leader (and the leader checks "
        "it still is): the takeover bound after a leader dies.",
    )
    scheduler_jobs: str | None = Field(
        default=None,
        description="`module:attribute` of a job list that replaces the built-in one: for tests and fire drills.",
    )

    # Notifications (README "Notifications"): links in messages, where mail goes out, how deliveries are tried.
    console_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of the console that links in messages point to"
    )
    smtp_host: str | None = Field(default=None, description="Mail relay; unset, no email is sent")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="Upgrade with STARTTLS before AUTH (refused if offered not)")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="opscenter@localhost", description="The From: address")
    smtp_ca_bundle: str | None = Field(default=None, description="PEM file of the CAs to trust for STARTTLS")
    notifications_secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (32 url-safe base64 bytes) that encrypts webhook and robot secrets at rest; "
        "unset, no subscription or signed robot can be set up",
    )
    notifications_emit: bool = Field(default=True, description="Off: workflow steps write no events (benchmarks)")
    webhook_allow_http: bool = Field(default=False, description="Allow http:// receivers (an admin's choice)")
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow loopback, private, link-local and other non-public receiver addresses (tests, labs)",
    )
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Per attempt, connect to answer")
    delivery_max_attempts: int = Field(default=8, ge=1, le=30, description="Then the delivery is a dead letter")
    delivery_backoff_seconds: float = Field(default=30.0, ge=0, description="Before the 2nd try; doubled after each")
    delivery_batch: int = Field(default=200, ge=1, le=5000, description="Deliveries claimed per step")
    # Rate limits (opscenter/ratelimits): requests per window, per API key, or per client address for a request
    # without one, by route class. A credential refused (401) counts against its client address: past
    # `rate_limit_refused` in a window, that address is answered 429 until the window ends.
    rate_limits: bool = Field(default=True, description="Answer 429 past the limits below; false turns them off")
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)
    rate_limit_reads: int = Field(default=1200, ge=1, description="GET (and HEAD) requests per window")
    rate_limit_writes: int = Field(default=300, ge=1, description="POST, PUT, PATCH, DELETE per window")
    rate_limit_batches: int = Field(default=20, ge=1, description="Batches and uploads (a ratings batch, a file)")
    rate_limit_exports: int = Field(default=30, ge=1, description="File exports (CSV, XLSX)")
    rate_limit_refused: int = Field(default=20, ge=1, description="Refused credentials per client address")
    # Where the counters live: this process (one API process, the embedded default), or Redis/Valkey shared by
    # every API process (`serve --workers N`, several hosts), so a limit holds however requests are spread.
    redis_url: SecretStr | None = Field(
        default=None, description="redis://… (or rediss://) for rate-limit counters shared by every API process"
    )
    # X-Forwarded-For is believed only from these (the reverse proxy's addresses), so a client cannot choose the
    # address its limits, logs and audit events are kept under.
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = Field(
        default=(), description="CIDRs of reverse proxies whose X-Forwarded-For is believed, comma-separated"
    )

    # CORS (README "Security headers and CORS"): off unless origins are named. A browser page from one of these may
    # call the API with an API key; no cookie is ever allowed across origins (the console stays same-origin).
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Origins (https://host[:port]) whose pages may call the API, comma-separated"
    )

    # The audit chain's checkpoints (opscenter/audit/checkpoints.py) are signed with this Ed25519 private key (PEM,
    # PKCS#8, as `opscenter audit keygen` writes it), kept outside the database: a file, or the key itself.
    audit_signing_key_file: str | None = Field(default=None, description="PEM file of the Ed25519 signing key")
    audit_signing_key: SecretStr | None = Field(default=None, description="The Ed25519 signing key itself, PEM")

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        """``OPSCENTER_<NAME>_FILE`` names a file holding the secret setting ``<NAME>`` (one trailing newline is
        dropped). Setting both is refused: which one wins would be a guess."""
        if not isinstance(data, dict):
            return data
        for name in SECRET_SETTINGS:
            path = os.environ.get(f"OPSCENTER_{name.upper()}_FILE")
            if not path:
                continue
            if data.get(name) is not None:
                raise ValueError(f"set OPSCENTER_{name.upper()} or OPSCENTER_{name.upper()}_FILE, not both")
            try:
                data[name] = Path(path).read_text(encoding="utf-8").removesuffix("\n")
            except OSError as exc:
                raise ValueError(f"OPSCENTER_{name.upper()}_FILE: cannot read {path}: {exc.strerror}") from None
        return data

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        origins = tuple(str(part).rstrip("/") for part in value)
        for origin in origins:
            # An origin is a scheme and a host, nothing more: a path would never match, "*" would open the API to
            # every page on the internet.
            if not _ORIGIN.match(origin):
                raise ValueError(f"not an origin (scheme://host[:port]): {origin}")
        return origins

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(ip_network(part, strict=False) if isinstance(part, str) else part for part in value)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("database_replica_url")
    @classmethod
    def _postgresql_replica(cls, value: str | None) -> str | None:
        if not value:  # set but empty: no replica
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("a replica is a PostgreSQL streaming replica: postgresql://…")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _strong_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():  # set but empty: no token
            return None
        token = value.get_secret_value()
        if len(token) < MIN_METRICS_TOKEN or any(character.isspace() for character in token):
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN} characters, without spaces")
        return value

    @model_validator(mode="after")
    def _one_prometheus_auth(self) -> "Settings":
        if self.prometheus_bearer_token is not None and self.prometheus_username is not None:
            raise ValueError("prometheus: a bearer token or basic auth, not both")
        if (self.prometheus_username is None) != (self.prometheus_password is None):
            raise ValueError("prometheus basic auth needs both prometheus_username and prometheus_password")
        return self

    @property
    def prometheus(self) -> PrometheusSettings:
        """What the PromQL client (``monitoring.promql``) needs of these settings."""
        token, password = self.prometheus_bearer_token, self.prometheus_password
        return PrometheusSettings(
            url=self.prometheus_url,
            connect_timeout_seconds=self.prometheus_connect_timeout_seconds,
            read_timeout_seconds=self.prometheus_read_timeout_seconds,
            bearer_token=None if token is None else token.get_secret_value(),
            username=self.prometheus_username,
            password=None if password is None else password.get_secret_value(),
            headers=dict(self.prometheus_headers),
            ca_bundle=self.prometheus_ca_bundle,
            retries=self.prometheus_retries,
            retry_backoff_seconds=self.prometheus_retry_backoff_seconds,
            range_selectors=self.prometheus_range_selectors,
        )


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
