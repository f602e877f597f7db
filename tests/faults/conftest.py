"""The faults tier: a private platform whose Postgres, RabbitMQ and Redis connections all go
through TCP proxies the tests cut and restore, plus helpers to find and kill worker processes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import media
from tests.support.private import PrivatePlatform, private_platform
from tests.support.proxy import TcpProxy
from tests.support.waiting import wait_until

TALK = (
    "Please send the quarterly report to the finance team before Friday. "
    "The meeting will start at ten in the morning and should end before lunch. "
    "Our new office has a large kitchen and a quiet library. "
    "Everyone is welcome to visit on Monday afternoon. "
)


@dataclass
class Proxies:
    postgres: TcpProxy
    rabbitmq: TcpProxy
    redis: TcpProxy

    def all(self) -> list[TcpProxy]:
        return [self.postgres, self.rabbitmq, self.redis]

    def restore(self) -> None:
        for proxy in self.all():
            proxy.restore()


@dataclass
class Faulty:
    platform: PrivatePlatform
    proxies: Proxies


@pytest.fixture(scope="module")
def faulty(migrated_db: str, run_dir: Path, request: pytest.FixtureRequest) -> Iterator[Faulty]:
    """API and a worker (WORKER_CONCURRENCY of the test module, default 2), every service
    connection through a cuttable proxy. Workers decode sequentially (WHISPER_BATCH_SIZE=0):
    a job then reports progress after every segment, which gives each fault a window mid-job
    (chunked decoding reports once per batch of 30 s windows and ends a 35 s clip in one step)."""
    concurrency = getattr(request.module, "WORKER_CONCURRENCY", 2)
    proxies = Proxies(TcpProxy(5432), TcpProxy(5672), TcpProxy(6379))
    try:
        with private_platform(
            run_dir / "faults",
            concurrency=concurrency,
            through={
                "DATABASE_URL": proxies.postgres,
                "BROKER_URL": proxies.rabbitmq,
                "REDIS_URL": proxies.redis,
            },
            JOB_LEASE_SECONDS="30",
            MAX_ATTEMPTS="3",
            WHISPER_BEAM_SIZE="1",
            WHISPER_CPU_THREADS="2",
            WHISPER_BATCH_SIZE="0",
        ) as platform:
            yield Faulty(platform, proxies)
    finally:
        for proxy in proxies.all():
            proxy.close()


@pytest.fixture(autouse=True)
def _healthy_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test cut is restored before the next one starts."""
    yield
    if "faulty" in request.fixturenames:
        faulty: Faulty = request.getfixturevalue("faulty")
        faulty.proxies.restore()


@pytest.fixture(scope="session")
def talk_clip(media_dir: Path) -> Path:
    """About 35 s of speech (two decoding windows): long enough to kill a worker mid-job."""
    part = media.speech(TALK, media_dir, name="faults-talk-part")
    return media.concat([part, part], media_dir / "faults-talk.wav")


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(p) for p in listing.read().split()]
    except FileNotFoundError:
        return []


def kill_pool_processes(platform: PrivatePlatform, name: str = "worker") -> list[int]:
    """SIGKILL every pool (child) process of a Celery worker; its main process lives on."""
    master = platform.processes[name].popen
    assert master is not None
    pids = children(master.pid)
    assert pids, f"{name} has no pool processes"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def kill_worker(platform: PrivatePlatform, name: str = "worker") -> None:
    """SIGKILL a Celery worker's whole process group (main and pool processes)."""
    platform.processes[name].stop(signal.SIGKILL)


def wait_progress(platform: PrivatePlatform, job_id: str, timeout: float = 120) -> dict[str, Any]:
    def running() -> dict[str, Any] | None:
        row = platform.job_row(job_id)
        if row["status"] in {"completed", "failed", "cancelled"}:
            raise AssertionError(f"job {job_id} ended before it could be interrupted: {row}")
        return row if row["status"] == "processing" and row["progress"] > 0 else None

    return dict(wait_until(running, timeout, 0.05, f"job {job_id} to make progress"))


def start_worker(platform: PrivatePlatform, name: str = "worker", concurrency: int = 1) -> None:
    """(Re)start a worker and wait until this new process says it is ready."""
    log_path = platform.workdir / f"{name}.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    process = platform.start_worker(name, concurrency=concurrency)

    def ready() -> bool:
        with log_path.open("rb") as log:
            log.seek(offset)
            return b" ready." in log.read()

    wait_until(ready, 90, 0.2, f"{name} to be ready again")
    assert process.popen is not None
    assert process.popen.poll() is None
