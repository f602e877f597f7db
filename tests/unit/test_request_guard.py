"""Host and Origin checks and security headers, in-process (nothing here reaches a service)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from api.access.hosts import HostPolicy, host_name, same_origin
from api.main import create_app
from api.security_headers import DATA_POLICY, PAGE_POLICY
from core.settings import Settings

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

KEY = "k" * 24


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8000", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("example.org.", "example.org"),
        ("[::1]x", None),
        ("a b", None),
        ("host:port", None),
        ("evil.example/x", None),
    ],
)
def test_host_header_names(header: str, name: str | None) -> None:
    assert host_name(header) == name


def test_anonymous_access_answers_loopback_names_only() -> None:
    policy = HostPolicy.from_settings(Settings(), keys_enabled=False)
    for name in ("127.0.0.1", "127.1.2.3", "::1", "localhost", "app.localhost"):
        assert policy.allows(name), name
    for name in ("evil.example", "10.0.0.1", "localhost.evil.example", "0.0.0.0"):
        assert not policy.allows(name), name


def test_allowed_hosts_add_names_and_subdomains() -> None:
    settings = Settings(allowed_hosts="transcribe.example.org, *.corp.example, [::2]")
    policy = HostPolicy.from_settings(settings, keys_enabled=True)
    assert not policy.any_host
    for name in ("transcribe.example.org", "a.corp.example", "::2", "127.0.0.1"):
        assert policy.allows(name), name
    for name in ("corp.example", "example.org", "evilcorp.example"):
        assert not policy.allows(name), name


def test_keys_or_allow_anonymous_accept_any_host_without_allowed_hosts() -> None:
    assert HostPolicy.from_settings(Settings(), keys_enabled=True).any_host
    assert HostPolicy.from_settings(Settings(allow_anonymous=True), keys_enabled=False).any_host


@pytest.mark.parametrize("entry", ["http://example.org", "example.org:8000", "a/b", "*."])
def test_malformed_allowed_hosts_are_refused(entry: str) -> None:
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Settings(allowed_hosts=entry)


def test_same_origin_compares_host_and_port() -> None:
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("https://example.org", "example.org:443")
    assert same_origin("https://example.org", "EXAMPLE.org")
    assert not same_origin("http://127.0.0.1:3000", "127.0.0.1:8000")
    assert not same_origin("null", "127.0.0.1:8000")
    assert not same_origin("http://evil.example", "127.0.0.1:8000")


@pytest.fixture
async def anonymous() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(cors_origins="https://ui.example.org"), sweeper=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


async def test_a_rebound_host_is_refused(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/health", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "host_not_allowed"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (await anonymous.get("/api/health")).status_code == 200
    localhost = await anonymous.get("/api/health", headers={"Host": "localhost:8000"})
    assert localhost.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:3000"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_cross_site_changes_are_refused(
    anonymous: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await anonymous.delete("/api/session", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cross_site_request"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://ui.example.org", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "none"},
    ],
)
async def test_own_and_listed_origins_may_change(
    anonymous: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await anonymous.delete("/api/session", headers=headers)
    assert response.status_code < 400, response.text


async def test_reads_from_another_site_are_not_refused(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/health", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


async def test_keyed_api_answers_any_host() -> None:
    app = create_app(Settings(api_keys=f"alice:{KEY}"), sweeper=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.1.2.3:8000") as client:
        assert (await client.get("/api/health")).status_code == 200
        unauthorized = await client.get("/api/transcriptions")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["content-security-policy"] == DATA_POLICY


async def test_every_response_carries_security_headers(anonymous: httpx.AsyncClient) -> None:
    page = await anonymous.get("/")
    api = await anonymous.get("/api/health")
    missing = await anonymous.get("/api/nothing-here")
    for response in (page, api, missing):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert api.headers["content-security-policy"] == DATA_POLICY
    assert missing.headers["content-security-policy"] == DATA_POLICY


def test_a_crash_answers_500_with_the_security_headers() -> None:
    import asyncio

    import httpx

    from api.main import create_app
    from core.settings import Settings

    app = create_app(Settings(), sweeper=False)

    @app.get("/api/crash-for-test")
    def crash() -> None:
        raise RuntimeError("boom")

    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the web UI's catch-all

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get("/api/crash-for-test")

    response = asyncio.run(scenario())
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "sandbox" in response.headers["content-security-policy"]
