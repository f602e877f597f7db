"""`Pipeline.run` on a recording longer than a window (the window made short here): each window
goes to the model on its own, the stored segments carry the recording's times and one run of
indexes, and a recording that passes the duration limit in a later window fails with
`duration_exceeded`. Real Postgres (rolled back per test), real Redis, real decoding."""

from __future__ import annotations

import pytest

from core import lifecycle
from core.events import CompletedEvent, FailedEvent
from core.settings import Settings
from tests.support.fake_transcriber import FakeModel, FakeSegment, FakeWord, tone_wav
from tests.support.pipeline_runs import LEASE, SECONDS, Runs, kinds
from worker import pipeline as pipeline_module
from worker import windows as windows_module
from worker.pipeline import Outcome

pytestmark = pytest.mark.integration

WINDOW = 0.8
"""Seconds: the 2 s tone makes four windows (a tone holds no speech: each is cut in the
middle of its tail)."""


@pytest.fixture(autouse=True)
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows_module, "WINDOW_SECONDS", WINDOW)
    monkeypatch.setattr(pipeline_module, "FLUSH_INTERVAL_SECONDS", 3600)


def test_windows_are_stored_as_one_recording(pipeline_runs: Runs) -> None:
    first = [FakeSegment(0.0, 0.3, " One.", [FakeWord(0.0, 0.3, " One.", 0.9)])]
    second = [FakeSegment(0.1, 0.4, " Two."), FakeSegment(0.4, 0.5, " Three.")]
    third = [FakeSegment(0.0, 0.2, " Four.")]
    model = FakeModel(first, language="en", windows=[second, third])
    runner = pipeline_runs.job(tone_wav(SECONDS), duration=None)

    outcome, _ = runner.run(model)

    assert outcome == Outcome("completed")
    samples = [call.samples for call in model.calls]
    assert len(samples) >= 3
    assert sum(samples) == SECONDS * 16000
    assert all(n <= WINDOW * 16000 for n in samples)
    starts = [0.0, samples[0] / 16000, (samples[0] + samples[1]) / 16000]
    job = runner.row()
    assert (job.text, job.duration_seconds) == ("One. Two. Three. Four.", SECONDS)
    with runner.db.session() as session:
        stored = lifecycle.segments_of(session, runner.job_id)
    assert [(s.index, s.text) for s in stored] == [
        (0, " One."),
        (1, " Two."),
        (2, " Three."),
        (3, " Four."),
    ]
    expected = [
        (starts[0], 0.3),
        (round(starts[1] + 0.1, 3), round(starts[1] + 0.4, 3)),
        (round(starts[1] + 0.4, 3), round(starts[1] + 0.5, 3)),
        (starts[2], round(starts[2] + 0.2, 3)),
    ]
    assert [(s.start, s.end) for s in stored] == expected
    assert [c.previous_text for c in model.calls[:3]] == ["", " One.", " One. Two. Three."]
    completed = runner.events.received()[-1]
    assert isinstance(completed, CompletedEvent)


def test_a_recording_that_passes_the_limit_in_a_later_window_fails(pipeline_runs: Runs) -> None:
    settings = Settings(job_lease_seconds=LEASE, max_duration_seconds=1.5)
    runner = pipeline_runs.job(tone_wav(SECONDS), settings=settings)
    model = FakeModel([FakeSegment(0.0, 0.3, " One.")], windows=[[]])

    outcome, _ = runner.run(model)

    assert outcome == Outcome("failed", "duration_exceeded")
    assert 1 <= len(model.calls) <= 2, "the windows before the limit were transcribed"
    assert sum(call.samples for call in model.calls) <= 1.5 * 16000
    events = runner.events.received()
    assert kinds(events)[-1][0] == "failed"
    failed = events[-1]
    assert isinstance(failed, FailedEvent)
    assert failed.error.code == "duration_exceeded"
    assert runner.row().status == "failed"
