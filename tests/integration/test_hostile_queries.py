"""Text the database refuses (a NUL byte) and paths no file can have answer 4xx, never 500,
and cost one log line each (the app in process against this run's database)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from core.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def client(migrated_db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(get_settings().model_copy(update={"database_url": migrated_db}), sweeper=False)
    async with app.router.lifespan_context(app):
        yield httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


@pytest.mark.parametrize(
    "url",
    [
        "/api/transcriptions?q=a%00b",
        "/api/transcriptions?text=a%00b",
        "/api/transcriptions?q=%00&text=%00",
    ],
)
async def test_a_nul_byte_in_a_search_is_422_in_the_error_shape(
    client: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with client:
        response = await client.get(url)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("path", ["/foo%00bar", "/assets/%00.js", "/%00"])
async def test_a_nul_byte_in_a_page_path_is_not_a_server_error(
    client: httpx.AsyncClient, path: str
) -> None:
    async with client:
        response = await client.get(path)
    assert response.status_code < 500
