"""Benchmark: throughput of one worker host against two, each host limited to one CPU.

The images docker-compose.yml builds run as Compose runs them (tests/containers' `Stack`: the
infrastructure, the migrate step, the API and the worker service on a private podman network),
with two replicas of the worker service pinned with `--cpuset-cpus` to CPU 0 and CPU 1. Runs
with one host stop the second host's container first; runs with two hosts start it again and
wait until it has loaded its model, joined and transcribed a short warm-up job (as every host
does once at the start). The sides take turns, the first side
alternating, and every run's jobs are deleted afterwards (an identical upload of a completed
file would otherwise be answered from it).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procstat, recordings
from bench.context import ROOT, BenchContext
from bench.instance import WorkerShape
from bench.observer import EventWatch
from bench.report import Goal, Section, Table, duration, pct, runs
from bench.stats import median

logger = logging.getLogger(__name__)

GOAL_RATIO = 1.85
# (recordings, seconds each, runs per side) by scale; smoke leaves the containers out.
SIZES = {"full": (16, 60.0, 3), "quick": (16, 60.0, 1)}
LONG_GOAL_RATIO = 1.8
# A lone long recording, split across the hosts: (seconds, runs per side) by scale.
LONG_SIZES = {"full": (3600.0, 2), "quick": (3600.0, 1)}
IMAGE_TAG = "bench"
WORKER_SERVICE = "transcription-service"
CPUSETS = {1: "0", 2: "1"}
INFRASTRUCTURE = ("postgres", "redis", "rabbitmq", "seaweedfs")
WARMUP_SECONDS = 10.0


def _settings() -> dict[str, str]:
    """The stack's `.env`: fresh secrets, one Celery program of one process and one thread."""
    from tests.containers.compose_file import stack_secrets

    return {
        **stack_secrets(IMAGE_TAG),
        "WORKER_PROCESSES": "1",
        "WORKER_CONCURRENCY": "1",
        "WHISPER_CPU_THREADS": "1",
    }


@dataclass
class Side:
    hosts: int
    wall: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)  # CPU seconds per group
    spread: list[list[int]] = field(default_factory=list)  # jobs per worker host
    load: list[float] = field(default_factory=list)  # machine load average after each run


def _build_images(config: dict[str, Any], source: Path) -> None:
    """Build every image a service builds from the committed tree (`git archive HEAD`), so
    that edits in progress in the checkout never reach the measured images."""
    from tests.containers.podman import PodmanError, build

    source.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    built: set[str] = set()
    for name, service in config["services"].items():
        spec = service.get("build")
        if not spec or service["image"] in built:
            continue
        dockerfile = str(source / spec.get("dockerfile", "Dockerfile"))
        args = {str(k): str(v) for k, v in (spec.get("args") or {}).items()}
        result = build(dockerfile, str(source), service["image"], build_args=args)
        if result.returncode != 0:
            raise PodmanError(f"building {name}'s image failed:\n{result.stdout[-3000:]}")
        built.add(service["image"])


def _pinned_stack(config: dict[str, Any]) -> Any:
    from tests.containers.compose_stack import Stack

    class PinnedStack(Stack):
        """Replicas of the worker service each limited to one CPU."""

        def run_args(
            self,
            service_name: str,
            index: int,
            env: dict[str, str] | None = None,
            address: str | None = None,
        ) -> list[str]:
            args = super().run_args(service_name, index, env, address)
            if service_name == WORKER_SERVICE:
                return [args[0], f"--cpuset-cpus={CPUSETS[index]}", *args[1:]]
            return args

    return PinnedStack(f"ss-bench-{secrets.token_hex(3)}-{os.getpid()}", config)


