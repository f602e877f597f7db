"""Local-directory storage for uploaded media.

Keys are generated here (`<uuid hex>`), never derived from user-supplied names, so nothing a
client sends can choose a path. Files are written under `<STORAGE_DIR>/incoming/` first and
moved into place once complete, so a crash never leaves a half-written file under a real key.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

_KEY = re.compile(r"^[0-9a-f]{32}$")


class StorageError(Exception):
    pass


class Storage:
    def __init__(self, root: Path):
        self.root = root
        self.incoming = root / "incoming"
        self.media = root / "media"
        for folder in (self.incoming, self.media):
            folder.mkdir(parents=True, exist_ok=True)

    def new_key(self) -> str:
        return uuid.uuid4().hex

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise StorageError(f"invalid storage key {key!r}")
        return self.media / key[:2] / key

    def open_upload(self) -> Upload:
        return Upload(self)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

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

    def files(self) -> list[Path]:
        """Every stored file (media and unfinished uploads)."""
        return [p for p in self.root.rglob("*") if p.is_file()]


class Upload:
    """A file being received: count bytes and hash while writing, then commit or discard."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self.key = storage.new_key()
        self.temp_path = storage.incoming / f"{self.key}.part"
        self._file: BinaryIO | None = self.temp_path.open("xb")
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
        """Move the finished file under its key; returns the key."""
        self.close()
        target = self.storage.path(self.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp_path, target)
        return self.key

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.temp_path.unlink(missing_ok=True)
