"""The SSE response object driven directly over ASGI: headers, ending and release."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.live.ledger import Ledger
from api.live.stream import LiveStream
from api.metrics import SSE_CLIENTS
from api.routes.live import LiveResponse
from tests.support.live_fakes import ANYONE, A, FakeReads, completed, make_hub, processing

pytestmark = pytest.mark.unit

SCOPE = {"type": "http", "method": "GET", "path": "/", "headers": []}


async def _open(reads: FakeReads, **options: Any) -> tuple[LiveResponse, LiveStream]:
    hub = make_hub(**options)
    stream = LiveStream(hub, reads, Ledger([A]), ANYONE)
    return LiveResponse(stream, await stream.snapshot()), stream


def test_stream_sends_headers_frames_and_ends_after_the_terminal_event() -> None:
    async def scenario() -> list[dict[str, Any]]:
        reads = FakeReads()
        reads.set(A, processing(A, 1))
        response, stream = await _open(reads, ping_seconds=30)
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if len(sent) == 2:
                stream.hub._deliver(A, completed(A, 2))

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()
            return {}

        async with asyncio.timeout(5):
            await response(SCOPE, receive, send)
        assert stream.hub.client_count == 0
        return sent

    start, *bodies = asyncio.run(scenario())
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert headers[b"cache-control"] == b"no-cache"
    assert headers[b"x-accel-buffering"] == b"no"
    assert [b["body"][:12] for b in bodies] == [b"id: 1\nevent:", b"id: 2\nevent:", b""]
    assert bodies[-1]["more_body"] is False


def test_client_that_stops_reading_is_dropped_by_the_ping_timeout() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        reads.set(A, processing(A, 1))
        response, stream = await _open(reads, ping_seconds=0.05, send_timeout_seconds=0.2)
        clients = SSE_CLIENTS._value.get()

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                await asyncio.Event().wait()  # the socket never drains

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()
            return {}

        async with asyncio.timeout(5):
            await response(SCOPE, receive, send)
        assert stream.hub.client_count == 0
        assert SSE_CLIENTS._value.get() == clients - 1

    asyncio.run(scenario())


def test_disconnect_releases_the_stream() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        reads.set(A, processing(A, 1))
        response, stream = await _open(reads, ping_seconds=30)

        async def send(message: dict[str, Any]) -> None:
            return None

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

        async with asyncio.timeout(5):
            await response(SCOPE, receive, send)
        assert stream.hub.client_count == 0

    asyncio.run(scenario())
