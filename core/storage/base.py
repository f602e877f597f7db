"""The storage interface both backends implement, and the upload every backend receives.

Keys are generated here (`<uuid hex>`), never derived from user-supplied names, so nothing a
client sends can choose a path or an object name. An upload is always streamed to a local
file under `<STORAGE_DIR>/incoming/` first (counted, hashed and probed there); `commit` then
hands the finished file to the backend, which stores it under its key completely or not at
all.

Uploads are private: folders are created (and kept) `0700` and files `0600`, so other users of
the machine can neither list nor read them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_KEY = re.compile(r"^[0-9a-f]{32}$")
FOLDER_MODE = 0o700
FILE_MODE = 0o600


class StorageError(Exception):
    """A key that is not one of ours."""


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise StorageError(f"invalid storage key {key!r}")
    return key


def private_folder(folder: Path) -> None:
    """Create `folder` as 0700, and take group and other access from one that exists (a folder
    made by an older version); a folder this user does not own is left as it is."""
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            folder.chmod(FOLDER_MODE)


@dataclass(frozen=True)
class StoredObject:
    """What the backend knows of one stored file."""

    key: str
    size: int
    modified: float
    """Unix time of the last write."""


class Storage(ABC):
    """Where media lives. `incoming` is always a local folder (uploads in flight)."""

    def __init__(self, incoming: Path):
        self.incoming = incoming
        private_folder(incoming)

    def new_key(self) -> str:
        return uuid.uuid4().hex

    def open_upload(self) -> Upload:
        return Upload(self)

    @abstractmethod
    def store(self, key: str, finished: Path) -> None:
        """Take the finished file `finished` (in `incoming`) as the media of `key`; it is
        gone from `incoming` afterwards. Raises `StorageUnavailable` with nothing stored."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """The stored file of `key`, or None if there is none."""

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    @abstractmethod
    def open_at(self, key: str, offset: int) -> BinaryIO:
        """A reader of the media of `key` from byte `offset` on (close it when done)."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove the media of `key`; False if there was none."""

    @abstractmethod
    def listing(self, after: str | None, limit: int) -> list[StoredObject]:
        """Up to `limit` stored files in key order, starting after the key `after`."""

    @abstractmethod
    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file holding the media of `key`, for as long as the `with` block runs.
        Raises `MediaError("media_missing")` if there is none, `StorageUnavailable` if the
        store cannot be reached."""

    def prepare(self) -> None:
        """Make the store ready for use (e.g. create its bucket); called at API start."""
        return None

    def check(self) -> None:
        """Raise if the store cannot be used now (the readiness check)."""
        if not self.incoming.is_dir():
            raise StorageError(f"the upload folder {self.incoming.name!r} is gone")

    def abort_stale_transfers(self, older_than: float) -> int:
        """End transfers into the store begun before `older_than` (a Unix time) and never
        finished; how many there were."""
        return 0

    def close(self) -> None:
        """Release connections."""
        return None

    def stale_uploads(self, older_than: float) -> list[Path]:
        """Partial uploads last written before `older_than` (a Unix time)."""
        stale = []
        for path in self.incoming.glob("*.part"):
            try:
                if path.stat().st_mtime < older_than:
                    stale.append(path)
            except FileNotFoundError:  # finished or discarded meanwhile
                continue
        return stale


def read_chunks(reader: BinaryIO, length: int, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """`length` bytes from `reader`, `chunk_size` at a time."""
    while length > 0:
        chunk = reader.read(min(chunk_size, length))
        if not chunk:
            return
        length -= len(chunk)
        yield chunk


class Upload:
    """A file being received: count bytes and hash while writing, then commit or discard."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self.key = storage.new_key()
        self.temp_path = storage.incoming / f"{self.key}.part"
        fd = os.open(self.temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def commit(self) -> str:
        """Store the finished file under its key; returns the key. On failure the partial
        file is still in `incoming` (discard it)."""
        self.close()
        self.storage.store(self.key, self.temp_path)
        return self.key

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.temp_path.unlink(missing_ok=True)
