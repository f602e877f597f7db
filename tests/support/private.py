"""Private platform instances: their own API port, queue, Redis prefix and storage folder.

Each gets its own database too (created and migrated on the shared Postgres, dropped at the
end): every API process runs a sweeper over its whole database, and a sweeper must not hand
another instance's jobs to its own queue. So a test can cut their connections, restart their
processes or give them API keys without touching the session's `live_platform` or the
machine's shared services.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.lifecycle import segments_of
from core.migrate import upgrade
from core.models import Transcription
from tests.support.cleanup import delete_queue, drop_database
from tests.support.platform import Platform, free_port, platform_env
from tests.support.proxy import TcpProxy
from tests.support.waiting import wait_until


@dataclass
class PrivatePlatform(Platform):
    """A platform whose HTTP helpers send `headers` (e.g. an API key) with every request."""

    headers: dict[str, str] = field(default_factory=dict)
    database_url: str = ""
    """The platform's own database, reached directly (not through any proxy)."""

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(_engine(self.database_url), expire_on_commit=False) as session:
            yield session
            session.commit()

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
        with self.session() as session:
            job = session.get(Transcription, uuid.UUID(job_id))
            assert job is not None
            return job.model_dump()

    def segment_indexes(self, job_id: str) -> list[int]:
        with self.session() as session:
            return [s.index for s in segments_of(session, uuid.UUID(job_id))]

    def dump_logs(self, tail: int = 6000) -> None:
        for process in self.processes.values():
            print(f"--- {process.name} log ---\n{process.log()[-tail:]}")


@lru_cache
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True)


@contextmanager
def private_platform(
    workdir: Path,
    *,
    api: bool = True,
    workers: int = 1,
    concurrency: int = 1,
    headers: dict[str, str] | None = None,
    through: dict[str, TcpProxy] | None = None,
    **env: str,
) -> Iterator[PrivatePlatform]:
    """Start an API and `workers` Celery workers with their own queue and prefix; stop them
    (and delete the queue and database) afterwards. `env` overrides settings; a DATABASE_URL
    given there (e.g. through a proxy) must name the database `database_name(env)`."""
    tag = f"ss_private_{secrets.token_hex(4)}"
    folder = workdir / tag
    folder.mkdir(parents=True)
    port = free_port()
    database_url = (
        make_url(platform_env()["DATABASE_URL"])
        .set(database=tag)
        .render_as_string(hide_password=False)
    )
    upgrade(database_url)
    settings = {
        "DATABASE_URL": database_url,
        "API_PORT": str(port),
        "QUEUE_NAME": tag,
        "REDIS_PREFIX": tag,
        "STORAGE_DIR": str(folder / "storage"),
        **env,
    }
    for name, proxy in (through or {}).items():
        original = settings.get(name) or platform_env()[name]
        settings[name] = proxy.url_for(original)
        assert settings[name] != original, f"{name} does not name {proxy.target}"
    platform = PrivatePlatform(
        platform_env(**settings), folder, port, headers=headers or {}, database_url=database_url
    )
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
        delete_queue(platform_env()["BROKER_URL"], tag)
        _engine(database_url).dispose()
        drop_database(database_url)
