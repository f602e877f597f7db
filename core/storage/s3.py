"""S3-compatible object storage (SeaweedFS, MinIO, AWS S3, ...), through boto3.

Objects are named `media/<2 hex>/<32 hex>` in one bucket, with path-style addressing. A
finished upload goes up with boto3's transfer manager (a multipart upload past
`MULTIPART_BYTES`): the object appears once, complete, or not at all (a failed multipart upload
is aborted; one whose abort also failed is invisible and aborted later by the sweeper).

Every call is bounded: a connect timeout, a read timeout and a few attempts (`S3_*`
settings), so a dead store answers in seconds. Workers fetch an object into a bounded local
cache (`core.storage.cache`) and retry a store that is down for `STORAGE_RETRY_SECONDS`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.errors import MediaError, StorageUnavailable
from core.storage.base import Storage, StoredObject, check_key
from core.storage.cache import MediaCache

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from core.settings import Settings

logger = logging.getLogger(__name__)

PREFIX = "media/"
MULTIPART_BYTES = 16 * 1024 * 1024
"""Files past this go up in parts of this size, two at a time (bounded memory per upload)."""
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_TRANSIENT = (BotoCoreError, ClientError, Boto3Error)


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _unavailable(exc: Exception) -> StorageUnavailable:
    logger.warning("object store call failed: %s", exc)
    return StorageUnavailable("The media store cannot be reached; try again shortly.")


def object_name(key: str) -> str:
    return f"{PREFIX}{key[:2]}/{check_key(key)}"


class S3Storage(Storage):
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        incoming: Path,
        cache: MediaCache,
        *,
        retry_seconds: float = 60,
    ):
        super().__init__(incoming)
        self.client = client
        self.bucket = bucket
        self.cache = cache
        self.retry_seconds = retry_seconds
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_BYTES,
            multipart_chunksize=MULTIPART_BYTES,
            max_concurrency=2,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        cache_dir = settings.worker_cache_dir or settings.storage_dir / "cache"
        return cls(
            make_client(settings),
            settings.s3_bucket,
            settings.storage_dir / "incoming",
            MediaCache(cache_dir, settings.worker_cache_mb * 1024 * 1024),
            retry_seconds=settings.storage_retry_seconds,
        )

    def store(self, key: str, finished: Path) -> None:
        try:
            self.client.upload_file(
                str(finished), self.bucket, object_name(key), Config=self.transfer
            )
        except _TRANSIENT as exc:
            raise _unavailable(exc) from exc
        finished.unlink(missing_ok=True)

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=object_name(key))
        except _TRANSIENT as exc:
            if _code(exc) in _MISSING:
                return None
            raise _unavailable(exc) from exc
        return StoredObject(key, head["ContentLength"], head["LastModified"].timestamp())

    def open_at(self, key: str, offset: int) -> BinaryIO:
        extra: dict[str, Any] = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=object_name(key), **extra)
        except _TRANSIENT as exc:
            raise _unavailable(exc) from exc
        return cast(BinaryIO, answer["Body"])

    def delete(self, key: str) -> bool:
        existed = self.stat(key) is not None
        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_name(key))
        except _TRANSIENT as exc:
            raise _unavailable(exc) from exc
        return existed

    def listing(self, after: str | None, limit: int) -> list[StoredObject]:
        extra: dict[str, Any] = {"StartAfter": object_name(after)} if after else {}
        try:
            page = self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=PREFIX, MaxKeys=limit, **extra
            )
        except _TRANSIENT as exc:
            raise _unavailable(exc) from exc
        found = []
        for item in page.get("Contents", []):
            key = item["Key"].rsplit("/", 1)[-1]
            with contextlib.suppress(Exception):  # not one of ours
                if object_name(key) == item["Key"]:
                    found.append(StoredObject(key, item["Size"], item["LastModified"].timestamp()))
        return found

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self._fetch(key)

    def _fetch(self, key: str) -> Path:
        """The object in the local cache, retried with backoff while the store is down."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 1.0
        while True:
            try:
                return self.cache.fetch(key, partial(self._download, key))
            except StorageUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
            logger.warning("media store unreachable; trying again in %.0f s", delay)
            time.sleep(delay)
            delay = min(delay * 2, 15.0)

    def _download(self, key: str, target: Path) -> None:
        try:
            self.client.download_file(
                self.bucket, object_name(key), str(target), Config=self.transfer
            )
        except _TRANSIENT as exc:
            if _code(exc) in _MISSING:
                raise MediaError(
                    "The uploaded file is no longer stored.", code="media_missing"
                ) from exc
            raise _unavailable(exc) from exc

    def prepare(self) -> None:
        """Create the bucket if it does not exist yet."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except _TRANSIENT as exc:
            if _code(exc) not in _MISSING:
                raise _unavailable(exc) from exc
        region = self.client.meta.region_name
        where: dict[str, Any] = {}
        if region and region != "us-east-1":  # AWS wants it named outside its first region
            where["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(Bucket=self.bucket, **where)
        except _TRANSIENT as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise _unavailable(exc) from exc
        logger.info("created bucket %s", self.bucket)

    def check(self) -> None:
        super().check()
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except _TRANSIENT as exc:
            raise _unavailable(exc) from exc

    def abort_stale_transfers(self, older_than: float) -> int:
        try:
            page = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=PREFIX)
            stale = [u for u in page.get("Uploads", []) if u["Initiated"].timestamp() < older_than]
            for upload in stale:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        except _TRANSIENT as exc:
            raise _unavailable(exc) from exc
        return len(stale)

    def close(self) -> None:
        self.client.close()


def make_client(settings: Settings) -> S3Client:
    """A client with path-style addressing and bounded timeouts and attempts."""
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        connect_timeout=settings.s3_connect_timeout_seconds,
        read_timeout=settings.s3_read_timeout_seconds,
        retries={"total_max_attempts": settings.s3_max_attempts, "mode": "standard"},
        max_pool_connections=16,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id or None,
        aws_secret_access_key=settings.s3_secret_access_key or None,
        config=config,
    )
