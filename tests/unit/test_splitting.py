"""Where a long recording is cut into pieces (`worker.splitting`): real espeak-ng speech and
real Silero VAD, the search stretch made short for recordings of seconds."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core import media
from core.settings import Settings
from tests.support import media as media_files
from tests.unit.test_windows import RUN_ON, SENTENCES
from worker import splitting
from worker.splitting import cut_points, piece_count, search_start, stretches, upto

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def short_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(splitting, "SEARCH_SECONDS", 3.0)


@pytest.fixture(scope="module")
def sentences(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media_files.speech(SENTENCES, tmp_path_factory.mktemp("split"), name="sentences")


def _seconds(path: Path) -> float:
    return len(media.decode_audio(path)) / media.SAMPLE_RATE


def test_cuts_fall_in_pauses_near_equal_shares(sentences: Path) -> None:
    whole = media.decode_audio(sentences)
    duration = len(whole) / media.SAMPLE_RATE
    cuts = cut_points(media.iter_audio(sentences), duration, 3)
    assert len(cuts) == 2
    assert cuts == sorted(cuts)
    for cut, target in zip(cuts, (duration / 3, 2 * duration / 3), strict=True):
        assert abs(cut / media.SAMPLE_RATE - target) < 4, "near the piece's share"
        around = whole[cut - 480 : cut + 480]  # 30 ms either side of the cut
        assert np.abs(around).max() < 0.01, f"cut at {cut / media.SAMPLE_RATE:.2f} s in speech"


def test_the_search_may_begin_at_its_first_stretch(sentences: Path) -> None:
    duration = _seconds(sentences)
    first = search_start(duration, 3)
    assert first > 0
    later = cut_points(media.iter_audio(sentences, start=first), duration, 3, first=first)
    assert later == cut_points(media.iter_audio(sentences), duration, 3)


@pytest.mark.parametrize("name", ["sentences.wav", "sentences.flac"])
def test_the_pieces_cover_every_sample_once(sentences: Path, tmp_path: Path, name: str) -> None:
    path = media_files.convert(sentences, tmp_path / name)
    whole = media.decode_audio(path)
    duration = len(whole) / media.SAMPLE_RATE
    cuts = cut_points(media.iter_audio(path), duration, 3)
    edges = [0, *cuts, None]
    parts = [
        np.concatenate(list(upto(media.iter_audio(path, start=start), end and end - start)))
        for start, end in itertools.pairwise(edges)
    ]
    assert np.concatenate(parts).tobytes() == whole.tobytes()
    spans = stretches(cuts, duration)
    assert spans[0][0] == 0
    assert spans[-1][1] == duration
    assert [end for _, end in spans[:-1]] == [start for start, _ in spans[1:]]


def test_speech_without_a_pause_is_not_cut(tmp_path: Path) -> None:
    wav = tmp_path / "run-on.wav"
    espeak = media_files.require("espeak-ng")
    command = [espeak, "-v", "en-us", "-s", "200", "-g", "0", "-w", str(wav), RUN_ON]
    subprocess.run(command, check=True, capture_output=True)
    assert cut_points(media.iter_audio(wav), _seconds(wav), 3) == []


def test_silence_alone_is_cut_at_the_target() -> None:
    silent = [np.zeros(media.SAMPLE_RATE, dtype=np.float32) for _ in range(12)]
    assert cut_points(iter(silent), 12.0, 3) == [4 * media.SAMPLE_RATE, 8 * media.SAMPLE_RATE]


@pytest.mark.parametrize(
    ("duration", "free", "expected"),
    [
        (299.0, 4, 1),  # below SPLIT_MIN_SECONDS: never split
        (600.0, 2, 2),
        (600.0, 1, 1),  # no other slot free
        (600.0, 8, 5),  # pieces at least SPLIT_PIECE_MIN_SECONDS long
        (None, 4, 1),
    ],
)
def test_piece_count(duration: float | None, free: int, expected: int) -> None:
    settings = Settings(split_min_seconds=300, split_piece_min_seconds=120)
    assert piece_count(settings, duration, free) == expected


def test_splitting_off() -> None:
    assert piece_count(Settings(split_min_seconds=0), 3600.0, 8) == 1
