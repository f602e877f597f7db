"""Against a real API process in anonymous mode: DNS rebinding and cross-site uploads are
refused, and every response carries the security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.security_headers import DATA_POLICY, PAGE_POLICY
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

EVIL = "http://evil.example"
NO_CORS = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}


@pytest.fixture(scope="module")
def anonymous(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    """An API without keys (the default of `make run`); no worker: jobs stay queued."""
    with private_platform(run_dir / "guard", workers=0) as platform:
        yield platform


@pytest.fixture(scope="module")
def clip(speech_file) -> Path:  # type: ignore[no-untyped-def]
    return Path(speech_file("Nobody else may touch this.", name="guarded"))


def _upload(platform: PrivatePlatform, clip: Path, headers: dict[str, str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    with platform.client(headers=headers) as client:
        response = client.post(
            "/api/transcriptions", files=[("files", (clip.name, clip.read_bytes()))]
        )
    return response.status_code, response.json()


def _job_ids(platform: PrivatePlatform) -> list[str]:
    with platform.client() as client:
        return [item["id"] for item in client.get("/api/transcriptions").json()["items"]]


def test_a_cross_site_no_cors_upload_creates_no_job(anonymous: PrivatePlatform, clip: Path) -> None:
    before = _job_ids(anonymous)
    status, body = _upload(anonymous, clip, NO_CORS)
    assert status == 403
    assert body["error"]["code"] == "cross_site_request"
    assert _job_ids(anonymous) == before


def test_the_own_page_may_upload(anonymous: PrivatePlatform, clip: Path) -> None:
    own = {"Origin": anonymous.base_url, "Sec-Fetch-Site": "same-origin"}
    status, body = _upload(anonymous, clip, own)
    assert status == 202, body
    assert body["items"][0]["id"] in _job_ids(anonymous)


def test_a_rebound_name_can_neither_read_nor_delete(anonymous: PrivatePlatform, clip: Path) -> None:
    status, body = _upload(anonymous, clip, {})
    assert status == 202, body
    job_id = body["items"][0]["id"]
    rebound = {"Host": f"evil.example:{anonymous.api_port}"}
    with anonymous.client(headers=rebound) as client:
        read = client.get("/api/transcriptions")
        deleted = client.delete(f"/api/transcriptions/{job_id}")
        media = client.get(f"/api/transcriptions/{job_id}/audio")
    for response in (read, deleted, media):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "host_not_allowed"
    assert job_id in _job_ids(anonymous)


def test_every_response_carries_the_security_headers(
    anonymous: PrivatePlatform, clip: Path
) -> None:
    status, body = _upload(anonymous, clip, {})
    assert status == 202, body
    job_id = body["items"][0]["id"]
    with anonymous.client() as client:
        page = client.get("/")
        media = client.get(f"/api/transcriptions/{job_id}/audio")
        listing = client.get("/api/transcriptions")
        refused = client.get("/api/health", headers={"Host": "evil.example"})
    assert media.status_code == 200
    for response in (page, media, listing, refused):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert listing.headers["content-security-policy"] == DATA_POLICY
    # Media opened as a document runs in a sandbox with nothing allowed.
    assert "sandbox" in media.headers["content-security-policy"]
    assert "default-src 'none'" in media.headers["content-security-policy"]
