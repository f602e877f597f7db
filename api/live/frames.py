"""Events as they travel to a client, and their Server-Sent Events encoding.

A `WireEvent` is one job event whose JSON is already encoded, so an event relayed to many
clients is serialised once. Frames end lines with `\n`; `data` is always a single line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.events import TERMINAL_EVENT_TYPES, JobEvent, encode_event, parse_event


@dataclass(frozen=True, slots=True)
class WireEvent:
    job_id: str
    seq: int
    type: str
    data: str

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES

    @classmethod
    def of(cls, event: JobEvent) -> WireEvent:
        return cls(str(event.id), event.seq, event.type, encode_event(event))

    @classmethod
    def parse(cls, raw: str | bytes) -> WireEvent:
        """Validate a published event; its JSON (extra fields included) is kept as it came."""
        event = parse_event(raw)
        data = raw.decode() if isinstance(raw, bytes) else raw
        if "\n" in data or "\r" in data:
            data = json.dumps(json.loads(data), separators=(",", ":"), ensure_ascii=False)
        return cls(str(event.id), event.seq, event.type, data)


def frame(event: WireEvent, event_id: str | None) -> str:
    """One SSE frame: `id` (when it marks a point to resume from), `event` and `data` lines,
    then a blank line."""
    if event_id is None:
        return f"event: {event.type}\ndata: {event.data}\n\n"
    return f"id: {event_id}\nevent: {event.type}\ndata: {event.data}\n\n"
