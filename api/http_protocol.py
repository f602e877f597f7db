"""The HTTP/1.1 protocol `python -m api` serves: uvicorn's httptools protocol with a bounded head.

uvicorn's httptools protocol puts no limit on the request line and headers: httptools gathers
a header value by appending every piece it receives, so one 100 MB header took the event loop
about ten seconds, every other client (event streams included) waiting meanwhile. And nothing
closes a connection that sends a head slowly, or never finishes it.

`bounded_protocol()` keeps uvicorn's fast C parser (h11, the pure-Python alternative that has
such a limit, costs far more CPU per event-stream frame) and counts the bytes of each request
head as they arrive, before the parser sees them:

- past `max_head_bytes` without the end of the head, the client gets `431` with the usual
  error body and the connection is closed;
- a head not complete `head_timeout` seconds after its first byte (or after the connection
  opened) gets `408`, and the connection is closed; a connection that sent nothing of it is
  just closed.

Bytes are counted per read (one read holds at most a few hundred KiB), so a head pipelined
behind another request in the same read may pass the cap by that read's size; nothing can
exceed the cap by more than that. Bodies are not counted here (the upload limits apply).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from api.schemas import error_body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 32 * 1024
    head_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes = 0
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._reading_head:
            super().data_received(data)
            return
        if self._head_deadline is None:
            self._arm_deadline()
        room = self.max_head_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # More than the head may still hold: parse what fits, refuse if the head goes on.
        self._head_bytes += room
        super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._reading_head:
            self._refuse(
                431,
                "headers_too_large",
                f"The request line and headers exceed {self.max_head_bytes // 1024} KiB.",
            )
            return
        self.data_received(data[room:])

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # What follows on this connection is the next request's head; its deadline starts
        # with its first byte (an idle connection is uvicorn's keep-alive timeout's to close).
        self._reading_head = True
        self._head_bytes = 0

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if not self._reading_head or self.transport.is_closing():
            return
        if self._head_bytes == 0:
            self.transport.close()
            return
        self._refuse(
            408,
            "request_timeout",
            f"The request line and headers did not arrive within {self.head_timeout:g} s.",
        )

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer `status` and close; mid-response (a pipelined head) just close."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        body = json.dumps(error_body(code, message)).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"x-content-type-options: nosniff\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(head))
        self.transport.close()


def bounded_protocol(max_head_bytes: int, head_timeout: float) -> type[asyncio.Protocol]:
    """The protocol class for `uvicorn.run(http=...)` with these limits."""
    return type(
        "BoundedHttpToolsProtocol",
        (BoundedHttpToolsProtocol,),
        {"max_head_bytes": max_head_bytes, "head_timeout": head_timeout},
    )
