"""Fixtures of the integration tier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.db import Database


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
