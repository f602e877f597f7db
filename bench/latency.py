"""Benchmark 3: queue latency of short clips on an idle worker."""

from __future__ import annotations

import logging

from bench import recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform, WorkerShape
from bench.report import Goal, Section, Table, ms
from bench.stats import percentile

logger = logging.getLogger(__name__)

GOAL_P50_PROCESSING = 0.050


def run(context: BenchContext, platform: BenchPlatform, shape: WorkerShape) -> Section:
    clips = recordings.recordings(
        2, context.scale.latency_clips, context.media_dir, first_seed=1000
    )
    platform.start_worker(shape, warmup=clips[0])
    to_processing: list[float] = []
    to_completed: list[float] = []
    upload: list[float] = []
    assert platform.watch is not None
    try:
        for clip in clips:
            submitted = platform.submit([clip])
            job_id = submitted.ids[0]
            done = platform.wait_completed([job_id], timeout=120)[job_id]
            processing = platform.watch.seen(job_id, "processing")
            assert processing is not None
            upload.append(submitted.accepted - submitted.started)
            to_processing.append(processing - submitted.accepted)
            to_completed.append(done - submitted.accepted)
    finally:
        context.truncate()

    p50 = percentile(to_processing, 50)
    section = Section(
        key="latency",
        title="3. Queue latency",
        method=f"""
{len(clips)} clips of 2 s, uploaded one at a time to an idle worker ({shape.label}), each
after the previous one completed. Times run from the arrival of the upload's `202` answer to
the arrival of the job's `processing` and `completed` events (published by the worker after
each commit; the event stream the API relays). A negative time means the worker had
claimed the job before the `202` reached the client (the API answers after the broker
confirmed the publish).
""",
    )
    section.goals = [
        Goal(
            "p50 202 → processing",
            f"≤ {ms(GOAL_P50_PROCESSING)}",
            ms(p50),
            p50 <= GOAL_P50_PROCESSING,
        )
    ]
    table = Table(["interval", "p50", "p99", "max"])
    for name, values in (
        ("upload request → 202", upload),
        ("202 → processing", to_processing),
        ("202 → completed", to_completed),
    ):
        table.add(name, ms(percentile(values, 50)), ms(percentile(values, 99)), ms(max(values)))
    section.tables.append(("", table))
    section.data = {"processing": to_processing, "completed": to_completed, "upload": upload}
    return section