class HostsBench:
    """The stack, the event watch on its Redis, and the measured runs."""

    def __init__(self, context: BenchContext):
        from tests.containers.base_images import ensure_base_images
        from tests.containers.compose_stack import compose_config

        config = compose_config(context.workdir / "compose", _settings())
        ensure_base_images()
        started = time.monotonic()
        _build_images(config, context.workdir / "source")
        logger.info("hosts: images built in %.0f s", time.monotonic() - started)
        self.stack = _pinned_stack(config)
        self.watch: EventWatch | None = None
        self.http = httpx.Client(timeout=600)
        self.warmup = recordings.recording(WARMUP_SECONDS, seed=9000, folder=context.media_dir)

    def start(self) -> None:
        self.stack.create_network_and_volumes()
        self.stack.up({WORKER_SERVICE: len(CPUSETS)}, timeout=300)
        for name in self.stack.containers:
            if self.stack.state(name).get("Running"):
                self.stack.wait_healthy(name, timeout=300)
        for host in self._hosts():
            self._wait_joined(host.name, since=0)
        redis = self.stack.replicas("redis")[0]
        self.watch = EventWatch(f"redis://{redis.address}:6379/0", "soundscripter")
        self.warm_up()

    def warm_up(self) -> None:
        """One short job on every running host, so that first-job costs (connections,
        allocations, the model's pages) stay out of the runs: at the start, and again for a
        host started again (a restarted container is cold)."""
        assert self.watch is not None
        running = [h for h in self._hosts() if self.stack.state(h.name).get("Running")]
        for _ in range(5):
            warm = [self.submit(self.warmup) for _ in running]
            self.watch.wait_all(warm, timeout=600)
            spread = self._spread(warm)
            for job_id in warm:
                self.http.delete(self.url(f"/api/transcriptions/{job_id}"))
            if all(spread[self._hosts().index(h)] for h in running):
                return
        raise RuntimeError(f"the warm-up jobs did not reach every host: {spread}")

    def close(self) -> None:
        from tests.containers import podman

        if self.watch is not None:
            self.watch.close()
        self.http.close()
        podman.remove_labelled(self.stack.run_id)

    def _hosts(self) -> list[Any]:
        return list(self.stack.replicas(WORKER_SERVICE))

    def url(self, path: str) -> str:
        api = self.stack.replicas("api")[0]
        return f"http://{api.address}:{self.stack.container_port('api')}{path}"

    def _wait_joined(self, name: str, since: float) -> None:
        """Until the host's worker, started after `since` (epoch seconds), loaded its model
        and is consuming."""
        from tests.containers import podman

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            args = ["logs", *(["--since", f"{since:.0f}"] if since else []), name]
            result = podman.podman(*args, check=False, timeout=60)
            text = result.stdout + result.stderr
            if "loaded model" in text and " ready." in text:
                return
            time.sleep(1)
        raise RuntimeError(f"worker host {name} did not join within 300 s:\n{text[-3000:]}")

    def use_hosts(self, count: int) -> None:
        """Leave `count` worker hosts running (1: stop the second; 2: start it again)."""
        from tests.containers import podman

        second = self._hosts()[1]
        running = bool(self.stack.state(second.name).get("Running"))
        if count == 1 and running:
            podman.podman("stop", "--time", "60", second.name, timeout=120)
        elif count == 2 and not running:
            since = time.time() - 1
            podman.podman("start", second.name, timeout=120)
            self._wait_joined(second.name, since)
            self.warm_up()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the containers' processes, grouped."""
        from tests.containers.podman import inspect

        groups: dict[str, float] = {"worker hosts": 0.0, "api": 0.0, "infrastructure": 0.0}
        for container in self.stack.containers.values():
            pid = int(inspect("container", container.name)["State"].get("Pid") or 0)
            if not pid:
                continue
            group = (
                "worker hosts"
                if container.service == WORKER_SERVICE
                else "api"
                if container.service == "api"
                else "infrastructure"
                if container.service in INFRASTRUCTURE
                else ""
            )
            if group:
                groups[group] += procstat.tree_cpu_seconds(pid)
        return groups

    def submit(self, path: Path) -> str:
        files = [("files", (path.name, path.read_bytes(), "audio/wav"))]
        response = self.http.post(self.url("/api/transcriptions"), files=files)
        if response.status_code != 202 or response.json()["rejected"]:
            raise RuntimeError(f"upload answered {response.status_code}: {response.text[:300]}")
        return str(response.json()["items"][0]["id"])

    def measure(self, side: Side, files: list[Path]) -> None:
        """One run: every file uploaded (one request each, six at a time), until the last
        `completed` event."""
        assert self.watch is not None
        self.use_hosts(side.hosts)
        before = self.cpu_seconds()
        started = time.perf_counter()
        with ThreadPoolExecutor(6) as pool:
            ids = list(pool.map(self.submit, files))
        done = self.watch.wait_all(ids, timeout=3600)
        side.wall.append(max(done.values()) - started)
        after = self.cpu_seconds()
        side.cpu.append({k: after[k] - before.get(k, 0.0) for k in after})
        side.spread.append(self._spread(ids))
        side.load.append(os.getloadavg()[0])
        for job_id in ids:
            self.http.delete(self.url(f"/api/transcriptions/{job_id}"))
        logger.info(
            "hosts: %d host(s) %.1f s, jobs per host %s", side.hosts, side.wall[-1], side.spread[-1]
        )

    def _spread(self, ids: list[str]) -> list[int]:
        """Per host: the jobs it completed, or for a split job the pieces it transcribed."""
        from tests.containers.checks import log_lines

        counts = []
        for host in self._hosts():
            pieces = log_lines(host.name, " of audio in ")  # each piece, and each whole job
            counts.append(sum(1 for job_id in ids for line in pieces if job_id in line))
        return counts


