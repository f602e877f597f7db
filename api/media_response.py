"""The original media, streamed from storage, with HTTP Range; Range errors in the error shape.

Starlette's `FileResponse` serves ranges (single and multiple, `If-Range`, HEAD) for the
player's seeking; this response keeps all of that but reads through the storage interface, so
the same code serves a local file and an S3 object (proxied: a ranged `GetObject` read 64 KiB
at a time in a worker thread, so memory stays bounded whatever the file size). The size and
time come from the stored object. A bad Range header is refused before anything is read,
with the same parser, in `{"error": {"code", "message"}}` like everywhere else. Media is sent
with a sandbox CSP: opened directly, an uploaded file can run nothing in the API's origin.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, BinaryIO

import anyio
from starlette.datastructures import Headers
from starlette.responses import (
    FileResponse,
    JSONResponse,
    MalformedRangeHeader,
    RangeNotSatisfiable,
)
from starlette.types import Receive, Scope, Send

from api.schemas import error_body
from core.storage import Storage, StoredObject

MEDIA_CSP = "sandbox; default-src 'none'; media-src 'self'"


class _StoredReader:
    """The async file `FileResponse` reads from: `seek` opens the stored media at an offset,
    `read` takes the next chunk; both run in a worker thread."""

    def __init__(self, storage: Storage, key: str):
        self.storage = storage
        self.key = key
        self._reader: BinaryIO | None = None
        self._offset = 0

    async def seek(self, offset: int) -> None:
        await self.aclose()
        self._offset = offset

    async def read(self, size: int) -> bytes:
        if self._reader is None:
            self._reader = await anyio.to_thread.run_sync(
                self.storage.open_at, self.key, self._offset
            )
        return await anyio.to_thread.run_sync(self._reader.read, size)

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await anyio.to_thread.run_sync(reader.close)


class MediaResponse(FileResponse):
    def __init__(
        self,
        storage: Storage,
        stored: StoredObject,
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ):
        mode = stat.S_IFREG | 0o600
        fields: Any = (mode, 0, 0, 1, 0, 0, stored.size, stored.modified, stored.modified, 0)
        super().__init__(
            stored.key, media_type=media_type, headers=headers, stat_result=os.stat_result(fields)
        )
        self.storage = storage
        self.key = stored.key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._range_refusal(Headers(scope=scope), scope.get("method", "GET"))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[Any]:
        reader = _StoredReader(self.storage, self.key)
        try:
            yield reader
        finally:
            with anyio.CancelScope(shield=True):
                await reader.aclose()

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        # There is no local path to hand the server (the media may be a remote object).
        await super()._handle_simple(send, send_header_only, send_pathsend=False)

    def _range_refusal(self, headers: Headers, method: str) -> JSONResponse | None:
        http_range = headers.get("range")
        # With If-Range the range may be ignored (a changed file is sent whole): leave it be.
        if http_range is None or "if-range" in headers or method not in ("GET", "HEAD"):
            return None
        assert self.stat_result is not None
        size = self.stat_result.st_size
        try:
            self._parse_range_header(http_range, size)
        except MalformedRangeHeader as exc:
            message = exc.content or "The Range header is malformed."
            return JSONResponse(error_body("invalid_range", message), status_code=400)
        except RangeNotSatisfiable:
            return JSONResponse(
                error_body("range_not_satisfiable", f"The media is {size} bytes long."),
                status_code=416,
                headers={"Content-Range": f"bytes */{size}"},
            )
        return None
