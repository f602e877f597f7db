"""`Pipeline.run` in-process: the real Postgres (a transaction rolled back per test), the real
Redis for events, real media decoding, and a fake model in place of faster-whisper.

How a test acts between two steps of a run without sharing its connection across threads, and
how paced fake models decide which segments arrive together in one burst:
`tests/support/pipeline_runs.py` and `tests/support/fake_transcriber.py`. Failures and the
lease keeper: `test_pipeline_failures_inprocess.py`.
"""

from __future__ import annotations

import uuid

import pytest

from core import lifecycle
from core.events import (
    CancelledEvent,
    CompletedEvent,
    FailedEvent,
    ProcessingEvent,
    ProgressEvent,
    SegmentOut,
)
from core.models import utcnow
from tests.support.fake_transcriber import FakeModel, FakeModels, FakeSegment, Transcribed, tone_wav
from tests.support.pipeline_runs import (
    HELLO,
    HELLO_TEXT,
    SECONDS,
    WORKER,
    Runner,
    Runs,
    Ticks,
    kinds,
    out,
    processing,
    progress_of,
)
from worker import pipeline as pipeline_module
from worker.pipeline import LeaseKeeper, Outcome, Pipeline

pytestmark = pytest.mark.integration


class WorkerCrashed(Exception):
    """Raised by a hook: the worker stopped in the middle of a run."""


@pytest.fixture
def runner(pipeline_runs: Runs) -> Runner:
    """A job on a stored 2 s recording, ready to run."""
    return pipeline_runs.job(tone_wav(SECONDS))


