"""Benchmark 2: throughput and scaling over worker shapes, against direct faster-whisper.

A compute-type screen (direct only, one file) decides which compute types enter the grid; the
grid then runs every worker shape (and the shape the code's defaults give) once on both sides
with the same batch of recordings and recommends a shape for the defaults. The headline
comparison (the shipped shape on the platform against the best direct shape) comes from fresh
runs, interleaved, of the shipped shape and of every shape whose direct figure in the grid came
within `RECOMMEND_WITHIN` of the best one; the best direct shape is the fastest of those in the
fresh runs. Grid runs are not reused: a shape picked for one fast run would keep that luck in
its median, and shapes that are equally fast would be told apart by one run's noise.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from bench import recordings
from bench.context import BenchContext
from bench.direct import DirectPool
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, duration, pct, runs, secs
from bench.stats import median

logger = logging.getLogger(__name__)

GOAL_RATIO = 0.95
SCREEN_RUNS = 3
COMPUTE_TYPES = ("int8", "float32")
# Compute types whose screen time is within this factor of the fastest one enter the grid.
SCREEN_WITHIN = 1.10
GRID_BATCHES = (0, 2, 8)
# Shapes within this share of the fastest count as equally fast: runs of one shape on this kind
# of machine differ by about as much. Both sides count towards a shape's speed, since they
# transcribe the same files with the same settings.
RECOMMEND_WITHIN = 0.95
RECOMMENDATION_RULE = f"""a shape's speed is the mean of its platform and direct figures; among
the shapes at least {RECOMMEND_WITHIN * 100:g} % as fast as the fastest one, sequential decoding
first, since it gives exact segment timestamps; then the smallest batch, since chunked decoding
hands back the text of a whole batch of ~30 s VAD chunks at once, so a smaller batch gives finer
live progress; then the higher speed."""


@dataclass
class Cell:
    shape: WorkerShape
    platform: list[float] = field(default_factory=list)  # wall seconds per run
    direct: list[float] = field(default_factory=list)
    platform_cpu: list[float] = field(default_factory=list)  # CPU seconds per run
    direct_cpu: list[float] = field(default_factory=list)


def shapes(cores: int, compute_types: list[str], batches: tuple[int, ...]) -> list[WorkerShape]:
    splits = sorted({(p, cores // p) for p in range(1, cores + 1) if cores % p == 0})
    splits = [s for s in splits if s[0] in (1, cores) or s[0] == 2]
    return [WorkerShape(p, t, b, c) for c in compute_types for b in batches for p, t in splits]


def _screen(context: BenchContext, sample: Path, warmup: Path, cores: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {c: [] for c in COMPUTE_TYPES}
    pools = {c: DirectPool(WorkerShape(1, cores, 0, c), warmup=warmup) for c in COMPUTE_TYPES}
    try:
        for _ in range(SCREEN_RUNS):
            for compute_type, pool in pools.items():
                timings[compute_type].append(pool.transcribe([sample]))
    finally:
        for pool in pools.values():
            pool.close()
    return {c: median(t) for c, t in timings.items()}


def _measure(
    cell: Cell,
    platform: BenchPlatform,
    files: list[Path],
    warmup: Path,
    runs: int,
    first: int = 0,
) -> None:
    """`runs` runs on each side; run `first + i` starts with the direct side when even."""
    platform.start_worker(cell.shape, warmup=warmup)
    direct = DirectPool(cell.shape, warmup=warmup)
    try:
        for attempt in range(first, first + runs):
            order = ("direct", "platform") if attempt % 2 == 0 else ("platform", "direct")
            for side in order:
                if side == "direct":
                    cell.direct.append(direct.transcribe(files))
                    cell.direct_cpu.append(direct.cpu)
                else:
                    cpu = platform.cpu_seconds()
                    submitted = platform.submit_each(files)
                    done = platform.wait_completed(submitted.ids)
                    cell.platform.append(max(done.values()) - submitted.started)
                    cell.platform_cpu.append(platform.cpu_seconds() - cpu)
                    platform.context.truncate()
                logger.info(
                    "throughput %s: %s %.1f s",
                    cell.shape.label,
                    side,
                    (cell.direct if side == "direct" else cell.platform)[-1],
                )
    finally:
        direct.close()


def run(context: BenchContext, platform: BenchPlatform, shipped: WorkerShape) -> Section:
    """`shipped` is the shape the code's defaults give; it is always one of the grid's cells."""
    scale = context.scale
    cores = os.cpu_count() or 1
    files = recordings.recordings(
        scale.throughput_seconds, scale.throughput_files, context.media_dir, first_seed=100
    )
    audio = sum(recordings.duration(f) for f in files)
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)

    screen: dict[str, float] = {}
    compute_types = ["int8"]
    if scale.throughput_grid:
        screen = _screen(context, files[0], warmup, cores)
        fastest = min(screen.values())
        compute_types = [c for c, t in screen.items() if t <= fastest * SCREEN_WITHIN]
        grid = shapes(cores, compute_types, GRID_BATCHES)
    else:
        grid = [WorkerShape(1, cores, 0, "int8")]
    if shipped not in grid:
        grid.append(shipped)

    cells = [Cell(shape) for shape in grid]
    for cell in cells:
        _measure(cell, platform, files, warmup, 1)
    shipped_cell = next(c for c in cells if c.shape == shipped)

    def rate(values: list[float]) -> float:
        return audio / median(values)

    def speed(cell: Cell) -> float:
        return (rate(cell.platform) + rate(cell.direct)) / 2

    best_direct = max(cells, key=lambda c: rate(c.direct))
    fastest = max(speed(c) for c in cells)
    candidates = [c for c in cells if speed(c) >= fastest * RECOMMEND_WITHIN]
    recommended = min(candidates, key=lambda c: (c.shape.batch, -speed(c)))
    contenders = [c for c in cells if rate(c.direct) >= rate(best_direct.direct) * RECOMMEND_WITHIN]

    # The headline: fresh runs of the shipped shape and of every contender for the best direct
    # shape, taking turns run by run so that all see the same stretch of the machine's load.
    run_count = scale.throughput_runs
    fresh = {c.shape: Cell(c.shape) for c in [shipped_cell, *contenders]}
    for attempt in range(run_count):
        for cell in fresh.values():
            _measure(cell, platform, files, warmup, 1, first=attempt)
    shipped_fresh = fresh[shipped]
    best_fresh = max((fresh[c.shape] for c in contenders), key=lambda c: rate(c.direct))

    ratio = rate(shipped_fresh.platform) / rate(best_fresh.direct)
    # Runs of one cell alternate sides, so each platform run has a direct run beside it.
    paired = median(
        [d / p for d, p in zip(shipped_fresh.direct, shipped_fresh.platform, strict=True)]
    )
    section = Section(
        key="throughput",
        title="2. Throughput and scaling",
        method=f"""
{len(files)} recordings of {duration(scale.throughput_seconds)} ({duration(audio)} of audio in all),
all submitted at once: one upload request per file, six at a time (as the web UI uploads a
dropped folder). Throughput = audio seconds / wall seconds, from the first upload request to
the last `completed` event. The direct side hands the same files to the same number of processes
with the same model, threads, batch size and compute type, from one shared queue. Shapes are
worker processes x CPU threads per process on {cores} cores; batch 0 (sequential) decodes with
timestamp tokens, batch N decodes ~30 s VAD chunks N at a time without them. CPU time: the
platform's API and worker processes against the direct processes' transcriptions (PostgreSQL,
Redis and RabbitMQ not counted).

