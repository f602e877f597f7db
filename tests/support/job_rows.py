"""Jobs in every state, made through `core.lifecycle` one committed step at a time.

Each helper opens its own `db.session()`, as one request or one worker step would.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from core import lifecycle
from core.db import Database
from core.events import ProgressEvent, SegmentOut
from core.models import Segment, Transcription, utcnow

LEASE = 600
MAX_ATTEMPTS = 3
DURATION = 10.0


def new_job(db: Database, **fields: Any) -> uuid.UUID:
    """A queued job (as an upload creates it); `fields` are then set on the row as they are."""
    with db.session() as session:
        job = Transcription(
            filename="meeting.wav",
            storage_key=uuid.uuid4().hex,
            size_bytes=1,
            sha256="0" * 64,
            model="tiny.en",
            duration_seconds=DURATION,
        )
        lifecycle.create(session, job)
        for name, value in fields.items():
            setattr(job, name, value)
        session.add(job)
        return job.id


def row(db: Database, job_id: uuid.UUID) -> Transcription:
    with db.session() as session:
        return lifecycle.get(session, job_id)


def stored(db: Database, job_id: uuid.UUID, *, after_seq: int = 0) -> list[Segment]:
    with db.session() as session:
        return lifecycle.segments_of(session, job_id, after_seq=after_seq)


def take(
    db: Database,
    job_id: uuid.UUID,
    *,
    redelivered: bool = False,
    worker: str = "worker-a",
    lease: int = LEASE,
) -> lifecycle.ClaimResult:
    with db.session() as session:
        return lifecycle.claim(
            session,
            job_id,
            worker=worker,
            redelivered=redelivered,
            max_attempts=MAX_ATTEMPTS,
            lease_seconds=lease,
        )


def claimed(db: Database, job_id: uuid.UUID, **options: Any) -> lifecycle.Claim:
    result = take(db, job_id, **options)
    assert result.claim is not None, result.reason
    return result.claim


def seg(index: int, start: float, end: float, text: str = "", **extra: Any) -> SegmentOut:
    return SegmentOut(index=index, start=start, end=end, text=text or f" part {index}.", **extra)


def record(
    db: Database, claim: lifecycle.Claim, *segments: SegmentOut, lease: int = LEASE
) -> ProgressEvent | None:
    with db.session() as session:
        return lifecycle.record_segments(session, claim, list(segments), lease)


def within(value: datetime | None, start: datetime, end: datetime) -> bool:
    return value is not None and start <= value <= end


# --- how a lease looks when a run is taken over -----------------------------------------------


def lease_alive(db: Database, job_id: uuid.UUID) -> None:
    """The lease is in the future (as the previous claim left it)."""


def lease_expired(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        job = lifecycle.get(session, job_id)
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(job)


def lease_missing(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        job = lifecycle.get(session, job_id)
        job.lease_expires_at = None
        session.add(job)


# --- how a run stops being the job's own ----------------------------------------------------


def cancelled(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        lifecycle.cancel(session, job_id)


def taken_over(db: Database, job_id: uuid.UUID) -> None:
    claimed(db, job_id, redelivered=True, worker="worker-b")


def retried(db: Database, job_id: uuid.UUID) -> None:
    """Cancelled, retried and claimed again: attempt 1 again, another run id."""
    cancelled(db, job_id)
    with db.session() as session:
        lifecycle.retry(session, job_id)
    claimed(db, job_id, worker="worker-b")


def deleted(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        lifecycle.remove(session, job_id)
