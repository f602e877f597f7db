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
    priority: str = Field(
        default="normal",
        max_length=8,
        description="low, normal or high: a waiting high job starts before every normal one",
    )
    progress: float = 0.0
    duration_seconds: float | None = None

    language: str | None = Field(default=None, max_length=16)
    languages: list[dict[str, Any]] | None = Field(
        default=None,
        sa_column=sa.Column(postgresql.JSONB, nullable=True),
        description="Languages found, with their share of the speech: [{language, share}]",
    )

    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )
    enqueued_at: datetime | None = _optional_timestamp()
    started_at: datetime | None = _optional_timestamp()
    completed_at: datetime | None = _optional_timestamp()
    lease_expires_at: datetime | None = _optional_timestamp()
    # The dispatcher's latest estimate (core.dispatch); cleared on every status change.
    queue_position: int | None = None
    eta_starts_at: datetime | None = _optional_timestamp()
    eta_finishes_at: datetime | None = _optional_timestamp()
    scheduled_at: datetime | None = _optional_timestamp()

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

    webhook_url: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.Text, nullable=True),
        description="Where the outcome is posted: the upload's callback_url, else its owner's "
        "default (WEBHOOK_URLS), fixed at upload",
    )
    reused_from: uuid.UUID | None = Field(
        default=None, description="The completed transcription whose result this one reuses"
    )
    speakers: dict[str, str] | None = Field(
        default=None,
        sa_column=sa.Column(postgresql.JSONB, nullable=True),
        description="Speaker id (S1, S2, ...) -> display name; set by diarization",
    )
    speakers_error: str | None = Field(
        default=None, sa_column=sa.Column(sa.Text), description="Why there are no speaker labels"
    )
    revision: int = Field(
        default=0, description="The transcript's revision: 0 as recognised, then one per edit"
    )
    edited_at: datetime | None = _optional_timestamp()

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
    language: str | None = Field(default=None, max_length=16)
    speaker: str | None = Field(default=None, max_length=16)


class TranscriptRevision(SQLModel, table=True):
    """One edit of a completed transcript (`core.revisions`): the segments it changed and the
    speaker names, each before and after, so every earlier revision can be rebuilt."""

    __tablename__ = "transcript_revisions"

    transcription_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid,
            sa.ForeignKey("transcriptions.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    revision: int = Field(primary_key=True, description="1, 2, ... per transcription")
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )
    author: str | None = Field(default=None, max_length=200, description="The editing key's name")
    segments: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=sa.Column(postgresql.JSONB, nullable=False),
        description="[{index, before: {text, words}, after: {text, words}}]",
    )
    speakers_before: dict[str, str] | None = Field(
        default=None, sa_column=sa.Column(postgresql.JSONB, nullable=True)
    )
    speakers_after: dict[str, str] | None = Field(
        default=None, sa_column=sa.Column(postgresql.JSONB, nullable=True)
    )


class RevokedSession(SQLModel, table=True):
    """A session token signed out before its expiry (the token itself is never stored)."""

    __tablename__ = "revoked_sessions"

    digest: str = Field(primary_key=True, max_length=64, description="SHA-256 of the token")
    expires_at: datetime = Field(
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    )


class WebhookDelivery(SQLModel, table=True):
    """One webhook message (the outbox): inserted in the transaction that ends its job, then
    sent, and retried on schedule, by the API processes (`core.webhook_delivery`)."""

    __tablename__ = "webhook_deliveries"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    transcription_id: uuid.UUID = Field(index=True, description="No foreign key: kept on delete")
    event: str = Field(max_length=64, description="transcription.completed, .failed, .cancelled")
    url: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    payload: str = Field(
        sa_column=sa.Column(sa.Text, nullable=False), description="The exact body sent"
    )
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    last_status_code: int | None = None
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )
    delivered_at: datetime | None = _optional_timestamp()


class TranscriptionPiece(SQLModel, table=True):
    """One piece of a long recording split at silences (`core.pieces`): transcribed on its own,
    fenced like a run (its own run id, lease and attempts, under the job run that cut it)."""

    __tablename__ = "transcription_pieces"
    __table_args__ = (
        sa.UniqueConstraint("transcription_id", "number", name="uq_pieces_job_number"),
        sa.Index(
            "ix_transcription_pieces_running",
            "lease_expires_at",
            postgresql_where=sa.text("status = 'processing'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    transcription_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("transcriptions.id", ondelete="CASCADE"), nullable=False
        )
    )
    job_run_id: uuid.UUID = Field(description="The job run that cut the recording")
    number: int = Field(description="0, 1, ... in the recording's order")
    start_seconds: float
    end_seconds: float
    status: str = Field(default=JobStatus.queued.value, max_length=16)
    attempts: int = 0
    run_id: uuid.UUID | None = Field(default=None, description="The piece run's fencing token")
    worker: str | None = Field(default=None, max_length=200)
    lease_expires_at: datetime | None = _optional_timestamp()
    enqueued_at: datetime | None = _optional_timestamp()
    done_seconds: float = Field(default=0.0, description="Audio of the piece transcribed so far")
    language: str | None = Field(default=None, max_length=16)
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )
