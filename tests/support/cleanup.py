"""Removing what a test created on the shared services: its database and its queue."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def drop_database(url: str) -> None:
    """Drop the Postgres database `url` names (if it exists), ending its open connections.
    Connects to the server's `postgres` database to do it."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def delete_queue(broker_url: str, name: str) -> None:
    """Delete the RabbitMQ queue `name` and its exchange of the same name. Cleanup only: a
    broker that cannot be reached is reported, not raised."""
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=3) as conn:
            channel = conn.channel()
            channel.queue_delete(name)
            channel.exchange_delete(name)
    except Exception as exc:
        print(f"could not delete queue {name}: {exc}")
