"""Pure domain pieces: state machine, transcript formats, storage keys, settings, options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import Settings
from core.states import JobStatus, can_transition
from core.storage import LocalStorage, StorageError
from core.transcripts import to_srt, to_tsv, to_txt, to_vtt

pytestmark = pytest.mark.unit


@dataclass
class Seg:
    index: int
    start: float
    end: float
    text: str


SEGMENTS = [Seg(0, 0.0, 2.5, " Hello there."), Seg(1, 2.5, 3661.0456, " Second line.")]


def test_state_machine() -> None:
    assert can_transition(JobStatus.queued, JobStatus.processing)
    assert can_transition(JobStatus.processing, JobStatus.cancelled)
    assert can_transition(JobStatus.failed, JobStatus.queued)
    assert not can_transition(JobStatus.completed, JobStatus.queued)
    assert not can_transition(JobStatus.cancelled, JobStatus.processing)
    assert {s for s in JobStatus if s.is_terminal} == {
        JobStatus.completed,
        JobStatus.failed,
        JobStatus.cancelled,
    }


def test_srt_bytes() -> None:
    # A cue lasts at most 7 s (core.subtitles), however long its segment.
    assert to_srt(SEGMENTS, {}) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n"
        "2\n00:00:02,500 --> 00:00:09,500\nSecond line.\n"
    )


def test_vtt_bytes() -> None:
    assert to_vtt(SEGMENTS, {}) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n"
        "00:00:02.500 --> 00:00:09.500\nSecond line.\n"
    )


def test_txt_and_tsv() -> None:
    assert to_txt(SEGMENTS, {}) == "Hello there.\nSecond line.\n"
    assert (
        to_tsv(SEGMENTS, {})
        == "start\tend\ttext\n0\t2500\tHello there.\n2500\t3661046\tSecond line.\n"
    )
    assert to_txt([], {}) == ""


def test_storage_keys_never_come_from_outside(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for bad in ("../x", "a/b", "..", "0" * 31, "g" * 32):
        with pytest.raises(StorageError):
            storage.path(bad)
    upload = storage.open_upload()
    upload.write(b"abc")
    key = upload.commit()
    assert storage.path(key).read_bytes() == b"abc"
    assert upload.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert storage.delete(key)
    assert not storage.exists(key)
    partial = storage.open_upload()
    partial.write(b"x")
    partial.discard()
    assert storage.files() == []


def test_settings_lists_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cors_origins="https://a.example, https://b.example", worker_concurrency=2)  # type: ignore[arg-type]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert Settings(whisper_cpu_threads=3).cpu_threads() == 3
    # Unset, the machine's cores are shared by every worker slot (processes x concurrency),
    # at least one thread each.
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert Settings(worker_processes=2, worker_concurrency=2).cpu_threads() == 2
    assert Settings(worker_processes=1, worker_concurrency=3).cpu_threads() == 2
    assert Settings(worker_processes=3, worker_concurrency=3).cpu_threads() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert Settings(worker_processes=1, worker_concurrency=1).cpu_threads() == 1
    with pytest.raises(ValueError, match="guest"):
        Settings(environment="production")
