"""Watches every job event of the run as it is published (the events the API relays as SSE).

The subscription is opened before anything is uploaded, so no event can be missed, and each
event's arrival is stamped with `time.perf_counter()` in this process.
"""

from __future__ import annotations

import json
import threading
import time

import redis

from core.events import all_jobs_pattern


class EventWatch:
    def __init__(self, redis_url: str, prefix: str):
        self._client = redis.Redis.from_url(redis_url)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.psubscribe(all_jobs_pattern(prefix))
        self._seen: dict[tuple[str, str], float] = {}
        self._changed = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._listen, daemon=True, name="event-watch")
        self._thread.start()

    def _listen(self) -> None:
        while self._running:
            message = self._pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            arrived = time.perf_counter()
            try:
                event = json.loads(message["data"])
            except (ValueError, TypeError):
                continue
            key = (str(event.get("id")), str(event.get("type")))
            with self._changed:
                self._seen.setdefault(key, arrived)
                self._changed.notify_all()

    def seen(self, job_id: str, event_type: str) -> float | None:
        with self._changed:
            return self._seen.get((job_id, event_type))

    def wait_all(self, job_ids: list[str], timeout: float) -> dict[str, float]:
        """Arrival time of each job's terminal event; raises if one ends other than completed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for job_id in job_ids:
                    for bad in ("failed", "cancelled"):
                        if (job_id, bad) in self._seen:
                            raise RuntimeError(f"job {job_id} ended {bad}")
                done = {
                    j: self._seen[(j, "completed")]
                    for j in job_ids
                    if (j, "completed") in self._seen
                }
                if len(done) == len(job_ids):
                    return done
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(job_ids) - len(done)} jobs not completed in time")
                self._changed.wait(min(left, 1.0))

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2)
        self._pubsub.close()
        self._client.close()
