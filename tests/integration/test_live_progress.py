"""Live progress against the real platform: API (uvicorn), Redis, RabbitMQ, a tiny.en worker.

Every stream is read over a real socket. Histories are checked for completeness and order by
`tests.support.sse.check_job_history`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.live import cursor
from core.db import Database
from tests.support import media
from tests.support.platform import Platform
from tests.support.private import private_platform
from tests.support.sse import (
    Received,
    acknowledged,
    check_job_history,
    follow,
    resumed_history,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

LONG_TEXT = (
    "The committee met on Tuesday morning to review the budget for the coming year. "
    "Several members asked how the new library would be paid for, and the treasurer "
    "explained that a grant from the state would cover most of the cost. After a short "
    "break they discussed the repairs to the bridge on the north road, which has been "
    "closed since the spring floods. The engineer said the work could start in August "
    "and should be finished before the first snow. Finally the chair thanked everyone "
    "for their patience and closed the meeting just after noon."
)
SHORT_TEXT = "Hello there, this is a short test recording."


@pytest.fixture(scope="module")
def long_clip(speech_file: Callable[..., Path]) -> Path:
    """About 100 s: several 30-second decoding windows, so segments arrive over time."""
    part = speech_file(LONG_TEXT)
    return media.concat([part] * 3, part.with_name("live-long.wav"))


@pytest.fixture(scope="module")
def short_clip(speech_file: Callable[..., Path]) -> Path:
    return speech_file(SHORT_TEXT)


def upload(platform: Platform, *paths: Path, **fields: str) -> list[str]:
    response = platform.upload(*paths, **fields)
    assert response.status_code == 202, response.text
    return [item["id"] for item in response.json()["items"]]


def job_url(job_id: str) -> str:
    return f"/api/transcriptions/{job_id}/events"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def async_client(platform: Platform) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=platform.base_url, limits=limits, timeout=120)


def test_client_connected_from_upload_sees_the_whole_history(
    live_platform: Platform, short_clip: Path, long_clip: Path
) -> None:
    # The worker takes one job at a time: the first file keeps the second one queued.
    _, job_id = upload(live_platform, short_clip, long_clip)

    async def scenario() -> Received:
        async with async_client(live_platform) as client:
            return await follow(client, job_url(job_id))

    received = run(scenario())
    assert received.status == 200
    assert received.headers["content-type"].startswith("text/event-stream")
    assert received.headers["x-accel-buffering"] == "no"
    assert received.headers["cache-control"] == "no-cache"
    assert received.ended_by_server
    frames = received.frames
    types = [f.event for f in frames]
    # Queued while the first file runs (sent again as its place and estimate change), then
    # processing, progress and completed.
    waiting = next(n for n, kind in enumerate(types) if kind != "queued")
    assert waiting >= 1, types
    assert types[waiting] == "processing", types
    assert types[-1] == "completed"
    assert set(types[waiting + 1 : -1]) == {"progress"}, types
    assert len(types) >= waiting + 4, types
    # From the snapshot on, no gap (a waiting job's queued events move its seq on).
    first = frames[0].seq
    assert [f.seq for f in frames] == list(range(first, first + len(frames)))
    assert [f.id for f in frames] == [str(f.seq) for f in frames]
    progress = [f.data["progress"] for f in frames]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    final = live_platform.get(job_id)
    check_job_history(frames, final)
    assert frames[-1].data["text"] == final["text"]


def _wait_mid_job(platform: Platform, job_id: str) -> dict[str, Any]:
    def running_with_segments() -> dict[str, Any] | None:
        job = platform.get(job_id)
        assert job["status"] in ("queued", "processing"), "the job ended before the test joined"
        return job if job["status"] == "processing" and job["segments"] else None

    return dict(wait_until(running_with_segments, 120, 0.02, "segments of a running job"))


def test_client_connecting_mid_job_gets_the_snapshot_then_the_rest(
    live_platform: Platform, long_clip: Path
) -> None:
    (job_id,) = upload(live_platform, long_clip)
    seen = _wait_mid_job(live_platform, job_id)

    async def scenario() -> Received:
        async with async_client(live_platform) as client:
            return await follow(client, job_url(job_id))

    received = run(scenario())
    frames = received.frames
    assert received.ended_by_server
    assert frames[0].event == "progress"
    assert frames[1].event == "processing"
    assert frames[0].seq == frames[1].seq >= seen["seq"]
    assert len(frames[0].data["segments"]) >= len(seen["segments"])
    assert [f.event for f in frames[2:-1]] == ["progress"] * (len(frames) - 3)
    assert [f.seq for f in frames[1:]] == list(range(frames[1].seq, frames[-1].seq + 1))
    check_job_history(frames, live_platform.get(job_id))


def test_client_connecting_after_completion_gets_the_final_state_and_the_end(
    live_platform: Platform, short_clip: Path
) -> None:
    (job_id,) = upload(live_platform, short_clip)
    final = live_platform.wait_status(job_id)
    assert final["status"] == "completed"

    async def scenario() -> tuple[Received, float, Received]:
        async with async_client(live_platform) as client:
            started = time.monotonic()
            received = await follow(client, job_url(job_id), within=10)
            elapsed = time.monotonic() - started
            again = await follow(client, job_url(job_id), last_event_id=received.last_id)
            return received, elapsed, again

    received, elapsed, again = run(scenario())
    assert received.ended_by_server
    assert elapsed < 2
    assert [f.event for f in received.frames] == ["progress", "completed"]
    assert {f.seq for f in received.frames} == {final["seq"]}
    assert [f.id for f in received.frames] == [None, str(final["seq"])]
    check_job_history(received.frames, final)
    # Nothing new and the job has ended: 204 tells a browser to stop reconnecting.
    assert again.status == 204


def test_reconnecting_with_last_event_id_has_no_duplicates_and_no_gaps(
    live_platform: Platform, long_clip: Path
) -> None:
    # Sequential decoding writes each 30 s window as it is decoded: several progress events.
    (job_id,) = upload(live_platform, long_clip, precise_timestamps="true")

    async def scenario() -> list[Received]:
        parts: list[Received] = []
        last_id: str | None = None
        async with async_client(live_platform) as client:
            while True:
                part = await follow(
                    client,
                    job_url(job_id),
                    last_event_id=last_id,
                    stop=lambda frames: any(f.event == "progress" for f in frames),
                )
                assert part.status == 200
                parts.append(part)
                last_id = part.last_id or last_id
                if part.ended_by_server or part.frames[-1].event == "completed":
                    return parts
                # Events go by while no client listens: reconnect only once the job is
                # past the last event this client had.
                held = int(last_id) if last_id is not None else 0
                await asyncio.to_thread(
                    wait_until,
                    lambda held=held: live_platform.get(job_id)["seq"] > held,
                    60,
                    0.05,
                    "an event the disconnected client misses",
                )

    parts = run(scenario())
    assert len(parts) >= 3
    check_job_history(resumed_history(parts), live_platform.get(job_id))
    # A resumed stream starts after the last id the client had (gaps: check_job_history).
    for before, after in itertools.pairwise(parts):
        assert before.last_id is not None
        assert after.frames[0].seq > int(before.last_id)


@pytest.fixture(scope="module")
def race_platform(run_dir: Path) -> Iterator[Platform]:
    """Its own platform with two worker slots and greedy decoding, to get through 200 jobs."""
    with private_platform(
        run_dir / "race-platform",
        concurrency=2,
        WORKER_CONCURRENCY="2",
        WHISPER_BEAM_SIZE="1",
    ) as platform:
        yield platform


def test_race_many_jobs_and_clients_joining_at_random_moments(
    race_platform: Platform, speech_file: Callable[..., Path]
) -> None:
    """200 jobs, two clients each. A client joins right after the upload, or when a job near
    its own (five before to one after, in upload order) completes, plus a random moment: before,
    while and after its job runs. Half of the clients drop after their first frame and resume
    with Last-Event-ID."""
    jobs = 200
    clip = speech_file("Yes.", name="race-word")
    rng = random.Random(20240611)
    completed: dict[str, asyncio.Event] = {}
    joined: dict[str, int] = {}

    async def watch_completions(client: httpx.AsyncClient) -> None:
        while True:
            page = await client.get(
                "/api/transcriptions", params={"status": "completed", "limit": 200}
            )
            for item in page.json()["items"]:
                completed.setdefault(item["id"], asyncio.Event()).set()
            await asyncio.sleep(0.1)  # the watcher's polling interval

    async def one_client(
        client: httpx.AsyncClient, job_id: str, anchor: str | None
    ) -> list[Received]:
        if anchor is not None:
            await completed.setdefault(anchor, asyncio.Event()).wait()
        await asyncio.sleep(rng.uniform(0, 0.5))  # the scenario: a random moment to join
        url = job_url(job_id)
        if rng.random() < 0.5:
            first = await follow(client, url, stop=lambda frames: len(frames) >= 1, within=300)
            await asyncio.sleep(rng.uniform(0, 0.5))  # and a random time away before resuming
            parts = [first]
            if not first.ended_by_server:
                parts.append(await follow(client, url, last_event_id=first.last_id, within=300))
        else:
            parts = [await follow(client, url, within=300)]
        state = next(f.event for f in resumed_history(parts) if f.event != "progress")
        joined[state] = joined.get(state, 0) + 1
        return parts

    async def scenario() -> tuple[list[str], dict[str, list[list[Received]]]]:
        async with async_client(race_platform) as client:
            watcher = asyncio.create_task(watch_completions(client))
            ids: list[str] = []
            for _ in range(jobs // 50):
                ids += await asyncio.to_thread(upload, race_platform, *[clip] * 50)
            followers = []
            for position, job_id in enumerate(ids):
                for _ in range(2):
                    offset = rng.randint(-5, 1)
                    anchor = None if offset < -4 else ids[min(max(position + offset, 0), jobs - 1)]
                    task = asyncio.create_task(one_client(client, job_id, anchor))
                    followers.append((job_id, task))
            results: dict[str, list[list[Received]]] = {job_id: [] for job_id in ids}
            async with asyncio.timeout(600):
                for job_id, task in followers:
                    results[job_id].append(await task)
            watcher.cancel()
            return ids, results

    started = time.monotonic()
    ids, results = run(scenario())
    assert len(ids) == jobs
    for job_id in ids:
        final = race_platform.get(job_id)
        assert final["status"] == "completed"
        for parts in results[job_id]:
            assert all(part.status in (200, 204) for part in parts)
            check_job_history(resumed_history(parts), final)
    print(
        f"race: {jobs} jobs, {2 * jobs} clients in {time.monotonic() - started:.0f} s; "
        f"first state seen on joining: {joined}"
    )
    assert {"queued", "completed"} <= set(joined)
    assert joined.get("processing", 0) > 0


def test_one_multiplexed_stream_follows_twenty_jobs(
    live_platform: Platform, speech_file: Callable[..., Path]
) -> None:
    clips = [speech_file(f"Number {n}, and then some more words.") for n in range(20)]
    ids = upload(live_platform, *clips)
    url = "/api/events?ids=" + ",".join(ids)
    tag = cursor.stream_tag(ids)

    async def scenario() -> tuple[list[Received], list[Received]]:
        async with async_client(live_platform) as client:
            first = await follow(
                client, url, stop=lambda frames: sum(f.event == "completed" for f in frames) >= 5
            )
            # Resume twice at once: with the stream's own id, and with `since` positions.
            held = {f.job: f.seq for f in acknowledged(first)}
            # ... once at least one event went by after what the first stream acknowledged.
            await asyncio.to_thread(
                wait_until,
                lambda: any(live_platform.get(job)["seq"] > held.get(job, 0) for job in ids),
                60,
                0.05,
                "an event after the first stream",
            )
            since = ",".join(f"{job}:{seq}" for job, seq in held.items())
            rest, rest_since = await asyncio.gather(
                follow(client, url, last_event_id=first.last_id),
                follow(client, f"{url}&since={since}"),
            )
            return [first, rest], [first, rest_since]

    parts, parts_since = run(scenario())
    assert parts[1].ended_by_server
    assert parts_since[1].ended_by_server
    for job_id in ids:
        history = [f for f in resumed_history(parts_since) if f.job == job_id]
        check_job_history(history, live_platform.get(job_id))
    frames = resumed_history(parts)
    assert {f.job for f in frames} == set(ids)
    last_seqs: dict[str, int] = {}
    for i, frame in enumerate(frames):
        last_seqs[frame.job] = frame.seq
        if frame.id is None:  # inside a catch-up group: its last frame has the id
            assert frames[i + 1].job == frame.job
            assert frames[i + 1].seq == frame.seq
        else:
            assert frame.id == f"{tag}:" + ".".join(str(last_seqs.get(j, 0)) for j in ids)
    for job_id in ids:
        history = [f for f in frames if f.job == job_id]
        check_job_history(history, live_platform.get(job_id))


def test_catch_up_reads_segments_only_up_to_the_seq_of_the_job_row(db: Database) -> None:
    from api.access.keys import ANONYMOUS_PRINCIPAL, Principal
    from api.live.catchup import read_catch_ups
    from core.models import Segment, Transcription

    job = Transcription(
        filename="x.wav",
        storage_key="k",
        size_bytes=1,
        sha256="0" * 64,
        model="tiny.en",
        status="processing",
        last_seq=3,
    )
    with db.session() as session:
        session.add(job)
        session.flush()
        for index, seq in ((0, 3), (1, 4)):  # seq 4: committed after the row said 3
            session.add(
                Segment(transcription_id=job.id, index=index, seq=seq, start=0, end=1, text="w")
            )
    someone = Principal("someone", admin=False, fingerprint="0" * 16)
    with db.session() as session:
        catch_up = read_catch_ups(session, ANONYMOUS_PRINCIPAL, {str(job.id): 0})[str(job.id)]
        other_owner = read_catch_ups(session, someone, {str(job.id): 0})[str(job.id)]
    assert catch_up is not None
    assert [e.type for e in catch_up.events] == ["progress", "processing"]
    assert '"index":1' not in catch_up.events[0].data
    assert other_owner is None


def test_stream_errors_use_the_error_shape(live_platform: Platform) -> None:
    with live_platform.client() as client:
        missing = client.get(job_url("00000000-0000-4000-8000-000000000000"))
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        bad = client.get("/api/events", params={"ids": "one,two"})
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "invalid_ids"
        many = ",".join(str(i) for i in _uuids(201))
        too_many = client.get("/api/events", params={"ids": many})
        assert too_many.status_code == 422
        assert too_many.json()["error"]["code"] == "too_many_ids"


def _uuids(count: int) -> Iterator[str]:
    import uuid

    return (str(uuid.uuid4()) for _ in range(count))
