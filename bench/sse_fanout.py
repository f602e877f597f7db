"""Benchmark: one API process holding many SSE clients.

    python -m bench.sse_fanout                  # 1,000 clients, 4 jobs, 10 events/s for 30 s
    python -m bench.sse_fanout --clients 200 --seconds 10
    python -m bench.sse_fanout --clients 1000 2000   # one run each, a fresh API for each

Starts one API process (its own port and Redis prefix), creates a few jobs directly in the
database, connects the clients (spread evenly over the jobs) and publishes progress events
through `core.events.EventPublisher` at a steady rate. Each event carries its publish time in
an extra `published_at` field; every client records publish→receipt delay. Reports p50, p99
and max delay, and the API process's CPU time and memory (from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import procstat
from bench.report import Goal, Section, Table, ms
from bench.sse_clients import open_clients
from bench.stats import percentile

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
GOAL_P99_SECONDS = 0.1
# One run per client count, each with its own goal row (the issue sets the goal at 2,000).
CLIENTS_BY_SCALE = {"full": (1000, 2000), "quick": (1000, 2000), "smoke": (50, 100)}
SMOKE_SECONDS = 3.0


@dataclass
class Plan:
    clients: int = 1000
    jobs: int = 4
    rate: float = 10.0
    """Events per second, over all jobs together."""
    seconds: float = 30.0


@dataclass
class Result:
    plan: Plan
    deliveries: int
    expected: int
    p50: float
    p99: float
    max: float
    connect_seconds: float
    idle_rss: int
    peak_rss: int
    cpu_connect: float
    cpu_publish: float
    publish_seconds: float

    @property
    def met(self) -> bool:
        return self.p99 <= GOAL_P99_SECONDS and self.deliveries == self.expected

    @property
    def publish_cores(self) -> float:
        """The API's CPU while publishing, in cores (1.0 = one core busy)."""
        return self.cpu_publish / self.publish_seconds

    def lines(self) -> list[str]:
        cores = self.publish_cores
        return [
            f"clients {self.plan.clients}, jobs {self.plan.jobs}, "
            f"{self.plan.rate:g} events/s for {self.publish_seconds:.0f} s "
            f"({self.plan.rate * self.plan.clients / self.plan.jobs:.0f} deliveries/s)",
            f"delivered {self.deliveries} of {self.expected} events",
            f"publish→receipt delay: p50 {ms(self.p50)}, p99 {ms(self.p99)}, max {ms(self.max)}",
            f"connecting all clients: {self.connect_seconds:.1f} s, "
            f"API CPU {self.cpu_connect:.1f} s",
            f"API CPU while publishing: {self.cpu_publish:.1f} s ({cores * 100:.0f} % of one core)",
            f"API RSS: {self.idle_rss / 2**20:.0f} MiB with every client connected, "
            f"peak {self.peak_rss / 2**20:.0f} MiB",
        ]


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, needed))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise SystemExit(f"need {needed} open files, the limit is {soft} (raise `ulimit -n`)")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiProcess:
    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = _free_port()
        self.prefix = f"ss_sse_bench_{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            **env,
            "API_PORT": str(self.port),
            "REDIS_PREFIX": self.prefix,
            "LOG_LEVEL": "WARNING",
        }
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "api"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the API did not start; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def create_jobs(count: int) -> list[uuid.UUID]:
    """Jobs straight in the database (queued, marked as enqueued so the sweeper leaves them)."""
    from core import lifecycle
    from core.db import Database
    from core.models import Transcription
    from core.settings import get_settings

    db = Database.from_url(get_settings().database_url)
    ids = []
    with db.session() as session:
        for n in range(count):
            job = Transcription(
                filename=f"sse-bench-{n}.wav",
                storage_key=f"sse-bench/{uuid.uuid4().hex}",
                size_bytes=1,
                sha256="0" * 64,
                model="tiny.en",
                duration_seconds=600.0,
            )
            lifecycle.create(session, job)
            ids.append(job.id)
    with db.session() as session:
        for job_id in ids:
            lifecycle.mark_enqueued(session, job_id)
    db.dispose()
    return ids


