"""A small Server-Sent Events client for tests, and checks of what a client received."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

TERMINAL = {"completed", "failed", "cancelled"}
STATE_TYPES = {"queued", "processing", *TERMINAL}


@dataclass
class Frame:
    id: str | None
    event: str
    data: dict[str, Any]
    received_at: float = 0.0
    """Wall-clock time (comparable with timestamps the API reports)."""

    @property
    def seq(self) -> int:
        return int(self.data["seq"])

    @property
    def job(self) -> str:
        return str(self.data["id"])


class Parser:
    """Turns the bytes of an event stream into frames (comments such as pings are skipped)."""

    def __init__(self) -> None:
        self._buffer = b""
        self.comments = 0

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        frames = []
        while b"\n\n" in self._buffer:
            block, self._buffer = self._buffer.split(b"\n\n", 1)
            fields: dict[str, str] = {}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                    continue
                name, _, value = line.partition(": ")
                fields[name] = value
            if "data" in fields:
                frames.append(
                    Frame(
                        fields.get("id"),
                        fields.get("event", "message"),
                        json.loads(fields["data"]),
                        time.time(),
                    )
                )
        return frames


@dataclass
class Received:
    status: int
    headers: httpx.Headers
    frames: list[Frame] = field(default_factory=list)
    ended_by_server: bool = False

    @property
    def last_id(self) -> str | None:
        ids = [f.id for f in self.frames if f.id is not None]
        return ids[-1] if ids else None


async def follow(
    client: httpx.AsyncClient,
    url: str,
    *,
    last_event_id: str | None = None,
    stop: Callable[[list[Frame]], bool] | None = None,
    within: float = 120,
) -> Received:
    """Read a stream until the server ends it, or until `stop(frames)` says enough."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    parser = Parser()
    async with asyncio.timeout(within), client.stream("GET", url, headers=headers) as response:
        received = Received(response.status_code, response.headers)
        if response.status_code != 200:
            await response.aread()
            return received
        async for chunk in response.aiter_raw():
            received.frames.extend(parser.feed(chunk))
            if stop is not None and stop(received.frames):
                return received
        received.ended_by_server = True
    return received


def check_job_history(frames: list[Frame], final: dict[str, Any]) -> None:
    """What one client saw of one job is complete and in order.

    - seqs never go down; a frame group that skips seqs (a catch-up) ends with a state event;
    - every segment arrives once, in index order, and together they are the final text;
    - progress never goes down within a run, and the history ends with the final state.
    """
    assert frames, "no events"
    assert frames[-1].event == final["status"]
    assert frames[-1].seq == final["seq"]
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs), f"seqs out of order: {seqs}"
    for i, current in enumerate(frames[1:], start=1):
        previous = frames[i - 1].seq
        if current.seq > previous + 1:
            group = [f for f in frames[i:] if f.seq == current.seq]
            assert group[-1].event in STATE_TYPES, f"seq jumped {previous}->{current.seq}: {seqs}"
    segments = [s for f in frames if f.event == "progress" for s in f.data["segments"]]
    for f in frames:
        if f.event == "progress":
            assert f.data["segment"] == f.data["segments"][-1]
    indexes = [s["index"] for s in segments]
    assert indexes == list(range(len(indexes))), f"segments missing or repeated: {indexes}"
    if final["status"] == "completed":
        assert "".join(s["text"] for s in segments).strip() == final["text"]
        assert len(segments) == len(final["segments"])
    progress = [f.data["progress"] for f in frames if f.data["status"] == "processing"]
    assert progress == sorted(progress), f"progress went down: {progress}"


def acknowledged(part: Received) -> list[Frame]:
    """The frames of a dropped stream up to its last id: what a resumed stream builds on."""
    marked = [i for i, f in enumerate(part.frames) if f.id is not None]
    return part.frames[: marked[-1] + 1] if marked else []


def resumed_history(parts: list[Received]) -> list[Frame]:
    """What a client holds after reading `parts` in turn, each resumed from the last id of the
    one before: frames after a dropped stream's last id are sent again, so they count once."""
    frames = [f for part in parts[:-1] for f in acknowledged(part)]
    return frames + (parts[-1].frames if parts else [])
