"""`Pipeline.run` in-process: the real Postgres (a transaction rolled back per test), the real
Redis for events, real media decoding, and a fake model in place of faster-whisper.

Every database write of a run happens in the test's thread: `Pipeline.run` is called there,
and the decoding thread only iterates the fake model's generator. A test acts between two
steps of a run (cancels the job, takes it over) from a hook the publisher calls after each
event, also in the test's thread, so the test's single connection is never used by two
threads at once. Paced fake models decide which segments arrive together in one burst.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core import lifecycle
from core.db import Database
from core.events import (
    CancelledEvent,
    CompletedEvent,
    FailedEvent,
    JobEvent,
    ProcessingEvent,
    ProgressEvent,
    SegmentOut,
)
from core.models import Transcription, utcnow
from core.settings import Settings, get_settings
from core.storage import Storage
from tests.support.fake_transcriber import (
    FakeModel,
    FakeModels,
    FakeSegment,
    FakeWord,
    Transcribed,
    tone_wav,
)
from tests.support.job_events import JobEventLog, SteppedPublisher
from worker import pipeline as pipeline_module
from worker.pipeline import LeaseKeeper, Outcome, Pipeline

pytestmark = pytest.mark.integration

WORKER = "worker-1"
SECONDS = 2.0
"""Length of the stored recording (a tone; the fake model does not listen to it)."""

HELLO = [
    FakeSegment(0.0, 0.8, " Hello there.", [FakeWord(0.0, 0.4, " Hello", 0.9)]),
    FakeSegment(0.8, 1.5, " How are you?"),
    FakeSegment(1.5, 2.0, " Fine."),
]
HELLO_TEXT = "Hello there. How are you? Fine."


class WorkerCrashed(Exception):
    """Raised by a hook: the worker stopped in the middle of a run."""


def out(segments: list[FakeSegment]) -> list[SegmentOut]:
    """The segments as the pipeline stores and publishes them."""
    return [
        SegmentOut(
            index=index,
            start=s.start,
            end=s.end,
            text=s.text,
            words=None
            if s.words is None
            else [
                {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                for w in s.words
            ],
        )
        for index, s in enumerate(segments)
    ]


@pytest.fixture
def settings() -> Settings:
    # The pipeline's LeaseKeeper thread renews the lease every lease/4 seconds in a session of
    # its own; with the test's single shared connection that must never happen during a run,
    # so the lease is long enough (15 minutes between renewals) that it never does.
    return Settings(job_lease_seconds=3600)


@pytest.fixture
def storage(tmp_path: Any) -> Storage:
    return Storage(tmp_path / "storage")


@pytest.fixture
def publisher() -> Iterator[SteppedPublisher]:
    config = get_settings()
    stepped = SteppedPublisher(config.redis_url, config.redis_prefix)
    yield stepped
    stepped.close()


@pytest.fixture
def listen() -> Iterator[Callable[[uuid.UUID], JobEventLog]]:
    """`listen(job_id)`: subscribe to the job's events on this run's Redis."""
    config = get_settings()
    logs: list[JobEventLog] = []

    def subscribe(job_id: uuid.UUID) -> JobEventLog:
        log = JobEventLog(config.redis_url, config.redis_prefix, job_id)
        logs.append(log)
        return log

    yield subscribe
    for log in logs:
        log.close()


@pytest.fixture
def every_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every burst is written as it arrives (no coalescing of bursts within 0.25 s)."""
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 0)


@pytest.fixture
def one_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """No burst is written before decoding ends: all segments go with the result."""
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 3600)


def upload(storage: Storage, data: bytes) -> str:
    stored = storage.open_upload()
    stored.write(data)
    return stored.commit()


def new_job(db: Database, storage_key: str, *, duration: float | None = SECONDS) -> uuid.UUID:
    with db.session() as session:
        job = Transcription(
            filename="tone.wav",
            storage_key=storage_key,
            size_bytes=1,
            sha256="0" * 64,
            model="tiny.en",
            duration_seconds=duration,
        )
        lifecycle.create(session, job)
        return job.id


def row(db: Database, job_id: uuid.UUID) -> Transcription:
    with db.session() as session:
        return lifecycle.get(session, job_id)


def texts(db: Database, job_id: uuid.UUID) -> list[tuple[int, str]]:
    with db.session() as session:
        return [(s.index, s.text) for s in lifecycle.segments_of(session, job_id)]


def kinds(events: list[JobEvent]) -> list[tuple[str, int]]:
    return [(e.type, e.seq) for e in events]


def cancel(db: Database, publisher: SteppedPublisher, job_id: uuid.UUID) -> None:
    """What the API's cancel does: one transaction, then its events."""
    with db.session() as session:
        _, events = lifecycle.cancel(session, job_id)
    publisher.publish(*events)


