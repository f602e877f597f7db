"""Typed job events and the one place that names their Redis channels.

Every event carries the job id, a per-job `seq` (incremented in Postgres in the same transaction
as the change it describes), the job's `status` and `progress`. Events are published after the
commit; Postgres stays the source of truth, so a lost event is repaired by the next snapshot.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from core.models import Transcription
from core.states import TERMINAL, JobStatus

logger = logging.getLogger(__name__)


class SegmentOut(BaseModel):
    """One recognised segment, as stored, sent in events and returned by the API."""

    model_config = ConfigDict(from_attributes=True)

    index: int
    start: float
    end: float
    text: str
    words: list[dict[str, Any]] | None = None
    language: str | None = Field(
        default=None, description="The language it was recognised in (detected or requested)."
    )
    speaker: str | None = Field(
        default=None, description="Its speaker's id (S1, S2, ...) when speakers were asked for."
    )

    @classmethod
    def of(cls, row: Any) -> SegmentOut:
        """From a stored segment row (or anything with the same attributes)."""
        return cls.model_validate(row)


class ErrorOut(BaseModel):
    code: str
    message: str


class EtaOut(BaseModel):
    """Estimates from measured speed (`core.speed`): null where they cannot be made yet (no
    worker for the model, no run of it measured)."""

    starts_at: datetime | None = Field(default=None, description="While queued: its start.")
    finishes_at: datetime | None = None


def position_of(job: Transcription) -> int | None:
    """While queued: its place among its pool's waiting jobs in start order (1 = next)."""
    return job.queue_position if job.status == JobStatus.queued.value else None


def eta_of(job: Transcription) -> EtaOut | None:
    """The dispatcher's latest estimate: start and end while queued, end while processing."""
    if job.status == JobStatus.queued.value:
        starts, finishes = job.eta_starts_at, job.eta_finishes_at
    elif job.status == JobStatus.processing.value:
        starts, finishes = None, job.eta_finishes_at
    else:
        return None
    if starts is None and finishes is None:
        return None
    return EtaOut(starts_at=starts, finishes_at=finishes)


class _Event(BaseModel):
    id: uuid.UUID
    seq: int
    status: str
    progress: float


class QueuedEvent(_Event):
    type: Literal["queued"] = "queued"
    position: int | None = None
    """Its place among its pool's waiting jobs in start order (1 = next); sent again as it
    changes."""
    eta: EtaOut | None = None


class ProcessingEvent(_Event):
    type: Literal["processing"] = "processing"
    duration_seconds: float | None = None
    attempt: int | None = None
    restart_reason: str | None = None
    """Why this run is not the job's first: `worker_lost` or `retried` (null for the first)."""
    stage: str | None = None
    """`diarizing` while speaker labels are being made (the transcript is done)."""
    eta: EtaOut | None = None


class ProgressEvent(_Event):
    type: Literal["progress"] = "progress"
    segment: SegmentOut
    segments: list[SegmentOut] = Field(default_factory=list)
    eta: EtaOut | None = None


class CompletedEvent(_Event):
    type: Literal["completed"] = "completed"
    text: str | None = None
    language: str | None = None
    duration_seconds: float | None = None


class FailedEvent(_Event):
    type: Literal["failed"] = "failed"
    error: ErrorOut


class CancelledEvent(_Event):
    type: Literal["cancelled"] = "cancelled"
    deleted: bool = False


JobEvent = Annotated[
    QueuedEvent | ProcessingEvent | ProgressEvent | CompletedEvent | FailedEvent | CancelledEvent,
    Field(discriminator="type"),
]
TERMINAL_EVENT_TYPES = frozenset(status.value for status in TERMINAL)

_adapter: TypeAdapter[JobEvent] = TypeAdapter(JobEvent)


def _fields(job: Transcription) -> dict[str, Any]:
    return {"id": job.id, "seq": job.last_seq, "status": job.status, "progress": job.progress}


def state_event(job: Transcription) -> JobEvent:
    """The event describing the job's current state (published on a change, sent in snapshots)."""
    fields = _fields(job)
    status = JobStatus(job.status)
    if status is JobStatus.queued:
        return QueuedEvent(**fields, position=position_of(job), eta=eta_of(job))
    if status is JobStatus.processing:
        return ProcessingEvent(
            **fields,
            duration_seconds=job.duration_seconds,
            attempt=job.attempts,
            restart_reason=job.restart_reason,
            eta=eta_of(job),
        )
    if status is JobStatus.completed:
        return CompletedEvent(
            **fields, text=job.text, language=job.language, duration_seconds=job.duration_seconds
        )
    if status is JobStatus.failed:
        return FailedEvent(
            **fields,
            error=ErrorOut(code=job.error_code or "failed", message=job.error_message or ""),
        )
    return CancelledEvent(**fields)


def progress_event(job: Transcription, segments: Sequence[Any]) -> ProgressEvent:
    """New segments (rows or `SegmentOut`s, in order) at the job's current seq and progress."""
    out = [SegmentOut.of(s) for s in segments]
    return ProgressEvent(**_fields(job), segment=out[-1], segments=out, eta=eta_of(job))


def deleted_event(job_id: uuid.UUID | str, seq: int, progress: float = 0.0) -> CancelledEvent:
    """The event that says a job no longer exists (deleted, or never visible to this client)."""
    job = uuid.UUID(str(job_id))
    return CancelledEvent(id=job, seq=seq, status="cancelled", progress=progress, deleted=True)


def parse_event(raw: str | bytes) -> JobEvent:
    return _adapter.validate_json(raw)


def encode_event(event: JobEvent) -> str:
    return event.model_dump_json()


def job_channel(prefix: str, job_id: uuid.UUID | str) -> str:
    return f"{prefix}:job:{job_id}"


def all_jobs_pattern(prefix: str) -> str:
    return f"{prefix}:job:*"


def job_id_from_channel(prefix: str, channel: str) -> str:
    return channel.removeprefix(f"{prefix}:job:")


class EventPublisher:
    """Publishes events to Redis. A Redis outage is logged, never raised: jobs go on.

    After a timeout, publishing is skipped for `pause_seconds`, so a Redis that hangs instead
    of refusing costs a job at most one timeout per pause, not one per event (a refused
    connection fails at once and is simply retried with the next event). Subscribers
    catch up from Postgres.
    """

    def __init__(self, url: str, prefix: str, pause_seconds: float = 5.0):
        self.prefix = prefix
        self.pause_seconds = pause_seconds
        self._paused_until = 0.0
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, *events: JobEvent) -> bool:
        if not events or time.monotonic() < self._paused_until:
            return False
        try:
            pipe = self._client.pipeline(transaction=False)
            for event in events:
                pipe.publish(job_channel(self.prefix, event.id), encode_event(event))
            pipe.execute()
        except redis.TimeoutError as exc:
            self._paused_until = time.monotonic() + self.pause_seconds
            logger.warning("event publish timed out, pausing %.0f s: %s", self.pause_seconds, exc)
            return False
        except redis.RedisError as exc:
            logger.warning("event publish failed (Redis unreachable?): %s", exc)
            return False
        return True

    def close(self) -> None:
        self._client.close()
