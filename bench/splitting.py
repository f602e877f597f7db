"""Benchmark: a lone long recording on the shipped worker shape, split into pieces against
transcribed whole (`SPLIT_MIN_SECONDS=0`), side by side.

One API, one worker group of the shipped shape (two single-threaded slots on two cores); the
worker is started with splitting on or off before each side's run (model loaded, warmed up,
idle), the sides take turns, the first side alternating. Each run is timed from the start of
the upload request to the job's `completed` event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench import procstat, recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform, WorkerShape
from bench.memory import pool_pids
from bench.report import Goal, Section, Table, duration, runs, secs
from bench.stats import median

logger = logging.getLogger(__name__)

GOAL_RATIO = 0.6  # split: at most 0.6x the time of the same file transcribed whole
MAX_RUNS = 3


@dataclass
class Side:
    name: str
    split_min_seconds: str
    wall: list[float] = field(default_factory=list)
    pieces: list[int] = field(default_factory=list)
    busiest: list[float] = field(default_factory=list)
    """CPU seconds of the busiest pool process during the run: its wall time on an idle
    machine, whatever else shares the cores while it runs."""


def _pieces(context: BenchContext, job_id: str) -> int:
    engine = sa.create_engine(context.database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT count(*) FROM transcription_pieces WHERE transcription_id = :id"),
                {"id": job_id},
            ).scalar_one()
    finally:
        engine.dispose()
    return int(found)


def _measure(
    context: BenchContext,
    platform: BenchPlatform,
    shape: WorkerShape,
    side: Side,
    audio: Path,
    warmup: Path,
) -> None:
    platform.stop_worker()  # a worker with this side's setting, idle and warmed up
    platform.platform.env = {**platform.platform.env, "SPLIT_MIN_SECONDS": side.split_min_seconds}
    platform.start_worker(shape, warmup=warmup)
    slots = pool_pids(platform)
    before = [procstat.tree_cpu_seconds(pid) for pid in slots]
    submitted, done = platform.transcribe([audio])
    side.wall.append(done - submitted.started)
    used = [procstat.tree_cpu_seconds(pid) - b for pid, b in zip(slots, before, strict=True)]
    side.busiest.append(max(used))
    side.pieces.append(_pieces(context, submitted.ids[0]))
    platform.delete(submitted.ids[0])
    logger.info(
        "splitting: %s %.2f s (%d pieces), busiest slot %.2f CPU s",
        side.name,
        side.wall[-1],
        side.pieces[-1],
        side.busiest[-1],
    )


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    scale = context.scale
    audio = recordings.recording(scale.overhead_seconds, seed=1, folder=context.media_dir)
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    split_min = "300"  # the default
    if scale.overhead_seconds < 300:  # smoke: a recording of seconds still splits
        split_min = str(max(1, int(scale.overhead_seconds / 2)))
    whole = Side("whole", "0")
    split = Side("split", split_min)
    env = dict(platform.platform.env)
    try:
        for attempt in range(min(scale.overhead_runs, MAX_RUNS)):
            for side in (whole, split) if attempt % 2 == 0 else (split, whole):
                _measure(context, platform, shape, side, audio, warmup)
    finally:
        platform.stop_worker()
        platform.platform.env = env
    return _section(recordings.duration(audio), shape, whole, split, split_min)


def _section(
    seconds: float, shape: WorkerShape, whole: Side, split: Side, split_min: str
) -> Section:
    ratio = median(split.wall) / median(whole.wall)
    paired = median([s / w for s, w in zip(split.wall, whole.wall, strict=True)])
    section = Section(
        key="splitting",
        title="Splitting: a lone long recording on the shipped shape",
        method=f"""
One recording ({duration(seconds)}) uploaded to an idle platform and transcribed by one worker
group of the shipped shape ({shape.label}), timed from the start of the upload request to the
job's `completed` event, {runs(len(whole.wall))} per side. **whole**: splitting off
(`SPLIT_MIN_SECONDS=0`, what the platform did before splitting): one slot transcribes the
file while the other waits. **split**: `SPLIT_MIN_SECONDS={split_min}`, the first run cuts
the file at silences into one piece per free slot and each slot transcribes one; the last
piece stitches the job. The worker is restarted with each side's setting before its run
(model loaded, warmed up); the sides take turns, the first side alternating.
""",
    )
    section.goals = [
        Goal("split / whole wall time", f"≤ {GOAL_RATIO:g}x", f"{ratio:.2f}x", ratio <= GOAL_RATIO)
    ]
    table = Table(
        ["side", "median wall time", "runs", "pieces", "busiest slot (CPU s)", "audio s per wall s"]
    )
    for side in (whole, split):
        table.add(
            side.name,
            secs(median(side.wall)),
            ", ".join(f"{w:.2f}" for w in side.wall),
            ", ".join(str(p) for p in side.pieces),
            ", ".join(f"{b:.1f}" for b in side.busiest),
            f"{seconds / median(side.wall):.2f}",
        )
    section.tables.append(("", table))
    slot_ratio = median(split.busiest) / median(whole.busiest)
    section.notes.append(
        f"Pairing each split run with the whole run beside it in time, the median of split / "
        f"whole is {paired:.2f}x. The busiest slot's CPU time (what the run takes on cores "
        f"nothing else uses) is {slot_ratio:.2f}x that of the whole file's slot."
    )
    section.data = {
        "audio_seconds": seconds,
        "whole": whole.wall,
        "split": split.wall,
        "pieces": split.pieces,
        "ratio": ratio,
        "busiest_whole": whole.busiest,
        "busiest_split": split.busiest,
        "paired_ratio": paired,
    }
    return section
