"""Benchmark: what the OpenAI-compatible endpoint adds over the native upload, one short clip."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bench import recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Section, Table, duration, ms, runs
from bench.stats import median

logger = logging.getLogger(__name__)

RUNS = {"full": 15, "quick": 5, "smoke": 2}
CLIP_SECONDS = {"full": 10.0, "quick": 10.0, "smoke": 4.0}


def _openai_once(platform: BenchPlatform, clip: bytes, name: str) -> tuple[float, str]:
    """Seconds from the start of the request to the whole answer, and the job's id."""
    started = time.perf_counter()
    response = platform.http.post(
        "/v1/audio/transcriptions",
        files={"file": (name, clip, "audio/wav")},
        data={"model": "whisper-1", "response_format": "json"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"/v1 answered {response.status_code}: {response.text[:300]}")
    if not response.json()["text"].strip():
        raise RuntimeError("/v1 answered an empty transcript")
    return elapsed, response.headers["x-transcription-id"]


def _native_once(platform: BenchPlatform, path: Path) -> tuple[float, str]:
    submitted, done = platform.transcribe([path])
    return done - submitted.started, submitted.ids[0]


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    scale = context.scale.name
    count = RUNS.get(scale, 5)
    audio = recordings.recording(CLIP_SECONDS.get(scale, 10.0), seed=4242, folder=context.media_dir)
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    platform.start_worker(shape, warmup=warmup)
    clip = audio.read_bytes()
    native: list[float] = []
    compatible: list[float] = []
    for attempt in range(count):
        # Alternate which side goes first, so drift favours neither; each job is deleted
        # after its run, so no run can be answered from an earlier identical upload.
        order = ("native", "openai") if attempt % 2 == 0 else ("openai", "native")
        for side in order:
            if side == "native":
                seconds, job_id = _native_once(platform, audio)
                native.append(seconds)
            else:
                seconds, job_id = _openai_once(platform, clip, audio.name)
                compatible.append(seconds)
            logger.info("openai overhead: %s %.3f s", side, seconds)
            platform.delete(job_id)
    return _section(recordings.duration(audio), count, shape, native, compatible)


def _section(
    seconds: float, count: int, shape: WorkerShape, native: list[float], compatible: list[float]
) -> Section:
    native_s, compatible_s = median(native), median(compatible)
    pairs = [b - a for a, b in zip(native, compatible, strict=True)]
    table = Table(["path", "p50", "fastest", "slowest"])
    table.add("native: `POST /api/transcriptions` + `completed` event", ms(native_s),
              ms(min(native)), ms(max(native)))  # fmt: skip
    table.add("OpenAI: `POST /v1/audio/transcriptions` answered", ms(compatible_s),
              ms(min(compatible)), ms(max(compatible)))  # fmt: skip
    table.add("overhead (p50 of the per-run differences)", ms(median(pairs)), "", "")
    section = Section(
        key="openai",
        title="OpenAI-compatible endpoint: overhead over the native upload",
        method=f"""
One short recording of {duration(seconds)}, {runs(count)} per side, interleaved (the first side
alternates), one worker process ({shape.label}) that loaded its model and transcribed a
warm-up file first. **Native**: the file uploaded to `POST /api/transcriptions`, timed from
the start of the request to the moment the job's `completed` event is published (read from
Redis, the earliest any client could learn it). **OpenAI**: the same file sent to
`POST /v1/audio/transcriptions` (`model=whisper-1`, `response_format=json`), timed from the
start of the request to the end of its answer, which comes after the request has seen the
job's terminal event through the API's event hub and read the transcript from Postgres.
Every job is deleted after its run.
""",
    )
    section.tables.append(("Seconds per request", table))
    section.data.update(
        native_seconds=native, openai_seconds=compatible, overhead_p50_seconds=median(pairs)
    )
    return section