def _halves(path: Path, folder: Path) -> list[Path]:
    """The recording's first and second half, as PCM WAVs beside it (cached)."""
    half = recordings.duration(path) / 2
    parts = [folder / f"{path.stem}-first-half.wav", folder / f"{path.stem}-second-half.wav"]
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    for part, cut in zip(parts, (["-t", f"{half}"], ["-ss", f"{half}"]), strict=True):
        if not part.exists():
            command = [ffmpeg, "-loglevel", "error", "-y", "-i", str(path), *cut, str(part)]
            subprocess.run(command, check=True)
    return parts


def direct_walls(files: list[Path], long_file: Path, folder: Path) -> dict[int, list[float]]:
    """The machine's own ratio, without the platform: faster-whisper called directly
    (`bench.direct`) with the hosts' decoding settings (one thread, batch 2, int8), one process
    against two, on the same recordings and on the long one's two halves. Per process count:
    [wall s for the recordings, wall s for the halves]."""
    from bench.direct import DirectPool

    halves = _halves(long_file, folder)
    warmup = recordings.recording(WARMUP_SECONDS, seed=9000, folder=folder)
    walls: dict[int, list[float]] = {}
    for processes in (1, 2):
        pool = DirectPool(WorkerShape(processes, 1, 2, "int8"), warmup=warmup)
        try:
            walls[processes] = [pool.transcribe(files), pool.transcribe(halves)]
        finally:
            pool.close()
        logger.info("hosts: directly, %d process(es): %s s", processes, walls[processes])
    return walls


def run(context: BenchContext) -> Section | None:
    if context.scale.name not in SIZES:
        logger.info("hosts: left out at %s size (it builds and runs containers)", context.scale)
        return None
    count, seconds, run_count = SIZES[context.scale.name]
    files = recordings.recordings(seconds, count, context.media_dir, first_seed=300)
    bench = HostsBench(context)
    sides = {1: Side(1), 2: Side(2)}
    long_sides = {1: Side(1), 2: Side(2)}
    try:
        bench.start()
        for attempt in range(run_count):
            for hosts in (1, 2) if attempt % 2 == 0 else (2, 1):
                bench.measure(sides[hosts], files)
        long_seconds, long_runs = LONG_SIZES[context.scale.name]
        long_file = recordings.recording(long_seconds, seed=400, folder=context.media_dir)
        for attempt in range(long_runs):
            for hosts in (1, 2) if attempt % 2 == 0 else (2, 1):
                bench.measure(long_sides[hosts], [long_file])
    except BaseException:
        logger.error("hosts: stack logs:\n%s", bench.stack.all_logs(tail=40))
        raise
    finally:
        bench.close()
    direct = direct_walls(files, long_file, context.media_dir)
    audio = sum(recordings.duration(f) for f in files)
    section = _section(context, sides, audio, count, seconds)
    _long_part(section, long_sides, recordings.duration(long_file))
    _direct_part(section, direct, len(files))
    return section


def _direct_part(section: Section, walls: dict[int, list[float]], count: int) -> None:
    """The same work without the platform, for the share of the machine's own ratio that the
    platform reaches."""
    table = Table(["work", "one process", "two processes", "ratio", "the platform's ratio"])
    platform = [section.data["ratio"], section.data["long_ratio"]]
    works = [f"{count} recordings", "the long recording's two halves"]
    ratios = []
    for number, work in enumerate(works):
        one, two = walls[1][number], walls[2][number]
        ratios.append(one / two)
        table.add(
            work,
            f"{one:.1f} s",
            f"{two:.1f} s",
            f"{one / two:.2f}x",
            f"{platform[number]:.2f}x ({pct(platform[number] / (one / two))} of it)",
        )
    caption = (
        "The machine's own ratio: the same work given to faster-whisper directly "
        "(`bench.direct`, the hosts' decoding settings: one thread, batch 2, int8), one "
        "process against two, after the stack has been removed (one run each):"
    )
    section.tables.append((caption, table))
    section.data["direct_ratio"] = ratios[0]
    section.data["direct_long_ratio"] = ratios[1]


