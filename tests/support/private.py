"""Private platform instances: their own API port, queue, Redis prefix and storage folder.

They share this test run's database (jobs are keyed by UUID) but nothing else, so a test can
cut their connections, restart their processes or give them API keys without touching the
session's `live_platform` or the machine's shared services.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.platform import Platform, free_port, platform_env, wait_until


@dataclass
class PrivatePlatform(Platform):
    """A platform whose HTTP helpers send `headers` (e.g. an API key) with every request."""

    headers: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
        kwargs.setdefault("timeout", 60)
        return httpx.Client(base_url=self.base_url, **kwargs)

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            try:
                with self.client(timeout=5) as client:
                    return client.get("/api/ready").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, 0.2, "the API to be ready")

    def job_row(self, job_id: str) -> dict[str, Any]:
        """The job as Postgres has it (works while the API is down)."""
        import uuid

        from core.db import session_scope
        from core.models import Transcription

        with session_scope() as session:
            job = session.get(Transcription, uuid.UUID(job_id))
            assert job is not None
            return job.model_dump()

    def segment_indexes(self, job_id: str) -> list[int]:
        import uuid

        from core.db import session_scope
        from core.lifecycle import segments_of

        with session_scope() as session:
            return [s.index for s in segments_of(session, uuid.UUID(job_id))]

    def dump_logs(self, tail: int = 6000) -> None:
        for process in self.processes.values():
            print(f"--- {process.name} log ---\n{process.log()[-tail:]}")


def _delete_queue(broker_url: str, name: str) -> None:
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=3) as conn:
            channel = conn.channel()
            channel.queue_delete(name)
            channel.exchange_delete(name)
    except Exception:
        pass


@contextmanager
def private_platform(
    workdir: Path,
    *,
    api: bool = True,
    workers: int = 1,
    concurrency: int = 1,
    headers: dict[str, str] | None = None,
    **env: str,
) -> Iterator[PrivatePlatform]:
    """Start an API and `workers` Celery workers with their own queue and prefix; stop them
    (and delete the queue) afterwards. `env` overrides settings (e.g. BROKER_URL=proxy)."""
    tag = f"ss_private_{secrets.token_hex(4)}"
    folder = workdir / tag
    folder.mkdir(parents=True)
    port = free_port()
    settings = {
        "API_PORT": str(port),
        "QUEUE_NAME": tag,
        "REDIS_PREFIX": tag,
        "STORAGE_DIR": str(folder / "storage"),
        **env,
    }
    platform = PrivatePlatform(platform_env(**settings), folder, port, headers=headers or {})
    try:
        if api:
            platform.start_api()
        for n in range(workers):
            platform.start_worker(f"worker{n}" if n else "worker", concurrency=concurrency)
        if api:
            platform.wait_ready()
        for name in list(platform.processes):
            if name.startswith("worker"):
                platform.wait_worker(name)
        yield platform
    except BaseException:
        platform.dump_logs()
        raise
    finally:
        platform.stop()
        _delete_queue(platform_env()["BROKER_URL"], tag)
