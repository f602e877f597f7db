"""Local-directory storage: `<STORAGE_DIR>/media/<2 hex>/<32 hex>`.

A finished upload is moved into place with one rename, so a crash never leaves a half-written
file under a real key. Workers read the file in place: with this backend the API and the
workers share one folder (one machine, or a shared volume).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from core.errors import MediaError
from core.storage.base import Storage, StoredObject, check_key, private_folder


class LocalStorage(Storage):
    def __init__(self, root: Path):
        private_folder(root)
        super().__init__(root / "incoming")
        self.root = root
        self.media = root / "media"
        private_folder(self.media)

    def path(self, key: str) -> Path:
        check_key(key)
        return self.media / key[:2] / key

    def store(self, key: str, finished: Path) -> None:
        target = self.path(key)
        private_folder(target.parent)
        os.replace(finished, target)

    def stat(self, key: str) -> StoredObject | None:
        try:
            info = self.path(key).stat()
        except FileNotFoundError:
            return None
        return StoredObject(key, info.st_size, info.st_mtime)

    def open_at(self, key: str, offset: int) -> BinaryIO:
        reader = self.path(key).open("rb")
        reader.seek(offset)
        return reader

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def listing(self, after: str | None, limit: int) -> list[StoredObject]:
        found: list[StoredObject] = []
        folders = sorted(p.name for p in self.media.iterdir() if p.is_dir())
        for folder in folders:
            if after is not None and folder < after[:2]:
                continue
            for name in sorted(os.listdir(self.media / folder)):
                if (after is not None and name <= after) or name[:2] != folder:
                    continue
                with contextlib.suppress(Exception):  # not one of ours, or gone meanwhile
                    item = self.stat(check_key(name))
                    if item is not None:
                        found.append(item)
                if len(found) >= limit:
                    return found
        return found

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise MediaError("The uploaded file is no longer stored.", code="media_missing")
        yield path

    def files(self) -> list[Path]:
        """Every stored file (media and unfinished uploads)."""
        return [p for p in self.root.rglob("*") if p.is_file()]
