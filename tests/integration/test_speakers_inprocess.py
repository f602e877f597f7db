"""Speaker labels through `Pipeline.run` in-process: real espeak-ng dialogs with known turns,
the real speaker encoder (resemblyzer's weights run with numpy), a fake transcriber whose
segments each span a change of speaker, the real Postgres and Redis.

The wrong share is the part of the true speech time whose words were given to the wrong
speaker, under the best mapping of labels to voices (`tests/support/dialogs.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.events import ProcessingEvent, ProgressEvent, SegmentOut
from tests.support import dialogs
from tests.support.dialogs import Turn, wrong_share
from tests.support.fake_transcriber import FakeModel, FakeSegment, FakeWord
from tests.support.pipeline_runs import Runs
from worker.diarization import Diarizer
from worker.speaker_turns import Turns

pytestmark = pytest.mark.integration

WORDS_PER_TURN = 4


@pytest.fixture(scope="module")
def diarizer() -> Diarizer:
    """One encoder for the module (loading it takes a fraction of a second)."""
    return Diarizer()


def _words(turn: Turn, n: int) -> list[FakeWord]:
    step = (turn.end - turn.start) / WORDS_PER_TURN
    return [
        FakeWord(turn.start + k * step, turn.start + (k + 1) * step, f" t{n}w{k}", 0.9)
        for k in range(WORDS_PER_TURN)
    ]


def spanning_segments(truth: Sequence[Turn]) -> list[FakeSegment]:
    """One segment for every two turns: each spans a change of speaker."""
    segments = []
    for first in range(0, len(truth), 2):
        pair = truth[first : first + 2]
        words = [w for n, t in enumerate(pair, start=first) for w in _words(t, n)]
        text = "".join(w.word for w in words)
        segments.append(FakeSegment(pair[0].start, pair[-1].end, text, words))
    return segments


def _labelled_words(segments: Sequence[Any]) -> Turns:
    spans = []
    for s in segments:
        for w in s.words or []:
            spans.append((w["start"], w["end"], int(w["speaker"][1:])))
    return Turns(spans)


def _run_dialog(
    runs: Runs, diarizer: Diarizer, path: Path, truth: list[Turn], mode: str, **options: Any
) -> Any:
    runner = runs.job(path.read_bytes(), duration=truth[-1].end + 0.4, speaker_mode=mode, **options)
    outcome, _ = runner.run(FakeModel(spanning_segments(truth)), diarizer=diarizer)
    assert outcome.status == "completed"
    return runner


def _stored(runner: Any) -> list[SegmentOut]:
    from core import lifecycle

    with runner.db.session() as session:
        return [SegmentOut.of(s) for s in lifecycle.segments_of(session, runner.job_id)]


@pytest.mark.parametrize("voices", [2, 3])
def test_given_count_gives_little_time_to_the_wrong_speaker(
    pipeline_runs: Runs, diarizer: Diarizer, tmp_path: Path, voices: int
) -> None:
    path, truth = dialogs.dialog(tmp_path, voices)
    runner = _run_dialog(pipeline_runs, diarizer, path, truth, str(voices), word_timestamps=True)
    stored = _stored(runner)
    job = runner.row()
    assert job.speakers == {f"S{n}": f"S{n}" for n in range(1, voices + 1)}
    assert job.speakers_error is None
    turns = _labelled_words(stored)
    wrong = wrong_share(truth, lambda a, b: turns.speaker(a, b))
    print(f"{voices} voices: {wrong:.1%} of the speech given to the wrong speaker")
    assert wrong <= 0.05
    # Every segment has one speaker, that of all its words, and the first to speak is S1.
    assert stored[0].speaker == "S1"
    for segment in stored:
        assert {w["speaker"] for w in segment.words or []} == {segment.speaker}
    assert len(stored) > len(spanning_segments(truth))  # split at the changes
    assert [s.index for s in stored] == list(range(len(stored)))
    assert "".join(s.text for s in stored).strip() == job.text


def test_stage_reports_its_progress_and_the_final_segments(
    pipeline_runs: Runs, diarizer: Diarizer, tmp_path: Path
) -> None:
    path, truth = dialogs.dialog(tmp_path, 2, turns=4)
    runner = _run_dialog(pipeline_runs, diarizer, path, truth, "2")
    events = runner.events.received()
    stages = [e for e in events if isinstance(e, ProcessingEvent) and e.stage == "diarizing"]
    assert stages, [e.type for e in events]
    progress = [e.progress for e in events if e.type in ("progress", "processing")]
    assert progress == sorted(progress)
    last = [e for e in events if isinstance(e, ProgressEvent)][-1]
    assert [s.speaker for s in last.segments] == [s.speaker for s in _stored(runner)]
    assert all(s.words is None for s in _stored(runner))  # words not asked for: not kept


def test_channels_are_exact(pipeline_runs: Runs, diarizer: Diarizer, tmp_path: Path) -> None:
    path, truth = dialogs.dialog(tmp_path, 2, turns=6, stereo=True)
    runner = _run_dialog(pipeline_runs, diarizer, path, truth, "channels", word_timestamps=True)
    stored = _stored(runner)
    turns = _labelled_words(stored)
    for n, turn in enumerate(truth):  # channel 1 is S1, whoever speaks first
        for word in _words(turn, n):
            assert turns.speaker(word.start, word.end) == turn.speaker + 1
    assert runner.row().speakers == {"S1": "S1", "S2": "S2"}


class BrokenDiarizer(Diarizer):
    def turns(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the speaker encoder broke")


def test_a_failed_diarization_keeps_the_transcript(pipeline_runs: Runs, tmp_path: Path) -> None:
    path, truth = dialogs.dialog(tmp_path, 2, turns=4)
    runner = _run_dialog(pipeline_runs, BrokenDiarizer(), path, truth, "2")
    job = runner.row()
    assert job.status == "completed"
    assert job.text == "".join(s.text for s in spanning_segments(truth)).strip()
    assert job.speakers is None
    assert "the speaker encoder broke" in (job.speakers_error or "")
    stored = _stored(runner)
    assert [s.text for s in stored] == [s.text for s in spanning_segments(truth)]
    assert all(s.speaker is None and s.words is None for s in stored)


def test_channels_on_a_mono_file_says_why(
    pipeline_runs: Runs, diarizer: Diarizer, tmp_path: Path
) -> None:
    path, truth = dialogs.dialog(tmp_path, 2, turns=2)
    runner = _run_dialog(pipeline_runs, diarizer, path, truth, "channels")
    job = runner.row()
    assert job.status == "completed"
    assert job.speakers is None
    assert "stereo" in (job.speakers_error or "")