def _section(
    context: BenchContext, sides: dict[int, Side], audio: float, count: int, seconds: float
) -> Section:
    one, two = sides[1], sides[2]
    rate_one, rate_two = audio / median(one.wall), audio / median(two.wall)
    ratio = rate_two / rate_one
    paired = median([a / b for a, b in zip(one.wall, two.wall, strict=True)])
    section = Section(
        key="hosts",
        title="Worker hosts: one against two, one CPU each",
        method=f"""
{count} recordings of {duration(seconds)} ({duration(audio)} of audio in all), uploaded at once
(one request per file, six at a time) to the API, until the last `completed` event;
throughput = audio seconds / wall seconds. The platform runs from its images (built from the
committed tree) as the Compose
file describes it (PostgreSQL, Redis, RabbitMQ, SeaweedFS with `STORAGE_BACKEND=s3`, the
migrate step, one API, the worker service) on a private podman network; the worker service has
two replicas (two hosts that share no volume), each limited to one CPU with `--cpuset-cpus`
(CPU 0 and CPU 1), each one Celery process with `WORKER_CONCURRENCY=1` and
`WHISPER_CPU_THREADS=1` (tiny.en, the other settings at their defaults). For one host the
second container is stopped; for two it is started again and the run waits until it has
joined and transcribed a {duration(WARMUP_SECONDS)} warm-up job, as each host does once at
the start (a restarted container's first job is slower). {runs(len(one.wall))} per side,
taking turns, the first side alternating; each run's jobs are deleted after it.
The API and the infrastructure are not pinned: they share the same two CPUs with the hosts.
""",
    )
    section.goals = [
        Goal(
            "two hosts / one host",
            f"≥ {GOAL_RATIO:g}x",
            f"{ratio:.2f}x ({rate_two:.2f} vs {rate_one:.2f} audio s/s)",
            ratio >= GOAL_RATIO,
        )
    ]
    headers = ["worker hosts", "audio s per wall s", "recordings per minute", "wall s per run"]
    table = Table([*headers, "jobs per host", "hosts' use of their CPUs", "load average after"])
    for side in (one, two):
        table.add(
            side.hosts,
            f"{audio / median(side.wall):.2f}",
            f"{count * 60 / median(side.wall):.1f}",
            ", ".join(f"{w:.1f}" for w in side.wall),
            "; ".join("/".join(str(n) for n in s) for s in side.spread),
            _cpu_use(side),
            ", ".join(f"{load:.1f}" for load in side.load),
        )
    section.tables.append(("Medians over the runs:", table))
    caption = "CPU use per run (median CPU seconds; share of 2 CPUs x the run's wall time):"
    section.tables.append((caption, _cpu_table(sides)))
    section.notes.append(
        f"Pairing each one-host run with the two-host run beside it in time, the median of "
        f"their wall-time ratios is {paired:.2f}x."
    )
    section.data = {
        "audio_seconds": audio,
        "one_host": one.wall,
        "two_hosts": two.wall,
        "cpu_one_host": one.cpu,
        "cpu_two_hosts": two.cpu,
        "spread_two_hosts": two.spread,
        "ratio": ratio,
        "paired_ratio": paired,
    }
    return section


def _cpu_table(sides: dict[int, Side]) -> Table:
    groups = list(sides[1].cpu[0])
    table = Table(["hosts running", *groups])
    for side in sides.values():
        wall = median(side.wall)
        cells = []
        for group in groups:
            used = median([c[group] for c in side.cpu])
            cells.append(f"{used:.1f} s ({pct(used / (2 * wall))})")
        table.add(side.hosts, *cells)
    return table


def _long_part(section: Section, sides: dict[int, Side], audio: float) -> None:
    """The lone long recording: one host transcribes it whole (its one slot is the pool's only
    free one), two split it into a piece each."""
    one, two = sides[1], sides[2]
    ratio = median(one.wall) / median(two.wall)
    section.goals.append(
        Goal(
            f"a lone {duration(audio)} recording: two hosts / one host",
            f"≥ {LONG_GOAL_RATIO:g}x",
            f"{ratio:.2f}x ({median(two.wall):.1f} s vs {median(one.wall):.1f} s)",
            ratio >= LONG_GOAL_RATIO,
        )
    )
    table = Table(["worker hosts", "wall s per run", "pieces per host", "hosts' use of their CPUs"])
    for side in (one, two):
        table.add(
            side.hosts,
            ", ".join(f"{w:.1f}" for w in side.wall),
            "; ".join("/".join(str(n) for n in s) for s in side.spread),
            _cpu_use(side),
        )
    caption = (
        f"One recording of {duration(audio)} uploaded to the same stack, until its `completed` "
        f"event ({runs(len(one.wall))} per side, taking turns). With one host its single slot "
        "is the pool's only free one, so the file is transcribed whole; with two, it is cut "
        "at a silence into one piece per host (`SPLIT_MIN_SECONDS` at its default):"
    )
    section.tables.append((caption, table))
    section.data["long_audio_seconds"] = audio
    section.data["long_one_host"] = one.wall
    section.data["long_two_hosts"] = two.wall
    section.data["long_spread_two_hosts"] = two.spread
    section.data["long_ratio"] = ratio


def _cpu_use(side: Side) -> str:
    """Each run's worker CPU time as a share of its hosts' CPUs over its wall time."""
    return ", ".join(
        pct(c["worker hosts"] / (side.hosts * w)) for c, w in zip(side.cpu, side.wall, strict=True)
    )
