"""Pieces of a long recording: cut by the job's first run, transcribed anywhere, stitched once.

A job at least `SPLIT_MIN_SECONDS` long is cut at silences (`worker.splitting`) into pieces,
rows of `transcription_pieces`, each a Celery task of its own on the job's model queue. A
piece is fenced like a run: its writes need the job still `processing` under the run that cut
it (`job_run_id`) *and* the piece still held by this piece run (its `run_id` and attempt). So
a cancel, a delete or a retry of the job stops every piece at its next check, and a piece
taken over after its worker was lost writes nothing more.

While the job is split, its own lease is empty (the sweeper leaves it alone): each running
piece holds a lease of its own, which the sweeper watches (`sweep`).

Segment indexes. A piece numbers its segments from `number * INDEX_STRIDE`, so while pieces
run, `index` orders every segment of the job by its place in the recording (pieces finish in
any order) and a piece done again writes over its own segments. When the last piece finishes
it stitches the job: the indexes become 0..n-1 in the same order, the text is joined, the
languages counted, and the job completes, all in the transaction that ends the last piece
(the job's row lock makes exactly one piece the last). With speakers asked for, the last
piece labels them first and completes afterwards, holding its piece (and so the job) until it
has; if it dies meanwhile, it is redone and stitches then.

Like `core.lifecycle`, the functions here take a session, never commit, and return the events
to publish after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from core import events as ev
from core import lifecycle, speakers
from core.events import SegmentOut
from core.lifecycle import Claim, _bump, _owned
from core.models import Segment, Transcription, TranscriptionPiece, utcnow
from core.states import JobStatus

INDEX_STRIDE = 1_000_000
"""A piece's segments are numbered from `number * INDEX_STRIDE` until the job is stitched."""


@dataclass(frozen=True)
class PieceClaim:
    """One run of one piece, within the job run (`job`) that cut the recording."""

    job: Claim
    piece_id: uuid.UUID
    number: int
    count: int
    attempt: int
    run_id: uuid.UUID
    start_seconds: float
    end_seconds: float

    @property
    def first_index(self) -> int:
        return self.number * INDEX_STRIDE

    def describe(self) -> str:
        """How a message names the piece: "piece 2 of 4 (05:00-10:00)"."""
        return (
            f"piece {self.number + 1} of {self.count} "
            f"({_clock(self.start_seconds)}-{_clock(self.end_seconds)})"
        )


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes:02d}:{rest:02d}"


def create(
    session: Session, claim: Claim, stretches: Sequence[tuple[float, float]]
) -> list[uuid.UUID] | None:
    """The job's pieces (replacing any an earlier run cut); the job's lease is handed to
    them. None if the run no longer owns its job."""
    job = _owned(session, claim)
    if job is None:
        return None
    session.execute(
        delete(TranscriptionPiece).where(col(TranscriptionPiece.transcription_id) == job.id)
    )
    rows = [
        TranscriptionPiece(
            transcription_id=job.id,
            job_run_id=claim.run_id,
            number=number,
            start_seconds=start,
            end_seconds=end,
        )
        for number, (start, end) in enumerate(stretches)
    ]
    session.add_all(rows)
    job.lease_expires_at = None
    session.add(job)
    session.flush()
    return [row.id for row in rows]


def mark_enqueued(session: Session, piece_ids: Sequence[uuid.UUID]) -> None:
    session.execute(
        update(TranscriptionPiece)
        .where(
            col(TranscriptionPiece.id).in_(piece_ids),
            col(TranscriptionPiece.status) == JobStatus.queued.value,
        )
        .values(enqueued_at=utcnow())
    )


@dataclass(frozen=True)
class PieceClaimResult:
    claim: PieceClaim | None
    events: list[ev.JobEvent]
    reason: str


def job_claim(job: Transcription) -> Claim:
    assert job.run_id is not None
    return Claim(
        job_id=job.id,
        attempt=job.attempts,
        run_id=job.run_id,
        storage_key=job.storage_key,
        duration_seconds=job.duration_seconds,
        options=job.options,
    )


