"""Streaming multipart upload: each file goes straight to storage while bytes are counted.

Nothing is buffered beyond one network chunk. A file past the size limit ends the request
with 413 and every partial file of the request is removed, whether or not the client sent a
Content-Length. Only the documented fields are accepted, and everything that is not a file is
capped while it streams: `FIELDS_LIMIT` bytes of field values in all, and python-multipart's
own limits on part headers (8 headers per part, 4,224 bytes per header line).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from core.errors import InvalidRequest, PayloadTooLarge
from core.storage import Storage, Upload

FIELDS_LIMIT = 64 * 1024
"""Bytes of non-file field values one request may send, all fields together."""
BOUNDARY_LIMIT = 70
"""The longest boundary RFC 2046 allows."""
FILENAME_LIMIT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = {"Cs", "Co", "Cn", "Cf"}
"""Surrogates, private use, unassigned and format characters (bidi overrides, zero-width)."""


def safe_filename(raw: str | None) -> str:
    """A display name: last path component, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _CONTROL.sub("", name).strip().strip(".")
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE)
    if len(name) > FILENAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: FILENAME_LIMIT - len(ext) - 1] + "." + ext
        else:
            name = name[:FILENAME_LIMIT]
    return name or "upload"


@dataclass
class ReceivedFile:
    filename: str
    content_type: str | None
    upload: Upload


@dataclass
class ReceivedForm:
    files: list[ReceivedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    """Each text field's value (the last one, for a field sent more than once)."""
    repeated: dict[str, list[str]] = field(default_factory=dict)
    """Every value of each text field, in order (`timestamp_granularities[]` is a list)."""

    def discard(self) -> None:
        for item in self.files:
            item.upload.discard()


class _FormReader:
    def __init__(
        self,
        storage: Storage,
        max_file_bytes: int,
        max_files: int,
        field_names: frozenset[str],
        file_field: str,
    ):
        self.storage = storage
        self.field_names = field_names
        self.file_field = file_field
        self._field_bytes = 0
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.form = ReceivedForm()
        self._header_field = b""
        self._header_value = b""
        self._headers = Message()
        self._disposition = b""
        self._current: ReceivedFile | None = None
        self._field_name: str | None = None
        self._field_value = bytearray()
        self.error: Exception | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self._headers = Message()
        self._disposition = b""
        self._current = None
        self._field_name = None
        self._field_value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_field.strip().lower() == b"content-disposition":
            self._disposition = self._header_value  # parsed as bytes: names may be UTF-8
        self._headers[self._header_field.decode("latin-1")] = self._header_value.decode(
            "utf-8", "replace"
        )
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            if name != self.file_field:
                raise InvalidRequest(
                    f"Unexpected file field {name!r}; send files in the field {self.file_field!r}.",
                    code="invalid_field",
                )
            if len(self.form.files) >= self.max_files:
                raise InvalidRequest(
                    f"At most {self.max_files} files can be sent in one request.",
                    code="too_many_files",
                )
            content_type = self._headers.get("content-type")
            self._current = ReceivedFile(
                filename=safe_filename(filename.decode("utf-8", "replace")),
                content_type=content_type[:200] if content_type else None,
                upload=self.storage.open_upload(),
            )
            self.form.files.append(self._current)
        elif name in self.field_names:
            self._field_name = name
        else:
            raise InvalidRequest(
                f"Unknown field {name[:80]!r}; the fields are {self.file_field}, "
                f"{', '.join(sorted(self.field_names))}.",
                code="unknown_field",
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            upload = self._current.upload
            if upload.size + (end - start) > self.max_file_bytes:
                raise PayloadTooLarge(
                    f"{self._current.filename} is larger than the "
                    f"{self.max_file_bytes // (1024 * 1024)} MiB limit."
                )
            upload.write(data[start:end])
        elif self._field_name is not None:
            self._field_bytes += end - start
            if self._field_bytes > FIELDS_LIMIT:
                raise InvalidRequest(
                    f"The form fields hold more than {FIELDS_LIMIT // 1024} KiB of text "
                    f"(at {self._field_name!r}).",
                    code="field_too_long",
                )
            self._field_value += data[start:end]

    def on_part_end(self) -> None:
        if self._current is None and self._field_name is not None:
            try:
                value = self._field_value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidRequest(
                    f"The field {self._field_name!r} is not valid UTF-8.", code="invalid_field"
                ) from exc
            self.form.fields[self._field_name] = value
            self.form.repeated.setdefault(self._field_name, []).append(value)
        self._current = None
        self._field_name = None


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise InvalidRequest(
            "Send the files as multipart/form-data in the field 'files'.",
            code="invalid_content_type",
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidRequest("The multipart boundary is missing.", code="invalid_content_type")
    if len(boundary) > BOUNDARY_LIMIT:
        raise InvalidRequest(
            f"The multipart boundary is longer than {BOUNDARY_LIMIT} characters.",
            code="invalid_content_type",
        )
    return boundary


async def receive_form(
    request: Request,
    storage: Storage,
    *,
    max_file_bytes: int,
    max_files: int,
    field_names: frozenset[str],
    file_field: str = "files",
) -> ReceivedForm:
    """Read the request body into storage: files in the field `file_field`, text in
    `field_names`. On any error every partial file is removed."""
    reader = _FormReader(storage, max_file_bytes, max_files, field_names, file_field)
    try:
        parser = MultipartParser(_boundary(request), reader.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:
            raise InvalidRequest(
                "The multipart body ends before its closing boundary.", code="malformed_body"
            )
    except (MultipartParseError, UnicodeError) as exc:
        reader.form.discard()
        raise InvalidRequest("The multipart body is malformed.", code="malformed_body") from exc
    except BaseException:
        reader.form.discard()
        raise
    return reader.form
