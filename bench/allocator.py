"""Benchmark: the worker's memory allocator settings against the C library's defaults.

faster-whisper called directly (`bench.direct`) in the shipped shape, once with the settings
a worker process applies (`worker.allocator`: one malloc arena, 128 MiB thresholds) and once
with glibc's defaults; the same recordings, the sides taking turns.
"""

from __future__ import annotations

import logging

from bench import recordings
from bench.context import BenchContext
from bench.direct import DirectPool
from bench.instance import WorkerShape
from bench.report import Section, Table, duration, pct, runs
from bench.stats import median
from worker import allocator

logger = logging.getLogger(__name__)

SIDES = {"worker settings": True, "glibc defaults": False}


def run(context: BenchContext, shape: WorkerShape) -> Section:
    scale = context.scale
    files = recordings.recordings(
        scale.throughput_seconds, scale.throughput_files, context.media_dir, first_seed=200
    )
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    audio = sum(recordings.duration(path) for path in files)
    pools = {name: DirectPool(shape, warmup, tuned_allocator=on) for name, on in SIDES.items()}
    walls: dict[str, list[float]] = {name: [] for name in SIDES}
    cpus: dict[str, list[float]] = {name: [] for name in SIDES}
    kernel: dict[str, list[float]] = {name: [] for name in SIDES}
    faults: dict[str, list[float]] = {name: [] for name in SIDES}
    try:
        for attempt in range(scale.throughput_runs):
            order = list(SIDES) if attempt % 2 == 0 else list(reversed(SIDES))
            for name in order:
                pool = pools[name]
                walls[name].append(pool.transcribe(files))
                cpus[name].append(pool.cpu)
                kernel[name].append(pool.use.system)
                faults[name].append(pool.use.faults)
                logger.info("allocator: %s %.2f s", name, walls[name][-1])
    finally:
        for pool in pools.values():
            pool.close()

    table = Table(
        ["allocator", "wall", "audio s/s", "CPU", "of it kernel", "page faults", "peak RSS"]
    )
    for name in SIDES:
        wall, cpu = median(walls[name]), median(cpus[name])
        table.add(
            name,
            f"{wall:.2f} s",
            f"{audio / wall:.2f}",
            f"{cpu:.1f} s",
            f"{median(kernel[name]):.2f} s ({pct(median(kernel[name]) / cpu)})",
            f"{median(faults[name]):,.0f}",
            f"{pools[name].use.peak_mb:.0f} MB",
        )
    tuned, default = (median(walls[name]) for name in SIDES)
    mib = allocator.THRESHOLD_BYTES >> 20
    return Section(
        key="allocator",
        title="Worker allocator: the worker's settings against glibc's defaults",
        method=f"""
{len(files)} recordings of {duration(scale.throughput_seconds)} handed out to {shape.label}
processes running faster-whisper directly (the worker's model settings and decoding options,
the model loaded and one warm-up file transcribed first), {runs(scale.throughput_runs)} per
side, the sides taking turns. **worker settings**: each process applies `worker.allocator`
before loading the model, as `python -m worker` does (one malloc arena, blocks up to {mib} MiB
from the heap, the heap's top kept up to {mib} MiB). **glibc defaults**: it does not. CPU,
kernel time and minor page faults are the processes' own over the files (medians of the runs);
peak RSS is the largest of a side's processes.
""",
        tables=[("", table)],
        notes=[f"Wall time, the worker's settings against the defaults: {tuned / default:.3f}x."],
        data={"walls": walls, "cpu": cpus, "kernel": kernel, "faults": faults},
    )
