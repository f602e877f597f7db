"""Shared fixtures.

Every test run gets its own Postgres database, Redis prefix, RabbitMQ queue and storage
folder (all named `ss_test_<random>`), set in the environment before any project module
reads its settings, so a run never disturbs another instance on the same machine. The live
platform (a real API and worker, `live_platform`) has a database and queues of its own
(`<run>_live`): its dispatcher and sweeper act on every row they see.

This module stays light: `pytest -m unit` must not import the database and broker drivers,
the browser driver or the subprocess platform (`tests/unit/test_tier_imports.py` checks it).
Fixtures import what they need when they run, and a marker expression that can only select
some tiers does not collect the other tiers' directories at all (`pytest_ignore_collect`).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from core.db import Database
    from core.queue import JobQueue
    from tests.support.platform import Platform

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
        # Nothing from a developer's `.env` (`make run` writes one): only what tests set.
        "SOUNDSCRIPTER_ENV_FILE": os.devnull,
    }
)
for _name in ("API_KEYS", "ALLOWED_MODELS", "CORS_ORIGINS", "WORKER_PROCESSES"):
    os.environ.pop(_name, None)

TESTS = Path(__file__).resolve().parent


def _tiers(config: pytest.Config) -> set[str]:
    """Registered markers that name a directory of `tests/`: the tiers."""
    markers = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    return {name for name in markers if (TESTS / name).is_dir()}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip a tier's directory (its modules and conftest are not even imported) when the `-m`
    expression cannot select its marker. Each tier directory holds only tests of its own tier.
    Only expressions made of tier names are decided here; any other one collects everything
    and leaves the selection to pytest."""
    if collection_path.parent != TESTS or not collection_path.is_dir():
        return None
    tiers = _tiers(config)
    expression = config.getoption("markexpr")
    names = set(re.findall(r"\w+", expression)) - {"and", "or", "not"}
    if collection_path.name not in tiers or not names or not names <= tiers:
        return None
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # pytest moved its private parser: collect, pytest still selects
        return None
    tier = collection_path.name
    selected = Expression.compile(expression).evaluate(lambda name, /, **kw: name == tier)
    return None if selected else True


@pytest.fixture(scope="session")
def run_dir() -> Path:
    return RUN_DIR


@pytest.fixture(scope="session")
def media_dir(run_dir: Path) -> Path:
    folder = run_dir / "media"
    folder.mkdir(exist_ok=True)
    return folder


def _migrated(name: str) -> Iterator[str]:
    """The database `name` on this run's server, created and migrated; dropped at the end
    with the queues named `name`."""
    from sqlalchemy.engine import make_url

    from core.migrate import upgrade
    from core.settings import get_settings
    from tests.support.cleanup import delete_queue, drop_database

    settings = get_settings()
    url = make_url(settings.database_url).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    upgrade(rendered)
    yield rendered
    drop_database(rendered)
    delete_queue(settings.broker_url, name)


@pytest.fixture(scope="session")
def migrated_db() -> Iterator[str]:
    """This run's database, created and migrated; dropped (with the queue) at the end."""
    yield from _migrated(RUN_ID)


def _rows(url: str) -> Iterator[Database]:
    from core.db import Database

    database = Database.from_url(url)
    yield database
    database.dispose()


def _publisher(queue_name: str) -> Iterator[JobQueue]:
    from core.queue import JobQueue
    from core.settings import get_settings

    jobs = JobQueue(get_settings().model_copy(update={"queue_name": queue_name}))
    yield jobs
    jobs.close()


@pytest.fixture(scope="session")
def db(migrated_db: str) -> Iterator[Database]:
    """This run's database, for tests that read or change rows directly."""
    yield from _rows(migrated_db)


@pytest.fixture(scope="session")
def job_queue(migrated_db: str) -> Iterator[JobQueue]:
    """Publishes jobs to this run's queue, as the API does."""
    yield from _publisher(RUN_ID)


LIVE_ID = f"{RUN_ID}_live"


@pytest.fixture(scope="session")
def live_db(migrated_db: str) -> Iterator[str]:
    """The live platform's own database (its queues are named `LIVE_ID` too), created and
    migrated; dropped with the queues at the end. Its dispatcher and sweeper act on every row
    of their database, so the rows other tests make up in `migrated_db` stay out of its way."""
    yield from _migrated(LIVE_ID)


@pytest.fixture(scope="session")
def live_rows(live_db: str) -> Iterator[Database]:
    """The live platform's database, for tests that read or change its rows directly."""
    yield from _rows(live_db)


@pytest.fixture(scope="session")
def live_queue(live_db: str) -> Iterator[JobQueue]:
    """Publishes jobs to the live platform's queues, as its API does."""
    yield from _publisher(LIVE_ID)


@pytest.fixture(scope="session")
def live_platform(live_db: str, run_dir: Path) -> Iterator[Platform]:
    """The API and one Celery worker (bundled tiny.en model) as real processes, on their own
    database and queues (`live_db`)."""
    from tests.support.platform import Platform, free_port, platform_env

    workdir = run_dir / "platform"
    workdir.mkdir(exist_ok=True)
    port = free_port()
    env = platform_env(API_PORT=str(port), DATABASE_URL=live_db, QUEUE_NAME=LIVE_ID)
    platform = Platform(env, workdir, port)
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

    from tests.support import media

    def make(text: str, fmt: str = "wav", name: str | None = None) -> Path:
        return media.speech(text, media_dir, name=name, fmt=fmt)

    return make


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
