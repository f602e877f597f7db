"""The shipped worker defaults, and the section that recommends them from the throughput grid."""

from __future__ import annotations

from bench.instance import WorkerShape
from bench.report import Section, Table
from bench.throughput import RECOMMENDATION_RULE


def shipped_shape(cores: int) -> WorkerShape:
    """The worker shape the code's defaults give on `cores` cores (ignoring any `.env`)."""
    from core.settings import Settings

    fields = Settings.model_fields
    processes = int(fields["worker_concurrency"].default) * int(fields["worker_processes"].default)
    configured = int(fields["whisper_cpu_threads"].default)
    threads = configured or max(1, cores // processes)
    return WorkerShape(
        processes,
        threads,
        int(fields["whisper_batch_size"].default),
        str(fields["whisper_compute_type"].default),
    )


def defaults_section(shipped: WorkerShape, recommended: WorkerShape) -> Section:
    section = Section(
        key="defaults",
        title="Shipped defaults",
        method=f"""
Recommended from the throughput grid: {RECOMMENDATION_RULE}
Defaults in the code when this ran: {shipped.label}; the grid's recommendation:
{recommended.label}.
""",
    )
    table = Table(["setting", "in the code", "recommended"])
    table.add("WORKER_CONCURRENCY", shipped.processes, recommended.processes)
    table.add(
        "WHISPER_CPU_THREADS",
        f"0 (= {shipped.threads})",
        f"0 (= cores / worker processes = {recommended.threads})",
    )
    table.add("WHISPER_BATCH_SIZE", shipped.batch, recommended.batch)
    table.add("WHISPER_COMPUTE_TYPE", shipped.compute_type, recommended.compute_type)
    section.tables.append(("", table))
    return section