def publish(prefix: str, jobs: list[uuid.UUID], plan: Plan, stop: threading.Event) -> int:
    """Progress events at `plan.rate`, round robin over the jobs; returns how many were sent."""
    from core.events import EventPublisher, ProgressEvent, SegmentOut
    from core.settings import get_settings

    class StampedProgress(ProgressEvent):
        published_at: float

    publisher = EventPublisher(get_settings().redis_url, prefix)
    seqs = dict.fromkeys(jobs, 1)
    total = int(plan.rate * plan.seconds)
    started = time.perf_counter()
    for n in range(total):
        if stop.is_set():
            return n
        job = jobs[n % len(jobs)]
        seqs[job] += 1
        segment = SegmentOut(index=seqs[job] - 2, start=n, end=n + 1.0, text=" Some words here.")
        delay = started + n / plan.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        event = StampedProgress(
            id=job,
            seq=seqs[job],
            status="processing",
            progress=min(0.99, n / total),
            segment=segment,
            segments=[segment],
            published_at=time.time(),
        )
        publisher.publish(event)
    publisher.close()
    return total


def finish(prefix: str, jobs: list[uuid.UUID], last_seq: dict[uuid.UUID, int]) -> None:
    from core.events import CompletedEvent, EventPublisher
    from core.settings import get_settings

    publisher = EventPublisher(get_settings().redis_url, prefix)
    publisher.publish(
        *(
            CompletedEvent(id=j, seq=last_seq[j] + 1, status="completed", progress=1.0, text="")
            for j in jobs
        )
    )
    publisher.close()


async def _measure(api: ApiProcess, jobs: list[uuid.UUID], plan: Plan) -> Result:
    paths = [f"/api/transcriptions/{jobs[n % len(jobs)]}/events" for n in range(plan.clients)]
    cpu_before = procstat.cpu_seconds(api.pid)
    began = time.monotonic()
    clients = await open_clients("127.0.0.1", api.port, paths)
    connect_seconds = time.monotonic() - began
    cpu_connected = procstat.cpu_seconds(api.pid)
    await asyncio.sleep(1)
    idle_rss = procstat.rss_bytes(api.pid)
    sampler = procstat.PeakSampler(api.pid, interval=0.05)
    sampler.start()

    stop = threading.Event()
    started = time.monotonic()
    cpu_start = procstat.cpu_seconds(api.pid)
    try:
        sent = await asyncio.to_thread(publish, api.prefix, jobs, plan, stop)
    finally:
        stop.set()
    await asyncio.sleep(1)
    cpu_end = procstat.cpu_seconds(api.pid)
    publish_seconds = time.monotonic() - started
    peak = sampler.stop()

    per_job = {
        job: 1 + sent // len(jobs) + (1 if i < sent % len(jobs) else 0)
        for i, job in enumerate(jobs)
    }
    await asyncio.to_thread(finish, api.prefix, jobs, per_job)
    async with asyncio.timeout(60):
        await asyncio.gather(*(c.closed for c in clients))
    delays = [d for c in clients for d in c.delays]
    expected = sum((per_job[jobs[n % len(jobs)]] - 1) for n in range(plan.clients))
    return Result(
        plan=plan,
        deliveries=len(delays),
        expected=expected,
        p50=percentile(delays, 50),
        p99=percentile(delays, 99),
        max=max(delays),
        connect_seconds=connect_seconds,
        idle_rss=idle_rss,
        peak_rss=peak,
        cpu_connect=cpu_connected - cpu_before,
        cpu_publish=cpu_end - cpu_start,
        publish_seconds=publish_seconds,
    )


