"""Storage of the original media: a local folder (`STORAGE_BACKEND=local`, the default) or an
S3-compatible object store (`s3`), behind one interface (`Storage`).

Keys are ours (uuid hex), never derived from user input. See docs/operations.md, "Storage
backends".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.storage.base import Storage, StorageError, StoredObject, Upload, read_chunks
from core.storage.local import LocalStorage

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "LocalStorage",
    "Storage",
    "StorageError",
    "StoredObject",
    "Upload",
    "build_storage",
    "read_chunks",
]


def build_storage(settings: Settings) -> Storage:
    """The backend `settings` name (boto3 is imported only for `s3`)."""
    if settings.storage_backend == "s3":
        from core.storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.storage_dir)
