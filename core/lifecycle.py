"""Job lifecycle: every state change of a transcription, as functions over a session.

Functions here lock the job row, check the transition, bump the job's event `seq` and return
the event(s) describing the change. They never commit: the caller commits (at the edge of a
request or of a worker step) and publishes the returned events only after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from core import events as ev
from core import language_shares, webhooks
from core.errors import Conflict, NotFound
from core.events import SegmentOut, state_event
from core.models import Segment, Transcription, utcnow
from core.options import JobOptions
from core.states import JobStatus, can_transition

RESTART_WORKER_LOST = "worker_lost"
"""The previous run stopped without finishing (its worker crashed, froze or was cut off)."""
RESTART_RETRIED = "retried"
"""The owner retried a failed or cancelled job."""


def _bump(job: Transcription) -> None:
    job.last_seq += 1


def get(session: Session, job_id: uuid.UUID, *, lock: bool = False) -> Transcription:
    query = select(Transcription).where(Transcription.id == job_id)
    if lock:
        query = query.with_for_update()
    job = session.exec(query).first()
    if job is None:
        raise NotFound("No transcription with this id.")
    return job


def _transition(job: Transcription, target: JobStatus) -> None:
    current = JobStatus(job.status)
    if not can_transition(current, target):
        raise Conflict(
            f"A {current.value} transcription cannot become {target.value}.",
            code="invalid_state",
        )
    job.status = target.value
    _bump(job)


def create(session: Session, job: Transcription) -> ev.JobEvent:
    job.status = JobStatus.queued.value
    job.last_seq = 1
    session.add(job)
    session.flush()
    return state_event(job)


def mark_enqueued(session: Session, job_id: uuid.UUID) -> None:
    session.execute(
        update(Transcription)
        .where(col(Transcription.id) == job_id, col(Transcription.status) == JobStatus.queued.value)
        .values(enqueued_at=utcnow())
    )


@dataclass(frozen=True)
class Claim:
    """One run of a job. Its run id fences every write the run makes: once the job is
    cancelled, deleted, taken over or retried, the row holds another run id (or another status)
    and the run's writes are refused."""

    job_id: uuid.UUID
    attempt: int
    run_id: uuid.UUID
    storage_key: str
    duration_seconds: float | None
    options: JobOptions


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim | None
    events: list[ev.JobEvent]
    reason: str


def claim(
    session: Session,
    job_id: uuid.UUID,
    *,
    worker: str,
    redelivered: bool,
    max_attempts: int,
    lease_seconds: int,
) -> ClaimResult:
    """Take a job for this worker, or say why not (finished, owned elsewhere, out of attempts)."""
    job = session.exec(
        select(Transcription).where(Transcription.id == job_id).with_for_update()
    ).first()
    if job is None:
        return ClaimResult(None, [], "deleted")
    status = JobStatus(job.status)
    now = utcnow()
    if status.is_terminal:
        return ClaimResult(None, [], f"already {status.value}")
    restart = job.restart_reason
    if status is JobStatus.processing:
        lease_alive = job.lease_expires_at is not None and job.lease_expires_at > now
        if lease_alive and not redelivered:
            return ClaimResult(None, [], "running elsewhere")
        restart = RESTART_WORKER_LOST
    if job.attempts >= max_attempts:
        events = fail(
            session,
            job,
            "too_many_attempts",
            f"The transcription stopped {job.attempts} times without finishing "
            "(the worker crashed or was lost each time).",
        )
        return ClaimResult(None, events, "out of attempts")
    job.attempts += 1
    job.run_id = uuid.uuid4()
    job.restart_reason = restart
    job.status = JobStatus.processing.value
    job.worker = worker
    job.started_at = now
    job.lease_expires_at = now + timedelta(seconds=lease_seconds)
    job.progress = 0.0
    job.text = None
    job.error_code = job.error_message = None
    _bump(job)
    session.execute(delete(Segment).where(col(Segment.transcription_id) == job_id))
    session.add(job)
    session.flush()
    return ClaimResult(
        Claim(
            job_id=job.id,
            attempt=job.attempts,
            run_id=job.run_id,
            storage_key=job.storage_key,
            duration_seconds=job.duration_seconds,
            options=job.options,
        ),
        [state_event(job)],
        "claimed",
    )


def _owned(session: Session, claim: Claim) -> Transcription | None:
    """The job row, locked, if this claim still owns it (not cancelled, deleted or taken over)."""
    job = session.exec(
        select(Transcription).where(Transcription.id == claim.job_id).with_for_update()
    ).first()
    if job is None or job.status != JobStatus.processing.value:
        return None
    if job.run_id != claim.run_id or job.attempts != claim.attempt:
        return None
    return job


def record_segments(
    session: Session,
    claim: Claim,
    segments: Sequence[SegmentOut],
    lease_seconds: int,
    share: float = 1.0,
) -> ev.ProgressEvent | None:
    """Upsert segments and progress (`share` of the job's progress is transcription's). None
    means: stop, the job is no longer ours."""
    job = _owned(session, claim)
    if job is None:
        return None
    _bump(job)
    upsert_segments(session, job, segments)
    if job.duration_seconds:
        done = share * segments[-1].end / job.duration_seconds
        job.progress = min(0.999, max(job.progress, done))
    job.lease_expires_at = utcnow() + timedelta(seconds=lease_seconds)
    session.add(job)
    return ev.progress_event(job, segments)


