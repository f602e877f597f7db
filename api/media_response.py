"""The original media, as a file response whose Range errors speak the API's error shape.

Starlette's `FileResponse` serves ranges (for the player's seeking) and answers a bad Range
header with a plain-text 400 or 416. The header is checked here first, with the same parser,
so a client gets `{"error": {"code", "message"}}` like everywhere else. Media is sent with a
sandbox CSP: opened directly, an uploaded file can run nothing in the API's origin.
"""

from __future__ import annotations

import os

from starlette.datastructures import Headers
from starlette.responses import (
    FileResponse,
    JSONResponse,
    MalformedRangeHeader,
    RangeNotSatisfiable,
)
from starlette.types import Receive, Scope, Send

from api.schemas import error_body

MEDIA_CSP = "sandbox; default-src 'none'; media-src 'self'"


class MediaResponse(FileResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._range_refusal(Headers(scope=scope), scope.get("method", "GET"))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _range_refusal(self, headers: Headers, method: str) -> JSONResponse | None:
        http_range = headers.get("range")
        # With If-Range the range may be ignored (a changed file is sent whole): leave it be.
        if http_range is None or "if-range" in headers or method not in ("GET", "HEAD"):
            return None
        size = os.stat(self.path).st_size
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
