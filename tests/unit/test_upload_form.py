"""The upload form is bounded in what is not a file: field names, field bytes, part headers,
the boundary, and a body that ends before its closing boundary (in process: each request is
refused before any service is needed)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.deps import get_storage
from api.main import create_app
from api.uploads import FIELDS_LIMIT, safe_filename
from core.settings import Settings
from core.storage import LocalStorage

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

BOUNDARY = "formboundary"
HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
CLOSE = f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def client(storage: LocalStorage) -> httpx.AsyncClient:
    app = create_app(Settings(max_upload_mb=1), sweeper=False)
    app.dependency_overrides[get_storage] = lambda: storage
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def _field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _file(name: str = "a.wav", extra_headers: str = "") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"{extra_headers}Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + b"\0" * 100
        + b"\r\n"
    )


async def _post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str] = HEADERS):  # type: ignore[no-untyped-def]
    async with client:
        return await client.post("/api/transcriptions", content=body, headers=headers)


async def test_an_undocumented_field_is_refused(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    response = await _post(client, _file() + _field("x-padding", "y") + CLOSE)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_field"
    assert storage.files() == []


async def test_the_fields_together_are_capped(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    # Each value is small; repeated, they pass the cap on all fields together.
    value = "x" * 1000
    repeats = FIELDS_LIMIT // len(value) + 1
    response = await _post(client, _file() + _field("initial_prompt", value) * repeats + CLOSE)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "field_too_long"
    assert storage.files() == []


async def test_part_headers_are_capped(client: httpx.AsyncClient, storage: LocalStorage) -> None:
    # python-multipart refuses a header line past 4,224 bytes, and more than 8 per part.
    long_line = f"X-Padding: {'p' * 5000}\r\n"
    many = "".join(f"X-{n}: v\r\n" for n in range(9))
    async with client:
        for padding in (long_line, many):
            response = await client.post(
                "/api/transcriptions", content=_file(extra_headers=padding) + CLOSE, headers=HEADERS
            )
            assert response.status_code == 422
            assert response.json()["error"]["code"] == "malformed_body"
    assert storage.files() == []


async def test_a_boundary_longer_than_rfc_2046_allows_is_refused(
    client: httpx.AsyncClient,
) -> None:
    long = "b" * 300
    body = f"--{long}\r\n".encode()
    response = await _post(client, body, {"content-type": f"multipart/form-data; boundary={long}"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_content_type"


async def test_a_body_without_its_closing_boundary_is_refused(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    response = await _post(client, _file())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_body"
    assert storage.files() == []


async def test_a_nul_in_the_prompt_is_refused(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    response = await _post(client, _file() + _field("initial_prompt", "a\x00b") + CLOSE)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_field"
    assert storage.files() == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("invoice\u202egpj.exe.wav", "invoicegpj.exe.wav"),  # right-to-left override
        ("zero\u200bwidth\u200d.mp3", "zerowidth.mp3"),
        ("\u2066isolated\u2069.ogg", "isolated.ogg"),
        ("\ufeffbom.wav", "bom.wav"),
    ],
)
def test_bidi_and_zero_width_characters_leave_display_names(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected
