"""Runs the selected benchmarks against one platform instance and assembles the report."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    allocator,
    diarization_speed,
    hosts,
    ingest,
    latency,
    memory,
    model_speed,
    openai_overhead,
    overhead,
    scheduling,
    search,
    splitting,
    storage_overhead,
    throughput,
)
from bench.context import RESULTS, BenchContext
from bench.defaults import defaults_section, shipped_shape
from bench.instance import BenchPlatform, WorkerShape
from bench.machine import facts
from bench.report import Section, Table

logger = logging.getLogger(__name__)

# Profiles of missed goals and what was changed, written by hand; appended to the report.
NOTES = Path(__file__).resolve().parent / "findings.md"


@dataclass
class Outcome:
    document: str
    ok: bool


def _sse_fanout(context: BenchContext, platform: BenchPlatform) -> Section | None:
    """Benchmark 5 lives in `bench.sse_fanout`; it is run here when that module is present."""
    try:
        module = importlib.import_module("bench.sse_fanout")
    except ModuleNotFoundError as exc:
        if exc.name != "bench.sse_fanout":
            raise
        return None
    run = module.run
    accepted = inspect.signature(run).parameters
    offered = {"context": context, "platform": platform, "scale": context.scale}
    section = run(**{k: v for k, v in offered.items() if k in accepted})
    return section if isinstance(section, Section) else None


def run_all(context: BenchContext, names: list[str]) -> Outcome:
    started = time.time()
    platform = BenchPlatform(context, MAX_UPLOAD_MB="2048", SWEEP_INTERVAL_SECONDS="10")
    sections: list[Section] = []
    failures: list[str] = []
    shipped = shipped_shape(os.cpu_count() or 1)
    recommended: WorkerShape | None = None
    try:
        platform.start_api()
        steps: dict[str, Callable[[], Section | None]] = {
            "overhead": lambda: overhead.run(context, platform, shipped.single_process()),
            "throughput": lambda: throughput.run(context, platform, shipped),
            "latency": lambda: latency.run(context, platform, shipped),
            "ingest": lambda: ingest.run(context, platform),
            "sse": lambda: _sse_fanout(context, platform),
            "search": lambda: search.run(context, platform),
            "memory": lambda: memory.run(context, platform, shipped.single_process()),
            "openai": lambda: openai_overhead.run(context, platform, shipped.single_process()),
            "hosts": lambda: hosts.run(context),
            "storage": lambda: storage_overhead.run(context, platform, shipped.single_process()),
            "diarization": lambda: diarization_speed.run(context),
            "models": lambda: model_speed.run(context),
            "allocator": lambda: allocator.run(context, shipped),
            "scheduling": lambda: scheduling.run(context, platform, shipped),
            "splitting": lambda: splitting.run(context, platform, shipped),
        }
        for name in names:
            logger.info("benchmark %s: starting", name)
            began = time.time()
            load_before = os.getloadavg()[0]
            try:
                section = steps[name]()
            except Exception:
                logger.exception("benchmark %s failed", name)
                failures.append(f"{name}:\n{traceback.format_exc()}\n{platform.log_tail()}")
                continue
            if section is None:
                logger.info("benchmark %s: not available", name)
                continue
            section.data["elapsed_seconds"] = time.time() - began
            section.notes.append(
                f"Took {(time.time() - began) / 60:.1f} min; machine load average (1 min) at "
                f"start and end: {load_before:.1f} and {os.getloadavg()[0]:.1f}."
            )
            sections.append(section)
            shape = section.data.get("chosen_shape")
            if name == "throughput" and isinstance(shape, WorkerShape):
                recommended = shape
            logger.info("benchmark %s: done in %.0f s", name, time.time() - began)
    finally:
        platform.close()

    if recommended is not None:
        sections.append(defaults_section(shipped, recommended))
    elapsed = time.time() - started
    document = render(context, sections, names, elapsed)
    if failures:
        document += "\n## Failures\n\n" + "\n".join(
            f"```\n{failure[-4000:]}\n```" for failure in failures
        )
    _save_data(context, sections, failures)
    ok = not failures
    return Outcome(document, ok)


def _save_data(context: BenchContext, sections: list[Section], failures: list[str]) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    data = {s.key: s.data for s in sections}
    data["failures"] = failures  # type: ignore[assignment]
    path = RESULTS / f"results-{context.scale.name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, default=str))


def render(context: BenchContext, sections: list[Section], names: list[str], elapsed: float) -> str:
    machine = Table(["", ""])
    for key, value in facts(context.database_url):
        machine.add(key, value)
    summary = Table(["benchmark", "goal", "target", "measured", "met?"])
    for section in sections:
        for goal in section.goals:
            summary.add(
                section.title.split(":")[0], goal.name, goal.target, goal.measured, goal.verdict
            )
    missing = [n for n in names if n == "sse" and not any(s.key == "sse" for s in sections)]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `make bench` (`python -m bench`"
        + ("" if context.scale.name == "full" else f" --{context.scale.name}")
        + f"); the run took {elapsed / 60:.0f} minutes. Every figure is a median of the runs "
        "shown; for each comparison both sides were measured in the same run, interleaved. "
        "The platform ran as real processes (one API, Celery workers) against local "
        "PostgreSQL, Redis and RabbitMQ on the same machine; the recordings are English "
        "speech made with espeak-ng.",
        "",
        "## Machine and versions",
        "",
        machine.markdown(),
        "",
        "## Summary",
        "",
        summary.markdown(),
        "",
    ]
    if missing:
        lines += [
            "Benchmark 5 (SSE fan-out) is run by `bench/sse_fanout.py`; that module was not "
            "present in this run.",
            "",
        ]
    for section in sections:
        lines.append(section.markdown())
    if NOTES.exists():
        lines.append(NOTES.read_text())
    return "\n".join(lines)