@pytest.fixture
def every_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every burst is written as it arrives (no coalescing of bursts within 0.25 s)."""
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 0)


@pytest.fixture
def one_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """No burst is written before decoding ends: all segments go with the result."""
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 3600)


# --- runs that complete -----------------------------------------------------------------------


@pytest.mark.usefixtures("one_burst")
def test_a_run_stores_the_segments_and_text_and_publishes_its_events(runner: Runner) -> None:
    model = FakeModel(HELLO, language="en")
    outcome, models = runner.run(model)

    assert outcome == Outcome("completed")
    job = runner.row()
    assert models.asked == ["tiny.en"]
    assert model.calls == [Transcribed(int(SECONDS * 16000), job.options)]
    assert (job.status, job.text, job.language, job.progress) == (
        "completed",
        HELLO_TEXT,
        "en",
        1.0,
    )
    assert (job.attempts, job.worker, job.duration_seconds, job.lease_expires_at) == (
        1,
        WORKER,
        SECONDS,
        None,
    )
    with runner.db.session() as session:
        stored = [SegmentOut.of(s) for s in lifecycle.segments_of(session, runner.job_id)]
    assert stored == out(HELLO), "contiguous indexes 0..n-1, words kept"

    events = runner.events.received()
    assert kinds(events) == [("processing", 2), ("progress", 3), ("completed", 4)]
    started, progress, completed = events
    assert isinstance(started, ProcessingEvent)
    assert (started.attempt, started.duration_seconds, started.restart_reason) == (
        1,
        SECONDS,
        None,
    )
    assert isinstance(progress, ProgressEvent)
    assert progress.segments == out(HELLO)
    assert progress.segment == out(HELLO)[-1]
    assert progress.progress == 0.999
    assert isinstance(completed, CompletedEvent)
    assert (completed.text, completed.language, completed.progress) == (HELLO_TEXT, "en", 1.0)


@pytest.mark.usefixtures("every_burst")
def test_each_burst_is_stored_and_published_as_it_is_decoded(runner: Runner) -> None:
    model = FakeModel(HELLO, paced=True)
    # The model yields its next segment only once the previous one has been published.
    runner.publisher.hook = lambda e: model.advance() if isinstance(e, ProgressEvent) else None
    outcome, _ = runner.run(model)

    assert outcome == Outcome("completed")
    events = runner.events.received()
    assert kinds(events) == [
        ("processing", 2),
        ("progress", 3),
        ("progress", 4),
        ("progress", 5),
        ("completed", 6),
    ]
    bursts = [e for e in events if isinstance(e, ProgressEvent)]
    assert [e.segments for e in bursts] == [[s] for s in out(HELLO)]
    assert [e.progress for e in bursts] == [0.4, 0.75, 0.999]
    with runner.db.session() as session:
        stored = lifecycle.segments_of(session, runner.job_id)
    assert [(s.index, s.seq) for s in stored] == [(0, 3), (1, 4), (2, 5)]
    assert runner.row().text == HELLO_TEXT


@pytest.mark.usefixtures("one_burst")
def test_bursts_arriving_within_the_flush_interval_are_written_together(runner: Runner) -> None:
    model = FakeModel(HELLO, advance_on_read=True)  # three bursts, one segment each
    outcome, _ = runner.run(model)
    assert outcome == Outcome("completed")
    events = runner.events.received()
    assert kinds(events) == [("processing", 2), ("progress", 3), ("completed", 4)]
    progress = events[1]
    assert isinstance(progress, ProgressEvent)
    assert progress.segments == out(HELLO)
    assert runner.texts() == [(s.index, s.text) for s in out(HELLO)]


@pytest.mark.usefixtures("one_burst")
def test_without_an_uploaded_duration_the_decoded_one_is_stored(pipeline_runs: Runs) -> None:
    runner = pipeline_runs.job(tone_wav(SECONDS), duration=None)
    outcome, _ = runner.run(FakeModel(HELLO))
    assert outcome == Outcome("completed")
    assert runner.row().duration_seconds == SECONDS
    _, progress, completed = runner.events.received()
    assert isinstance(progress, ProgressEvent)
    assert progress.progress == 0.0, "no progress without a known duration"
    assert isinstance(completed, CompletedEvent)
    assert completed.duration_seconds == SECONDS


def test_a_recording_without_speech_completes_with_no_text(runner: Runner) -> None:
    outcome, _ = runner.run(FakeModel([], language="de"))
    assert outcome == Outcome("completed")
    job = runner.row()
    assert (job.status, job.text, job.language) == ("completed", "", "de")
    assert runner.texts() == []
    assert kinds(runner.events.received()) == [("processing", 2), ("completed", 3)]


# --- deliveries that do not run -----------------------------------------------------------------


def test_a_redelivered_completed_job_is_not_run_again(runner: Runner) -> None:
    first, _ = runner.run(FakeModel(HELLO))
    assert first == Outcome("completed")
    runner.events.received()

    model = FakeModel([FakeSegment(0, 1, " Other.")])
    again, models = runner.run(model, redelivered=True)
    assert again == Outcome("skipped", "already completed")
    assert (models.asked, model.calls) == ([], [])
    assert runner.events.received() == []
    assert runner.row().text == HELLO_TEXT


def test_a_second_delivery_while_the_first_runs_elsewhere_is_skipped(runner: Runner) -> None:
    with runner.db.session() as session:
        lifecycle.claim(
            session,
            runner.job_id,
            worker="worker-2",
            redelivered=False,
            max_attempts=runner.settings.max_attempts,
            lease_seconds=600,
        )
    model = FakeModel(HELLO)
    outcome, models = runner.run(model)
    assert outcome == Outcome("skipped", "running elsewhere")
    assert (models.asked, model.calls) == ([], [])
    assert runner.events.received() == []
    job = runner.row()
    assert (job.worker, job.attempts) == ("worker-2", 1)


def test_a_message_for_a_deleted_job_is_skipped(runner: Runner) -> None:
    pipeline = Pipeline(
        runner.settings, runner.db, runner.publisher, runner.storage, FakeModels(FakeModel(HELLO))
    )
    assert pipeline.run(uuid.uuid4(), worker=WORKER) == Outcome("skipped", "deleted")


def test_a_job_out_of_attempts_fails_instead_of_running(runner: Runner) -> None:
    with runner.db.session() as session:
        job = lifecycle.get(session, runner.job_id)
        job.status = "processing"
        job.attempts = runner.settings.max_attempts
        job.lease_expires_at = utcnow()
        session.add(job)
    model = FakeModel(HELLO)
    outcome, models = runner.run(model, redelivered=True)
    assert outcome == Outcome("skipped", "out of attempts")
    assert (models.asked, model.calls) == ([], [])
    [failed] = runner.events.received()
    assert isinstance(failed, FailedEvent)
    assert failed.error.code == "too_many_attempts"
    assert runner.row().status == "failed"


# --- redelivery after a crash, takeover -------------------------------------------------------


@pytest.mark.usefixtures("every_burst")
def test_a_redelivered_run_takes_over_and_replaces_the_lost_runs_segments(
    runner: Runner,
) -> None:
    lost = FakeModel(HELLO, paced=True)

    def crash() -> None:
        lost.release()  # the decoding thread may finish; the run never reads on
        raise WorkerCrashed

    runner.on(progress_of(0), crash)
    with pytest.raises(WorkerCrashed):
        runner.run(lost)
    job = runner.row()
    assert (job.status, job.attempts) == ("processing", 1)
    assert runner.texts() == [(0, " Hello there.")]
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3)]

    runner.publisher.hook = None
    again = [FakeSegment(0.0, 1.0, " Good morning."), FakeSegment(1.0, 2.0, " Bye.")]
    skipped, _ = runner.run(FakeModel(again))
    assert skipped == Outcome("skipped", "running elsewhere"), "its lease is still alive"
    outcome, _ = runner.run(FakeModel(again), redelivered=True)

    assert outcome == Outcome("completed")
    assert runner.texts() == [(0, " Good morning."), (1, " Bye.")]
    job = runner.row()
    assert (job.attempts, job.restart_reason, job.text) == (2, "worker_lost", "Good morning. Bye.")
    events = runner.events.received()
    started, *bursts, completed = events
    assert isinstance(started, ProcessingEvent)
    assert (started.attempt, started.restart_reason, started.progress) == (2, "worker_lost", 0.0)
    assert [s for e in bursts if isinstance(e, ProgressEvent) for s in e.segments] == out(again)
    assert isinstance(completed, CompletedEvent)
    assert [e.seq for e in events] == sorted({e.seq for e in events}), "seqs only go up"


@pytest.mark.usefixtures("one_burst")
def test_a_run_taken_over_by_another_worker_writes_nothing(runner: Runner) -> None:
    runner.on(processing, runner.take_over)
    model = FakeModel(HELLO)
    outcome, _ = runner.run(model)

    assert outcome == Outcome("stopped")
    assert len(model.calls) == 1, "it decoded, then its write was refused"
    job = runner.row()
    assert (job.status, job.worker, job.attempts, job.text) == ("processing", "worker-2", 2, None)
    assert runner.texts() == []
    assert kinds(runner.events.received()) == [("processing", 2)]


# --- cancellation -------------------------------------------------------------------------


@pytest.mark.usefixtures("every_burst")
def test_a_cancel_between_bursts_stops_the_run_and_nothing_is_stored_after_it(
    runner: Runner,
) -> None:
    # An endless model: the run can only end because it noticed the cancel.
    model = FakeModel(HELLO, paced=True, endless=True)

    def cancel_then_go_on() -> None:
        runner.cancel()
        model.release()

    runner.on(progress_of(0), cancel_then_go_on)
    outcome, _ = runner.run(model)

    assert outcome == Outcome("stopped")
    assert model.yielded > 1, "decoding went on after the cancel"
    job = runner.row()
    assert (job.status, job.text, job.progress) == ("cancelled", None, 0.4)
    assert runner.texts() == [(0, " Hello there.")]
    events = runner.events.received()
    assert kinds(events) == [("processing", 2), ("progress", 3), ("cancelled", 4)]
    assert isinstance(events[-1], CancelledEvent)


class ManualLeaseKeeper(LeaseKeeper):
    """A lease keeper that renews only when the test says so (in the test's thread)."""

    started: list[ManualLeaseKeeper] = []

    def start(self) -> None:
        ManualLeaseKeeper.started.append(self)

    def renew_once(self) -> None:
        self.stopped = Ticks(1)  # type: ignore[assignment]
        self.run()


@pytest.mark.usefixtures("every_burst")
def test_a_cancel_the_lease_keeper_notices_stops_the_run_before_the_next_burst(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "LeaseKeeper", ManualLeaseKeeper)
    monkeypatch.setattr(ManualLeaseKeeper, "started", [])
    model = FakeModel(HELLO, paced=True)

    def cancel_and_renew() -> None:
        runner.cancel()
        [keeper] = ManualLeaseKeeper.started
        keeper.renew_once()
        assert keeper.lost.is_set()
        model.release()

    runner.on(progress_of(0), cancel_and_renew)
    outcome, _ = runner.run(model)

    assert outcome == Outcome("stopped")
    assert runner.texts() == [(0, " Hello there.")]
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3), ("cancelled", 4)]


@pytest.mark.usefixtures("one_burst")
@pytest.mark.parametrize("segments", [HELLO, []], ids=["segments-left", "nothing-left"])
def test_a_cancel_during_decoding_stores_no_result(
    runner: Runner, segments: list[FakeSegment]
) -> None:
    runner.on(processing, lambda: runner.cancel())
    outcome, _ = runner.run(FakeModel(segments))

    assert outcome == Outcome("stopped")
    job = runner.row()
    assert (job.status, job.text, job.progress) == ("cancelled", None, 0.0)
    assert runner.texts() == []
    assert kinds(runner.events.received()) == [("processing", 2), ("cancelled", 3)]
