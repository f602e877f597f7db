"""One client's inbox in the hub: live events and Postgres notices for the jobs it follows."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from api.live.frames import WireEvent


@dataclass(frozen=True, slots=True)
class Stale:
    """Postgres has the job at `last_seq` (None: the job no longer exists)."""

    job_id: str
    last_seq: int | None


Item = WireEvent | Stale


class Subscription:
    """A bounded inbox. Pushing never blocks the hub: when a client falls `limit` items
    behind, its inbox is emptied and marked `overflowed`, and the stream resyncs from Postgres.
    """

    __slots__ = ("_items", "_limit", "_overflowed", "_ready", "job_ids")

    def __init__(self, job_ids: tuple[str, ...], limit: int):
        self.job_ids = job_ids
        self._limit = limit
        self._items: deque[Item] = deque()
        self._overflowed = False
        self._ready = asyncio.Event()

    def push(self, item: Item) -> None:
        if not self._overflowed:
            if len(self._items) < self._limit:
                self._items.append(item)
            else:
                self._items.clear()
                self._overflowed = True
        self._ready.set()

    async def take(self) -> tuple[list[Item], bool]:
        """Everything received since the last call (waiting for something), and whether some
        of it was dropped because the client fell behind."""
        await self._ready.wait()
        self._ready.clear()
        items = list(self._items)
        self._items.clear()
        overflowed, self._overflowed = self._overflowed, False
        return items, overflowed
