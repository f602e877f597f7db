"""Benchmark 1: one long recording through the whole platform vs faster-whisper directly."""

from __future__ import annotations

import logging

from bench import recordings
from bench.context import BenchContext
from bench.direct import DirectPool
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, pct, secs
from bench.stats import median

logger = logging.getLogger(__name__)

GOAL_OVERHEAD = 0.03  # the platform at most 3 % slower
GOAL_THROUGHPUT_RATIO = 0.95  # one worker process reaches 95 % of direct throughput


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    scale = context.scale
    audio = recordings.recording(scale.overhead_seconds, seed=1, folder=context.media_dir)
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    seconds = recordings.duration(audio)

    platform.start_worker(shape, warmup=warmup)
    direct = DirectPool(shape, warmup=warmup)
    direct_times: list[float] = []
    platform_times: list[float] = []
    accepted_times: list[float] = []
    try:
        for attempt in range(scale.overhead_runs):
            # Alternate which side goes first, so drift favours neither.
            order = ("direct", "platform") if attempt % 2 == 0 else ("platform", "direct")
            for side in order:
                if side == "direct":
                    direct_times.append(direct.transcribe([audio]))
                    logger.info("overhead: direct %.2f s", direct_times[-1])
                else:
                    submitted, done = platform.transcribe([audio])
                    platform_times.append(done - submitted.started)
                    accepted_times.append(done - submitted.accepted)
                    logger.info("overhead: platform %.2f s", platform_times[-1])
                    platform.delete(submitted.ids[0])
    finally:
        direct.close()

    direct_s = median(direct_times)
    platform_s = median(platform_times)
    accepted_s = median(accepted_times)
    ratio = direct_s / platform_s  # platform throughput as a share of direct throughput
    slower = platform_s / direct_s - 1

    section = Section(
        key="overhead",
        title="1. Overhead: one recording through the whole platform",
        method=f"""
One {seconds / 60:g}-minute recording, {scale.overhead_runs} runs per side, the sides
interleaved (the first side alternates). **Direct**: `WhisperModel.transcribe(path,
**decode_options(...))` in a process that loaded the model beforehand, consuming every segment.
**Platform**: the same file uploaded to a running API, transcribed by one worker process
({shape.label}) that loaded its model at start; timed from the start of the upload request to
the arrival of the job's `completed` event (the event stream the API relays), so it includes
upload, probe, queueing, decoding, transcription, per-segment writes and events. Both sides
use the same model, options and threads, and transcribed one short warm-up file first.
""",
    )
    section.goals = [
        Goal(
            "platform slower than direct by",
            f"≤ {GOAL_OVERHEAD * 100:g} %",
            pct(slower),
            slower <= GOAL_OVERHEAD,
        ),
        Goal(
            "platform throughput / direct throughput",
            f"≥ {GOAL_THROUGHPUT_RATIO * 100:g} %",
            pct(ratio),
            ratio >= GOAL_THROUGHPUT_RATIO,
        ),
    ]
    table = Table(["side", "median", "runs", "audio s per wall s"])
    table.add(
        "direct faster-whisper", secs(direct_s), _runs(direct_times), f"{seconds / direct_s:.2f}"
    )
    table.add(
        "platform, upload → completed",
        secs(platform_s),
        _runs(platform_times),
        f"{seconds / platform_s:.2f}",
    )
    table.add(
        "platform, 202 → completed",
        secs(accepted_s),
        _runs(accepted_times),
        f"{seconds / accepted_s:.2f}",
    )
    section.tables.append(("", table))
    section.data = {
        "audio_seconds": seconds,
        "direct": direct_times,
        "platform": platform_times,
        "platform_after_202": accepted_times,
        "ratio": ratio,
    }
    return section


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)
