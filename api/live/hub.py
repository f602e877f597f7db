"""The event hub: one Redis pattern subscription per API process, fanned out to clients.

The hub keeps a single `PSUBSCRIBE <prefix>:job:*` connection and hands every event to the
subscriptions of its job. When Redis drops it reconnects with backoff; meanwhile (and once
right after each reconnect, to cover what was published while it was away) a poller reads
`last_seq` of every followed job from Postgres and tells subscribers which jobs moved. While
live, the poller still runs at a slower pace, so an event lost in transit is repaired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Gauge
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlmodel import col, select

from api.live.frames import WireEvent
from api.live.options import LiveOptions
from api.live.subscription import Item, Stale, Subscription
from core.db import Database
from core.events import all_jobs_pattern, job_id_from_channel
from core.models import Transcription

logger = logging.getLogger(__name__)

RELAY_LIVE = Gauge(
    "soundscripter_sse_relay_live",
    "1 while the API relays job events live from Redis, 0 while it polls Postgres",
)

MIN_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 5.0
"""A blocking read wakes up this often, so the connection's health check can run."""
POLL_CHUNK = 1000

SeqReader = Callable[[list[str]], dict[str, int]]


def read_last_seqs(db: Database, job_ids: list[str]) -> dict[str, int]:
    """`last_seq` of the given jobs that exist (one short session)."""
    found: dict[str, int] = {}
    with db.session() as session:
        for start in range(0, len(job_ids), POLL_CHUNK):
            chunk = [uuid.UUID(j) for j in job_ids[start : start + POLL_CHUNK]]
            rows = session.exec(
                select(Transcription.id, Transcription.last_seq).where(
                    col(Transcription.id).in_(chunk)
                )
            ).all()
            found.update({str(job_id): last_seq for job_id, last_seq in rows})
    return found


class EventHub:
    def __init__(
        self,
        redis_url: str,
        prefix: str,
        options: LiveOptions,
        *,
        seq_reader: SeqReader,
    ):
        self.redis_url = redis_url
        self.prefix = prefix
        self.options = options
        self._seq_reader = seq_reader
        self._subscribers: dict[str, set[Subscription]] = {}
        self._live = False
        self._poll_now = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        RELAY_LIVE.set(0)

    @property
    def live(self) -> bool:
        """Whether events arrive from Redis right now (otherwise Postgres is polled)."""
        return self._live

    @property
    def client_count(self) -> int:
        return len({sub for subs in self._subscribers.values() for sub in subs})

    # --- subscriptions ---------------------------------------------------------------

    def subscribe(self, job_ids: Iterable[str]) -> Subscription:
        subscription = Subscription(tuple(job_ids), self.options.queue_limit)
        for job_id in subscription.job_ids:
            self._subscribers.setdefault(job_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for job_id in subscription.job_ids:
            subs = self._subscribers.get(job_id)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._subscribers[job_id]

    def _deliver(self, job_id: str, item: Item) -> None:
        for subscription in self._subscribers.get(job_id, ()):
            subscription.push(item)

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._relay_forever(), name="event-hub-relay"),
            asyncio.create_task(self._poll_forever(), name="event-hub-poller"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._set_live(False)

    def _set_live(self, live: bool) -> None:
        if live != self._live:
            self._live = live
            RELAY_LIVE.set(1 if live else 0)
            self._poll_now.set()

    # --- Redis relay -----------------------------------------------------------------

    async def _relay_forever(self) -> None:
        delay = MIN_BACKOFF_SECONDS
        warned = False
        while True:
            try:
                await self._relay_once()
            except (RedisError, OSError) as exc:
                if self._live or not warned:
                    logger.warning("no live events from Redis (%s); polling Postgres", exc)
                    warned = True
            except Exception:
                logger.exception("the live event relay failed; restarting it")
            if self._live:
                delay = MIN_BACKOFF_SECONDS
                self._set_live(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _relay_once(self) -> None:
        client = aioredis.Redis.from_url(
            self.redis_url,
            socket_connect_timeout=2,
            socket_keepalive=True,
            health_check_interval=int(READ_TIMEOUT_SECONDS * 2),
        )
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(all_jobs_pattern(self.prefix))
            await self._confirmed(pubsub)
            self._set_live(True)
            logger.info("relaying live job events from Redis")
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=READ_TIMEOUT_SECONDS
                )
                if message is not None:
                    self._dispatch(message)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    @staticmethod
    async def _confirmed(pubsub: Any) -> None:
        """Wait until Redis confirms the subscription: from then on nothing is missed."""
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            while True:
                message = await pubsub.get_message(timeout=READ_TIMEOUT_SECONDS)
                if message is not None and message["type"] == "psubscribe":
                    return

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "pmessage":
            return
        channel = message["channel"]
        if isinstance(channel, bytes):
            channel = channel.decode()
        job_id = job_id_from_channel(self.prefix, channel)
        if job_id not in self._subscribers:
            return
        try:
            event = WireEvent.parse(message["data"])
        except (ValidationError, ValueError) as exc:
            logger.warning("ignoring a malformed event on %s: %s", channel, exc)
            return
        if event.job_id != job_id:
            logger.warning("ignoring an event for job %s on %s", event.job_id, channel)
            return
        self._deliver(job_id, event)

    # --- Postgres poller -------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while True:
            interval = (
                self.options.audit_seconds if self._live else self.options.fallback_poll_seconds
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._poll_now.wait()
            self._poll_now.clear()
            try:
                await self.poll_once()
            except Exception as exc:
                logger.warning("reading job seqs from Postgres failed: %s", exc)

    async def poll_once(self) -> None:
        """Tell every subscriber where Postgres has its jobs now."""
        job_ids = list(self._subscribers)
        if not job_ids:
            return
        seqs = await run_in_threadpool(self._seq_reader, job_ids)
        for job_id in job_ids:
            self._deliver(job_id, Stale(job_id, seqs.get(job_id)))
