"""An upload's multipart body, streamed from disk with a count of the bytes handed on.

httpx's own `files=` builds the body where no caller can see it go out. Here the body is an
async generator: each chunk is counted when it is handed to the connection, which writes it
to the socket before it asks for the next, so the count is the bytes sent (less what the
kernel's socket buffer still holds). The length is known in advance and sent as
`Content-Length`, so the API can refuse a file that is too large before reading it.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_BYTES = 64 * 1024


def _quoted(value: str) -> str:
    """A header parameter value: quotes, backslashes and line breaks escaped (as browsers do)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass
class MultipartUpload:
    """The form of one upload: text fields first (so a refused field is answered before any
    file byte is sent), then the file in the field `files`."""

    path: Path
    fields: Mapping[str, str] = field(default_factory=dict)
    boundary: str = field(default_factory=lambda: f"soundscripter-{secrets.token_hex(16)}")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self) -> bytes:
        parts = []
        for name, value in self.fields.items():
            parts.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"'
                f"\r\n\r\n{value}\r\n"
            )
        media_type = mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{_quoted(self.path.name)}"\r\nContent-Type: {media_type}\r\n\r\n'
        )
        return "".join(parts).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def file_bytes(self) -> int:
        return self.path.stat().st_size

    def length(self) -> int:
        return len(self._head()) + self.file_bytes + len(self._tail())

    async def body(self, sent: Callable[[int], None]) -> AsyncIterator[bytes]:
        """The body in chunks; `sent(n)` is called with the file bytes handed on so far."""
        yield self._head()
        done = 0
        with self.path.open("rb") as source:
            while chunk := source.read(CHUNK_BYTES):
                yield chunk
                done += len(chunk)
                sent(done)
        yield self._tail()