def count_pieces(session: Session, job_id: uuid.UUID) -> int:
    return int(
        session.execute(
            select(func.count()).where(col(TranscriptionPiece.transcription_id) == job_id)
        ).scalar_one()
    )


def claim(
    session: Session,
    piece_id: uuid.UUID,
    *,
    worker: str,
    redelivered: bool,
    max_attempts: int,
    lease_seconds: int,
) -> PieceClaimResult:
    """Take a piece for this worker, or say why not. A piece out of attempts fails its job."""
    piece = session.get(TranscriptionPiece, piece_id)
    if piece is None:
        return PieceClaimResult(None, [], "gone")
    job = session.exec(
        select(Transcription).where(Transcription.id == piece.transcription_id).with_for_update()
    ).first()
    if job is None or job.status != JobStatus.processing.value or job.run_id != piece.job_run_id:
        return PieceClaimResult(None, [], "its job is no longer running")
    session.refresh(piece, with_for_update=True)
    now = utcnow()
    if piece.status == JobStatus.completed.value:
        return PieceClaimResult(None, [], "already completed")
    if piece.status == JobStatus.processing.value:
        alive = piece.lease_expires_at is not None and piece.lease_expires_at > now
        if alive and not redelivered:
            return PieceClaimResult(None, [], "running elsewhere")
    run = job_claim(job)
    held = piece_claim(run, piece, count_pieces(session, job.id))
    if piece.attempts >= max_attempts:
        message = (
            f"The {held.describe()} stopped {piece.attempts} times without finishing "
            "(the worker crashed or was lost each time)."
        )
        return PieceClaimResult(
            None, fail_piece(session, job, piece, "too_many_attempts", message), ""
        )
    piece.attempts += 1
    piece.run_id = uuid.uuid4()
    piece.status = JobStatus.processing.value
    piece.worker = worker
    piece.lease_expires_at = now + timedelta(seconds=lease_seconds)
    piece.done_seconds = 0.0
    piece.error_code = piece.error_message = None
    session.add(piece)
    first = piece.number * INDEX_STRIDE
    session.execute(
        delete(Segment).where(
            col(Segment.transcription_id) == job.id,
            col(Segment.index) >= first,
            col(Segment.index) < first + INDEX_STRIDE,
        )
    )
    session.flush()
    return PieceClaimResult(piece_claim(run, piece, held.count), [], "claimed")


def piece_claim(job: Claim, piece: TranscriptionPiece, count: int) -> PieceClaim:
    return PieceClaim(
        job=job,
        piece_id=piece.id,
        number=piece.number,
        count=count,
        attempt=piece.attempts,
        run_id=piece.run_id or uuid.uuid4(),
        start_seconds=piece.start_seconds,
        end_seconds=piece.end_seconds,
    )


def owned_piece(
    session: Session, held: PieceClaim
) -> tuple[Transcription, TranscriptionPiece] | None:
    """The job and piece rows, locked in that order, if this piece run still holds both."""
    job = _owned(session, held.job)
    if job is None:
        return None
    piece = session.exec(
        select(TranscriptionPiece).where(TranscriptionPiece.id == held.piece_id).with_for_update()
    ).first()
    if piece is None or piece.status != JobStatus.processing.value:
        return None
    if piece.run_id != held.run_id or piece.attempts != held.attempt:
        return None
    return job, piece


def owns(session: Session, held: PieceClaim) -> bool:
    """The cheap, unlocked check a running piece makes every `CANCEL_CHECK_SECONDS`."""
    found = session.execute(
        select(col(TranscriptionPiece.id))
        .join(Transcription, col(Transcription.id) == col(TranscriptionPiece.transcription_id))
        .where(
            col(TranscriptionPiece.id) == held.piece_id,
            col(TranscriptionPiece.status) == JobStatus.processing.value,
            col(TranscriptionPiece.run_id) == held.run_id,
            col(TranscriptionPiece.attempts) == held.attempt,
            col(Transcription.status) == JobStatus.processing.value,
            col(Transcription.run_id) == held.job.run_id,
            col(Transcription.attempts) == held.job.attempt,
        )
    ).first()
    return found is not None


