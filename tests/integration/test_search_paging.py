"""A transcript search pages newest first and shows each key only its owner's transcripts,
whichever way the search is read (the app in process against this run's database)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.models import Transcription
from core.settings import get_settings
from tests.support.search_reading import app_client, library, reading

__all__ = ["reading"]

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ALICE = "alice-search-key-0123456789"
ADMIN = "admin-search-key-0123456789"
MATCHING = 57
"""Transcripts that mention budget spreadsheets: more than two pages of 25."""


def _owner(number: int) -> str | None:
    return "alice" if number % 5 == 0 else None


def _rows(tag: str) -> list[Transcription]:
    newest = datetime.now(UTC)
    return [
        Transcription(
            filename=f"{tag}-{number:03d}.wav",
            storage_key=secrets.token_hex(16),
            size_bytes=1,
            sha256="0" * 64,
            model="tiny.en",
            status="completed",
            language="en",
            text=(
                f"Item {number}: the budget spreadsheets were checked."
                if number < MATCHING
                else f"Item {number}: nothing about money."
            ),
            owner=_owner(number),
            created_at=newest - timedelta(minutes=number),
        )
        for number in range(MATCHING + 12)
    ]


@pytest.fixture(scope="module")
def tag(migrated_db: str) -> Iterator[str]:
    """MATCHING rows that match and some that do not, a minute apart (number 0 the newest),
    every fifth row alice's; their file names start with a tag of this module."""
    with library(migrated_db, "page", _rows) as tag:
        yield tag


@pytest.fixture
async def client(migrated_db: str, reading: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(
        update={
            "database_url": migrated_db,
            "api_keys": [f"alice:{ALICE}"],
            "admin_api_keys": [f"ops:{ADMIN}"],
        }
    )
    async with app_client(settings) as c:
        yield c


async def _every_page(client: httpx.AsyncClient, key: str, tag: str, text: str) -> list[int]:
    """The numbers of the rows found, page after page of 25."""
    numbers: list[int] = []
    cursor: str | None = None
    for _ in range(10):
        params = {"q": tag, "text": text, "limit": "25", **({"cursor": cursor} if cursor else {})}
        answer = await client.get(
            "/api/transcriptions", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        numbers += [int(item["filename"].removeprefix(f"{tag}-")[:3]) for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return numbers
    raise AssertionError("more pages than rows")


@pytest.mark.parametrize(
    "text", ["budget spreadsh", "spreadsheet budgets ", '"budget spreadsheets"']
)
async def test_pages_are_newest_first_and_complete(
    client: httpx.AsyncClient, tag: str, text: str
) -> None:
    assert await _every_page(client, ADMIN, tag, text) == list(range(MATCHING))


async def test_a_key_finds_only_its_owners_transcripts(client: httpx.AsyncClient, tag: str) -> None:
    found = await _every_page(client, ALICE, tag, "spreadsheets budg")
    assert found == [n for n in range(MATCHING) if _owner(n) == "alice"]
    assert await _every_page(client, ALICE, tag, "money ") == [
        n for n in range(MATCHING, MATCHING + 12) if _owner(n) == "alice"
    ]
