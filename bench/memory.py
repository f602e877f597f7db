"""Benchmark 7: worker memory against the recording's length, and the API's during a large
upload.

A worker process's peak resident memory (VmHWM of the pool process, reset before each job) is
measured transcribing a short and a long recording, in both decoding modes; the goal is that
the long one costs no more than the short one (within 15 %). A window-length sweep runs the
worker's windowed transcription (`worker.windowed`) directly in a fresh process per window
length on the long recording, for the choice of `worker.windows.WINDOW_SECONDS`. The API's
memory while it receives a large upload is benchmark 4's measure, taken again here.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from bench import ingest, procstat, recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, duration, pct
from bench.stats import median

logger = logging.getLogger(__name__)

GOAL_SAME_WITHIN = 0.15
GOAL_API_GROWTH_MB = 1.0
MB = 1024 * 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found.extend(int(c) for c in task.read_text().split())
    return found


def pool_pids(platform: BenchPlatform) -> list[int]:
    """The worker's pool processes (Celery's prefork children of the worker process)."""
    pids = [platform.worker_pid]
    pool: list[int] = []
    while pids:
        children = [c for pid in pids for c in _children(pid)]
        pool.extend(children)
        pids = children
    return pool


def worker_peaks(
    platform: BenchPlatform, shape: WorkerShape, paths: list[Path], warmup: Path
) -> list[float]:
    """Peak RSS (MB) of the worker's pool process while it transcribes each file in turn."""
    platform.start_worker(shape, warmup=warmup)
    peaks = []
    for path in paths:
        pool = pool_pids(platform)
        for pid in pool:
            procstat.reset_peak(pid)
        submitted, _ = platform.transcribe([path])
        peaks.append(max(procstat.peak_rss_bytes(pid) for pid in pool) / MB)
        logger.info("memory: %s, %s: peak %.0f MB", shape.label, path.name, peaks[-1])
        platform.delete(submitted.ids[0])
    return peaks


def _windowed_peak(path: str, window: float, batch: int, results: Any) -> None:
    from core.settings import Settings
    from worker import allocator

    if Settings().worker_malloc_tuning:  # as `python -m worker` does
        allocator.tune()
    from core import media
    from core.options import JobOptions
    from worker import windows
    from worker.transcriber import Transcriber
    from worker.windowed import WindowedTranscription

    model = Transcriber(Settings(whisper_batch_size=batch, whisper_cpu_threads=2))
    loaded = procstat.rss_bytes(mp.current_process().pid or 0)
    windows.WINDOW_SECONDS = window
    started = time.perf_counter()
    run = WindowedTranscription(
        model,
        windows.at_silences(media.iter_audio(Path(path))),
        JobOptions(model="tiny.en"),
    )
    count = sum(1 for _ in run.segments())
    pid = mp.current_process().pid or 0
    results.put((procstat.peak_rss_bytes(pid), loaded, time.perf_counter() - started, count))


def window_sweep(path: Path, windows: list[float], batch: int) -> list[tuple[float, ...]]:
    """(window s, peak MB, RSS after loading the model MB, seconds, segments) per window."""
    if importlib.util.find_spec("worker.windows") is None:  # code without windowed decoding
        return []
    ctx = mp.get_context("spawn")
    rows = []
    for window in windows:
        results: Any = ctx.Queue()
        process = ctx.Process(target=_windowed_peak, args=(str(path), window, batch, results))
        process.start()
        peak, loaded, seconds, count = results.get(timeout=3600)
        process.join()
        rows.append((window, peak / MB, loaded / MB, seconds, count))
        logger.info("memory: window %g s: peak %.0f MB in %.0f s", window, peak / MB, seconds)
    return rows


def api_growth(context: BenchContext, platform: BenchPlatform) -> float:
    """The API's peak RSS growth (MB) while receiving one upload of benchmark 4's size."""
    section = ingest.run(context, platform)
    return float(median(section.data["growth_mb"]))  # type: ignore[arg-type]


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    short_s, long_s = context.scale.memory_seconds
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    paths = [
        recordings.recording(short_s, seed=1, folder=context.media_dir),
        recordings.recording(long_s, seed=60, folder=context.media_dir),
    ]
    modes = {"chunked": shape, "precise": WorkerShape(1, shape.threads, 0, shape.compute_type)}
    peaks = {mode: worker_peaks(platform, s, paths, warmup) for mode, s in modes.items()}
    platform.stop_worker()
    sweep = window_sweep(paths[1], context.scale.memory_windows, shape.batch)
    growth = api_growth(context, platform)
    return _section(context, modes, paths, peaks, sweep, growth)


def _section(
    context: BenchContext,
    modes: dict[str, WorkerShape],
    paths: list[Path],
    peaks: dict[str, list[float]],
    sweep: list[tuple[float, ...]],
    growth: float,
) -> Section:
    short_s, long_s = context.scale.memory_seconds
    hours = long_s / 3600
    section = Section(
        key="memory",
        title="7. Worker memory",
        method=f"""
One worker process per decoding mode (chunked: {modes["chunked"].label}; precise:
{modes["precise"].label}) transcribes a {duration(short_s)} and a {duration(long_s)}
recording through the platform, one after the other, after a short warm-up file. Peak RSS is
the pool process's VmHWM, reset (`/proc/<pid>/clear_refs`) before each upload and read after
the job's `completed` event; it includes the loaded model. The window sweep runs the worker's
windowed transcription directly in a fresh process per window length on the
{duration(long_s)} recording (chunked mode). API growth: benchmark 4's upload of
{context.scale.ingest_mb} MiB, measured again.
""",
    )
    table = Table(["mode", *(f"peak RSS, {duration(s)}" for s in (short_s, long_s)), "growth"])
    for mode, (short, long) in peaks.items():
        ratio = long / short - 1
        section.goals.append(
            Goal(
                f"{mode}: {duration(long_s)} peak vs {duration(short_s)} peak",
                f"≤ +{GOAL_SAME_WITHIN * 100:g} %",
                f"{short:.0f} → {long:.0f} MB ({pct(ratio)}; {long / hours:.0f} MB per audio hour)",
                ratio <= GOAL_SAME_WITHIN,
            )
        )
        table.add(mode, f"{short:.0f} MB", f"{long:.0f} MB", pct(ratio))
    section.goals.append(
        Goal(
            f"API growth receiving {context.scale.ingest_mb} MiB",
            f"≤ {GOAL_API_GROWTH_MB:g} MB",
            f"{growth:.1f} MB",
            growth <= GOAL_API_GROWTH_MB,
        )
    )
    section.tables.append(("", table))
    if sweep:
        windows = Table(["window", "peak RSS", "RSS with model loaded", "wall time", "segments"])
        for window, peak, loaded, seconds, count in sweep:
            windows.add(
                duration(window),
                f"{peak:.0f} MB",
                f"{loaded:.0f} MB",
                f"{seconds:.0f} s",
                f"{count:g}",
            )
        section.tables.append((f"Window length, {duration(long_s)} recording:", windows))
    section.data = {
        "peaks_mb": peaks,
        "sweep": sweep,
        "api_growth_mb": growth,
        "files": [p.name for p in paths],
    }
    return section