def upsert_segments(session: Session, job: Transcription, segments: Sequence[SegmentOut]) -> None:
    """Store segments by their index (a segment written again replaces the earlier one), as
    carried by the event at the job's current seq."""
    rows = [
        {
            "transcription_id": job.id,
            "index": s.index,
            "seq": job.last_seq,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "words": s.words,
            "language": s.language,
        }
        for s in segments
    ]
    statement = insert(Segment).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            constraint="uq_segments_job_index",
            set_={
                "start": statement.excluded.start,
                "end": statement.excluded.end,
                "text": statement.excluded.text,
                "words": statement.excluded.words,
                "language": statement.excluded.language,
                "seq": statement.excluded.seq,
            },
        )
    )


def owns(session: Session, claim: Claim) -> bool:
    """Whether this run still owns its job, read without a lock: the cheap check a running job
    makes every `CANCEL_CHECK_SECONDS` to notice a cancel, a delete or a takeover between its
    writes (which check the same under the row lock)."""
    found = session.execute(
        select(col(Transcription.id)).where(
            col(Transcription.id) == claim.job_id,
            col(Transcription.status) == JobStatus.processing.value,
            col(Transcription.run_id) == claim.run_id,
            col(Transcription.attempts) == claim.attempt,
        )
    ).first()
    return found is not None


def renew_lease(session: Session, claim: Claim, lease_seconds: int) -> bool:
    job = _owned(session, claim)
    if job is None:
        return False
    job.lease_expires_at = utcnow() + timedelta(seconds=lease_seconds)
    session.add(job)
    return True


def complete(
    session: Session, claim: Claim, *, text: str, language: str | None, duration: float | None
) -> list[ev.JobEvent]:
    job = _owned(session, claim)
    if job is None:
        return []
    job.text = text
    job.languages = language_shares.found(session, job.id)
    job.language = language_shares.main(job.languages) or language
    if duration:
        job.duration_seconds = duration
    job.progress = 1.0
    return _finish(session, job, JobStatus.completed)


def _finish(session: Session, job: Transcription, status: JobStatus) -> list[ev.JobEvent]:
    """Move the job into a terminal state: it holds no lease, has an end time and, with a
    webhook URL, a message in the outbox. Every terminal transition comes through here."""
    job.completed_at = utcnow()
    job.lease_expires_at = None
    _transition(job, status)
    session.add(job)
    webhooks.record(session, job)  # the outbox row commits with the state change
    return [state_event(job)]


def fail(session: Session, job: Transcription, code: str, message: str) -> list[ev.JobEvent]:
    job.error_code = code
    job.error_message = message
    return _finish(session, job, JobStatus.failed)


def fail_claimed(session: Session, claim: Claim, code: str, message: str) -> list[ev.JobEvent]:
    job = _owned(session, claim)
    if job is None:
        return []
    return fail(session, job, code, message)


def cancel(session: Session, job_id: uuid.UUID) -> tuple[Transcription, list[ev.JobEvent]]:
    job = get(session, job_id, lock=True)
    if JobStatus(job.status).is_terminal:
        raise Conflict(f"The transcription is already {job.status}.", code="invalid_state")
    return job, _finish(session, job, JobStatus.cancelled)


def requeue(session: Session, job: Transcription, *, reason: str) -> list[ev.JobEvent]:
    """Put a job back in the queue: retried by its owner (`RESTART_RETRIED`, which also resets
    its attempts), or a lost worker's job (`RESTART_WORKER_LOST`)."""
    if reason == RESTART_RETRIED:
        job.attempts = 0
    job.restart_reason = reason
    job.enqueued_at = None
    job.started_at = job.completed_at = job.lease_expires_at = None
    job.worker = None
    job.progress = 0.0
    job.text = None
    job.error_code = job.error_message = None
    _transition(job, JobStatus.queued)
    session.execute(delete(Segment).where(col(Segment.transcription_id) == job.id))
    session.add(job)
    return [state_event(job)]


def retry(session: Session, job_id: uuid.UUID) -> tuple[Transcription, list[ev.JobEvent]]:
    job = get(session, job_id, lock=True)
    if job.status not in (JobStatus.failed.value, JobStatus.cancelled.value):
        raise Conflict(
            f"Only failed or cancelled transcriptions can be retried; this one is {job.status}.",
            code="invalid_state",
        )
    return job, requeue(session, job, reason=RESTART_RETRIED)


def remove(session: Session, job_id: uuid.UUID) -> Transcription:
    job = get(session, job_id, lock=True)
    session.delete(job)
    return job


def unpublished(session: Session, older_than: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Queued jobs the broker never confirmed (the outbox)."""
    return list(
        session.exec(
            select(Transcription.id)
            .where(
                Transcription.status == JobStatus.queued.value,
                col(Transcription.enqueued_at).is_(None),
                Transcription.created_at < older_than,
            )
            .order_by(col(Transcription.created_at))
            .limit(limit)
        ).all()
    )


def expired_leases(session: Session, now: datetime, limit: int = 100) -> list[Transcription]:
    return list(
        session.exec(
            select(Transcription)
            .where(
                Transcription.status == JobStatus.processing.value,
                col(Transcription.lease_expires_at) < now,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def segments_of(session: Session, job_id: uuid.UUID, *, after_seq: int = 0) -> list[Segment]:
    """The job's segments in order; with `after_seq`, only those carried by later events."""
    query = select(Segment).where(Segment.transcription_id == job_id)
    if after_seq:
        query = query.where(Segment.seq > after_seq)
    return list(session.exec(query.order_by(col(Segment.index))).all())


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Transcription.status, func.count()).group_by(Transcription.status)
    ).all()
    return {status: count for status, count in rows}
