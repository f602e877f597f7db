"""In-process runs of `Pipeline.run`: a job on a stored recording, the pipeline that runs it
with a fake model, and the job's events as Redis delivered them.

Every database write of a run happens in the test's thread: `Pipeline.run` is called there,
and the decoding thread only iterates the fake model's generator. A test acts between two
steps of a run (cancels the job, takes it over) from the publisher's hook (`on`), which runs
after each event in the job's thread, so the test's single connection (`tests/support/
rollback.py`) is never used by two threads at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core import lifecycle
from core.db import Database
from core.events import JobEvent, ProcessingEvent, ProgressEvent, SegmentOut
from core.models import Transcription
from core.settings import Settings, get_settings
from core.storage import LocalStorage
from tests.support.fake_transcriber import FakeModel, FakeModels, FakeSegment, FakeWord
from tests.support.job_events import JobEventLog, SteppedPublisher
from worker.diarization import Diarizer
from worker.pipeline import Outcome, Pipeline

WORKER = "worker-1"
SECONDS = 2.0
"""Length of the stored recording (a tone; the fake model does not listen to it)."""
LEASE = 3600
"""The pipeline's LeaseKeeper thread renews the lease every lease/4 seconds and checks the run
every `CANCEL_CHECK_SECONDS`, each in a session of its own; with the test's single shared
connection that must never happen during a run, so both are long enough (15 minutes) that it
never does (`quiet`)."""


def quiet(**overrides: Any) -> Settings:
    """Settings for a run whose lease keeper never touches the database while it runs."""
    return Settings(**{"job_lease_seconds": LEASE, "cancel_check_seconds": LEASE, **overrides})


HELLO = [
    FakeSegment(0.0, 0.8, " Hello there.", [FakeWord(0.0, 0.4, " Hello", 0.9)]),
    FakeSegment(0.8, 1.5, " How are you?"),
    FakeSegment(1.5, 2.0, " Fine."),
]
HELLO_TEXT = "Hello there. How are you? Fine."


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


def new_job(
    db: Database, storage_key: str, *, duration: float | None = SECONDS, **options: Any
) -> uuid.UUID:
    """A queued job, as an upload of the file under `storage_key` leaves it (`options`: job
    options other than the defaults)."""
    with db.session() as session:
        job = Transcription(
            filename="tone.wav",
            storage_key=storage_key,
            size_bytes=1,
            sha256="0" * 64,
            model="tiny.en",
            duration_seconds=duration,
            **options,
        )
        lifecycle.create(session, job)
        return job.id


def row(db: Database, job_id: uuid.UUID) -> Transcription:
    with db.session() as session:
        return lifecycle.get(session, job_id)


def texts(db: Database, job_id: uuid.UUID) -> list[tuple[int, str]]:
    """The job's stored segments as (index, text)."""
    with db.session() as session:
        return [(s.index, s.text) for s in lifecycle.segments_of(session, job_id)]


def kinds(events: list[JobEvent]) -> list[tuple[str, int]]:
    return [(e.type, e.seq) for e in events]


class Runs:
    """Jobs to run in one test: its database, a storage folder and a publisher to this run's
    Redis."""

    def __init__(self, db: Database, folder: Path):
        config = get_settings()
        self.db = db
        self.storage = LocalStorage(folder)
        self.publisher = SteppedPublisher(config.redis_url, config.redis_prefix)
        self._logs: list[JobEventLog] = []

    def job(
        self,
        audio: bytes | None,
        *,
        duration: float | None = SECONDS,
        settings: Settings | None = None,
        **options: Any,
    ) -> Runner:
        """A job on `audio`, stored (None: its file is missing), its events subscribed to."""
        if audio is None:
            key = self.storage.new_key()
        else:
            upload = self.storage.open_upload()
            upload.write(audio)
            key = upload.commit()
        job_id = new_job(self.db, key, duration=duration, **options)
        config = get_settings()
        events = JobEventLog(config.redis_url, config.redis_prefix, job_id)
        self._logs.append(events)
        return Runner(self, job_id, events, settings or quiet())

    def close(self) -> None:
        for log in self._logs:
            log.close()
        self.publisher.close()


class Runner:
    """One job and the pipeline that runs it."""

    def __init__(self, runs: Runs, job_id: uuid.UUID, events: JobEventLog, settings: Settings):
        self.db = runs.db
        self.storage = runs.storage
        self.publisher = runs.publisher
        self.job_id = job_id
        self.events = events
        self.settings = settings

    def run(
        self, model: FakeModel, *, redelivered: bool = False, diarizer: Diarizer | None = None
    ) -> tuple[Outcome, FakeModels]:
        models = FakeModels(model)
        pipeline = Pipeline(
            self.settings, self.db, self.publisher, self.storage, models, diarizer=diarizer
        )
        return pipeline.run(self.job_id, worker=WORKER, redelivered=redelivered), models

    def row(self) -> Transcription:
        return row(self.db, self.job_id)

    def texts(self) -> list[tuple[int, str]]:
        return texts(self.db, self.job_id)

    def cancel(self) -> None:
        """What the API's cancel does: one transaction, then its events."""
        with self.db.session() as session:
            _, events = lifecycle.cancel(session, self.job_id)
        self.publisher.publish(*events)

    def take_over(self, worker: str = "worker-2") -> None:
        """Another worker claims the job (its message was redelivered)."""
        with self.db.session() as session:
            lifecycle.claim(
                session,
                self.job_id,
                worker=worker,
                redelivered=True,
                max_attempts=self.settings.max_attempts,
                lease_seconds=600,
            )

    def on(self, wanted: Callable[[JobEvent], bool], act: Callable[[], None]) -> None:
        """Call `act` once, after the first published event that is `wanted`."""
        done = False

        def hook(event: JobEvent) -> None:
            nonlocal done
            if not done and wanted(event):
                done = True
                act()

        self.publisher.hook = hook


def progress_of(index: int) -> Callable[[JobEvent], bool]:
    """The progress event that carries segment `index` last."""
    return lambda e: isinstance(e, ProgressEvent) and e.segment.index == index


def processing(e: JobEvent) -> bool:
    return isinstance(e, ProcessingEvent)


class Ticks:
    """Stands in for a LeaseKeeper's `stopped` event: each `wait` is one renewal interval, and
    the keeper is stopped after `count` of them; the intervals asked for are recorded."""

    def __init__(self, count: int):
        self.count = count
        self.waits: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        return len(self.waits) > self.count

    def set(self) -> None:
        self.count = 0
