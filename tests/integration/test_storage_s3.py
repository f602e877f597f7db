"""The storage interface against a real S3 store (a private SeaweedFS): store, ranged reads,
delete, listing, the worker cache, multipart uploads, and a store that is down."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import MediaError, StorageUnavailable
from core.storage import Upload
from core.storage.s3 import MULTIPART_BYTES, S3Storage, object_name
from tests.support.seaweedfs import SeaweedFS

pytestmark = pytest.mark.integration


def _storage(seaweedfs: SeaweedFS, bucket: str, folder: Path, **overrides: object) -> S3Storage:
    settings = seaweedfs.settings(bucket, storage_dir=folder, **overrides)
    return S3Storage.from_settings(settings)


@pytest.fixture
def storage(seaweedfs: SeaweedFS, bucket: str, tmp_path: Path) -> Iterator[S3Storage]:
    store = _storage(seaweedfs, bucket, tmp_path / "storage", worker_cache_mb=1)
    yield store
    store.close()


def _put(storage: S3Storage, data: bytes) -> Upload:
    upload = storage.open_upload()
    upload.write(data)
    upload.commit()
    return upload


def test_a_committed_upload_is_one_object_and_no_local_file(
    storage: S3Storage, seaweedfs: SeaweedFS, bucket: str
) -> None:
    data = os.urandom(300_000)
    upload = _put(storage, data)
    assert seaweedfs.object_names(bucket) == [object_name(upload.key)]
    assert not upload.temp_path.exists()
    stored = storage.stat(upload.key)
    assert stored is not None
    assert stored.size == len(data)
    assert abs(stored.modified - time.time()) < 120
    with storage.open_at(upload.key, 0) as reader:
        assert reader.read() == data
    with storage.open_at(upload.key, 1000) as reader:
        assert reader.read(500) == data[1000:1500]


def test_a_large_file_goes_up_in_parts_and_reads_back_whole(
    storage: S3Storage, tmp_path: Path
) -> None:
    data = os.urandom(MULTIPART_BYTES + 1_000_000)
    upload = _put(storage, data)
    with storage.local_copy(upload.key) as path:
        assert path.read_bytes() == data
    assert storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", []) == []


def test_delete_and_missing_media(storage: S3Storage) -> None:
    upload = _put(storage, b"abc" * 1000)
    assert storage.delete(upload.key)
    assert storage.stat(upload.key) is None
    assert not storage.exists(upload.key)
    assert not storage.delete(upload.key)
    with pytest.raises(MediaError) as missing, storage.local_copy(upload.key):
        pass
    assert missing.value.code == "media_missing"


def test_listing_is_paginated_in_key_order(storage: S3Storage) -> None:
    sizes = {_put(storage, b"x" * n).key: n for n in range(1, 6)}
    keys = sorted(sizes)
    first = storage.listing(None, 2)
    assert [item.key for item in first] == keys[:2]
    rest = storage.listing(first[-1].key, 10)
    assert [item.key for item in rest] == keys[2:]
    assert all(item.size == sizes[item.key] for item in first + rest)
    assert storage.listing(keys[-1], 10) == []


def test_the_worker_cache_keeps_recent_files_under_its_cap(storage: S3Storage) -> None:
    # The cap is 1 MiB: three files of 400 KB do not fit; the least recently used goes.
    keys = [_put(storage, os.urandom(400_000)).key for _ in range(3)]
    with storage.local_copy(keys[0]) as first:
        assert first.parent == storage.cache.folder
    with storage.local_copy(keys[1]):
        pass
    # keys[0] used again after keys[1]; explicit times, as the clock's granularity may give
    # two files fetched a few milliseconds apart the same modification time.
    now = time.time()
    os.utime(storage.cache.folder / keys[1], (now - 20, now - 20))
    os.utime(storage.cache.folder / keys[0], (now - 10, now - 10))
    with storage.local_copy(keys[2]) as third:
        assert third.stat().st_size == 400_000
    cached = sorted(p.name for p in storage.cache.folder.iterdir())
    assert cached == sorted([keys[0], keys[2]])
    assert storage.cache.size() <= 1024 * 1024


def test_a_file_larger_than_the_cache_is_still_served(storage: S3Storage) -> None:
    key = _put(storage, os.urandom(1_500_000)).key
    with storage.local_copy(key) as path:
        assert path.stat().st_size == 1_500_000


def test_unfinished_multipart_uploads_are_aborted(storage: S3Storage) -> None:
    key = storage.new_key()
    started = storage.client.create_multipart_upload(Bucket=storage.bucket, Key=object_name(key))
    assert storage.abort_stale_transfers(time.time() - 3600) == 0
    assert storage.abort_stale_transfers(time.time() + 60) == 1
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    assert started["UploadId"] not in [u["UploadId"] for u in uploads]
    assert storage.stat(key) is None


def test_prepare_creates_a_missing_bucket(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    name = seaweedfs.create_bucket("ss-prepare")  # taken, then a fresh name for the test
    store = _storage(seaweedfs, f"{name}-new", tmp_path / "storage")
    store.prepare()
    store.prepare()  # idempotent
    assert store.listing(None, 10) == []
    store.close()


def test_a_store_that_is_down_stores_nothing_and_says_so(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    store = _storage(seaweedfs, bucket, tmp_path / "storage", storage_retry_seconds=2)
    kept = _put(store, b"kept" * 100).key
    seaweedfs.stop()
    try:
        upload = store.open_upload()
        upload.write(os.urandom(100_000))
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            upload.commit()
        assert time.monotonic() - started < 30  # bounded: seconds, not minutes
        assert upload.temp_path.exists()  # the caller discards it
        upload.discard()
        with pytest.raises(StorageUnavailable):
            store.stat(kept)
        with pytest.raises(StorageUnavailable), store.local_copy(kept):
            pass
    finally:
        seaweedfs.start()
    assert store.stat(upload.key) is None
    assert store.stat(kept) is not None
    assert seaweedfs.object_names(bucket) == [object_name(kept)]
    store.close()
