"""Probe processes: reused while they answer, replaced when they die, hang or age."""

from __future__ import annotations

import math
import multiprocessing
import struct
import wave
from pathlib import Path

import pytest

from core import media
from core.errors import MediaError

pytestmark = pytest.mark.unit


def tone(folder: Path, seconds: float) -> Path:
    path = folder / f"tone-{seconds:g}s.wav"
    frames = int(seconds * media.SAMPLE_RATE)
    step = 2 * math.pi * 440 / media.SAMPLE_RATE
    samples = (int(8000 * math.sin(step * i)) for i in range(frames))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(media.SAMPLE_RATE)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


@pytest.fixture
def pool() -> media.ProbePool:
    return media.ProbePool()


def test_one_process_answers_file_after_file(pool: media.ProbePool, tmp_path: Path) -> None:
    clip = tone(tmp_path, 2)
    pids = []
    for _ in range(3):
        answer = pool.ask(clip, 30)
        assert answer is not None
        assert answer["result"]["duration_seconds"] == pytest.approx(2, abs=0.01)
        pids.extend(pool.idle_pids())
    assert len(pids) == 3
    assert len(set(pids)) == 1


def test_a_process_is_replaced_after_its_last_use(
    pool: media.ProbePool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "PROBE_PROCESS_USES", 2)
    clip = tone(tmp_path, 1)
    pool.ask(clip, 30)
    (first,) = pool.idle_pids()
    pool.ask(clip, 30)
    assert pool.idle_pids() == []
    pool.ask(clip, 30)
    assert pool.idle_pids() != [first]


def test_a_process_that_died_while_waiting_is_not_used(
    pool: media.ProbePool, tmp_path: Path
) -> None:
    clip = tone(tmp_path, 1)
    pool.ask(clip, 30)
    (first,) = pool.idle_pids()
    pool._idle[0].process.kill()
    pool._idle[0].process.join()
    answer = pool.ask(clip, 30)
    assert answer is not None
    assert "result" in answer
    assert pool.idle_pids() not in ([], [first])


def test_a_process_that_dies_mid_probe_gives_no_answer(tmp_path: Path) -> None:
    process = media.ProbeProcess(multiprocessing.get_context("forkserver"))
    process.process.kill()
    process.process.join()
    try:
        assert process.ask(tone(tmp_path, 1), 30) is None
    finally:
        process.stop()


def test_a_probe_past_the_time_limit_fails_and_its_process_is_killed(
    pool: media.ProbePool, tmp_path: Path
) -> None:
    with pytest.raises(MediaError) as caught:
        pool.ask(tone(tmp_path, 300), 0.000_001)
    assert caught.value.code == "probe_timeout"
    assert pool.idle_pids() == []
    answer = pool.ask(tone(tmp_path, 1), 30)
    assert answer is not None
    assert "result" in answer


def test_media_errors_come_back_from_the_probe_process(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(MediaError) as caught:
        media.ProbePool().probe(junk, 30)
    assert caught.value.code == "unsupported_media"
