"""A real API process bounds what a client may send before its request starts: request line
and headers past MAX_REQUEST_HEAD_KB get 431, a head not finished within
REQUEST_HEAD_TIMEOUT_SECONDS gets 408, and neither touches other clients or long streams."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

CAP_KB = 16
HEAD_TIMEOUT = 1


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "head-limits",
        workers=0,
        MAX_REQUEST_HEAD_KB=str(CAP_KB),
        REQUEST_HEAD_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
        SSE_PING_SECONDS="0.5",
    ) as started:
        yield started


def connect(platform: PrivatePlatform) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", platform.api_port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_and_body(raw: bytes) -> tuple[int, dict]:  # type: ignore[type-arg]
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def request_head(extra: bytes = b"") -> bytes:
    return b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra


def test_a_huge_header_gets_431_and_is_not_read(platform: PrivatePlatform) -> None:
    """The probe's 100 MB header: refused once the cap is passed, long before the end."""
    with connect(platform) as sock:
        sock.sendall(request_head(b"X-Big: "))
        chunk = b"a" * 65536
        sent = 0
        try:
            while sent < 100 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = read_all(sock)
    assert sent < 100 * 1024 * 1024, "the server read the whole 100 MB header"
    status, body = status_and_body(raw)
    assert status == 431
    assert body["error"]["code"] == "headers_too_large"
    with platform.client() as client:
        assert client.get("/api/health").status_code == 200


def test_many_headers_past_the_cap_get_431(platform: PrivatePlatform) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(CAP_KB * 12))
    with connect(platform) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request_head(headers) + b"\r\n")
        status, body = status_and_body(read_all(sock))
    assert status == 431
    assert body["error"]["code"] == "headers_too_large"


def test_headers_under_the_cap_are_served(platform: PrivatePlatform) -> None:
    big_cookie = "c=" + "x" * ((CAP_KB - 2) * 1024)
    with platform.client() as client:
        response = client.get("/api/health", headers={"Cookie": big_cookie})
        assert response.status_code == 200
        # Keep-alive: the next request on the same connection counts its own head.
        assert client.get("/api/health", headers={"Cookie": big_cookie}).status_code == 200


def test_an_unfinished_head_gets_408(platform: PrivatePlatform) -> None:
    with connect(platform) as sock:
        sock.sendall(request_head(b"X-Slow: 1\r\n"))  # no blank line: the head never ends
        status, body = status_and_body(read_all(sock))
    assert status == 408
    assert body["error"]["code"] == "request_timeout"


def test_a_silent_connection_is_closed(platform: PrivatePlatform) -> None:
    with connect(platform) as sock:
        assert read_all(sock) == b""


def test_an_event_stream_outlives_the_head_timeout(
    platform: PrivatePlatform,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    """Pings at 0.5 s: a stream that yields six of them has lasted past the 1 s deadline."""
    clip = Path(speech_file("Keep the stream open.", name="head-limit-stream"))
    job = platform.upload(clip).json()["items"][0]
    with (
        platform.client() as client,
        client.stream("GET", f"/api/transcriptions/{job['id']}/events", timeout=30) as stream,
    ):
        assert stream.status_code == 200
        pings = 0
        for line in stream.iter_lines():
            if line.startswith(":"):
                pings += 1
            if pings == 6:
                break
    assert pings == 6
