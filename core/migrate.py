"""Create the database if missing and apply migrations; safe when several processes start.

Run as `python -m core.migrate`. Migrations run under a Postgres advisory lock, so a second
process waits for the first and then finds nothing left to do.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from core.logs import configure_logging
from core.settings import get_settings

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x50554E44  # advisory lock id reserved for migrations


def ensure_database(url: str) -> None:
    target = make_url(url)
    name = target.database
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                try:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    logger.info("created database %s", name)
                except (sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
                    # Created meanwhile by another process starting at the same time.
                    if "already exists" not in str(exc):
                        raise
    finally:
        admin.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    url = url or get_settings().database_url
    ensure_database(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            try:
                config = alembic_config(url)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    upgrade(settings.database_url)
    logger.info("database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
