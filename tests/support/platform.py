"""A running SoundScripter instance (API + Celery worker as real processes) for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"completed", "failed", "cancelled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Platform:
    env: dict[str, str]
    workdir: Path
    api_port: int
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60, **kwargs)

    def start_api(self) -> Process:
        return self._start("api", [sys.executable, "-m", "api"])

    def start_worker(self, name: str = "worker", concurrency: int = 1, **env: str) -> Process:
        """A Celery worker; `env` overrides settings for it alone (e.g. WORKER_MODELS)."""
        return self._start(
            name,
            [sys.executable, "-m", "worker", "--node", name, f"--concurrency={concurrency}"],
            env,
        )

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        process = Process(name, args, {**self.env, **(env or {})}, self.workdir / f"{name}.log")
        process.start()
        self.processes[name] = process
        return process

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            try:
                return httpx.get(f"{self.base_url}/api/ready", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, 0.2, "the API to be ready")

    def wait_worker(self, name: str = "worker", timeout: float = 60) -> None:
        process = self.processes[name]
        wait_until(lambda: " ready." in process.log(), timeout, 0.2, f"{name} to be ready")

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    # --- API helpers ---------------------------------------------------------------

    def upload(self, *paths: Path, **fields: str) -> httpx.Response:
        """Upload `paths` with form `fields`. Every upload is transcribed (`dedup=false` unless
        given): tests upload the same recordings again and mean a new run each time."""
        fields.setdefault("dedup", "false")
        files = [("files", (p.name, p.read_bytes())) for p in paths]
        with self.client() as client:
            return client.post("/api/transcriptions", files=files, data=fields)

    def get(self, job_id: str) -> dict[str, Any]:
        with self.client() as client:
            response = client.get(f"/api/transcriptions/{job_id}")
            response.raise_for_status()
            return dict(response.json())

    def wait_status(
        self, job_id: str, statuses: set[str] | None = None, timeout: float = 120
    ) -> dict[str, Any]:
        wanted = statuses or TERMINAL

        def reached() -> dict[str, Any] | None:
            job = self.get(job_id)
            return job if job["status"] in wanted else None

        return dict(wait_until(reached, timeout, 0.1, f"job {job_id} to reach {wanted}"))


def platform_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(overrides)
    env["PYTHONUNBUFFERED"] = "1"
    return env
