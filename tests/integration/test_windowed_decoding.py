"""A real recording through the real bundled model, window by window, in both decoding modes:
the windows' seams lie in silences, so the text is the one a single pass gives, no word lost,
cut in two or read twice, and the times are the recording's.

Windows of 12 s put a seam every few sentences of a 40 s recording (the worker's are 5 min).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from bench.recordings import recording
from core import media
from core.options import JobOptions
from core.settings import Settings
from tests.support.media import word_error_rate
from worker.transcriber import Transcriber
from worker.windowed import WindowedTranscription
from worker.windows import at_silences

pytestmark = pytest.mark.integration

SECONDS = 40
WINDOW = 12.0
MODES = {"chunked": 2, "precise": 0}
"""WHISPER_BATCH_SIZE of each decoding mode."""


@pytest.fixture(scope="module")
def speech(media_dir: Path) -> Path:
    return recording(SECONDS, seed=3, folder=media_dir)


@pytest.fixture(scope="module", params=sorted(MODES))
def transcriber(request: pytest.FixtureRequest) -> Transcriber:
    return Transcriber(Settings(whisper_batch_size=MODES[request.param], whisper_cpu_threads=2))


def transcribed(model: Transcriber, path: Path, window: float) -> tuple[list[Any], float]:
    options = JobOptions(model="tiny.en", word_timestamps=True)
    run = WindowedTranscription(model, at_silences(media.iter_audio(path), window), options)
    segments = list(run.segments())
    assert run.language == "en"
    return segments, run.seconds


def text(segments: list[Any]) -> str:
    return "".join(s.text for s in segments)


def test_windowed_text_is_the_single_pass_text(transcriber: Transcriber, speech: Path) -> None:
    whole, seconds = transcribed(transcriber, speech, 600)
    windowed, windowed_seconds = transcribed(transcriber, speech, WINDOW)
    seams = [w.end_seconds for w in at_silences(media.iter_audio(speech), WINDOW)][:-1]
    print("seams at", seams, "\none pass:", text(whole), "\nwindowed:", text(windowed))

    assert len(seams) >= 3
    assert windowed_seconds == seconds == pytest.approx(SECONDS, abs=0.01)
    words = [w for s in windowed for w in s.words]
    # The model reads a 12 s window a little differently from the same audio inside a 30 s
    # one ("students cleaned" / "student cleans"); a word lost or read twice at each of the
    # seams would show as well.
    assert abs(len(words) - len(text(whole).split())) <= 5
    assert word_error_rate(text(whole), text(windowed)) <= 0.15
    for seam in seams:
        assert not any(w.start < seam - 0.05 and w.end > seam + 0.05 for w in words), (
            f"a word spans the seam at {seam:.2f} s"
        )
    assert any(s.start >= seams[-1] for s in windowed), "the last window's times are moved"
    assert all(a.start <= b.start for a, b in itertools.pairwise(windowed))
    assert windowed[-1].end <= seconds + 0.01
