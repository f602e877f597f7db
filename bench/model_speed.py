"""Benchmark: CPU seconds per audio second of each bundled model, `tiny.en` against `base`.

Each model is loaded as a worker process loads it (`worker.transcriber.Transcriber`, int8,
one thread) and transcribes the same English recording with the worker's pinned options, after
one warm-up pass: chunked decoding (the default, batch 2) and precise (sequential) decoding.
`base` runs with `language=auto` (per-chunk language detection, 10 s chunks: what an upload
without a language gets) and with `language=en` (one language, 30 s chunks). The figure is the
process's CPU time (every thread) over the recording's length, the best of the runs.

    python -m bench.model_speed [SECONDS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.context import BenchContext
from bench.recordings import recording
from bench.report import Section, Table

CASES = (
    ("tiny.en", "en", 2),
    ("tiny.en", "en", 0),
    ("base", "en", 2),
    ("base", "auto", 2),
    ("base", "en", 0),
    ("base", "auto", 0),
)
"""(model, language, batch size: 0 = precise)."""


def measure(
    audio_path: Path, seconds: float, runs: int, cases: tuple[tuple[str, str, int], ...] = CASES
) -> list[tuple[str, str, int, float]]:
    """(model, language, batch, CPU-s per audio-s) for every case."""
    import faster_whisper

    from core.options import JobOptions
    from core.settings import Settings
    from worker.transcriber import Transcriber

    audio = faster_whisper.decode_audio(str(audio_path))
    loaded: dict[str, Transcriber] = {}
    results = []
    for model, language, batch in cases:
        settings = Settings(whisper_cpu_threads=1, whisper_batch_size=batch)
        if model not in loaded:
            loaded[model] = Transcriber(settings, model)
        transcriber = loaded[model]
        transcriber.settings = settings
        options = JobOptions(model=model, requested_language=language)
        best = float("inf")
        for attempt in range(runs + 1):  # the first pass warms up
            cpu = time.process_time()
            segments, _info = transcriber.transcribe(audio, options)
            for _ in segments:
                pass
            if attempt:
                best = min(best, (time.process_time() - cpu) / seconds)
        results.append((model, language, batch, best))
    return results


def section(results: list[tuple[str, str, int, float]], seconds: float, runs: int) -> Section:
    table = Table(["model", "language", "decoding", "CPU-s per audio-s", "vs tiny.en"])
    tiny = {batch: value for model, _, batch, value in results if model == "tiny.en"}
    for model, language, batch, value in results:
        ratio = value / tiny[batch] if tiny.get(batch) else float("nan")
        mode = "precise" if batch == 0 else f"chunked (batch {batch})"
        table.add(model, language, mode, f"{value:.3f}", f"{ratio:.1f}")
    return Section(
        key="model_speed",
        title="Model speed: tiny.en and base",
        method=(
            f"One {seconds:.0f} s English espeak-ng recording, each model loaded as a worker "
            "loads it (int8, one CPU thread), the worker's decoding options, one warm-up pass "
            f"then the best of {runs} runs. CPU seconds of the process (all threads) per "
            "second of audio. `base` with `auto` detects the language of every chunk (10 s "
            "chunks), as an upload without a language gets."
        ),
        tables=[("", table)],
        data={"results": results},
    )


def run(context: BenchContext) -> Section:
    smoke = context.scale.name == "smoke"
    seconds = 8.0 if smoke else 60.0
    runs = 3 if context.scale.name == "full" else 1
    cases = (CASES[0], CASES[3]) if smoke else CASES  # smoke: one case per model
    path = recording(seconds, 11, context.media_dir)
    return section(measure(path, seconds, runs, cases), seconds, runs)


def main(argv: list[str]) -> int:
    seconds = float(argv[0]) if argv else 60.0
    folder = Path("bench/results/media")
    path = recording(seconds, 11, folder)
    print(section(measure(path, seconds, 2), seconds, 2).markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
