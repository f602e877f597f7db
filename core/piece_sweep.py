"""Pieces whose worker was lost, and pieces the broker never took: the sweeper's part for split
recordings (`core.pieces`). A piece held by a worker that stopped renewing its lease is put
back and published again, or, out of attempts, fails its job; a piece whose publish was never
confirmed is published again. (A piece whose pool process died is usually back sooner: its
message is redelivered and the next run takes the piece over.)"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core import events as ev
from core.db import Database
from core.events import EventPublisher
from core.models import Transcription, TranscriptionPiece, utcnow
from core.piece_queue import PieceQueue, enqueue_and_mark
from core.pieces import count_pieces, fail_piece, job_claim, piece_claim
from core.settings import Settings
from core.states import JobStatus

logger = logging.getLogger(__name__)


def sweep_pieces(
    settings: Settings, db: Database, publisher: EventPublisher, queue: PieceQueue
) -> tuple[int, int]:
    """One pass: (pieces published again, jobs failed)."""
    with db.session() as session:
        events = sweep_expired(session, utcnow(), settings.max_attempts)
    publisher.publish(*events)
    older_than = utcnow() - timedelta(seconds=settings.publish_retry_after_seconds)
    with db.session() as session:
        waiting = unpublished(session, older_than)
    return enqueue_and_mark(db, queue, waiting), len(events)


def sweep_expired(session: Session, now: datetime, max_attempts: int) -> list[ev.JobEvent]:
    """Running pieces of running jobs whose worker stopped renewing their lease: put back to
    be published again (`unpublished`), or, out of attempts, failing their job."""
    found = session.execute(
        select(col(TranscriptionPiece.id), col(TranscriptionPiece.transcription_id))
        .join(Transcription, col(Transcription.id) == col(TranscriptionPiece.transcription_id))
        .where(
            col(TranscriptionPiece.status) == JobStatus.processing.value,
            col(TranscriptionPiece.lease_expires_at) < now,
            col(Transcription.status) == JobStatus.processing.value,
        )
        .limit(100)
    ).all()
    events: list[ev.JobEvent] = []
    for piece_id, job_id in found:
        job = session.get(Transcription, job_id, with_for_update=True)  # the job's lock first
        piece = session.get(TranscriptionPiece, piece_id, with_for_update=True)
        if job is None or piece is None or job.status != JobStatus.processing.value:
            continue
        expired = piece.lease_expires_at is not None and piece.lease_expires_at < now
        if piece.status != JobStatus.processing.value or not expired:
            continue
        if job.run_id != piece.job_run_id:
            continue
        if piece.attempts >= max_attempts:
            held = piece_claim(job_claim(job), piece, count_pieces(session, job.id))
            message = f"The worker was lost {piece.attempts} times while transcribing the "
            events += fail_piece(
                session, job, piece, "too_many_attempts", message + held.describe()
            )
            continue
        piece.status = JobStatus.queued.value
        piece.lease_expires_at = None
        piece.enqueued_at = None
        session.add(piece)
    return events


def unpublished(session: Session, older_than: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Queued pieces of running jobs the broker never confirmed, and pieces a lost worker
    held (`sweep_expired`): the sweeper publishes them again."""
    return list(
        session.exec(
            select(TranscriptionPiece.id)
            .join(Transcription, col(Transcription.id) == col(TranscriptionPiece.transcription_id))
            .where(
                col(TranscriptionPiece.status) == JobStatus.queued.value,
                col(TranscriptionPiece.enqueued_at).is_(None),
                col(TranscriptionPiece.created_at) < older_than,
                col(Transcription.status) == JobStatus.processing.value,
                col(Transcription.run_id) == col(TranscriptionPiece.job_run_id),
            )
            .limit(limit)
        ).all()
    )
