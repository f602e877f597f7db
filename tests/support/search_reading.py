"""Shared parts of the transcript search tests: both ways a search is read (core.search), a
library of rows of one test module, and the app in process.

Every test that uses `reading` runs once with every search read by the newest-first walk and
once with every search read from the GIN index's match list, whatever the sample of the
newest rows says."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, delete

from api.main import create_app
from core import search
from core.models import Transcription
from core.settings import Settings


@pytest.fixture(params=["newest-first walk", "index match list"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "newest-first walk":
        monkeypatch.setattr(search, "COMMON", 0)
    else:
        monkeypatch.setattr(search, "COMMON", search.SAMPLE + 1)
    return str(request.param)


@contextlib.contextmanager
def library(
    database_url: str, prefix: str, rows: Callable[[str], list[Transcription]]
) -> Iterator[str]:
    """The rows `rows(tag)` makes (their file names start with a tag of their own), stored,
    then deleted at the end; yields the tag."""
    tag = f"{prefix}{secrets.token_hex(3)}"
    engine = sa.create_engine(database_url)
    try:
        with Session(engine) as session:
            session.add_all(rows(tag))
            session.commit()
        yield tag
        with Session(engine) as session:
            filenames = col(Transcription.filename)
            session.execute(delete(Transcription).where(filenames.startswith(tag)))
            session.commit()
    finally:
        engine.dispose()


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app for `settings` in process (its lifespan run, no sweeper) and a client of it."""
    app = create_app(settings, sweeper=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client,
    ):
        yield client
