"""Publishing the pieces of a split recording (`core.pieces`) to their job's model queue, by
task name, as `JobQueue` publishes jobs: the worker that cut the recording, and the sweeper
for pieces never confirmed or held by a lost worker."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core import pieces
from core.db import Database
from core.models import Transcription, TranscriptionPiece
from core.queue import PIECE_TASK, make_celery, model_queue
from core.settings import Settings
from core.states import JobStatus

logger = logging.getLogger(__name__)


class PieceQueue:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._celery = make_celery(settings, name="soundscripter-pieces")

    def enqueue(self, piece_id: uuid.UUID, model: str | None) -> bool:
        """Publish one piece (task id = piece id); False when the broker did not confirm it."""
        try:
            self._celery.send_task(
                PIECE_TASK,
                args=[str(piece_id)],
                task_id=str(piece_id),
                queue=model_queue(self.settings, model or self.settings.whisper_model),
            )
        except Exception as exc:  # kombu raises many types for an unreachable broker
            logger.warning("publishing piece %s failed: %s", piece_id, exc)
            return False
        return True

    def close(self) -> None:
        self._celery.close()


def enqueue_and_mark(db: Database, queue: PieceQueue, piece_ids: Sequence[uuid.UUID]) -> int:
    """Publish committed pieces, then record the broker's confirmations; the sweeper publishes
    the others later. Returns how many were confirmed."""
    if not piece_ids:
        return 0
    with db.session() as session:
        rows = session.exec(
            select(TranscriptionPiece.id, Transcription.model)
            .join(Transcription, col(Transcription.id) == col(TranscriptionPiece.transcription_id))
            .where(col(TranscriptionPiece.id).in_(piece_ids))
        ).all()
    confirmed = [piece_id for piece_id, model in rows if queue.enqueue(piece_id, model)]
    if confirmed:
        with db.session() as session:
            pieces.mark_enqueued(session, confirmed)
    return len(confirmed)


@dataclass
class PieceWork:
    """What the pieces of split jobs hold in the worker pools (`core.dispatch.busy_slots`)."""

    by_worker: Counter[str] = field(default_factory=Counter)
    """Worker node → pieces it is running."""
    unstarted: Counter[str] = field(default_factory=Counter)
    """Model → pieces waiting in its queue (each will take a slot)."""
    jobs: set[uuid.UUID] = field(default_factory=set)
    """The split jobs: their pieces hold their slots, the jobs none of their own."""


def work(session: Session) -> PieceWork:
    found = PieceWork()
    rows = session.execute(
        select(
            col(TranscriptionPiece.transcription_id),
            col(TranscriptionPiece.status),
            col(TranscriptionPiece.worker),
            col(Transcription.model),
        )
        .join(Transcription, col(Transcription.id) == col(TranscriptionPiece.transcription_id))
        .where(
            col(Transcription.status) == JobStatus.processing.value,
            col(Transcription.run_id) == col(TranscriptionPiece.job_run_id),
        )
    ).all()
    for job_id, status, worker, model in rows:
        found.jobs.add(job_id)
        if status == JobStatus.processing.value:
            found.by_worker[worker or ""] += 1
        elif status == JobStatus.queued.value:
            found.unstarted[model] += 1
    return found
