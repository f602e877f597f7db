"""Removing what a test created on the shared services: its database and its queues."""

from __future__ import annotations

from collections.abc import Iterable

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


DEFAULT_MODELS = ("tiny.en",)


def run_queues(name: str, models: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """The queues and exchanges a run with QUEUE_NAME `name` may have declared: one queue per
    model (the default model, plus `models`) and queue type, one exchange per type, and the
    single queue and exchange named `name` of earlier versions."""
    from core.queue import QUEUE_TYPES, model_slug

    wanted = list(dict.fromkeys([*DEFAULT_MODELS, *models]))
    exchanges = [f"{name}.{kind}" for kind in QUEUE_TYPES]
    queues = [f"{exchange}.{model_slug(m)}" for exchange in exchanges for m in wanted]
    return [name, *queues], [name, *exchanges]


def delete_queue(broker_url: str, name: str, models: Iterable[str] = ()) -> None:
    """Delete every queue and exchange of a run with QUEUE_NAME `name` (`run_queues`).
    Cleanup only: a broker that cannot be reached is reported, not raised."""
    from kombu import Connection

    queues, exchanges = run_queues(name, models)
    try:
        with Connection(broker_url, connect_timeout=3) as conn:
            channel = conn.channel()
            for queue in queues:
                channel.queue_delete(queue)
            for exchange in exchanges:
                channel.exchange_delete(exchange)
    except Exception as exc:
        print(f"could not delete the queues of {name}: {exc}")
