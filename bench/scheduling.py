"""Benchmark 13: scheduling. Queue latency with the dispatcher, and how good the ETAs are.

Queue latency is the latency benchmark's measurement (`bench.latency`): 202 → processing on
an idle worker, now through a dispatch pass. ETA accuracy: the throughput benchmark's files
uploaded in one request to the shipped worker shape; each job's predicted finish time (its
`eta.finishes_at`) is compared with its real `completed_at`, both from the server's clock.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import latency, recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, ms, secs
from bench.stats import median, percentile

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25


class EtaLog:
    """Polls the job list while the batch runs: each job's latest finish estimate while it
    was still queued."""

    def __init__(self, platform: BenchPlatform, ids: list[str]):
        self.platform = platform
        self.ids = set(ids)
        self.last_queued: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True, name="eta-log")

    def __enter__(self) -> EtaLog:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            response = self.platform.http.get("/api/transcriptions", params={"limit": 100})
            if response.status_code != 200:
                continue
            for item in response.json()["items"]:
                finishes = _finish(item)
                if item["id"] in self.ids and item["status"] == "queued" and finishes:
                    self.last_queued[item["id"]] = finishes


def _finish(item: dict[str, Any]) -> datetime | None:
    eta = item.get("eta") or {}
    value = eta.get("finishes_at")
    return datetime.fromisoformat(value) if value else None


def _errors(predicted: dict[str, datetime], actual: dict[str, datetime]) -> list[float]:
    return [abs((actual[j] - p).total_seconds()) for j, p in predicted.items() if j in actual]


def _batch(platform: BenchPlatform, files: list[Path]) -> tuple[list[float], list[float]]:
    """Upload `files` in one request and wait for them: the finish-time errors of the
    estimates in the upload's answer, and of each job's last estimate while queued."""
    response = platform.http.post(
        "/api/transcriptions",
        files=[("files", (p.name, p.read_bytes(), "audio/wav")) for p in files],
        data={"dedup": "false"},
    )
    response.raise_for_status()
    items = response.json()["items"]
    ids = [item["id"] for item in items]
    at_upload = {item["id"]: f for item in items if (f := _finish(item))}
    with EtaLog(platform, ids) as log:
        platform.wait_completed(ids)
    actual = {j: datetime.fromisoformat(platform.job(j)["completed_at"]) for j in ids}
    return _errors(at_upload, actual), _errors(log.last_queued, actual)


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    latency_section = latency.run(context, platform, shape)
    to_processing = latency_section.data["processing"]
    assert isinstance(to_processing, list)
    p50 = percentile(to_processing, 50)

    scale = context.scale
    files = recordings.recordings(
        scale.throughput_seconds, scale.throughput_files, context.media_dir, first_seed=100
    )
    warmup = recordings.recording(2, seed=9000, folder=context.media_dir)
    platform.start_worker(shape)
    try:
        platform.transcribe([warmup] * shape.processes)  # the only runs measured at first
        first_upload, first_queued = _batch(platform, files)
        second_upload, second_queued = _batch(platform, files)
    finally:
        context.truncate()

    section = Section(
        key="scheduling",
        title="13. Scheduling: queue latency and ETA accuracy",
        method=f"""
Queue latency: as in benchmark 3 ({len(to_processing)} clips of 2 s, one at a time, idle
worker {shape.label}); the upload's dispatch pass publishes the job. ETA accuracy: the
throughput benchmark's {len(files)} recordings of {scale.throughput_seconds:g} s uploaded in
one request, twice: first with only {shape.processes} warm-up clip(s) of 2 s measured, then
again with the first batch measured. The error is |predicted finish - real `completed_at`| per
job (server clock on both sides), for the estimate in the upload's answer and for the last
estimate the job showed while still queued (refreshed as jobs finished; the jobs dispatched at
once have none).
""",
    )
    section.goals = [
        Goal(
            "p50 202 → processing",
            f"≤ {ms(latency.GOAL_P50_PROCESSING)}",
            ms(p50),
            p50 <= latency.GOAL_P50_PROCESSING,
        )
    ]
    table = Table(["estimate", "jobs", "median abs. error", "p90 abs. error", "max"])
    rows = (
        ("first batch, at upload", first_upload),
        ("first batch, last while queued", first_queued),
        ("second batch, at upload", second_upload),
        ("second batch, last while queued", second_queued),
    )
    for name, errors in rows:
        if errors:
            table.add(
                name,
                str(len(errors)),
                secs(median(errors)),
                secs(percentile(errors, 90)),
                secs(max(errors)),
            )
        else:
            table.add(name, "0", "-", "-", "-")
    section.tables.append(("Predicted finish time against the real one", table))
    section.data = {"latency_processing": to_processing} | {
        f"eta_error_{name.replace(' ', '_').replace(',', '')}": errors for name, errors in rows
    }
    return section
