"""`Pipeline.run` in-process when its job is cancelled in the middle of a decoding step.

The lease keeper checks the run every `CANCEL_CHECK_SECONDS` from a thread and a session of
its own, so these tests use the run's database through a connection pool (`db`), not the
single rolled-back connection of the other in-process tests. A paced fake model stands for a
decoding step that cannot be interrupted: it yields its first segment, then waits until the
test releases it. Real Postgres, real Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import lifecycle
from core.db import Database
from core.settings import Settings
from tests.support.fake_transcriber import FakeModel, FakeModels, tone_wav
from tests.support.pipeline_runs import HELLO, LEASE, SECONDS, WORKER, Runs, kinds, progress_of
from tests.support.waiting import wait_until
from worker import pipeline as pipeline_module
from worker.lease import LeaseKeeper
from worker.pipeline import Outcome, Pipeline

pytestmark = pytest.mark.integration

WATCHED = Settings(job_lease_seconds=LEASE, cancel_check_seconds=0.05)
"""The run is checked every 50 ms (renewals stay 15 minutes apart)."""


@pytest.fixture
def runs(db: Database, tmp_path: Path) -> Iterator[Runs]:
    runs = Runs(db, tmp_path / "storage")
    yield runs
    runs.close()


@pytest.fixture(autouse=True)
def every_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 0)


@pytest.fixture
def keepers(monkeypatch: pytest.MonkeyPatch) -> list[LeaseKeeper]:
    """The lease keepers the pipeline starts, in order."""
    started: list[LeaseKeeper] = []

    class Recorded(LeaseKeeper):
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(pipeline_module, "LeaseKeeper", Recorded)
    return started


def decoding_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "decoding" and t.is_alive()]


def test_a_cancel_mid_step_abandons_the_step_and_nothing_is_written_after_it(
    runs: Runs,
) -> None:
    runner = runs.job(tone_wav(SECONDS), settings=WATCHED)
    model = FakeModel(HELLO, paced=True)
    runner.on(progress_of(0), runner.cancel)
    try:
        outcome, _ = runner.run(model)
        # The run returned while its decoding step was still under way.
        assert outcome == Outcome("abandoned")
        assert model.yielded == 1
        assert decoding_threads(), "the abandoned step is still computing"
    finally:
        model.release()
    # The step ends; what it decoded is read by nobody, stored nowhere, sent to no one.
    wait_until(lambda: not decoding_threads(), 10, 0.01, "the abandoned step to end")
    assert model.yielded == 2, "it stopped after the segment it was decoding"
    job = runner.row()
    assert (job.status, job.text) == ("cancelled", None)
    assert runner.texts() == [(0, " Hello there.")]
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3), ("cancelled", 4)]


@pytest.mark.parametrize("change", ["deleted", "taken over"])
def test_a_delete_or_takeover_mid_step_abandons_the_step_too(runs: Runs, change: str) -> None:
    runner = runs.job(tone_wav(SECONDS), settings=WATCHED)
    model = FakeModel(HELLO, paced=True)

    def supersede() -> None:
        if change == "deleted":
            with runner.db.session() as session:
                lifecycle.remove(session, runner.job_id)
        else:
            runner.take_over()

    runner.on(progress_of(0), supersede)
    try:
        outcome, _ = runner.run(model)
        assert outcome == Outcome("abandoned")
        assert model.yielded == 1
    finally:
        model.release()
    wait_until(lambda: not decoding_threads(), 10, 0.01, "the abandoned step to end")
    assert runner.texts() == [], "the delete or the new run's claim removed the old segments"
    if change == "taken over":
        job = runner.row()
        assert (job.status, job.worker, job.attempts) == ("processing", "worker-2", 2)
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3)]


def test_a_run_whose_step_ends_in_time_stops_without_abandoning_it(
    runs: Runs, keepers: list[LeaseKeeper]
) -> None:
    """The step under way ends as soon as the run has noticed the cancel (the model goes on
    then), within the grace period: the run stops, and its process need not be replaced."""
    runner = runs.job(tone_wav(SECONDS), settings=WATCHED)
    model = FakeModel(HELLO, paced=True)

    def cancel() -> None:
        [keeper] = keepers
        keeper.on_lost(model.release)  # after the pipeline's own callback: the wait is over
        runner.cancel()

    runner.on(progress_of(0), cancel)
    try:
        outcome, _ = runner.run(model)
    finally:
        model.release()
    assert outcome == Outcome("stopped")
    assert not decoding_threads()
    assert runner.texts() == [(0, " Hello there.")]
    assert kinds(runner.events.received()) == [("processing", 2), ("progress", 3), ("cancelled", 4)]


class LoadedOnceLost(FakeModels):
    """A model registry that hands the model over only once the run's keeper found the job
    lost: the cancel lands while the run is still preparing (fetching, loading a model)."""

    def __init__(self, model: FakeModel, keepers: list[LeaseKeeper]):
        super().__init__(model)
        self.keepers = keepers

    def get(self, model_name: str | None = None) -> FakeModel:
        wait_until(lambda: self.keepers[-1].lost.is_set(), 10, 0.01, "the keeper to notice")
        return super().get(model_name)


def test_a_run_cancelled_before_decoding_starts_never_starts_it(
    runs: Runs, keepers: list[LeaseKeeper]
) -> None:
    runner = runs.job(tone_wav(SECONDS), settings=WATCHED)
    model = FakeModel(HELLO)
    models = LoadedOnceLost(model, keepers)
    runner.on(lambda e: e.type == "processing", runner.cancel)
    pipeline = Pipeline(runner.settings, runner.db, runner.publisher, runner.storage, models)
    outcome = pipeline.run(runner.job_id, worker=WORKER)
    assert outcome == Outcome("stopped")
    assert model.calls == [], "no decoding step was started"
    assert runner.texts() == []
    assert kinds(runner.events.received()) == [("processing", 2), ("cancelled", 3)]
