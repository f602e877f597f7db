"""A running platform for the benchmarks: one API process and a worker of a chosen shape."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.context import BenchContext
from bench.observer import EventWatch
from tests.support.platform import Platform, free_port, platform_env, wait_until


@dataclass(frozen=True)
class WorkerShape:
    """Worker processes x CPU threads per process, batch size (0 = sequential), compute type."""

    processes: int
    threads: int
    batch: int
    compute_type: str

    @property
    def label(self) -> str:
        batch = f"batch {self.batch}" if self.batch else "sequential"
        return f"{self.processes}x{self.threads}, {batch}, {self.compute_type}"

    def single_process(self) -> WorkerShape:
        """One worker process using every thread of this shape."""
        return WorkerShape(1, self.processes * self.threads, self.batch, self.compute_type)

    def env(self) -> dict[str, str]:
        return {
            "WORKER_CONCURRENCY": str(self.processes),
            "WHISPER_CPU_THREADS": str(self.threads),
            "WHISPER_BATCH_SIZE": str(self.batch),
            "WHISPER_COMPUTE_TYPE": self.compute_type,
        }


@dataclass
class Submitted:
    ids: list[str]
    started: float  # perf_counter before the request
    accepted: float  # perf_counter when the 202 arrived


class BenchPlatform:
    """API + worker as real processes, with the run's isolated settings."""

    def __init__(self, context: BenchContext, **api_env: str):
        self.context = context
        port = free_port()
        env = platform_env(**context.platform_overrides(), API_PORT=str(port), **api_env)
        folder = context.workdir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        self.platform = Platform(env, folder, port)
        self.shape: WorkerShape | None = None
        self._worker: str | None = None
        self.watch: EventWatch | None = None
        self.http = httpx.Client(base_url=self.platform.base_url, timeout=600)

    @property
    def api_pid(self) -> int:
        popen = self.platform.processes["api"].popen
        assert popen is not None
        return popen.pid

    @property
    def worker_pid(self) -> int:
        """The running worker's main process (its pool processes are its children)."""
        assert self._worker is not None
        popen = self.platform.processes[self._worker].popen
        assert popen is not None
        return popen.pid

    def start_api(self) -> None:
        self.platform.start_api()
        self.platform.wait_ready()
        from core.settings import get_settings

        self.watch = EventWatch(get_settings().redis_url, self.context.run_id)

    def start_worker(self, shape: WorkerShape, warmup: Path | None = None) -> None:
        """Run a worker of `shape` (reusing a running one of the same shape), models loaded."""
        if self.shape == shape and self._worker_alive():
            return
        self.stop_worker()
        self.platform.env = {**self.platform.env, **shape.env()}
        name = f"worker-{len([p for p in self.platform.processes if p.startswith('worker')])}"
        process = self.platform.start_worker(name, concurrency=shape.processes)
        self.platform.wait_worker(name, timeout=120)
        wait_until(
            lambda: process.log().count("loaded model") >= shape.processes,
            120,
            0.1,
            "every worker process to load its model",
        )
        self.shape = shape
        self._worker = name
        if warmup is not None:
            # One short job per process: first-job costs (connections, allocations) stay out.
            self.transcribe([warmup] * shape.processes)

    def _worker_alive(self) -> bool:
        process = self.platform.processes.get(self._worker or "")
        return bool(process and process.popen and process.popen.poll() is None)

    def stop_worker(self) -> None:
        if self._worker:
            self.platform.processes[self._worker].stop()
        self._worker = None
        self.shape = None

    def cpu_seconds(self) -> float:
        """CPU time so far of the API (with its probes) and the running worker's processes."""
        from bench import procstat

        pids = [self.api_pid]
        if self._worker:
            popen = self.platform.processes[self._worker].popen
            if popen is not None:
                pids.append(popen.pid)
        return sum(procstat.tree_cpu_seconds(pid) for pid in pids)

    def submit(self, paths: list[Path]) -> Submitted:
        files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]
        started = time.perf_counter()
        # Every upload is a new run: a recording sent again (a warm-up clip, a repeated
        # batch) would otherwise be completed at once from the earlier result.
        response = self.http.post("/api/transcriptions", files=files, data={"dedup": "false"})
        accepted = time.perf_counter()
        if response.status_code != 202:
            raise RuntimeError(f"upload answered {response.status_code}: {response.text[:300]}")
        body = response.json()
        if body["rejected"]:
            raise RuntimeError(f"upload rejected files: {body['rejected']}")
        return Submitted([item["id"] for item in body["items"]], started, accepted)

    def submit_each(self, paths: list[Path], parallel: int = 6) -> Submitted:
        """One request per file, `parallel` at a time (as the web UI uploads a dropped folder)."""
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            parts = list(pool.map(lambda p: self.submit([p]), paths))
        return Submitted(
            [i for part in parts for i in part.ids], started, max(p.accepted for p in parts)
        )

    def wait_completed(self, ids: list[str], timeout: float = 3600) -> dict[str, float]:
        assert self.watch is not None
        return self.watch.wait_all(ids, timeout)

    def transcribe(self, paths: list[Path]) -> tuple[Submitted, float]:
        """Upload `paths` in one request; returns the submission and the last completion time."""
        submitted = self.submit(paths)
        done = self.wait_completed(submitted.ids)
        return submitted, max(done.values())

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/transcriptions/{job_id}")
        response.raise_for_status()
        return dict(response.json())

    def delete(self, job_id: str) -> None:
        self.http.delete(f"/api/transcriptions/{job_id}")

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.log()[-chars:]}" for p in self.platform.processes.values()
        )

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        self.http.close()
        self.platform.stop()
