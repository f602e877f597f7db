"""`Pipeline.run` in-process when things go wrong: unusable media becomes a failed job with a
code, an unexpected error propagates (the job's lease then tells the sweeper), and the lease
keeper that renews a running job's lease. Real Postgres (rolled back per test), real Redis.
"""

from __future__ import annotations

import pytest

from core import lifecycle
from core.db import Database
from core.events import FailedEvent
from core.models import utcnow
from tests.support.fake_transcriber import FakeModel, tone_wav
from tests.support.pipeline_runs import (
    HELLO,
    SECONDS,
    WORKER,
    Runner,
    Runs,
    Ticks,
    kinds,
    new_job,
    quiet,
    row,
)
from worker import pipeline as pipeline_module
from worker.lease import LeaseKeeper
from worker.pipeline import Outcome

pytestmark = pytest.mark.integration


def failed_with(runner: Runner, code: str) -> FailedEvent:
    """Run the job: it fails with `code` before any model is loaded."""
    model = FakeModel(HELLO)
    outcome, models = runner.run(model)
    assert outcome == Outcome("failed", code)
    assert (models.asked, model.calls) == ([], [])
    job = runner.row()
    assert (job.status, job.error_code, job.lease_expires_at) == ("failed", code, None)
    assert runner.texts() == []
    events = runner.events.received()
    assert kinds(events) == [("processing", 2), ("failed", 3)]
    failed = events[-1]
    assert isinstance(failed, FailedEvent)
    assert (failed.error.code, failed.error.message) == (code, job.error_message)
    return failed


def test_a_job_whose_file_is_gone_fails_with_media_missing(pipeline_runs: Runs) -> None:
    failed = failed_with(pipeline_runs.job(None), "media_missing")
    assert failed.error.message == "The uploaded file is no longer stored."


def test_a_recording_longer_than_the_limit_fails_with_duration_exceeded(
    pipeline_runs: Runs,
) -> None:
    settings = quiet(max_duration_seconds=1)
    failed = failed_with(
        pipeline_runs.job(tone_wav(SECONDS), settings=settings), "duration_exceeded"
    )
    assert "limit" in failed.error.message
    assert "1 s" in failed.error.message


def test_a_file_that_does_not_decode_fails_with_its_media_code(pipeline_runs: Runs) -> None:
    failed_with(pipeline_runs.job(b"not audio at all" * 64), "undecodable_audio")


def test_a_decoding_error_propagates_and_leaves_the_job_to_its_lease(
    pipeline_runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 3600)
    runner = pipeline_runs.job(tone_wav(SECONDS))
    model = FakeModel(HELLO[:1], error=RuntimeError("the model broke"))
    with pytest.raises(RuntimeError, match="the model broke"):
        runner.run(model)
    job = runner.row()
    assert (job.status, job.attempts) == ("processing", 1)
    assert job.lease_expires_at is not None, "the sweeper requeues it once the lease ends"
    assert runner.texts() == []
    assert kinds(runner.events.received()) == [("processing", 2)]


# --- the lease keeper -----------------------------------------------------------------------


def claimed(db: Database, lease: int) -> lifecycle.Claim:
    job_id = new_job(db, "0" * 32)
    with db.session() as session:
        result = lifecycle.claim(
            session, job_id, worker=WORKER, redelivered=False, max_attempts=3, lease_seconds=lease
        )
    assert result.claim is not None
    return result.claim


@pytest.mark.parametrize(("lease", "interval"), [(3600, 900.0), (2, 1.0)])
def test_the_lease_keeper_renews_every_quarter_lease(
    tx_db: Database, lease: int, interval: float
) -> None:
    claim = claimed(tx_db, lease=1)
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


def test_the_lease_keeper_gives_up_once_the_job_is_no_longer_its_own(tx_db: Database) -> None:
    claim = claimed(tx_db, lease=600)
    with tx_db.session() as session:
        lifecycle.cancel(session, claim.job_id)
    keeper = LeaseKeeper(tx_db, claim, 600)
    ticks = Ticks(5)
    keeper.stopped = ticks  # type: ignore[assignment]
    keeper.run()
    assert keeper.lost.is_set()
    assert len(ticks.waits) == 1, "it stops at the first refused renewal"


def test_the_lease_keeper_outlives_an_unreachable_database(
    tx_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    claim = claimed(tx_db, lease=600)
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
    pipeline_runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    keepers: list[LeaseKeeper] = []

    class Recorded(LeaseKeeper):
        def start(self) -> None:
            keepers.append(self)
            super().start()

    monkeypatch.setattr(pipeline_module, "LeaseKeeper", Recorded)
    outcome, _ = pipeline_runs.job(tone_wav(SECONDS)).run(FakeModel(HELLO))
    assert outcome == Outcome("completed")
    [keeper] = keepers
    keeper.join(timeout=10)
    assert not keeper.is_alive()
    assert not keeper.lost.is_set()


def test_the_lease_keeper_checks_the_run_between_renewals(tx_db: Database) -> None:
    claim = claimed(tx_db, lease=600)
    # A 2 s lease is renewed every second; the run is checked every half second in between.
    keeper = LeaseKeeper(tx_db, claim, 2, check_seconds=0.5)
    expires = row(tx_db, claim.job_id).lease_expires_at
    keeper.stopped = Ticks(1)  # type: ignore[assignment]
    keeper.run()
    assert row(tx_db, claim.job_id).lease_expires_at == expires, "a check renews nothing"
    ticks = Ticks(2)
    keeper.stopped = ticks  # type: ignore[assignment]
    keeper.run()
    assert ticks.waits == [0.5] * 3
    renewed = row(tx_db, claim.job_id).lease_expires_at
    assert renewed is not None
    assert expires is not None
    assert renewed < expires, "renewed for 2 s"
    assert not keeper.lost.is_set()


def test_a_check_that_finds_the_job_cancelled_tells_the_run(tx_db: Database) -> None:
    claim = claimed(tx_db, lease=600)
    keeper = LeaseKeeper(tx_db, claim, 600, check_seconds=0.5)
    told: list[str] = []
    keeper.on_lost(lambda: told.append("waiting run"))
    with tx_db.session() as session:
        lifecycle.cancel(session, claim.job_id)
    ticks = Ticks(5)
    keeper.stopped = ticks  # type: ignore[assignment]
    keeper.run()
    assert keeper.lost.is_set()
    assert ticks.waits == [0.5], "noticed at the first check, long before a renewal"
    assert told == ["waiting run"]
    keeper.on_lost(lambda: told.append("late"))
    assert told == ["waiting run", "late"], "a callback given after the loss runs at once"
