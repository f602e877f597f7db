"""Local-directory storage for uploaded media.

Keys are generated here (`<uuid hex>`), never derived from user-supplied names, so nothing a
client sends can choose a path. Files are written under `<STORAGE_DIR>/incoming/` first and
moved into place once complete, so a crash never leaves a half-written file under a real key.

Uploads are private: folders are created (and kept) `0700` and files `0600`, so other users of
the machine can neither list nor read them. The API and the workers run as the same user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

_KEY = re.compile(r"^[0-9a-f]{32}$")
FOLDER_MODE = 0o700
FILE_MODE = 0o600


class StorageError(Exception):
    pass


class Storage:
    def __init__(self, root: Path):
        self.root = root
        self.incoming = root / "incoming"
        self.media = root / "media"
        for folder in (self.root, self.incoming, self.media):
            _private_folder(folder)

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


def _private_folder(folder: Path) -> None:
    """Create `folder` as 0700, and take group and other access from one that exists (a folder
    made by an older version); a folder this user does not own is left as it is."""
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            folder.chmod(FOLDER_MODE)


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
        """Move the finished file under its key; returns the key."""
        self.close()
        target = self.storage.path(self.key)
        _private_folder(target.parent)
        os.replace(self.temp_path, target)
        return self.key

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.temp_path.unlink(missing_ok=True)