class Runner:
    """One job and the pipeline that runs it, with the job's events subscribed to."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        publisher: SteppedPublisher,
        storage: Storage,
        listen: Callable[[uuid.UUID], JobEventLog],
        *,
        audio: bytes | None = None,
        duration: float | None = SECONDS,
    ):
        self.settings = settings
        self.db = db
        self.publisher = publisher
        self.storage = storage
        key = storage.new_key() if audio is None else upload(storage, audio)
        self.job_id = new_job(db, key, duration=duration)
        self.events = listen(self.job_id)

    def run(self, model: FakeModel, *, redelivered: bool = False) -> tuple[Outcome, FakeModels]:
        models = FakeModels(model)
        pipeline = Pipeline(self.settings, self.db, self.publisher, self.storage, models)
        return pipeline.run(self.job_id, worker=WORKER, redelivered=redelivered), models


@pytest.fixture
def runner(
    settings: Settings,
    tx_db: Database,
    publisher: SteppedPublisher,
    storage: Storage,
    listen: Callable[[uuid.UUID], JobEventLog],
) -> Runner:
    """A job on a stored 2 s recording, ready to run."""
    return Runner(settings, tx_db, publisher, storage, listen, audio=tone_wav(SECONDS))


def on(
    publisher: SteppedPublisher, wanted: Callable[[JobEvent], bool], act: Callable[[], None]
) -> None:
    """Call `act` once, after the first published event that is `wanted`."""
    done = False

    def hook(event: JobEvent) -> None:
        nonlocal done
        if not done and wanted(event):
            done = True
            act()

    publisher.hook = hook


def progress_of(index: int) -> Callable[[JobEvent], bool]:
    return lambda e: isinstance(e, ProgressEvent) and e.segment.index == index


def processing(e: JobEvent) -> bool:
    return isinstance(e, ProcessingEvent)


# --- runs that complete -----------------------------------------------------------------------


@pytest.mark.usefixtures("one_burst")
def test_a_run_stores_the_segments_and_text_and_publishes_its_events(runner: Runner) -> None:
    model = FakeModel(HELLO, language="en")
    outcome, models = runner.run(model)

    assert outcome == Outcome("completed")
    job = row(runner.db, runner.job_id)
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
    assert row(runner.db, runner.job_id).text == HELLO_TEXT


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
    assert texts(runner.db, runner.job_id) == [(s.index, s.text) for s in out(HELLO)]


@pytest.mark.usefixtures("one_burst")
def test_without_an_uploaded_duration_the_decoded_one_is_stored(
    settings: Settings,
    tx_db: Database,
    publisher: SteppedPublisher,
    storage: Storage,
    listen: Callable[[uuid.UUID], JobEventLog],
) -> None:
    runner = Runner(
        settings, tx_db, publisher, storage, listen, audio=tone_wav(SECONDS), duration=None
    )
    outcome, _ = runner.run(FakeModel(HELLO))
    assert outcome == Outcome("completed")
    assert row(tx_db, runner.job_id).duration_seconds == SECONDS
    _, progress, completed = runner.events.received()
    assert isinstance(progress, ProgressEvent)
    assert progress.progress == 0.0, "no progress without a known duration"
    assert isinstance(completed, CompletedEvent)
    assert completed.duration_seconds == SECONDS


def test_a_recording_without_speech_completes_with_no_text(runner: Runner) -> None:
    outcome, _ = runner.run(FakeModel([], language="de"))
    assert outcome == Outcome("completed")
    job = row(runner.db, runner.job_id)
    assert (job.status, job.text, job.language) == ("completed", "", "de")
    assert texts(runner.db, runner.job_id) == []
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
    assert row(runner.db, runner.job_id).text == HELLO_TEXT


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
    job = row(runner.db, runner.job_id)
    assert (job.worker, job.attempts) == ("worker-2", 1)


def test_a_message_for_a_deleted_job_is_skipped(
    settings: Settings, tx_db: Database, publisher: SteppedPublisher, storage: Storage
) -> None:
    pipeline = Pipeline(settings, tx_db, publisher, storage, FakeModels(FakeModel(HELLO)))
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
    assert row(runner.db, runner.job_id).status == "failed"


# --- redelivery after a crash, takeover -------------------------------------------------------


@pytest.mark.usefixtures("every_burst")
def test_a_redelivered_run_takes_over_and_replaces_the_lost_runs_segments(
    runner: Runner,
) -> None:
    lost = FakeModel(HELLO, paced=True)

    def crash() -> None:
        lost.release()  # the decoding thread may finish; the run never reads on
        raise WorkerCrashed

    on(runner.publisher, progress_of(0), crash)
    with pytest.raises(WorkerCrashed):
        runner.run(lost)
    job = row(runner.db, runner.job_id)
    assert (job.status, job.attempts) == ("processing", 1)
    assert texts(runner.db, runner.job_id) == [(0, " Hello there.")]
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3)]

    runner.publisher.hook = None
    again = [FakeSegment(0.0, 1.0, " Good morning."), FakeSegment(1.0, 2.0, " Bye.")]
    skipped, _ = runner.run(FakeModel(again))
    assert skipped == Outcome("skipped", "running elsewhere"), "its lease is still alive"
    outcome, _ = runner.run(FakeModel(again), redelivered=True)

    assert outcome == Outcome("completed")
    assert texts(runner.db, runner.job_id) == [(0, " Good morning."), (1, " Bye.")]
    job = row(runner.db, runner.job_id)
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
    def take_over() -> None:
        with runner.db.session() as session:
            lifecycle.claim(
                session,
                runner.job_id,
                worker="worker-2",
                redelivered=True,
                max_attempts=runner.settings.max_attempts,
                lease_seconds=600,
            )

    on(runner.publisher, processing, take_over)
    model = FakeModel(HELLO)
    outcome, _ = runner.run(model)

    assert outcome == Outcome("stopped")
    assert len(model.calls) == 1, "it decoded, then its write was refused"
    job = row(runner.db, runner.job_id)
    assert (job.status, job.worker, job.attempts, job.text) == ("processing", "worker-2", 2, None)
    assert texts(runner.db, runner.job_id) == []
    assert kinds(runner.events.received()) == [("processing", 2)]


# --- cancellation -------------------------------------------------------------------------


@pytest.mark.usefixtures("every_burst")
def test_a_cancel_between_bursts_stops_the_run_and_nothing_is_stored_after_it(
    runner: Runner,
) -> None:
    # An endless model: the run can only end because it noticed the cancel.
    model = FakeModel(HELLO, paced=True, endless=True)

    def cancel_then_go_on() -> None:
        cancel(runner.db, runner.publisher, runner.job_id)
        model.release()

    on(runner.publisher, progress_of(0), cancel_then_go_on)
    outcome, _ = runner.run(model)

    assert outcome == Outcome("stopped")
    assert model.yielded > 1, "decoding went on after the cancel"
    job = row(runner.db, runner.job_id)
    assert (job.status, job.text, job.progress) == ("cancelled", None, 0.4)
    assert texts(runner.db, runner.job_id) == [(0, " Hello there.")]
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
        cancel(runner.db, runner.publisher, runner.job_id)
        [keeper] = ManualLeaseKeeper.started
        keeper.renew_once()
        assert keeper.lost.is_set()
        model.release()

    on(runner.publisher, progress_of(0), cancel_and_renew)
    outcome, _ = runner.run(model)

    assert outcome == Outcome("stopped")
    assert texts(runner.db, runner.job_id) == [(0, " Hello there.")]
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3), ("cancelled", 4)]


@pytest.mark.usefixtures("one_burst")
@pytest.mark.parametrize("segments", [HELLO, []], ids=["segments-left", "nothing-left"])
def test_a_cancel_during_decoding_stores_no_result(
    runner: Runner, segments: list[FakeSegment]
) -> None:
    on(runner.publisher, processing, lambda: cancel(runner.db, runner.publisher, runner.job_id))
    outcome, _ = runner.run(FakeModel(segments))

    assert outcome == Outcome("stopped")
    job = row(runner.db, runner.job_id)
    assert (job.status, job.text, job.progress) == ("cancelled", None, 0.0)
    assert texts(runner.db, runner.job_id) == []
    assert kinds(runner.events.received()) == [("processing", 2), ("cancelled", 3)]


# --- media errors and other failures ----------------------------------------------------------


def _failed_with(runner: Runner, model: FakeModel, code: str) -> FailedEvent:
    outcome, models = runner.run(model)
    assert outcome == Outcome("failed", code)
    assert (models.asked, model.calls) == ([], [])
    job = row(runner.db, runner.job_id)
    assert (job.status, job.error_code, job.lease_expires_at) == ("failed", code, None)
    events = runner.events.received()
    assert kinds(events) == [("processing", 2), ("failed", 3)]
    failed = events[-1]
    assert isinstance(failed, FailedEvent)
    assert (failed.error.code, failed.error.message) == (code, job.error_message)
    return failed


def test_a_job_whose_file_is_gone_fails_with_media_missing(
    settings: Settings,
    tx_db: Database,
    publisher: SteppedPublisher,
    storage: Storage,
    listen: Callable[[uuid.UUID], JobEventLog],
) -> None:
    runner = Runner(settings, tx_db, publisher, storage, listen, audio=None)
    failed = _failed_with(runner, FakeModel(HELLO), "media_missing")
    assert failed.error.message == "The uploaded file is no longer stored."


def test_a_recording_longer_than_the_limit_fails_with_duration_exceeded(
    tx_db: Database,
    publisher: SteppedPublisher,
    storage: Storage,
    listen: Callable[[uuid.UUID], JobEventLog],
) -> None:
    settings = Settings(job_lease_seconds=3600, max_duration_seconds=1)
    runner = Runner(settings, tx_db, publisher, storage, listen, audio=tone_wav(SECONDS))
    failed = _failed_with(runner, FakeModel(HELLO), "duration_exceeded")
    assert "limit" in failed.error.message
    assert "1 s" in failed.error.message


def test_a_file_that_does_not_decode_fails_with_its_media_code(
    settings: Settings,
    tx_db: Database,
    publisher: SteppedPublisher,
    storage: Storage,
    listen: Callable[[uuid.UUID], JobEventLog],
) -> None:
    runner = Runner(settings, tx_db, publisher, storage, listen, audio=b"not audio at all" * 64)
    _failed_with(runner, FakeModel(HELLO), "undecodable_audio")


@pytest.mark.usefixtures("one_burst")
def test_a_decoding_error_propagates_and_leaves_the_job_to_its_lease(runner: Runner) -> None:
    model = FakeModel(HELLO[:1], error=RuntimeError("the model broke"))
    with pytest.raises(RuntimeError, match="the model broke"):
        runner.run(model)
    job = row(runner.db, runner.job_id)
    assert (job.status, job.attempts) == ("processing", 1)
    assert job.lease_expires_at is not None, "the sweeper requeues it once the lease ends"
    assert texts(runner.db, runner.job_id) == []
    assert kinds(runner.events.received()) == [("processing", 2)]


# --- the lease keeper -----------------------------------------------------------------------


class Ticks:
    """Stands in for the keeper's `stopped` event: each `wait` is one renewal interval, and
    the keeper is stopped after `count` of them; the intervals asked for are recorded."""

    def __init__(self, count: int):
        self.count = count
        self.waits: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        return len(self.waits) > self.count

    def set(self) -> None:
        self.count = 0


def _claimed(db: Database, storage: Storage, lease: int) -> lifecycle.Claim:
    job_id = new_job(db, storage.new_key())
    with db.session() as session:
        result = lifecycle.claim(
            session, job_id, worker=WORKER, redelivered=False, max_attempts=3, lease_seconds=lease
        )
    assert result.claim is not None
    return result.claim


@pytest.mark.parametrize(("lease", "interval"), [(3600, 900.0), (2, 1.0)])
def test_the_lease_keeper_renews_every_quarter_lease(
    tx_db: Database, storage: Storage, lease: int, interval: float
) -> None:
    claim = _claimed(tx_db, storage, lease=1)
    keeper = LeaseKeeper(tx_db, claim, lease)
    ticks = Ticks(2)
    keeper.stopped = ticks  # type: ignore[assignment]
    before = utcnow()
    keeper.run()
    assert ticks.waits == [interval] * 3
    assert not keeper.lost.is_set()
    expires = row(tx_db, claim.job_id).lease_expires_at
    assert expires is not None
    assert expires.timestamp() >= before.timestamp() + lease


def test_the_lease_keeper_gives_up_once_the_job_is_no_longer_its_own(
    tx_db: Database, storage: Storage
) -> None:
    claim = _claimed(tx_db, storage, lease=600)
    with tx_db.session() as session:
        lifecycle.cancel(session, claim.job_id)
    keeper = LeaseKeeper(tx_db, claim, 600)
    ticks = Ticks(5)
    keeper.stopped = ticks  # type: ignore[assignment]
    keeper.run()
    assert keeper.lost.is_set()
    assert len(ticks.waits) == 1, "it stops at the first refused renewal"


def test_the_lease_keeper_outlives_an_unreachable_database(
    tx_db: Database, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    claim = _claimed(tx_db, storage, lease=600)
    nowhere = Database.from_url("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    try:
        keeper = LeaseKeeper(nowhere, claim, 600)
        ticks = Ticks(2)
        keeper.stopped = ticks  # type: ignore[assignment]
        keeper.run()
    finally:
        nowhere.dispose()
    assert len(ticks.waits) == 3, "it kept trying"
    assert not keeper.lost.is_set()
    failures = [r for r in caplog.records if r.getMessage().startswith("lease renewal failed")]
    assert len(failures) == 2


def test_the_pipelines_lease_keeper_thread_ends_with_the_run(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    keepers: list[LeaseKeeper] = []

    class Recorded(LeaseKeeper):
        def start(self) -> None:
            keepers.append(self)
            super().start()

    monkeypatch.setattr(pipeline_module, "LeaseKeeper", Recorded)
    outcome, _ = runner.run(FakeModel(HELLO))
    assert outcome == Outcome("completed")
    [keeper] = keepers
    keeper.join(timeout=10)
    assert not keeper.is_alive()
    assert not keeper.lost.is_set()
