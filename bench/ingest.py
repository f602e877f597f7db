"""Benchmark 4: upload ingest of one large file, and the API process's memory growth.

The file is a valid WAV (48 kHz stereo 16-bit silence) generated while it is sent, so the
probe accepts it and nothing of its size is held in memory on either side.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterator

from bench import procstat
from bench.context import BenchContext
from bench.instance import BenchPlatform
from bench.report import Goal, Section, Table, runs
from bench.stats import median

logger = logging.getLogger(__name__)

GOAL_MB_S = 200.0
GOAL_GROWTH_MB = 30.0
CHUNK = 1024 * 1024
MB = 1024 * 1024
BOUNDARY = "soundscripterbenchboundary"


def wav_header(data_bytes: int, rate: int = 48000, channels: int = 2) -> bytes:
    block = channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class Body:
    """A multipart body with one generated WAV of `size` bytes in the field `files`."""

    def __init__(self, size: int):
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="large.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        header = wav_header(size - 44)
        self.file_size = size
        self.header = header
        self.length = len(self.head) + size + len(self.tail)
        self.sent_at = 0.0

    def __iter__(self) -> Iterator[bytes]:
        zeros = bytes(CHUNK)
        yield self.head + self.header
        left = self.file_size - len(self.header)
        while left > 0:
            step = min(CHUNK, left)
            yield zeros if step == CHUNK else zeros[:step]
            left -= step
        yield self.tail
        self.sent_at = time.perf_counter()


def run(context: BenchContext, platform: BenchPlatform) -> Section:
    size = context.scale.ingest_mb * MB
    pid = platform.api_pid
    # No worker: the large file is only received, never transcribed.
    platform.stop_worker()
    rates: list[float] = []
    body_rates: list[float] = []
    growth: list[float] = []
    for _ in range(context.scale.ingest_runs):
        body = Body(size)
        before = procstat.rss_bytes(pid)
        procstat.reset_peak(pid)
        sampler = procstat.PeakSampler(pid)
        sampler.start()
        started = time.perf_counter()
        response = platform.http.post(
            "/api/transcriptions",
            content=iter(body),
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(body.length),
            },
        )
        accepted = time.perf_counter()
        peak = max(sampler.stop(), procstat.peak_rss_bytes(pid))
        if response.status_code != 202:
            raise RuntimeError(f"ingest upload answered {response.status_code}: {response.text}")
        rates.append(size / MB / (accepted - started))
        body_rates.append(size / MB / (body.sent_at - started))
        growth.append((peak - before) / MB)
        logger.info("ingest: %.0f MB/s, growth %.1f MB", rates[-1], growth[-1])
        platform.delete(response.json()["items"][0]["id"])
    context.truncate()

    rate = median(rates)
    grew = median(growth)
    section = Section(
        key="ingest",
        title="4. Upload ingest",
        method=f"""
One {size // MB} MiB file (a WAV of silence generated while it is sent, so the probe accepts
it) posted as multipart with a Content-Length, {runs(context.scale.ingest_runs)}. MB/s = MiB /
seconds from the start of the request to the `202` answer (streaming to storage, sha256,
fsync, probe, commit, enqueue); the body rate stops the clock at the last byte sent.
Memory growth = the API process's peak RSS during the upload (VmHWM reset before it, and RSS
sampled every 5 ms) minus its RSS before.
""",
    )
    section.goals = [
        Goal("ingest rate", f"≥ {GOAL_MB_S:g} MB/s", f"{rate:.0f} MB/s", rate >= GOAL_MB_S),
        Goal(
            "API peak memory growth",
            f"≤ {GOAL_GROWTH_MB:g} MB",
            f"{grew:.1f} MB",
            grew <= GOAL_GROWTH_MB,
        ),
    ]
    table = Table(["measure", "median", "runs"])
    table.add("upload → 202", f"{rate:.0f} MB/s", ", ".join(f"{r:.0f}" for r in rates))
    table.add(
        "body sent", f"{median(body_rates):.0f} MB/s", ", ".join(f"{r:.0f}" for r in body_rates)
    )
    table.add("API RSS growth", f"{grew:.1f} MB", ", ".join(f"{g:.1f}" for g in growth))
    section.tables.append(("", table))
    section.data = {"rates": rates, "body_rates": body_rates, "growth_mb": growth}
    return section
