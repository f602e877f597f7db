"""Signing out revokes the session token for every API process; a token whose expiry lies
beyond now + TTL is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.access.keys import KeyTable
from api.access.session_tokens import SessionSigner
from core.settings import Settings
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

ERIN = "erin-key-0123456789abcdef"
SECRET = "revocation-test-secret-0123456789abcdef"
TTL = 300


@pytest.fixture(scope="module")
def signed(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "sessions",
        workers=0,
        headers={"Authorization": f"Bearer {ERIN}"},
        API_KEYS=f"erin:{ERIN}",
        SESSION_SECRET=SECRET,
        SESSION_TTL_SECONDS=str(TTL),
    ) as platform:
        yield platform


def _who(platform: PrivatePlatform, token: str) -> int:
    with httpx.Client(base_url=platform.base_url, timeout=10) as anonymous:
        return anonymous.get("/api/session", params={"token": token}).status_code


def test_signing_out_revokes_the_token(signed: PrivatePlatform) -> None:
    with signed.client() as erin:
        token = erin.post("/api/session").json()["token"]
    assert _who(signed, token) == 200
    with httpx.Client(base_url=signed.base_url, timeout=10) as browser:
        browser.cookies.set("soundscripter_session", token, path="/api")
        assert browser.delete("/api/session").status_code == 204
    assert _who(signed, token) == 401
    # Another token of the same key is not affected.
    with signed.client() as erin:
        other = erin.post("/api/session").json()["token"]
    assert _who(signed, other) == 200


def test_a_token_reaching_past_the_ttl_is_refused(signed: PrivatePlatform) -> None:
    keys = KeyTable.from_settings(Settings(api_keys=f"erin:{ERIN}"))  # type: ignore[arg-type]
    erin = keys.lookup(ERIN)
    assert erin is not None
    # Properly signed, but for a day: more than this server's TTL allows.
    token, _ = SessionSigner.create(SECRET, ttl_seconds=86400).issue(erin, now=time.time())
    assert _who(signed, token) == 401
    fair, _ = SessionSigner.create(SECRET, ttl_seconds=TTL).issue(erin, now=time.time())
    assert _who(signed, fair) == 200
