"""Database tables (SQLModel). Migrations in `core/migrations` mirror these definitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from core.options import JobOptions
from core.states import JobStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


def _optional_timestamp() -> Any:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))


class Transcription(JobOptions, table=True):
    """One uploaded file and its transcription job; its option columns come from `JobOptions`."""

    __tablename__ = "transcriptions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner: str | None = Field(default=None, max_length=200, index=True)

    filename: str = Field(max_length=1024)
    storage_key: str = Field(max_length=200)
    content_type: str | None = Field(default=None, max_length=200)
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    media_kind: str = Field(default="audio", max_length=16)

    status: str = Field(default=JobStatus.queued.value, max_length=16)
    progress: float = 0.0
    duration_seconds: float | None = None

    language: str | None = Field(default=None, max_length=16)

    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )
    enqueued_at: datetime | None = _optional_timestamp()
    started_at: datetime | None = _optional_timestamp()
    completed_at: datetime | None = _optional_timestamp()
    lease_expires_at: datetime | None = _optional_timestamp()

    attempts: int = 0
    run_id: uuid.UUID | None = Field(
        default=None, description="The current run's fencing token: set by every claim"
    )
    restart_reason: str | None = Field(
        default=None, max_length=32, description="Why the current run is not the first one"
    )
    worker: str | None = Field(default=None, max_length=200)
    last_seq: int = 0

    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    text: str | None = Field(default=None, sa_column=sa.Column(sa.Text))

    @property
    def error(self) -> dict[str, str] | None:
        """The failure as `{code, message}`, or None."""
        if not self.error_code:
            return None
        return {"code": self.error_code, "message": self.error_message or ""}

    @property
    def options(self) -> JobOptions:
        return JobOptions.model_validate(self, from_attributes=True)


class Segment(SQLModel, table=True):
    __tablename__ = "segments"
    __table_args__ = (
        sa.UniqueConstraint("transcription_id", "index", name="uq_segments_job_index"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transcription_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("transcriptions.id", ondelete="CASCADE"), nullable=False
        )
    )
    index: int
    seq: int = Field(default=0, description="seq of the event that carried this segment")
    start: float
    end: float
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    words: list[dict[str, Any]] | None = Field(
        default=None, sa_column=sa.Column(postgresql.JSONB, nullable=True)
    )


class RevokedSession(SQLModel, table=True):
    """A session token signed out before its expiry (the token itself is never stored)."""

    __tablename__ = "revoked_sessions"

    digest: str = Field(primary_key=True, max_length=64, description="SHA-256 of the token")
    expires_at: datetime = Field(
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    )
