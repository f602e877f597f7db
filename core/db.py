"""The database of one process: its engine and short sessions (one per request or worker step).

A `Database` is built once by whoever owns the process (`api.main.create_app`, the worker's
process setup, a test) and handed to what needs it; nothing here is a module-level singleton.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine


def make_engine(url: str) -> Engine:
    """An engine for `url` (nothing connects until it is used)."""
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5},
    )


class Database:
    def __init__(self, bind: Engine | Connection, **session_options: Any):
        self.bind = bind
        self._sessions = sessionmaker(
            bind=bind, class_=Session, expire_on_commit=False, **session_options
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def engine(self) -> Engine:
        return self.bind if isinstance(self.bind, Engine) else self.bind.engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()
