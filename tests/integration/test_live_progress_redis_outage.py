"""Live progress while Redis is away: a private `redis-server` is stopped mid-job and restarted.

The platform (API + worker, own database, queue and prefix) uses only that Redis, never the
shared one. Clients must still see every state change (read from Postgres every
SSE_FALLBACK_POLL_SECONDS) and live relay must come back with Redis.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import redis

from tests.support import media
from tests.support.platform import Platform, free_port
from tests.support.private import private_platform
from tests.support.sse import Frame, Received, check_job_history, follow
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

POLL_SECONDS = 2
TALK = (
    "Good evening and welcome to the weather report. Tomorrow will start cloudy in the west "
    "with a little rain along the coast, clearing by the afternoon. In the east it stays dry "
    "and mild, with light winds from the south. On Sunday a stronger front arrives, bringing "
    "heavy showers and gusts of wind to most of the country, so plan your weekend walks early. "
    "Temperatures stay close to normal for the season, a little cooler in the hills."
)


class RedisServer:
    """A throwaway redis-server on a free port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed"
        args = [executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, 10, 0.05, "the private redis-server")

    def _answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture(scope="module")
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def outage_platform(private_redis: RedisServer, run_dir: Path) -> Iterator[Platform]:
    with private_platform(
        run_dir / "outage-platform",
        REDIS_URL=private_redis.url,
        SSE_FALLBACK_POLL_SECONDS=str(POLL_SECONDS),
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def talk_clip(speech_file: Callable[..., Path]) -> Path:
    """Four 30-second decoding windows: Redis can be stopped after the first one's segments."""
    part = speech_file(TALK)
    return media.concat([part] * 4, part.with_name("outage-talk.wav"))


def relay_live(platform: Platform) -> bool:
    metrics = httpx.get(f"{platform.base_url}/metrics", timeout=5).text
    return "soundscripter_sse_relay_live 1.0" in metrics


def upload(platform: Platform, path: Path) -> str:
    response = platform.upload(path)
    assert response.status_code == 202, response.text
    return str(response.json()["items"][0]["id"])


def async_client(platform: Platform) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=platform.base_url, timeout=120)


def completed_at(job: dict[str, object]) -> float:
    return datetime.fromisoformat(str(job["completed_at"])).timestamp()


def test_clients_keep_up_while_redis_is_down_and_live_relay_returns(
    outage_platform: Platform,
    private_redis: RedisServer,
    talk_clip: Path,
    speech_file: Callable[..., Path],
) -> None:
    short = speech_file("Back on the air.")
    assert relay_live(outage_platform)

    async def through_the_outage() -> tuple[str, float, Received, Received, str]:
        job_id = upload(outage_platform, talk_clip)
        url = f"/api/transcriptions/{job_id}/events"
        async with async_client(outage_platform) as client:
            early = asyncio.create_task(follow(client, url))
            await asyncio.to_thread(
                wait_until,
                lambda: (
                    outage_platform.get(job_id)["status"] == "processing"
                    and outage_platform.get(job_id)["segments"]
                ),
                120,
                0.05,
                "the first segments",
            )
            await asyncio.to_thread(private_redis.stop)
            stopped_at = time.time()
            await asyncio.to_thread(
                wait_until, lambda: not relay_live(outage_platform), 10, 0.1, "fallback mode"
            )
            late = asyncio.create_task(follow(client, url))
            # Uploads go on without Redis.
            queued_during_outage = await asyncio.to_thread(upload, outage_platform, short)
            return job_id, stopped_at, await early, await late, queued_during_outage

    job_id, stopped_at, early, late, second_id = asyncio.run(through_the_outage())
    final = outage_platform.get(job_id)
    assert final["status"] == "completed"
    assert completed_at(final) > stopped_at, "the job ended before Redis was stopped"
    print("early client:", _summary(early.frames))
    print("late client: ", _summary(late.frames))
    for received in (early, late):
        assert received.ended_by_server
        check_job_history(received.frames, final)
        delay = received.frames[-1].received_at - completed_at(final)
        assert delay < 5, f"completed reached the client {delay:.1f} s late"
    assert outage_platform.wait_status(second_id)["status"] == "completed"

    private_redis.start()
    wait_until(lambda: relay_live(outage_platform), 15, 0.1, "live relay to resume")

    async def after_the_outage() -> tuple[str, Received]:
        job_id = upload(outage_platform, short)
        async with async_client(outage_platform) as client:
            return job_id, await follow(client, f"/api/transcriptions/{job_id}/events")

    job_id, received = asyncio.run(after_the_outage())
    print("after:       ", _summary(received.frames))
    final = outage_platform.get(job_id)
    check_job_history(received.frames, final)
    live = received.frames[1:]
    # Relayed live: every change arrives as its own event, none merged by a catch-up.
    assert [f.seq for f in live] == list(range(live[0].seq, final["seq"] + 1)), _summary(
        received.frames
    )
    assert time.time() - completed_at(final) < 30


def sse_clients(platform: Platform) -> float:
    metrics = httpx.get(f"{platform.base_url}/metrics", timeout=5).text
    line = next(x for x in metrics.splitlines() if x.startswith("soundscripter_sse_clients "))
    return float(line.split()[1])


def test_one_redis_subscription_serves_every_client_and_clients_are_released(
    outage_platform: Platform, private_redis: RedisServer, talk_clip: Path
) -> None:
    wait_until(lambda: relay_live(outage_platform), 15, 0.1, "live relay")
    job_id = upload(outage_platform, talk_clip)
    url = f"/api/transcriptions/{job_id}/events"
    redis_client = redis.Redis.from_url(private_redis.url)

    async def scenario() -> tuple[float, list[dict[str, str]], list[Received]]:
        async with async_client(outage_platform) as client:
            held = [asyncio.create_task(follow(client, url)) for _ in range(20)]
            await asyncio.to_thread(
                wait_until, lambda: sse_clients(outage_platform) >= 20, 20, 0.05, "20 clients"
            )
            open_clients = sse_clients(outage_platform)
            subscribers = [c for c in redis_client.client_list() if c["psub"] != "0"]
            subscribers += [c for c in redis_client.client_list() if c["sub"] != "0"]
            with outage_platform.client() as http:
                assert http.post(f"/api/transcriptions/{job_id}/cancel").status_code == 200
            return open_clients, subscribers, await asyncio.gather(*held)

    try:
        open_clients, subscribers, received = asyncio.run(scenario())
    finally:
        redis_client.close()  # left to the GC, its socket is reported by a later test
    assert open_clients == 20
    assert len(subscribers) == 1, subscribers
    assert subscribers[0]["psub"] == "1"
    assert all(r.frames[-1].event == "cancelled" for r in received)
    wait_until(lambda: sse_clients(outage_platform) == 0, 10, 0.1, "every stream released")


def _summary(frames: list[Frame]) -> str:
    return " ".join(f"{f.event}:{f.seq}" for f in frames)
