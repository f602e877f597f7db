"""Fixtures of the integration tier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from core.db import Database
    from tests.support.pipeline_runs import Runs
    from tests.support.seaweedfs import SeaweedFS


@pytest.fixture(scope="session")
def rollback_engine(migrated_db: str) -> Iterator[Engine]:
    """An engine on this run's database for `tx_db` (its own pool, disposed at the end)."""
    from core.db import make_engine

    engine = make_engine(migrated_db)
    yield engine
    engine.dispose()


@pytest.fixture
def tx_db(rollback_engine: Engine) -> Iterator[Database]:
    """This run's database inside one transaction rolled back after the test
    (`tests/support/rollback.py`): the code under test commits, nothing stays."""
    from tests.support.rollback import rolled_back

    with rolled_back(rollback_engine) as database:
        yield database


@pytest.fixture
def pipeline_runs(tx_db: Database, tmp_path: Path) -> Iterator[Runs]:
    """Jobs to run through `Pipeline.run` in-process (`tests/support/pipeline_runs.py`)."""
    from tests.support.pipeline_runs import Runs

    runs = Runs(tx_db, tmp_path / "storage")
    yield runs
    runs.close()


@pytest.fixture(scope="session")
def seaweedfs(run_dir: Path) -> Iterator[SeaweedFS]:
    """A private SeaweedFS for this run (`tests/support/seaweedfs.py`), stopped at the end."""
    from tests.support.seaweedfs import SeaweedFS

    server = SeaweedFS(run_dir / "seaweedfs")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bucket(seaweedfs: SeaweedFS) -> str:
    """A new, empty bucket on the run's SeaweedFS (running again if a test stopped it)."""
    if seaweedfs.process is None:
        seaweedfs.start()
    return seaweedfs.create_bucket("ss-test")
