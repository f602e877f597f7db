"""Many SSE clients on raw sockets, cheap enough that one process can hold a thousand.

Each client sends one `GET …/events` and watches the bytes: it never decodes the JSON, it only
finds the `published_at` stamp the benchmark's publisher put into each event and records how
long ago that was. A stream counts as ready once its snapshot frame has arrived.
"""

from __future__ import annotations

import asyncio
import time

STAMP = b'"published_at":'
FRAME_END = b"\n\n"


class StreamClient(asyncio.Protocol):
    def __init__(self, host: str, port: int, path: str):
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        self.delays: list[float] = []
        self.frames = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self._buffer = b""
        self._headers_done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self._buffer + data
        if not self._headers_done:
            head, found, rest = buffer.partition(b"\r\n\r\n")
            if not found:
                self._buffer = buffer
                return
            if not head.startswith(b"HTTP/1.1 200"):
                self._fail(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                return
            self._headers_done = True
            buffer = rest
        end = buffer.rfind(FRAME_END)
        if end < 0:
            self._buffer = buffer
            return
        complete, self._buffer = buffer[: end + 2], buffer[end + 2 :]
        self.frames += complete.count(FRAME_END)
        start = complete.find(STAMP)
        while start >= 0:
            value_start = start + len(STAMP)
            value_end = value_start
            while complete[value_end] not in b",}":
                value_end += 1
            self.delays.append(now - float(complete[value_start:value_end]))
            start = complete.find(STAMP, value_end)
        if not self.ready.done():
            self.ready.set_result(None)

    def _fail(self, exc: Exception) -> None:
        for future in (self.ready, self.closed):
            if not future.done():
                future.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self._fail(exc)
            return
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the snapshot"))
        if not self.closed.done():
            self.closed.set_result(None)


async def open_clients(
    host: str, port: int, paths: list[str], parallel: int = 100
) -> list[StreamClient]:
    """Connect one client per path, `parallel` at a time, and wait for every snapshot."""
    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(parallel)

    async def one(path: str) -> StreamClient:
        async with limit:
            _, client = await loop.create_connection(
                lambda: StreamClient(host, port, path), host, port
            )
            await client.ready
            return client

    return list(await asyncio.gather(*(one(p) for p in paths)))
