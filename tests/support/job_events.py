"""A job's events as Redis delivers them, and a publisher that lets a test act between steps.

`JobEventLog` subscribes to the job's channel before the code under test runs. `received()`
then publishes an end marker on the same channel and reads up to it: Redis delivers a channel's
messages in the order it accepted them, and the publisher waited for each of its publishes to be
accepted, so everything published before the marker has arrived once the marker has (no
guessed quiet period).

`SteppedPublisher` is the real `EventPublisher`, plus a hook called after each published event
in the thread that published it: in the pipeline that is the job's thread, between two of its
database transactions, so a hook may use the test's database (cancel the job, take it over)
exactly where a concurrent request could.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import redis

from core.events import EventPublisher, JobEvent, job_channel, parse_event

READ_TIMEOUT = 10.0


class JobEventLog:
    def __init__(self, redis_url: str, prefix: str, job_id: uuid.UUID):
        self.channel = job_channel(prefix, job_id)
        self._client = redis.Redis.from_url(redis_url)
        self._pubsub = self._client.pubsub()
        self._pubsub.subscribe(self.channel)
        confirmation = self._pubsub.get_message(timeout=READ_TIMEOUT)
        if confirmation is None or confirmation["type"] != "subscribe":
            raise RuntimeError(f"subscribing to {self.channel} was not confirmed: {confirmation}")

    def received(self) -> list[JobEvent]:
        """Every event published on the channel so far (and not returned before), in order."""
        marker = f"end-{uuid.uuid4().hex}".encode()
        self._client.publish(self.channel, marker)
        events: list[JobEvent] = []
        while True:
            message = self._pubsub.get_message(timeout=READ_TIMEOUT)
            if message is None:
                raise TimeoutError(f"the end marker never arrived on {self.channel}")
            if message["type"] != "message":
                continue
            if message["data"] == marker:
                return events
            events.append(parse_event(message["data"]))

    def close(self) -> None:
        self._pubsub.close()
        self._client.close()


Hook = Callable[[JobEvent], None]


class SteppedPublisher(EventPublisher):
    def __init__(self, url: str, prefix: str):
        super().__init__(url, prefix)
        self.hook: Hook | None = None

    def publish(self, *events: JobEvent) -> bool:
        sent = super().publish(*events)
        for event in events:
            if self.hook is not None:
                self.hook(event)
        return sent
