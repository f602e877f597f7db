"""A ten-minute recording on the shipped shape (one worker group, two single-threaded slots,
splitting at its defaults): the job is cut in two at a silence, the pieces run at once, and
the stitched transcript reads as well as the same file transcribed whole: segments in order,
times increasing, word error rate against the spoken text within one point."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from bench.recordings import script
from core import media
from core.models import TranscriptionPiece
from core.options import JobOptions
from core.settings import Settings
from tests.support import media as media_files
from tests.support.media import word_error_rate
from tests.support.private import PrivatePlatform, private_platform
from worker.transcriber import Transcriber
from worker.windowed import WindowedTranscription
from worker.windows import at_silences

pytestmark = pytest.mark.integration

SECONDS = 600


@pytest.fixture(scope="module")
def ten_minutes(media_dir: Path) -> tuple[Path, str]:
    """Ten minutes of espeak-ng speech (the last seconds silent) and the text it speaks."""
    text = script(540, seed=17)
    words = text.split()[: int(540 * 140 / 60)]  # about nine minutes at 140 words a minute
    spoken = " ".join(words).rstrip(",") + "."
    raw = media_dir / "split-ten-minutes.raw.wav"
    target = media_dir / "split-ten-minutes.wav"
    if not target.exists():
        espeak = media_files.require("espeak-ng")
        subprocess.run(
            [espeak, "-v", "en-us", "-s", "140", "-w", str(raw), spoken],
            check=True,
            capture_output=True,
        )
        assert len(media.decode_audio(raw)) < SECONDS * media.SAMPLE_RATE, "speech fits"
        media_files.convert(raw, target, "-af", "apad", "-t", str(SECONDS), "-ar", "16000")
    return target, spoken


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(run_dir / "split", concurrency=2) as platform:
        yield platform


def whole_text(path: Path) -> str:
    """The same file transcribed in one run (no pieces), as a worker decodes it."""
    model = Transcriber(Settings(whisper_cpu_threads=2))
    run = WindowedTranscription(
        model, at_silences(media.iter_audio(path)), JobOptions(model="tiny.en")
    )
    return "".join(s.text for s in run.segments()).strip()


def test_a_ten_minute_recording_is_split_stitched_and_reads_as_well(
    platform: PrivatePlatform, ten_minutes: tuple[Path, str]
) -> None:
    path, spoken = ten_minutes
    response = platform.upload(path)
    assert response.status_code == 202, response.text
    job_id = response.json()["items"][0]["id"]
    job = platform.wait_status(job_id, timeout=900)
    assert job["status"] == "completed", job["error"]

    with platform.session() as session:
        pieces = session.exec(
            select(TranscriptionPiece)
            .where(col(TranscriptionPiece.transcription_id) == job_id)
            .order_by(col(TranscriptionPiece.number))
        ).all()
    assert [p.status for p in pieces] == ["completed", "completed"]
    assert pieces[0].end_seconds == pieces[1].start_seconds
    assert abs(pieces[1].start_seconds - SECONDS / 2) < 30, "cut near the middle"

    segments = job["segments"]
    assert [s["index"] for s in segments] == list(range(len(segments)))
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(segments))
    assert all(s["start"] <= s["end"] for s in segments)
    assert segments[-1]["end"] <= SECONDS + 0.01
    cut = pieces[1].start_seconds
    assert any(s["start"] >= cut for s in segments), "the second piece's times are the file's"
    assert not any(s["start"] < cut - 0.01 and s["end"] > cut + 0.01 for s in segments)

    split_wer = word_error_rate(spoken, job["text"])
    whole_wer = word_error_rate(spoken, whole_text(path))
    print(f"ten minutes: WER split {split_wer:.4f}, whole {whole_wer:.4f}, cut at {cut:.2f} s")
    assert split_wer <= whole_wer + 0.01
