"""Process settings, read from the environment and `.env` (environment wins)."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = Path(os.environ.get("SOUNDSCRIPTER_ENV_FILE") or PROJECT_ROOT / ".env")
"""The settings file read besides the environment: the project's `.env` (what `make run`
writes), or the file `SOUNDSCRIPTER_ENV_FILE` names (the tests name an empty one, so a
developer's `.env` never changes what they test)."""

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "changethis", "secret", "password", "admin"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/soundscripter"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "soundscripter"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    # Empty: "transcriptions.<database name>", so instances sharing one broker never take
    # each other's jobs.
    queue_name: str = ""

    storage_dir: Path = PROJECT_ROOT / "data" / "uploads"
    # Storage backends (docs/operations.md): a local folder, or an S3-compatible store that
    # API and worker hosts reach over the network (uploads still arrive in STORAGE_DIR).
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = "soundscripter"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_region: str = "us-east-1"
    s3_connect_timeout_seconds: float = Field(default=3, gt=0)
    s3_read_timeout_seconds: float = Field(default=20, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1, le=10)
    storage_retry_seconds: float = Field(default=60, ge=0)
    worker_cache_dir: Path | None = None
    worker_cache_mb: int = Field(default=2048, ge=1)
    orphan_grace_seconds: float = Field(default=3600, gt=0)

    whisper_model: str = "tiny.en"
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_cpu_threads: int = Field(default=0, ge=0)
    whisper_beam_size: int = Field(default=5, ge=1, le=10)
    whisper_batch_size: int = Field(default=2, ge=0)
    allowed_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Where models assembled from their packages (`base`) are kept (core/model_store.py).
    models_dir: Path = PROJECT_ROOT / "data" / "models"

    worker_processes: int = Field(default=1, ge=1)
    worker_concurrency: int = Field(default=2, ge=1)
    # One malloc arena and 128 MiB thresholds in worker processes (worker/allocator.py).
    worker_malloc_tuning: bool = True
    # Model pools (docs/operations.md): the models this worker group serves (empty: WHISPER_MODEL
    # and ALLOWED_MODELS), each model's queue type, and how often a worker announces itself.
    worker_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    queue_type: Literal["classic", "quorum"] = "classic"
    worker_heartbeat_seconds: float = Field(default=5, gt=0)

    max_upload_mb: int = Field(default=1024, ge=1)
    max_files_per_request: int = Field(default=50, ge=1)
    max_duration_seconds: float = Field(default=10800, gt=0)
    probe_timeout_seconds: float = Field(default=30, gt=0)

    max_attempts: int = Field(default=3, ge=1)
    job_lease_seconds: int = Field(default=120, ge=10)
    # How often a running job checks that it is still its own (cancelled, deleted, taken over).
    cancel_check_seconds: float = Field(default=0.5, gt=0)
    # Long files (docs/operations.md, "Splitting"): a recording at least SPLIT_MIN_SECONDS long
    # is cut at silences into pieces of at least SPLIT_PIECE_MIN_SECONDS, one per free worker
    # slot of its model pool, transcribed in parallel and stitched in order. 0 never splits.
    split_min_seconds: float = Field(default=300, ge=0)
    split_piece_min_seconds: float = Field(default=120, gt=0)
    sweep_interval_seconds: float = Field(default=10, gt=0)
    publish_retry_after_seconds: float = Field(default=15, ge=0)
    # Scheduling (docs/operations.md): how often each API process runs a dispatch pass besides
    # the ones an upload or a job's start or end triggers, how long a dispatched job may take
    # to start before it is published again, and each owner's default priority ("owner=high",
    # "*=low" for every other owner; the upload field `priority` overrides it).
    dispatch_interval_seconds: float = Field(default=1, gt=0)
    dispatch_timeout_seconds: float = Field(default=60, gt=0)
    api_key_priorities: Annotated[list[str], NoDecode] = Field(default_factory=list)
    stale_upload_seconds: float = Field(default=3600, gt=0)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Host names the API answers to besides loopback ones ("*.example.org" for subdomains).
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Request line and headers: the most a request may send (431 past it) and how long it may
    # take to send them (408). See api/http_protocol.py.
    max_request_head_kb: int = Field(default=32, ge=8, le=1024)
    request_head_timeout_seconds: float = Field(default=10, gt=0)

    # Access control (see docs/reliability.md). Entries are "owner:key" or "owner:sha256:<hex>".
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allow_anonymous: bool = False
    session_secret: str = ""
    session_ttl_seconds: int = Field(default=900, ge=30, le=86400)
    max_concurrent_uploads_per_key: int = Field(default=4, ge=0)
    max_queued_jobs_per_key: int = Field(default=1000, ge=0)
    sse_ping_seconds: float = Field(default=15, gt=0)
    sse_fallback_poll_seconds: float = Field(default=2, gt=0)
    # How long an OpenAI-compatible request (/v1/audio/...) waits for its job before it answers
    # with the job's id (docs/integrations.md); below the OpenAI SDKs' 600 s read timeout.
    openai_wait_seconds: float = Field(default=540, gt=0)

    # Webhooks (docs/integrations.md): the Standard Webhooks signing secret ("whsec_" and
    # base64), per-owner default URLs ("owner=url", "*=url" for every other owner), hosts that
    # may be private addresses, the request timeout, the retry schedule and the outbox poll.
    webhook_secret: str = ""
    webhook_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=120)
    webhook_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [10.0, 30.0, 120.0, 600.0, 3600.0, 21600.0]
    )
    webhook_poll_seconds: float = Field(default=1, gt=0)
    webhook_concurrency: int = Field(default=8, ge=1, le=100)

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator(
        "cors_origins",
        "allowed_models",
        "worker_models",
        "api_keys",
        "admin_api_keys",
        "allowed_hosts",
        "webhook_urls",
        "webhook_allowed_hosts",
        "webhook_retry_seconds",
        "api_key_priorities",
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("storage_dir", "models_dir", mode="after")
    @classmethod
    def _absolute_storage(cls, value: Path) -> Path:
        return value if value.is_absolute() else (PROJECT_ROOT / value).resolve()

    @field_validator("s3_bucket", mode="after")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise ValueError(f"S3_BUCKET {value!r}: 3-63 lower-case letters, digits, '-' or '.'")
        return value

    @field_validator("worker_cache_dir", mode="before")
    @classmethod
    def _absolute_cache(cls, value: object) -> Path | None:
        """Empty (as `.env.example` has it) means STORAGE_DIR/cache; a relative folder is the
        project's."""
        if value is None or not str(value).strip():
            return None
        path = Path(str(value))
        return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()

    @model_validator(mode="after")
    def _default_queue(self) -> Settings:

        if not self.queue_name:
            database = make_url(self.database_url).database or "default"
            self.queue_name = f"transcriptions.{database}"
        return self

    @field_validator("cors_origins", mode="after")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                raise ValueError(
                    f"CORS_ORIGINS entry {origin!r}: list each origin as http(s)://host[:port]"
                )
        return [origin.rstrip("/") for origin in value]

    @field_validator("allowed_hosts", mode="after")
    @classmethod
    def _host_names(cls, value: list[str]) -> list[str]:
        names = []
        for host in value:
            try:  # an IPv6 address, with or without brackets
                names.append(str(ipaddress.IPv6Address(host.strip("[]"))))
                continue
            except ValueError:
                pass
            name = host.removeprefix("*.")
            if not name or any(not (c.isalnum() or c in "-.") for c in name):
                raise ValueError(
                    f"ALLOWED_HOSTS entry {host!r}: list host names (or *.domain) and addresses, "
                    "without scheme, port or path"
                )
            names.append(host.lower().rstrip("."))
        return names

    @model_validator(mode="after")
    def _webhook_settings(self) -> Settings:
        if self.webhook_secret:
            check_webhook_secret(self.webhook_secret)
        elif self.webhook_urls:
            raise ValueError("WEBHOOK_URLS needs WEBHOOK_SECRET to sign the deliveries")
        for entry in self.webhook_urls:
            owner, sep, url = entry.partition("=")
            if not sep or not owner.strip() or not url.strip().startswith(("http://", "https://")):
                raise ValueError(f"WEBHOOK_URLS entry {entry!r}: write owner=http(s)://...")
        self.webhook_allowed_hosts = [
            h.lower().strip("[]").rstrip(".") for h in self.webhook_allowed_hosts
        ]
        return self

    @field_validator("api_key_priorities", mode="after")
    @classmethod
    def _priorities(cls, value: list[str]) -> list[str]:
        for entry in value:
            owner, sep, priority = entry.partition("=")
            if not sep or not owner.strip() or priority.strip() not in ("low", "normal", "high"):
                raise ValueError(
                    f"API_KEY_PRIORITIES entry {entry!r}: write owner=low, owner=normal or "
                    "owner=high (*= for every other owner)"
                )
        return value

    def default_priority(self, owner: str | None) -> str:
        """The priority of an upload that names none: its owner's entry in
        API_KEY_PRIORITIES, else the `*` entry, else normal."""
        entries = (entry.partition("=") for entry in self.api_key_priorities)
        pairs = {name.strip(): priority.strip() for name, _, priority in entries}
        return pairs.get(owner or "", pairs.get("*", "normal"))

    @model_validator(mode="after")
    def _no_placeholder_credentials(self) -> Settings:
        if self.environment == "production" and "guest:guest@" in self.broker_url:
            raise ValueError("BROKER_URL uses RabbitMQ's default guest credentials in production")
        if self.session_secret and self.session_secret.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SESSION_SECRET is a placeholder; use a long random value")
        return self

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def webhook_defaults(self) -> dict[str, str]:
        """WEBHOOK_URLS by owner ("*": every owner without an entry of its own)."""
        pairs = (entry.partition("=") for entry in self.webhook_urls)
        return {owner.strip(): url.strip() for owner, _, url in pairs}

    def models_allowed(self) -> list[str]:
        """Models an upload may ask for: WHISPER_MODEL plus ALLOWED_MODELS."""
        return [self.whisper_model, *(m for m in self.allowed_models if m != self.whisper_model)]

    def models_served(self) -> list[str]:
        """Models this worker group serves, whose queues it consumes: WORKER_MODELS, or else
        every model an upload may ask for (WHISPER_MODEL, which is all of them unless
        ALLOWED_MODELS is set), so one group alone serves everything, as before pools."""
        return list(dict.fromkeys(self.worker_models)) or self.models_allowed()

    def cpu_threads(self) -> int:
        """Threads per model: the configured count, or the cores shared by every worker slot."""
        if self.whisper_cpu_threads:
            return self.whisper_cpu_threads
        slots = self.worker_processes * self.worker_concurrency
        return max(1, (os.cpu_count() or 1) // slots)


def check_webhook_secret(secret: str) -> None:
    """A Standard Webhooks secret: "whsec_" and the base64 of 24 to 64 random bytes."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if not secret.startswith("whsec_") or not 24 <= len(key) <= 64:
        raise ValueError(
            "WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 random bytes "
            "(docs/integrations.md says how to make one)"
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
