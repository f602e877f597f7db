"""A worker's bounded local cache of fetched media: a folder with a size cap, LRU eviction.

A file is downloaded beside its final name and renamed into place, so a reader never sees a
partial file, and several worker processes on one host may share the folder. A hit refreshes
the file's modification time; eviction removes the least recently used files until the folder
is back under its cap (a file being decoded stays readable once removed: its reader holds it
open). The file just fetched is never evicted, even when it alone is over the cap.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from core.storage.base import check_key, private_folder

logger = logging.getLogger(__name__)

ABANDONED_DOWNLOAD_SECONDS = 3600


class MediaCache:
    def __init__(self, folder: Path, max_bytes: int):
        self.folder = folder
        self.max_bytes = max_bytes
        private_folder(folder)

    def fetch(self, key: str, download: Callable[[Path], None]) -> Path:
        """The cached file of `key`, downloaded with `download(target)` if it is not here."""
        path = self.folder / check_key(key)
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)
            return path
        partial = self.folder / f".{key}.{uuid.uuid4().hex[:8]}.part"
        try:
            download(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        self.evict(keep=path)
        return path

    def evict(self, keep: Path | None = None) -> int:
        """Remove the least recently used files until the cache fits its cap; how many."""
        entries = []
        abandoned = time.time() - ABANDONED_DOWNLOAD_SECONDS
        for path in self.folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                info = path.stat()
                if path.name.endswith(".part") and info.st_mtime < abandoned:
                    path.unlink()  # left by a process that stopped mid-download
                    continue
                entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path == keep or path.name.endswith(".part"):
                continue  # the file in use, or a download in progress in another process
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
            logger.debug("evicted %s from the media cache", path.name)
        return removed

    def size(self) -> int:
        total = 0
        for path in self.folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                total += path.stat().st_size
        return total
