"""A split job in-process: the first run cuts the recording into pieces and publishes them,
each piece runs on its own (in whatever order), the last one stitches. Real Postgres (rolled
back per test), real Redis, real decoding and VAD; a fake model. The recording is a tone (no
speech: each cut falls at its target), the thresholds lowered to seconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import lifecycle, pieces
from core.errors import JobRefused
from core.events import CompletedEvent, FailedEvent, ProgressEvent
from core.models import TranscriptionPiece, utcnow
from core.piece_sweep import sweep_pieces
from core.pieces import INDEX_STRIDE
from tests.support.fake_transcriber import FakeModel, FakeModels, FakeSegment, tone_wav
from tests.support.pipeline_runs import WORKER, Runner, Runs, quiet
from tests.support.split_runs import RecordingQueue
from worker.piece_runs import run_piece
from worker.pipeline import Outcome, Pipeline
from worker.splitting import Splitter

pytestmark = pytest.mark.integration

SECONDS = 4.0
SPLIT = {"split_min_seconds": 3.0, "split_piece_min_seconds": 1.0}


class Split:
    """A job on a 4 s tone, the pipeline that splits it, and its pieces to run."""

    def __init__(
        self,
        runs: Runs,
        model: Any,
        *,
        free: int = 2,
        options: dict[str, Any] | None = None,
        **settings: Any,
    ):
        self.runner: Runner = runs.job(tone_wav(SECONDS), duration=SECONDS, **(options or {}))
        self.settings = quiet(**{**SPLIT, **settings})
        self.queue = RecordingQueue()
        self.model = model
        self.pipeline = Pipeline(
            self.settings,
            runs.db,
            runs.publisher,
            runs.storage,
            FakeModels(model),
            splitter=Splitter(self.settings, runs.db, self.queue, lambda _: free),  # type: ignore[arg-type]
        )

    def split(self) -> Outcome:
        return self.pipeline.run(self.runner.job_id, worker=WORKER)

    def piece(self, number: int, *, redelivered: bool = False) -> Outcome:
        return run_piece(
            self.pipeline, self.queue.published[number], worker=WORKER, redelivered=redelivered
        )

    def rows(self) -> list[TranscriptionPiece]:
        with self.runner.db.session() as session:
            return list(
                session.exec(
                    select(TranscriptionPiece)
                    .where(TranscriptionPiece.transcription_id == self.runner.job_id)
                    .order_by(col(TranscriptionPiece.number))
                ).all()
            )


def claim_lost(
    split: Split, number: int, *, redelivered: bool = False, max_attempts: int = 3
) -> pieces.PieceClaim | None:
    """A run of piece `number` that claims it and is then lost (its process killed)."""
    with split.runner.db.session() as session:
        return pieces.claim(
            session,
            split.queue.published[number],
            worker="lost",
            redelivered=redelivered,
            max_attempts=max_attempts,
            lease_seconds=600,
        ).claim


def segment(start: float, end: float, text: str) -> FakeSegment:
    return FakeSegment(start, end, text)


def test_pieces_finishing_out_of_order_are_stitched_in_order(pipeline_runs: Runs) -> None:
    # Piece 1 runs first (the model's first call), piece 0 second; times are the piece's own.
    model = FakeModel(
        [segment(0.1, 0.9, " Three."), segment(1.0, 1.8, " Four.")],
        windows=[[segment(0.0, 0.9, " One."), segment(1.0, 1.9, " Two.")]],
    )
    split = Split(pipeline_runs, model)

    assert split.split() == Outcome("split")
    rows = split.rows()
    assert [(r.number, r.start_seconds, r.end_seconds) for r in rows] == [
        (0, 0.0, 2.0),
        (1, 2.0, SECONDS),
    ]
    assert split.queue.published == [r.id for r in rows]
    assert split.runner.row().status == "processing"
    assert split.runner.row().lease_expires_at is None, "the pieces hold the job's liveness"

    assert split.piece(1) == Outcome("completed")
    job = split.runner.row()
    assert job.status == "processing"
    assert job.progress == pytest.approx(0.5)
    assert split.runner.texts() == [(INDEX_STRIDE, " Three."), (INDEX_STRIDE + 1, " Four.")]
    live = [e for e in split.runner.events.received() if isinstance(e, ProgressEvent)]
    assert [(s.index, s.start) for e in live for s in e.segments] == [
        (INDEX_STRIDE, 2.1),
        (INDEX_STRIDE + 1, 3.0),
    ], "absolute times, the piece's place in the order"

    assert split.piece(0) == Outcome("completed")
    job = split.runner.row()
    assert (job.status, job.progress, job.text) == ("completed", 1.0, "One. Two. Three. Four.")
    with split.runner.db.session() as session:
        stored = lifecycle.segments_of(session, split.runner.job_id)
    assert [(s.index, s.start, s.end, s.text) for s in stored] == [
        (0, 0.0, 0.9, " One."),
        (1, 1.0, 1.9, " Two."),
        (2, 2.1, 2.9, " Three."),
        (3, 3.0, 3.8, " Four."),
    ]
    assert [r.status for r in split.rows()] == ["completed", "completed"]
    assert job.language == "en"
    completed = [e for e in split.runner.events.received() if isinstance(e, CompletedEvent)]
    assert len(completed) == 1

    # A piece delivered again after the job completed does nothing.
    assert split.piece(0, redelivered=True).status == "skipped"
    assert split.runner.row().text == job.text


def test_a_short_recording_or_a_busy_pool_is_not_split(pipeline_runs: Runs) -> None:
    model = FakeModel([segment(0.0, 1.0, " Whole.")])
    busy = Split(pipeline_runs, model, free=1)
    assert busy.split() == Outcome("completed")
    assert busy.rows() == []
    assert busy.queue.published == []
    short = Split(pipeline_runs, model, split_min_seconds=SECONDS + 1)
    assert short.split() == Outcome("completed")
    assert short.rows() == []


def test_a_piece_taken_over_is_redone_alone_and_the_job_completes_once(
    pipeline_runs: Runs,
) -> None:
    model = FakeModel(
        [segment(0.0, 0.9, " One.")],
        windows=[[segment(0.1, 0.9, " Two.")], [segment(0.0, 0.5, " Uno.")]],
    )
    split = Split(pipeline_runs, model)
    split.split()
    # Piece 0's first run stops after it claimed the piece (its process was killed).
    first = claim_lost(split, 0)
    assert first is not None
    assert split.piece(0).status == "skipped", "its lease is alive: running elsewhere"
    assert split.piece(1) == Outcome("completed")
    assert split.piece(0, redelivered=True) == Outcome("completed")  # taken over
    job = split.runner.row()
    assert (job.status, job.text) == ("completed", "Two. One.")
    assert [(r.number, r.attempts) for r in split.rows()] == [(0, 2), (1, 1)]
    with split.runner.db.session() as session:
        assert pieces.record_segments(session, first, [], 600) is None, "the lost run is fenced"


def test_a_piece_out_of_attempts_fails_the_job_naming_the_piece(pipeline_runs: Runs) -> None:
    split = Split(pipeline_runs, FakeModel([]), max_attempts=2)
    split.split()
    for _ in range(2):
        claim_lost(split, 1, redelivered=True, max_attempts=2)
    assert split.piece(1, redelivered=True).status == "failed"
    job = split.runner.row()
    assert (job.status, job.error_code) == ("failed", "too_many_attempts")
    assert "piece 2 of 2 (00:02-00:04)" in (job.error_message or "")
    assert job.text is None
    assert split.piece(0).status == "skipped", "the other pieces stop"


class RefusingModel(FakeModel):
    def transcribe(self, audio: Any, options: Any, *, previous_text: str = "") -> Any:
        raise JobRefused("This model cannot transcribe this.")


def test_a_piece_that_fails_fails_the_job_with_its_reason(pipeline_runs: Runs) -> None:
    split = Split(pipeline_runs, RefusingModel([]))
    split.split()
    assert split.piece(0) == Outcome("failed", "unsupported_option")
    job = split.runner.row()
    assert job.status == "failed"
    assert job.error_message == (
        "The piece 1 of 2 (00:00-00:02) failed: This model cannot transcribe this."
    )
    failed = split.runner.events.received()[-1]
    assert isinstance(failed, FailedEvent)
    assert [r.status for r in split.rows()] == ["failed", "queued"]
    assert split.piece(1).status == "skipped"


def test_cancel_stops_every_piece(pipeline_runs: Runs) -> None:
    split = Split(pipeline_runs, FakeModel([segment(0.0, 0.5, " One.")]))
    split.split()
    assert split.piece(0) == Outcome("completed")
    split.runner.cancel()
    assert split.piece(1).status == "skipped"
    job = split.runner.row()
    assert (job.status, job.text) == ("cancelled", None)


def _expire(split: Split, number: int) -> None:
    with split.runner.db.session() as session:
        session.execute(
            update(TranscriptionPiece)
            .where(col(TranscriptionPiece.id) == split.queue.published[number])
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def test_the_sweeper_publishes_a_lost_workers_piece_again(pipeline_runs: Runs) -> None:
    split = Split(pipeline_runs, FakeModel([segment(0.0, 0.5, " One.")]), max_attempts=2)
    split.split()
    sweeper = quiet(**SPLIT, max_attempts=2, publish_retry_after_seconds=0)
    publisher = pipeline_runs.publisher
    claim_lost(split, 0, max_attempts=2)
    _expire(split, 0)
    assert sweep_pieces(sweeper, split.runner.db, publisher, split.queue) == (1, 0)  # type: ignore[arg-type]
    assert split.queue.published[2] == split.queue.published[0], "published again"
    assert [r.status for r in split.rows()] == ["queued", "queued"]
    assert split.piece(0) == Outcome("completed")
    assert [r.attempts for r in split.rows()] == [2, 0]

    claim_lost(split, 1, max_attempts=2)
    with split.runner.db.session() as session:
        session.execute(
            update(TranscriptionPiece)
            .where(col(TranscriptionPiece.id) == split.queue.published[1])
            .values(attempts=2)
        )
    _expire(split, 1)
    assert sweep_pieces(sweeper, split.runner.db, publisher, split.queue) == (0, 1)  # type: ignore[arg-type]
    job = split.runner.row()
    assert (job.status, job.error_code) == ("failed", "too_many_attempts")
    assert "piece 2 of 2" in (job.error_message or "")


def test_speakers_are_labelled_once_over_the_stitched_transcript(pipeline_runs: Runs) -> None:
    model = FakeModel([segment(0.0, 0.9, " One.")], windows=[[segment(0.2, 0.8, " Two.")]])
    split = Split(pipeline_runs, model, options={"speaker_mode": "1"})
    split.split()
    assert split.piece(0) == Outcome("completed")
    assert split.runner.row().progress == pytest.approx(0.45), "transcription's share: 0.9"
    assert split.piece(1) == Outcome("completed")
    job = split.runner.row()
    assert (job.status, job.text, job.speakers) == ("completed", "One. Two.", {"S1": "S1"})
    with split.runner.db.session() as session:
        stored = lifecycle.segments_of(session, split.runner.job_id)
    assert [(s.index, s.start, s.speaker) for s in stored] == [(0, 0.0, "S1"), (1, 2.2, "S1")]
