"""A stream's logic without a server: snapshot, seq filter, gap repair, resync, ending."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from api.access.keys import Principal
from api.live import catchup, cursor
from api.live.catchup import CatchUpReader, CatchUps
from api.live.frames import WireEvent, frame
from api.live.hub import EventHub
from api.live.ledger import Ledger
from api.live.options import LiveOptions
from api.live.stream import LiveStream, multiplexed_id
from api.live.subscription import Stale, Subscription
from api.metrics import SSE_CLIENTS
from core.db import Database
from core.events import QueuedEvent, job_channel
from tests.support.live_fakes import (
    ANYONE,
    PREFIX,
    A,
    B,
    FakeReads,
    completed,
    make_hub,
    processing,
)

pytestmark = pytest.mark.unit


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_snapshot_then_live_events_without_duplicates() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        reads.set(A, processing(A, 2))
        hub = make_hub()
        stream = LiveStream(hub, reads, Ledger([A]), ANYONE)
        first = await stream.snapshot()
        assert first == frame(processing(A, 2), "2")
        chunk = await stream.handle([processing(A, 1), processing(A, 2), processing(A, 3)], False)
        assert chunk == frame(processing(A, 3), "3")
        assert reads.asked == [{A: 0}]
        stream.close()

    run(scenario())


def test_a_gap_is_read_from_postgres_and_later_live_events_are_dropped() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        hub = make_hub()
        stream = LiveStream(hub, reads, Ledger([A], {A: 2}), ANYONE)
        reads.set(A, processing(A, 5))
        chunk = await stream.handle([processing(A, 4), processing(A, 5)], False)
        assert reads.asked == [{A: 2}]
        assert chunk == frame(processing(A, 5), "5")
        assert await stream.handle([processing(A, 5)], False) == ""
        stream.close()

    run(scenario())


def test_overflow_resyncs_every_job_from_postgres() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        reads.set(A, processing(A, 3))
        reads.set(B, completed(B, 8), terminal=True)
        hub = make_hub()
        stream = LiveStream(hub, reads, Ledger([A, B], {A: 3, B: 1}), ANYONE, multiplexed_id("t"))
        chunk = await stream.handle([], True)
        assert reads.asked == [{A: 3, B: 1}]
        assert chunk == frame(completed(B, 8), "t:3.8")
        stream.close()

    run(scenario())


def test_postgres_notices_trigger_a_read_only_when_the_job_moved() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        hub = make_hub()
        stream = LiveStream(hub, reads, Ledger([A, B], {A: 4, B: 2}), ANYONE, multiplexed_id("t"))
        assert await stream.handle([Stale(A, 4), Stale(B, 1)], False) == ""
        assert reads.asked == []
        reads.set(A, completed(A, 6), terminal=True)
        chunk = await stream.handle([Stale(A, 6), Stale(B, None)], False)
        assert reads.asked == [{A: 4, B: 2}]
        deleted = json.loads(chunk.split("\n\n")[1].split("data: ")[1])
        assert chunk.startswith(frame(completed(A, 6), "t:6.2"))
        assert "id: t:6.x\nevent: cancelled\n" in chunk
        assert deleted["deleted"] is True
        assert deleted["seq"] == 3
        assert stream.ledger.finished
        stream.close()

    run(scenario())


def test_per_job_stream_stops_at_its_terminal_event() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        reads.set(A, processing(A, 1))
        hub = make_hub()
        stream = LiveStream(hub, reads, Ledger([A]), ANYONE)
        clients = SSE_CLIENTS._value.get()
        first = await stream.snapshot()
        frames = stream.frames(first)
        assert await anext(frames) == first.encode()
        retried = WireEvent.of(QueuedEvent(id=uuid.UUID(A), seq=4, status="queued", progress=0))
        for event in (processing(A, 2), completed(A, 3), retried):
            hub._deliver(A, event)
        assert (
            await anext(frames)
            == (frame(processing(A, 2), "2") + frame(completed(A, 3), "3")).encode()
        )
        with pytest.raises(StopAsyncIteration):
            await anext(frames)
        assert hub.client_count == 0
        assert SSE_CLIENTS._value.get() == clients - 1

    run(scenario())


def test_a_failing_catch_up_ends_the_stream_and_releases_it() -> None:
    class Broken(FakeReads):
        async def read(self, principal: Principal, after: Mapping[str, int]) -> CatchUps:
            raise ConnectionError("postgres is down")

    async def scenario() -> None:
        hub = make_hub()
        stream = LiveStream(hub, Broken(), Ledger([A], {A: 1}), ANYONE)
        frames = stream.frames("")
        hub._deliver(A, processing(A, 3))
        with pytest.raises(StopAsyncIteration):
            await anext(frames)
        assert hub.client_count == 0

    run(scenario())


def test_subscription_overflow_drops_the_backlog_and_says_so() -> None:
    async def scenario() -> None:
        subscription = Subscription((A,), limit=2)
        for seq in (1, 2, 3, 4):
            subscription.push(processing(A, seq))
        assert await subscription.take() == ([], True)
        subscription.push(processing(A, 5))
        assert await subscription.take() == ([processing(A, 5)], False)

    run(scenario())


def test_hub_dispatches_by_job_and_ignores_what_nobody_follows() -> None:
    async def scenario() -> None:
        hub = make_hub()
        mine = hub.subscribe([A])
        both = hub.subscribe([A, B])
        event = processing(B, 1)
        message = {
            "type": "pmessage",
            "channel": job_channel(PREFIX, B).encode(),
            "data": event.data.encode(),
        }
        hub._dispatch(message)
        hub._dispatch({**message, "channel": job_channel(PREFIX, str(uuid.uuid4())).encode()})
        hub._dispatch({**message, "data": b"not json"})
        hub._dispatch({**message, "channel": job_channel(PREFIX, A).encode()})
        assert await both.take() == ([event], False)
        assert not mine._ready.is_set()
        hub.unsubscribe(both)
        hub.unsubscribe(mine)
        assert hub.client_count == 0
        assert not hub._subscribers

    run(scenario())


def test_hub_poll_tells_subscribers_where_postgres_is() -> None:
    async def scenario() -> None:
        hub = EventHub(
            "redis://127.0.0.1:1/0", PREFIX, LiveOptions(), seq_reader=lambda ids: {A: 7}
        )
        subscription = hub.subscribe([A, B])
        await hub.poll_once()
        items, _ = await subscription.take()
        assert sorted(items, key=lambda s: s.job_id) == [Stale(A, 7), Stale(B, None)]

    run(scenario())


def test_identical_concurrent_catch_ups_share_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, int]] = []
    release = threading.Event()

    def slow_read(db: Database, principal: Principal, after: Mapping[str, int]) -> CatchUps:
        calls.append(dict(after))
        release.wait(5)
        return {job: None for job in after}

    monkeypatch.setattr(catchup, "_read", slow_read)

    async def scenario() -> None:
        unreachable = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
        reader = CatchUpReader(unreachable, concurrency=2)
        someone = Principal("someone", admin=False, fingerprint="0" * 16)
        first = asyncio.create_task(reader.read(ANYONE, {A: 1}))
        second = asyncio.create_task(reader.read(ANYONE, {A: 1}))
        other = asyncio.create_task(reader.read(someone, {A: 1}))
        await asyncio.sleep(0.05)
        first.cancel()
        release.set()
        assert await second == {A: None}
        assert await other == {A: None}
        assert len(calls) == 2

    run(scenario())


def test_cursor_in_frames_follows_every_job() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        reads.set(A, processing(A, 2))
        reads.set(B, completed(B, 5), terminal=True)
        hub = make_hub()
        tag = cursor.stream_tag([A, B])
        stream = LiveStream(hub, reads, Ledger([A, B]), ANYONE, multiplexed_id(tag))
        first = await stream.snapshot()
        assert first == frame(processing(A, 2), f"{tag}:2.0") + frame(completed(B, 5), f"{tag}:2.5")
        assert not stream.ledger.finished
        chunk = await stream.handle([completed(A, 3)], False)
        assert chunk == frame(completed(A, 3), f"{tag}:3.5")
        assert stream.ledger.finished
        stream.close()

    run(scenario())


def test_only_the_last_frame_of_a_catch_up_group_carries_the_id() -> None:
    async def scenario() -> None:
        reads = FakeReads()
        segments = WireEvent(A, 6, "progress", '{"seq":6}')
        reads.set(A, segments, completed(A, 6), terminal=True)
        reads.set(B, processing(B, 2))
        hub = make_hub()
        single = LiveStream(hub, reads, Ledger([A]), ANYONE)
        assert await single.snapshot() == frame(segments, None) + frame(completed(A, 6), "6")
        single.close()
        both = LiveStream(hub, reads, Ledger([A, B]), ANYONE, multiplexed_id("t"))
        assert await both.snapshot() == (
            frame(segments, None)
            + frame(completed(A, 6), "t:6.0")
            + frame(processing(B, 2), "t:6.2")
        )
        both.close()

    run(scenario())
