"""Benchmark 1: one long recording through the whole platform vs faster-whisper directly."""

from __future__ import annotations

import logging

from bench import recordings
from bench.context import BenchContext
from bench.direct import DirectPool
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, duration, pct, runs, secs
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
    direct_cpu: list[float] = []
    platform_cpu: list[float] = []
    try:
        for attempt in range(scale.overhead_runs):
            # Alternate which side goes first, so drift favours neither.
            order = ("direct", "platform") if attempt % 2 == 0 else ("platform", "direct")
            for side in order:
                if side == "direct":
                    direct_times.append(direct.transcribe([audio]))
                    direct_cpu.append(direct.cpu)
                    logger.info("overhead: direct %.2f s", direct_times[-1])
                else:
                    cpu = platform.cpu_seconds()
                    submitted, done = platform.transcribe([audio])
                    platform_cpu.append(platform.cpu_seconds() - cpu)
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
One recording of {duration(seconds)}, {runs(scale.overhead_runs)} per side, the sides
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
    table = Table(["side", "median wall time", "runs", "audio s per wall s", "CPU time"])
    table.add(
        "direct faster-whisper",
        secs(direct_s),
        _listed(direct_times),
        f"{seconds / direct_s:.2f}",
        f"{median(direct_cpu):.1f} s",
    )
    table.add(
        "platform, upload → completed",
        secs(platform_s),
        _listed(platform_times),
        f"{seconds / platform_s:.2f}",
        f"{median(platform_cpu):.1f} s",
    )
    table.add(
        "platform, 202 → completed",
        secs(accepted_s),
        _listed(accepted_times),
        f"{seconds / accepted_s:.2f}",
        "",
    )
    section.tables.append(("", table))
    cpu_ratio = median(platform_cpu) / median(direct_cpu)
    paired = median([d / p for d, p in zip(direct_times, platform_times, strict=True)])
    section.notes.append(
        f"Each run of one side was paired with the run of the other side next to it in time; "
        f"the median over those pairs of direct time / platform time is {pct(paired)}."
    )
    section.notes.append(
        f"CPU time, which other work on the machine disturbs far less than wall time: the "
        f"platform's processes (API with its probes, worker parent and pool process) used "
        f"{pct(cpu_ratio)} of the CPU time of the direct call (the direct figure counts only "
        f"the transcription; PostgreSQL, Redis and RabbitMQ are not counted on either side)."
    )
    section.data = {
        "audio_seconds": seconds,
        "direct": direct_times,
        "platform": platform_times,
        "platform_after_202": accepted_times,
        "direct_cpu": direct_cpu,
        "platform_cpu": platform_cpu,
        "cpu_ratio": cpu_ratio,
        "paired_ratio": paired,
        "ratio": ratio,
    }
    return section


def _listed(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)
