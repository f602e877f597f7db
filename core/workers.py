"""Worker heartbeats: what each worker group announces, where, and how it is read.

A worker group (one Celery main process and its pool) writes its `WorkerBeat` every
`WORKER_HEARTBEAT_SECONDS` to the Redis key `<REDIS_PREFIX>:workers:<node>`, which expires
after three intervals, and adds its node to the set `<REDIS_PREFIX>:workers`. A group that
stops deletes its key; one that dies simply stops renewing it. Readers (the API) take the set
and the keys in one round trip each, and drop members whose key has expired.

Redis is only a window on the workers: a Redis outage never stops a worker (a failed beat is
logged and the next one tries again), and readers then see no worker (`WorkerDirectory`
returns an empty view rather than raising).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import redis
from pydantic import BaseModel, ValidationError

from core.queue import model_queue_name
from core.settings import Settings

logger = logging.getLogger(__name__)

TTL_INTERVALS = 3
"""A beat expires after this many intervals: one or two lost beats do not hide a worker."""


def workers_set(prefix: str) -> str:
    return f"{prefix}:workers"


def worker_key(prefix: str, node: str) -> str:
    return f"{prefix}:workers:{node}"


class ModelServed(BaseModel):
    name: str
    queue: str
    """The queue the group consumes for this model (readers count only matching queues)."""
    multilingual: bool | None = None
    """From the model's files where the worker can read them; null when it cannot tell."""


class WorkerBeat(BaseModel):
    node: str
    host: str
    pid: int
    models: list[ModelServed]
    concurrency: int
    """Pool processes (slots): jobs the group runs at once."""
    jobs: list[str]
    """Ids of the jobs its slots are running now."""
    started_at: datetime
    beat_at: datetime


def write_beat(client: redis.Redis, prefix: str, beat: WorkerBeat, ttl_seconds: float) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.set(worker_key(prefix, beat.node), beat.model_dump_json(), px=int(ttl_seconds * 1000))
    pipe.sadd(workers_set(prefix), beat.node)
    pipe.execute()


def remove_beat(client: redis.Redis, prefix: str, node: str) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.delete(worker_key(prefix, node))
    pipe.srem(workers_set(prefix), node)
    pipe.execute()


def read_beats(client: redis.Redis, prefix: str) -> list[WorkerBeat]:
    """Every live worker group's latest beat (members whose key expired are removed)."""
    members: Iterable[bytes | str] = client.smembers(workers_set(prefix))
    nodes = sorted(m.decode() if isinstance(m, bytes) else m for m in members)
    if not nodes:
        return []
    raws = client.mget([worker_key(prefix, node) for node in nodes])
    beats, gone = [], []
    for node, raw in zip(nodes, raws, strict=True):
        if raw is None:
            gone.append(node)
            continue
        try:
            beats.append(WorkerBeat.model_validate_json(raw))
        except ValidationError:
            logger.warning("ignoring an unreadable heartbeat of worker %s", node)
    if gone:
        client.srem(workers_set(prefix), *gone)
    return beats


@dataclass
class PoolView:
    """What the live workers offer, as one reader (this API's queue names) sees it."""

    beats: list[WorkerBeat] = field(default_factory=list)
    slots: dict[str, int] = field(default_factory=dict)
    """Model → live worker slots consuming this instance's queue for it."""
    multilingual: dict[str, bool] = field(default_factory=dict)
    """Model → what the workers serving it read from its files."""
    reachable: bool = True

    def serves(self, model: str) -> bool:
        return self.slots.get(model, 0) > 0

    def offered(self, settings: Settings) -> list[str]:
        """What an upload may ask for: the configured models (WHISPER_MODEL first), then any
        other model a live worker group serves for this instance."""
        return list(dict.fromkeys([*settings.models_allowed(), *sorted(self.slots)]))

    @staticmethod
    def models_of(settings: Settings, beat: WorkerBeat) -> list[str]:
        """The models `beat`'s group serves for this instance (its queue for them matches)."""
        return [s.name for s in beat.models if s.queue == model_queue_name(settings, s.name)]

    @classmethod
    def of(cls, settings: Settings, beats: Iterable[WorkerBeat]) -> PoolView:
        view = cls(beats=list(beats))
        for beat in view.beats:
            for served in beat.models:
                if served.queue != model_queue_name(settings, served.name):
                    continue  # another QUEUE_NAME or QUEUE_TYPE: not this instance's jobs
                view.slots[served.name] = view.slots.get(served.name, 0) + beat.concurrency
                if served.multilingual is not None:
                    view.multilingual[served.name] = served.multilingual
        return view


class WorkerDirectory:
    """Reads the workers' heartbeats for the API. Redis down: an empty, unreachable view."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        self._failed_at = 0.0

    def view(self) -> PoolView:
        # After a failure, wait a little before trying again: a Redis that hangs must not
        # cost every request a timeout.
        if time.monotonic() - self._failed_at < 5:
            return PoolView(reachable=False)
        try:
            beats = read_beats(self._client, self.settings.redis_prefix)
        except redis.RedisError as exc:
            self._failed_at = time.monotonic()
            logger.warning("reading worker heartbeats failed (Redis unreachable?): %s", exc)
            return PoolView(reachable=False)
        return PoolView.of(self.settings, beats)

    def close(self) -> None:
        self._client.close()
