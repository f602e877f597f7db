"""Streaming upload limits, checked in process (no services: the request fails before any)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.deps import get_storage
from api.main import create_app
from api.uploads import safe_filename
from core.settings import Settings
from core.storage import LocalStorage

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

BOUNDARY = "soundscripterboundary"


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def client(storage: LocalStorage) -> httpx.AsyncClient:
    app = create_app(Settings(max_upload_mb=1, max_files_per_request=3), sweeper=False)
    app.dependency_overrides[get_storage] = lambda: storage
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def _part(name: str, filename: str, size: int) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()
    return head + b"\0" * size + b"\r\n"


async def _chunks(body: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


async def test_oversize_file_is_413_and_leaves_nothing(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    body = _part("files", "small.wav", 1000) + _part("files", "big.wav", 2 * 1024 * 1024)
    body += f"--{BOUNDARY}--\r\n".encode()
    async with client:
        response = await client.post("/api/transcriptions", content=body, headers=HEADERS)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert "big.wav" in response.json()["error"]["message"]
    assert storage.files() == []


async def test_limit_holds_without_content_length(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    body = _part("files", "streamed.wav", 3 * 1024 * 1024) + f"--{BOUNDARY}--\r\n".encode()
    async with client:
        response = await client.post("/api/transcriptions", content=_chunks(body), headers=HEADERS)
    assert response.status_code == 413
    assert storage.files() == []


async def test_too_many_files(client: httpx.AsyncClient, storage: LocalStorage) -> None:
    body = (
        b"".join(_part("files", f"f{n}.wav", 10) for n in range(4)) + f"--{BOUNDARY}--\r\n".encode()
    )
    async with client:
        response = await client.post("/api/transcriptions", content=body, headers=HEADERS)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_files"
    assert storage.files() == []


async def test_malformed_multipart_is_4xx(client: httpx.AsyncClient, storage: LocalStorage) -> None:
    async with client:
        response = await client.post(
            "/api/transcriptions", content=b"--nope\r\n\r\n garbage", headers=HEADERS
        )
        assert 400 <= response.status_code < 500
        response = await client.post(
            "/api/transcriptions", content=b"x", headers={"content-type": "text/plain"}
        )
        assert response.status_code == 422
    assert storage.files() == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\talk.mp3", "talk.mp3"),
        ("..", "upload"),
        ("", "upload"),
        ("bad\x00name\x1b[31m.wav", "badname[31m.wav"),
        ("café ☕ talk.m4a", "café ☕ talk.m4a"),
        ("a" * 1000 + ".mp3", "a" * 251 + ".mp3"),
    ],
)
def test_safe_filename(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected
