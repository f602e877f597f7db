"""A migrated database of its own for a private platform, dropped afterwards.

Platforms sharing one database also share the sweeper's view of unconfirmed and expired jobs,
so one platform's API could hand the other's jobs to its own queue. A test that counts on
every event of its jobs passing through its own platform gives that platform a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from core.migrate import upgrade
from core.settings import get_settings


@contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """`<this run's database>_<suffix>`, migrated; yields its URL."""
    base, _, name = get_settings().database_url.rpartition("/")
    database = f"{name}_{suffix}"
    url = f"{base}/{database}"
    upgrade(url)
    try:
        yield url
    finally:
        admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
