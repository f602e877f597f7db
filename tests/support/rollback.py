"""A database whose every change is undone when the test ends (Polar's per-test transaction).

The test's `Database` is bound to one connection inside an outer transaction. Its sessions join
that transaction through a savepoint, so a `commit()` in the code under test only releases the
savepoint: the code commits as usual, later sessions see what it wrote, and the outer
transaction is rolled back at the end. Rows committed by other tests stay visible (this is
the run's shared database), so a test asserts on its own rows, never on table totals.

One connection serves every session, so two sessions must never run at the same time: the code
under test may use the database from one thread at a time only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from core.db import Database


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Database]:
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield Database(connection, join_transaction_mode="create_savepoint")
        finally:
            outer.rollback()
