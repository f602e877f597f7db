"""Shared fixtures.

Every test run gets its own Postgres database, Redis prefix, RabbitMQ queue and storage
folder (all named `ss_test_<random>`), set in the environment before any project module
reads its settings, so a run never disturbs another instance on the same machine.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from core.db import Database
    from core.queue import JobQueue

RUN_ID = f"ss_test_{secrets.token_hex(4)}"
RUN_DIR = Path(tempfile.mkdtemp(prefix=f"{RUN_ID}-"))

os.environ.update(
    {
        "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN_ID}",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_PREFIX": RUN_ID,
        "BROKER_URL": os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        "QUEUE_NAME": RUN_ID,
        "STORAGE_DIR": str(RUN_DIR / "storage"),
        "SWEEP_INTERVAL_SECONDS": "1",
        "PUBLISH_RETRY_AFTER_SECONDS": "2",
        "LOG_LEVEL": "INFO",
        "ENVIRONMENT": "development",
    }
)
for _name in ("API_KEYS", "ALLOWED_MODELS", "CORS_ORIGINS", "WORKER_PROCESSES"):
    os.environ.pop(_name, None)

from core.settings import get_settings  # noqa: E402
from tests.support import media  # noqa: E402
from tests.support.platform import Platform, free_port, platform_env  # noqa: E402


@pytest.fixture(scope="session")
def run_dir() -> Path:
    return RUN_DIR


@pytest.fixture(scope="session")
def media_dir(run_dir: Path) -> Path:
    folder = run_dir / "media"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def migrated_db() -> Iterator[str]:
    """This run's database, created and migrated; dropped (with the queue) at the end."""
    import sqlalchemy as sa

    from core.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    yield url
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{RUN_ID}" WITH (FORCE)'))
    admin.dispose()
    _delete_queue(get_settings().queue_name)


def _delete_queue(name: str) -> None:
    from kombu import Connection

    try:
        with Connection(get_settings().broker_url, connect_timeout=3) as conn:
            channel = conn.channel()
            channel.queue_delete(name)
            channel.exchange_delete(name)
    except Exception:
        pass


@pytest.fixture(scope="session")
def db(migrated_db: str) -> Iterator[Database]:
    """This run's database, for tests that read or change rows directly."""
    from core.db import Database

    database = Database.from_url(migrated_db)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def job_queue(migrated_db: str) -> Iterator[JobQueue]:
    """Publishes jobs to this run's queue, as the API does."""
    from core.queue import JobQueue

    jobs = JobQueue(get_settings())
    yield jobs
    jobs.close()


@pytest.fixture(scope="session")
def live_platform(migrated_db: str, run_dir: Path) -> Iterator[Platform]:
    """The API and one Celery worker (bundled tiny.en model) as real processes."""
    workdir = run_dir / "platform"
    workdir.mkdir(exist_ok=True)
    port = free_port()
    platform = Platform(platform_env(API_PORT=str(port)), workdir, port)
    platform.start_api()
    platform.start_worker()
    try:
        platform.wait_ready()
        platform.wait_worker()
        yield platform
    except BaseException:
        for process in platform.processes.values():
            print(f"--- {process.name} log ---\n{process.log()[-5000:]}")
        raise
    finally:
        platform.stop()


@pytest.fixture(scope="session")
def speech_file(media_dir: Path):  # type: ignore[no-untyped-def]
    """`speech_file(text, fmt="wav", name=None)` → a recording of `text`."""

    def make(text: str, fmt: str = "wav", name: str | None = None) -> Path:
        return media.speech(text, media_dir, name=name, fmt=fmt)

    return make


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