def renew_lease(session: Session, held: PieceClaim, lease_seconds: int) -> bool:
    owned = owned_piece(session, held)
    if owned is None:
        return False
    _, piece = owned
    piece.lease_expires_at = utcnow() + timedelta(seconds=lease_seconds)
    session.add(piece)
    return True


def _progress(session: Session, job: Transcription) -> None:
    """The job's progress: the audio its pieces have transcribed over its length."""
    if not job.duration_seconds:
        return
    done = session.execute(
        select(func.coalesce(func.sum(TranscriptionPiece.done_seconds), 0.0)).where(
            col(TranscriptionPiece.transcription_id) == job.id
        )
    ).scalar_one()
    share = 1.0 if job.speaker_mode == "off" else speakers.TRANSCRIBING_SHARE
    job.progress = min(0.999, share * float(done) / job.duration_seconds)


def _record(
    session: Session,
    job: Transcription,
    piece: TranscriptionPiece,
    segments: Sequence[SegmentOut],
    done_seconds: float,
) -> ev.ProgressEvent | None:
    piece.done_seconds = max(0.0, done_seconds)
    session.add(piece)
    session.flush()
    _bump(job)
    if segments:
        lifecycle.upsert_segments(session, job, segments)
    _progress(session, job)
    session.add(job)
    return ev.progress_event(job, segments) if segments else None


def record_segments(
    session: Session, held: PieceClaim, segments: Sequence[SegmentOut], lease_seconds: int
) -> ev.ProgressEvent | None:
    """Upsert the piece's segments (absolute times, the piece's indexes) and the job's
    progress. None means: stop, the piece is no longer this run's."""
    owned = owned_piece(session, held)
    if owned is None:
        return None
    job, piece = owned
    piece.lease_expires_at = utcnow() + timedelta(seconds=lease_seconds)
    return _record(session, job, piece, segments, segments[-1].end - held.start_seconds)


@dataclass(frozen=True)
class Finished:
    events: list[ev.JobEvent]
    last: bool
    """This was the job's last piece: the caller stitches (`core.piece_stitch.stitch`)."""


def finish(
    session: Session, held: PieceClaim, remaining: Sequence[SegmentOut], language: str | None
) -> Finished | None:
    """The piece's last segments; the piece completed, unless it is the job's last one, which
    stays held until it has stitched the job. None if the piece is no longer this run's."""
    owned = owned_piece(session, held)
    if owned is None:
        return None
    job, piece = owned
    piece.language = language
    progress = _record(session, job, piece, remaining, held.end_seconds - held.start_seconds)
    events: list[ev.JobEvent] = [progress] if progress is not None else []
    others = session.execute(
        select(func.count()).where(
            col(TranscriptionPiece.transcription_id) == job.id,
            col(TranscriptionPiece.id) != piece.id,
            col(TranscriptionPiece.status) != JobStatus.completed.value,
        )
    ).scalar_one()
    if others:
        end_piece(session, piece, JobStatus.completed)
    return Finished(events, last=not others)


def end_piece(session: Session, piece: TranscriptionPiece, status: JobStatus) -> None:
    piece.status = status.value
    piece.lease_expires_at = None
    session.add(piece)


def fail_piece(
    session: Session, job: Transcription, piece: TranscriptionPiece, code: str, message: str
) -> list[ev.JobEvent]:
    piece.error_code = code
    piece.error_message = message
    end_piece(session, piece, JobStatus.failed)
    return lifecycle.fail(session, job, code, message)


def fail(session: Session, held: PieceClaim, code: str, message: str) -> list[ev.JobEvent]:
    """A piece that cannot be transcribed fails its job, saying which piece and why."""
    owned = owned_piece(session, held)
    if owned is None:
        return []
    job, piece = owned
    return fail_piece(session, job, piece, code, f"The {held.describe()} failed: {message}")
