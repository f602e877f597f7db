"""Transcript search as people type: plurals and other forms by stemming in the transcript's
language, the last word as a prefix, the websearch syntax kept, user text never tsquery
syntax (the app in process against this run's database)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import sqlalchemy as sa

from core.models import Transcription
from core.search import SEARCH_CONFIGS
from core.settings import get_settings
from tests.support.search_reading import app_client, library, reading

__all__ = ["reading"]

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TEXTS = {
    "en-sheets": ("en", "We keep the budgets in spreadsheets and he runs them weekly."),
    "en-cake": ("en", "The chocolate cake was served after the meeting."),
    "en-french-word": ("en", "Someone wrote chantaient on the board."),
    "fr-songs": ("fr", "Ils chantaient des chansons anciennes dans la cuisine."),
    "de-houses": ("de", "Wir haben zwei Häuser gekauft."),
    "unknown-sheets": (None, "Unknown language spreadsheets here."),
}


def _rows(tag: str) -> list[Transcription]:
    return [
        Transcription(
            filename=f"{tag}-{name}.wav",
            storage_key=secrets.token_hex(16),
            size_bytes=1,
            sha256="0" * 64,
            model="tiny.en",
            status="completed",
            language=language,
            text=text,
        )
        for name, (language, text) in TEXTS.items()
    ]


@pytest.fixture(scope="module")
def tag(migrated_db: str) -> Iterator[str]:
    """Rows of this module, their file names starting with a tag of its own."""
    with library(migrated_db, "srch", _rows) as tag:
        yield tag


@pytest.fixture
async def client(migrated_db: str, reading: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process, every search read one way (`reading`)."""
    async with app_client(get_settings().model_copy(update={"database_url": migrated_db})) as c:
        yield c


async def _found(client: httpx.AsyncClient, tag: str, text: str) -> list[str]:
    answer = await client.get("/api/transcriptions", params={"q": tag, "text": text})
    assert answer.status_code == 200, answer.text
    names = [item["filename"].removeprefix(f"{tag}-") for item in answer.json()["items"]]
    return sorted(name.removesuffix(".wav") for name in names)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # plurals and other forms: stemmed (a trailing space: the word is finished)
        ("spreadsheet ", ["en-sheets"]),
        ("budget spreadsheet", ["en-sheets"]),
        ("running ", ["en-sheets"]),
        # the last word as a prefix, in any language (the unknown one too)
        ("spreadsheet", ["en-sheets", "unknown-sheets"]),
        ("choco", ["en-cake"]),
        ("chocolat", ["en-cake"]),
        ("cake choc", ["en-cake"]),
        ("c", []),
        # French stemming for the French transcript only
        ("chanter ", ["fr-songs"]),
        ("chanson ancienne ", ["fr-songs"]),
        # German
        ("haus ", ["de-houses"]),
        # the websearch syntax still works, with a prefix after it
        ('"chocolate cake"', ["en-cake"]),
        ("meeting -chocolate", []),
        ("spreadsheets -budget", ["unknown-sheets"]),
        ("chocolate or chansons", ["en-cake", "fr-songs"]),
    ],
)
async def test_words_are_found_as_people_type_them(
    client: httpx.AsyncClient, tag: str, text: str, found: list[str]
) -> None:
    assert await _found(client, tag, text) == found


@pytest.mark.parametrize(
    "text",
    ["'", "\\", "choco:*", "a & | ! ( )", "x:* | y", "<->", '"', "-", "or", "!!choco", "é" * 400],
)
async def test_tsquery_syntax_in_the_text_is_only_text(
    client: httpx.AsyncClient, tag: str, text: str
) -> None:
    answer = await client.get("/api/transcriptions", params={"q": tag, "text": text})
    assert answer.status_code == 200, answer.text


def test_the_database_maps_each_language_as_the_code_does(migrated_db: str) -> None:
    engine = sa.create_engine(migrated_db)
    codes = [*SEARCH_CONFIGS, "ja", "zh", "xx", None]
    with engine.connect() as conn:
        mapped = {
            code: conn.execute(
                sa.text("SELECT soundscripter_search_config(:code)::text"), {"code": code}
            ).scalar()
            for code in codes
        }
    engine.dispose()
    expected = {code: SEARCH_CONFIGS.get(code or "", "simple") for code in codes}
    assert mapped == expected