The grid runs every cell once on each side; it includes the shipped shape (the defaults in
the code: {shipped.label}). The goal compares the shipped shape's platform throughput with the
best direct throughput, both from {runs(run_count)} made after the grid for this purpose: the
shipped shape and every shape whose direct figure in the grid came within
{RECOMMEND_WITHIN * 100:g} % of the best one take turns, each alternating which side goes first,
and the best direct shape is the fastest of those in these runs. Grid runs are not reused: a
cell picked for one fast run would keep that luck in its median, and cells that are equally
fast would be told apart by one run's noise.

Recommended shape: {RECOMMENDATION_RULE}
""",
    )
    section.notes.append(
        "Pairing each platform run of the shipped shape with the direct run of the same shape "
        "beside it in time, the median over those pairs of platform / direct throughput is "
        f"{pct(paired)}."
    )
    section.goals = [
        Goal(
            "shipped default / best direct",
            f"≥ {GOAL_RATIO * 100:g} %",
            f"{pct(ratio)} ({shipped.label} vs {best_fresh.shape.label})",
            ratio >= GOAL_RATIO,
        )
    ]
    if screen:
        table = Table(
            [
                "compute type",
                f"direct 1x{cores}, one {scale.throughput_seconds:g} s file",
                "audio s per wall s",
                "in grid",
            ]
        )
        for compute_type, seconds in screen.items():
            table.add(
                compute_type,
                secs(seconds),
                f"{scale.throughput_seconds / seconds:.2f}",
                "yes"
                if compute_type in compute_types
                else f"no (more than {(SCREEN_WITHIN - 1) * 100:g} % slower)",
            )
        section.tables.append(
            (f"Compute-type screen (direct, median of {SCREEN_RUNS} runs):", table)
        )

    def shape_table(label: str, rows: list[tuple[str, Cell]]) -> None:
        table = Table(
            [
                "processes x threads, batching, compute",
                "platform audio s/s",
                "direct audio s/s",
                "platform / same-shape direct",
                "CPU time, platform / direct",
                "wall s per run (platform; direct)",
            ]
        )
        for name, cell in rows:
            table.add(
                name,
                f"{rate(cell.platform):.2f}",
                f"{rate(cell.direct):.2f}",
                pct(rate(cell.platform) / rate(cell.direct)),
                pct(median(cell.platform_cpu) / median(cell.direct_cpu)),
                f"{', '.join(f'{v:.1f}' for v in cell.platform)}; "
                f"{', '.join(f'{v:.1f}' for v in cell.direct)}",
            )
        section.tables.append((label, table))

    shape_table(
        f"Headline runs (medians of {runs(run_count)} per side):",
        [
            (
                c.shape.label
                + (" **(shipped)**" if c is shipped_fresh else "")
                + (" **(best direct)**" if c is best_fresh else ""),
                c,
            )
            for c in fresh.values()
        ],
    )
    shape_table(
        "Grid (one run per side):",
        [
            (
                cell.shape.label
                + (" **(shipped)**" if cell is shipped_cell else "")
                + (" **(best direct in the grid)**" if cell is best_direct else "")
                + (" **(recommended)**" if cell is recommended else ""),
                cell,
            )
            for cell in cells
        ],
    )
    section.data = {
        "audio_seconds": audio,
        "screen": screen,
        "cells": [
            {
                "shape": c.shape.label,
                "platform": c.platform,
                "direct": c.direct,
                "platform_cpu": c.platform_cpu,
                "direct_cpu": c.direct_cpu,
            }
            for c in cells
        ],
        "shipped": shipped.label,
        "recommended": recommended.shape.label,
        "best_direct": best_fresh.shape.label,
        "best_direct_in_grid": best_direct.shape.label,
        "headline": [
            {"shape": c.shape.label, "platform": c.platform, "direct": c.direct}
            for c in fresh.values()
        ],
        "ratio": ratio,
        "paired_ratio": paired,
    }
    section.data["chosen_shape"] = recommended.shape
    return section
