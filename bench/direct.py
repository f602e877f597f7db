"""faster-whisper called directly: the yardstick the platform is measured against.

A `DirectPool` holds `processes` processes, each with one model loaded with the same settings a
worker process uses (`Transcriber`'s constructor arguments, `decode_options`). Files are handed
out from one shared queue, as the broker hands jobs to worker processes. Model loading (and one
warm-up file) happens before any timing, as in a worker, which loads its model at start. The
processes set the memory allocator as a worker does (`worker.allocator`, on by default), or
leave the C library's defaults with `tuned_allocator=False`.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.instance import WorkerShape


def _serve(shape: WorkerShape, warmup: str | None, tuned: bool, tasks: Any, results: Any) -> None:
    if tuned:
        from worker import allocator

        allocator.tune()
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from core.options import JobOptions
    from core.settings import Settings
    from worker.transcriber import decode_options, resolve_model

    settings = Settings(
        whisper_model="tiny.en",
        whisper_device="cpu",
        whisper_compute_type=shape.compute_type,
        whisper_cpu_threads=shape.threads,
        whisper_batch_size=shape.batch,
    )
    model = WhisperModel(
        resolve_model(settings.whisper_model),
        device=settings.whisper_device,
        compute_type=settings.whisper_compute_type,
        cpu_threads=settings.cpu_threads(),
        num_workers=1,
        local_files_only=True,
    )
    pipeline: Any = BatchedInferencePipeline(model) if shape.batch else model
    # The bundled model is English-only: the worker pins language "en" for it, so does this.
    options = decode_options(JobOptions(requested_language="en", model="tiny.en"), settings)

    def transcribe(path: str) -> None:
        segments, _info = pipeline.transcribe(path, **options)
        for _ in segments:
            pass

    if warmup:
        transcribe(warmup)
    results.put(("ready", 0.0, 0.0, Use()))
    while True:
        path = tasks.get()
        if path is None:
            return
        started, cpu, before = time.perf_counter(), time.process_time(), Use.now()
        transcribe(path)
        wall, used = time.perf_counter() - started, Use.now().since(before)
        results.put(("done", wall, time.process_time() - cpu, used))


@dataclass(frozen=True)
class Use:
    """A process's kernel CPU seconds and minor page faults (over a span), and its peak RSS."""

    system: float = 0.0
    faults: int = 0
    peak_mb: float = 0.0

    @staticmethod
    def now() -> Use:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return Use(usage.ru_stime, usage.ru_minflt, usage.ru_maxrss / 1024)

    def since(self, before: Use) -> Use:
        return Use(self.system - before.system, self.faults - before.faults, self.peak_mb)


class DirectPool:
    def __init__(
        self, shape: WorkerShape, warmup: Path | None = None, *, tuned_allocator: bool = True
    ):
        self.shape = shape
        ctx = mp.get_context("spawn")
        self.tasks: Any = ctx.Queue()
        self.results: Any = ctx.Queue()
        self.processes = [
            ctx.Process(
                target=_serve,
                args=(
                    shape,
                    str(warmup) if warmup else None,
                    tuned_allocator,
                    self.tasks,
                    self.results,
                ),
                daemon=True,
            )
            for _ in range(shape.processes)
        ]
        self.cpu = 0.0  # CPU seconds of the files of the last `transcribe`
        self.use = Use()  # their kernel time and page faults, the largest peak RSS so far
        for process in self.processes:
            process.start()
        for _ in self.processes:
            kind, *_ = self.results.get(timeout=300)
            assert kind == "ready"

    def transcribe(self, paths: list[Path]) -> float:
        """Wall seconds to transcribe every file (consuming every segment); CPU in `self.cpu`."""
        started = time.perf_counter()
        for path in paths:
            self.tasks.put(str(path))
        self.cpu = 0.0
        system, faults, peak = 0.0, 0, self.use.peak_mb
        for _ in paths:
            kind, _, cpu, used = self.results.get(timeout=3600)
            assert kind == "done"
            self.cpu += cpu
            system, faults = system + used.system, faults + used.faults
            peak = max(peak, used.peak_mb)
        self.use = Use(system, faults, peak)
        return time.perf_counter() - started

    def close(self) -> None:
        for _ in self.processes:
            self.tasks.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