def measure(env: dict[str, str], plan: Plan, workdir: Path) -> Result:
    """Start the API with `env`, run the plan against it, stop it."""
    raise_file_limit(plan.clients * 2 + 256)
    workdir.mkdir(parents=True, exist_ok=True)
    api = ApiProcess(env, workdir / "sse-fanout-api.log")
    api.start()
    try:
        jobs = create_jobs(plan.jobs)
        return asyncio.run(_measure(api, jobs, plan))
    finally:
        api.stop()


def section(results: list[Result]) -> Section:
    """One section for every run, a goal row per run and a column per run."""
    counts = " and ".join(f"{r.plan.clients:,}" for r in results)
    plan = results[0].plan
    table = Table(["measure", *(f"{r.plan.clients} clients" for r in results)])
    rows = {
        "events": lambda r: (
            f"{r.plan.rate:g}/s over {r.plan.jobs} jobs for {r.plan.seconds:g} s "
            f"({r.plan.rate * r.plan.clients / r.plan.jobs:.0f} deliveries/s)"
        ),
        "delivered / expected": lambda r: f"{r.deliveries} / {r.expected}",
        "publish→receipt p50": lambda r: ms(r.p50),
        "publish→receipt p99": lambda r: ms(r.p99),
        "publish→receipt max": lambda r: ms(r.max),
        "connecting every client": lambda r: (
            f"{r.connect_seconds:.1f} s (API CPU {r.cpu_connect:.1f} s)"
        ),
        "API CPU while publishing": lambda r: (
            f"{r.cpu_publish:.1f} s ({r.publish_cores * 100:.0f} % of one core)"
        ),
        "API RSS, every client connected": lambda r: f"{r.idle_rss / 2**20:.0f} MiB",
        "API RSS, peak while publishing": lambda r: f"{r.peak_rss / 2**20:.0f} MiB",
    }
    for name, value in rows.items():
        table.add(name, *(value(r) for r in results))
    return Section(
        key="sse",
        title="5. Live progress: SSE fan-out",
        method=(
            f"One API process holds {counts} concurrent SSE clients (one run each, a freshly "
            f"started API process for each run) spread over {plan.jobs} jobs; progress events "
            f"are published to Redis at {plan.rate:g}/s with their publish time inside, and "
            "every client records the delay until it reads each event. CPU and RSS are the "
            "API process's, from /proc."
        ),
        goals=[
            Goal(
                f"p99 publish→receipt at {r.plan.clients} clients",
                "≤ 100 ms, nothing lost",
                f"{ms(r.p99)} ({r.deliveries}/{r.expected} delivered)",
                r.met,
            )
            for r in results
        ],
        tables=[("", table)],
        data={
            "runs": [
                {k: v for k, v in vars(r).items() if k != "plan"} | {"plan": vars(r.plan)}
                for r in results
            ]
        },
    )


def run(context: object, scale: object) -> Section:
    """Entry point for `python -m bench` (the harness's isolated context and scale)."""
    name = getattr(scale, "name", "full")
    seconds = SMOKE_SECONDS if name == "smoke" else Plan.seconds
    plans = [Plan(clients=n, seconds=seconds) for n in CLIENTS_BY_SCALE.get(name, (1000, 2000))]
    env = context.platform_overrides()  # type: ignore[attr-defined]
    workdir = Path(context.workdir)  # type: ignore[attr-defined]
    return section([measure(env, plan, workdir) for plan in plans])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sse_fanout", description=__doc__)
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[Plan.clients], help="one run per count"
    )
    parser.add_argument("--jobs", type=int, default=Plan.jobs)
    parser.add_argument("--rate", type=float, default=Plan.rate, help="events per second")
    parser.add_argument("--seconds", type=float, default=Plan.seconds)
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (API log)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from bench.context import SCALES, prepare

    context = prepare(SCALES["smoke"], keep=args.keep)
    results = []
    try:
        for clients in args.clients:
            plan = Plan(clients, args.jobs, args.rate, args.seconds)
            results.append(measure(context.platform_overrides(), plan, context.workdir))
            for line in results[-1].lines():
                print(line)
            print()
    finally:
        context.close()
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
