"""The library's pages in every sort order: each page continues exactly after the one before,
`total` counts every match, filters combine, and a key sees only its owner's rows (the app in
process against this run's database)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api import library_query
from core.models import Transcription
from core.settings import get_settings
from tests.support.search_reading import app_client, library

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ALICE = "alice-sorting-key-0123456789"
BOB = "bob-sorting-key-0123456789ab"
NAMES = ["Budget.wav", "agenda.mp3", "budget.wav", "Zoo.m4a", "minutes.wav", "agenda.mp3"]
STATUSES = ["completed", "failed", "queued", "completed", "cancelled", "processing"]
MODELS = ["tiny.en", "base"]
LANGUAGES = ["en", "fr", None]
ROWS = 18


def _rows(tag: str) -> list[Transcription]:
    newest = datetime.now(UTC)
    rows = []
    for n in range(ROWS):
        rows.append(
            Transcription(
                filename=f"{tag}-{NAMES[n % len(NAMES)]}",
                storage_key=f"{tag}{n}",
                size_bytes=n + 1,
                sha256="0" * 64,
                model=MODELS[n % 2],
                language=LANGUAGES[n % 3],
                status=STATUSES[n % len(STATUSES)],
                duration_seconds=None if n % 7 == 3 else float((n * 37) % 11),
                owner="alice" if n % 3 else "bob",
                created_at=newest - timedelta(minutes=n % 9, seconds=n),
            )
        )
    return rows


@pytest.fixture(scope="module")
def tag(migrated_db: str) -> Iterator[str]:
    with library(migrated_db, "sort", _rows) as made:
        yield made


@pytest.fixture
async def client(migrated_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(
        update={"database_url": migrated_db, "api_keys": [f"alice:{ALICE}", f"bob:{BOB}"]}
    )
    async with app_client(settings) as running:
        running.headers["Authorization"] = f"Bearer {ALICE}"
        yield running


def _expected(sort: str, order: str, tag: str, **filters: Any) -> list[str]:
    """Alice's rows in the order the API promises, computed here from the rows themselves."""
    rows = [r for r in _rows(tag) if r.owner == "alice"]
    for name, values in filters.items():
        rows = [r for r in rows if getattr(r, name) in values]
    first = {
        "created_at": lambda r: (),
        "filename": lambda r: (r.filename.lower(),),
        "duration": lambda r: (r.duration_seconds or 0.0,),
        "status": lambda r: (r.status,),
    }[sort]
    ordered = sorted(rows, key=lambda r: (*first(r), r.created_at), reverse=order == "desc")
    return [r.storage_key for r in ordered]


async def _walk(client: httpx.AsyncClient, **params: Any) -> tuple[list[str], set[int]]:
    keys: list[str] = []
    totals: set[int] = set()
    cursor = None
    while True:
        query = {**params, "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/api/transcriptions", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        by_id = await _storage_keys(client, body["items"])
        keys += by_id
        totals.add(body["total"])
        cursor = body["next_cursor"]
        if cursor is None:
            return keys, totals


async def _storage_keys(client: httpx.AsyncClient, items: list[dict[str, Any]]) -> list[str]:
    """Rows are told apart by size here (each row's size is its number + 1)."""
    return [f"{item['filename'].split('-')[0]}{item['size_bytes'] - 1}" for item in items]


@pytest.mark.parametrize(
    ("sort", "order"),
    list(itertools.product(["created_at", "filename", "duration", "status"], ["asc", "desc"])),
)
async def test_every_sort_order_pages_without_repeats_or_gaps(
    client: httpx.AsyncClient, tag: str, sort: str, order: str
) -> None:
    keys, totals = await _walk(client, q=tag, sort=sort, order=order)
    expected = _expected(sort, order, tag)
    assert keys == expected
    assert totals == {len(expected)}


async def test_the_default_orders(client: httpx.AsyncClient, tag: str) -> None:
    newest, _ = await _walk(client, q=tag)
    assert newest == _expected("created_at", "desc", tag)
    names, _ = await _walk(client, q=tag, sort="filename")
    assert names == _expected("filename", "asc", tag)
    longest, _ = await _walk(client, q=tag, sort="duration")
    assert longest == _expected("duration", "desc", tag)


async def test_filters_combine_and_total_counts_them(client: httpx.AsyncClient, tag: str) -> None:
    keys, totals = await _walk(
        client, q=tag, status="completed,failed", model="tiny.en", sort="filename"
    )
    expected = _expected("filename", "asc", tag, status={"completed", "failed"}, model={"tiny.en"})
    assert keys == expected
    assert totals == {len(expected)}
    french, _ = await _walk(client, q=tag, language="fr", sort="status", order="desc")
    assert french == _expected("status", "desc", tag, language={"fr"})
    assert french


async def test_another_owners_rows_are_not_counted(client: httpx.AsyncClient, tag: str) -> None:
    alice = (await client.get("/api/transcriptions", params={"q": tag})).json()["total"]
    bob = await client.get(
        "/api/transcriptions", params={"q": tag}, headers={"Authorization": f"Bearer {BOB}"}
    )
    assert alice == len(_expected("created_at", "desc", tag))
    assert bob.json()["total"] == ROWS - alice


async def test_a_cursor_belongs_to_its_sort_order(client: httpx.AsyncClient, tag: str) -> None:
    page = await client.get("/api/transcriptions", params={"q": tag, "limit": 2, "sort": "status"})
    cursor = page.json()["next_cursor"]
    assert cursor
    other = await client.get("/api/transcriptions", params={"q": tag, "cursor": cursor})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "invalid_cursor"
    unknown = await client.get("/api/transcriptions", params={"sort": "size"})
    assert unknown.status_code == 422
    bad_status = await client.get("/api/transcriptions", params={"status": "done"})
    assert bad_status.json()["error"]["code"] == "invalid_status"


async def test_total_stops_at_its_limit_and_says_so(
    client: httpx.AsyncClient, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library_query, "MATCH_TOTAL_LIMIT", 5)
    monkeypatch.setattr(library_query, "LIBRARY_TOTAL_LIMIT", 3)
    cursor = None
    for _ in range(3):  # every page says the same
        params = {"q": tag, "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/transcriptions", params=params)).json()
        assert (page["total"], page["total_exact"]) == (5, False)
        cursor = page["next_cursor"]
    whole = (await client.get("/api/transcriptions", params={"limit": 2})).json()
    assert (whole["total"], whole["total_exact"]) == (3, False)
    # Alice's three failed rows fit on one page: it is their count, exact.
    failed = (await client.get("/api/transcriptions", params={"q": tag, "status": "failed"})).json()
    assert (len(failed["items"]), failed["total"], failed["total_exact"]) == (3, 3, True)
    # Past the first page the count runs, and is exact below the limit.
    first = (
        await client.get("/api/transcriptions", params={"q": tag, "limit": 2, "status": "failed"})
    ).json()
    second = await client.get(
        "/api/transcriptions",
        params={"q": tag, "limit": 2, "status": "failed", "cursor": first["next_cursor"]},
    )
    assert [(p["total"], p["total_exact"]) for p in (first, second.json())] == [(3, True)] * 2
