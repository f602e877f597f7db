"""Process settings, read from the environment and `.env` (environment wins)."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "changethis", "secret", "password", "admin"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/soundscripter"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "soundscripter"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    # Empty: "transcriptions.<database name>", so instances sharing one broker never take
    # each other's jobs.
    queue_name: str = ""

    storage_dir: Path = PROJECT_ROOT / "data" / "uploads"

    whisper_model: str = "tiny.en"
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_cpu_threads: int = Field(default=0, ge=0)
    whisper_beam_size: int = Field(default=5, ge=1, le=10)
    whisper_batch_size: int = Field(default=2, ge=0)
    allowed_models: Annotated[list[str], NoDecode] = Field(default_factory=list)

    worker_processes: int = Field(default=1, ge=1)
    worker_concurrency: int = Field(default=2, ge=1)

    max_upload_mb: int = Field(default=1024, ge=1)
    max_files_per_request: int = Field(default=50, ge=1)
    max_duration_seconds: float = Field(default=10800, gt=0)
    probe_timeout_seconds: float = Field(default=30, gt=0)

    max_attempts: int = Field(default=3, ge=1)
    job_lease_seconds: int = Field(default=120, ge=10)
    sweep_interval_seconds: float = Field(default=10, gt=0)
    publish_retry_after_seconds: float = Field(default=15, ge=0)
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

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator(
        "cors_origins",
        "allowed_models",
        "api_keys",
        "admin_api_keys",
        "allowed_hosts",
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("storage_dir", mode="after")
    @classmethod
    def _absolute_storage(cls, value: Path) -> Path:
        return value if value.is_absolute() else (PROJECT_ROOT / value).resolve()

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
    def _no_placeholder_credentials(self) -> Settings:
        if self.environment == "production" and "guest:guest@" in self.broker_url:
            raise ValueError("BROKER_URL uses RabbitMQ's default guest credentials in production")
        if self.session_secret and self.session_secret.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SESSION_SECRET is a placeholder; use a long random value")
        return self

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def models_allowed(self) -> list[str]:
        """Models an upload may ask for: WHISPER_MODEL plus ALLOWED_MODELS."""
        return [self.whisper_model, *(m for m in self.allowed_models if m != self.whisper_model)]

    def cpu_threads(self) -> int:
        """Threads per model: the configured count, or the cores shared by every worker slot."""
        if self.whisper_cpu_threads:
            return self.whisper_cpu_threads
        slots = self.worker_processes * self.worker_concurrency
        return max(1, (os.cpu_count() or 1) // slots)


@lru_cache
def get_settings() -> Settings:
    return Settings()
