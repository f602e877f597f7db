"""A long recording cut at silences into pieces for several workers (`core.pieces`).

The job's first run decides: a recording at least `SPLIT_MIN_SECONDS` long is cut into one
piece per free slot of its model pool (the slots the pool's heartbeats show idle, plus the
run's own, which it frees), each at least `SPLIT_PIECE_MIN_SECONDS` long; one piece means no
split, and the run transcribes the file itself. Redis down: no slot is known free, no split.

Where the cuts go: the pieces are of equal length as far as silences allow. Around each
target (the rest of the recording shared by the pieces still to cut) the run looks
`SEARCH_SECONDS` either way for the silence nearest the target (`worker.windows`, the one
home of silence finding: Silero VAD, as for the windows a worker decodes); with none there,
it looks further on, stretch by stretch, and the piece grows to the next silence. A cut is
only ever made in a silence between two stretches of speech (or where there is no speech at
all), so no word is cut in two; a recording with no such silence after the first target is
not split. The pass decodes the file once, holding two search stretches of samples.

The run then writes the pieces, hands the job's lease to them, publishes one task per piece
to the job's model queue and ends: it holds no slot while the pieces run.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import redis

from core import media, pieces
from core.db import Database
from core.dispatch import Capacity, busy_slots, read_active
from core.lifecycle import Claim
from core.media import SAMPLE_RATE
from core.models import utcnow
from core.piece_queue import PieceQueue, enqueue_and_mark
from core.settings import Settings
from core.workers import PoolView, read_beats
from worker.lease import LeaseKeeper
from worker.windows import nearest_silence

logger = logging.getLogger(__name__)

SEARCH_SECONDS = 30.0
"""How far either side of a target cut a silence is looked for, and the stretch looked at
next when there is none (at most a quarter of a piece)."""


def piece_count(settings: Settings, duration: float | None, free_slots: int) -> int:
    """How many pieces a recording of `duration` seconds is cut into (1: not split)."""
    if not settings.split_min_seconds or not duration or duration < settings.split_min_seconds:
        return 1
    return max(1, min(free_slots, int(duration // settings.split_piece_min_seconds)))


def free_slots(settings: Settings, db: Database, client: redis.Redis, model: str) -> int:
    """The slots of `model`'s pool free now, counting the caller's own (which it frees): the
    pool's live slots (heartbeats) less the work holding them, counted as the dispatcher
    counts it (`core.dispatch.busy_slots`: running jobs and pieces, dispatched and queued
    ones). 1 when the heartbeats cannot be read."""
    try:
        beats = read_beats(client, settings.redis_prefix)
    except redis.RedisError as exc:
        logger.warning("cannot read worker heartbeats, not splitting: %s", exc)
        return 1
    pools = PoolView.of(settings, beats)
    with db.session() as session:
        active = read_active(session, utcnow(), settings.dispatch_timeout_seconds, pools)
        busy = busy_slots(session, active)
    capacity = Capacity.of(settings, pools, busy, [model])
    free = 0
    while capacity.take(model):
        free += 1
    return free + 1


def _search(duration: float, count: int, sample_rate: int) -> int:
    """Samples looked at either side of a target."""
    return int(min(SEARCH_SECONDS, duration / count / 4) * sample_rate)


def search_start(duration: float, count: int, sample_rate: int = SAMPLE_RATE) -> int:
    """The first sample `cut_points` looks at: nothing before it is needed."""
    return max(0, int(duration * sample_rate) // count - _search(duration, count, sample_rate))


def cut_points(
    blocks: Iterable[Any],
    duration: float,
    count: int,
    sample_rate: int = SAMPLE_RATE,
    first: int = 0,
) -> list[int]:
    """Samples where `count` pieces of the recording (`duration` seconds) meet: at most
    `count - 1` cuts, each in a silence, in increasing order. `blocks` hold the recording from
    its sample `first` (at most `search_start`) on. Closes `blocks`."""
    source = iter(blocks)
    try:
        return _cut_points(source, duration, count, sample_rate, first)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _cut_points(
    blocks: Iterator[Any], duration: float, count: int, sample_rate: int, first: int
) -> list[int]:
    import numpy as np

    total = int(duration * sample_rate)
    search = _search(duration, count, sample_rate)
    cuts: list[int] = []
    held: list[Any] = []
    held_from = held_to = first  # samples held_from..held_to of the recording are in `held`
    target = total // count

    def region(begin: int, end: int) -> Any:
        joined = np.concatenate(held) if len(held) > 1 else held[0]
        held[:] = [joined]
        return joined[begin - held_from : end - held_from]

    for block in blocks:
        held.append(block)
        held_to += len(block)
        while len(cuts) < count - 1 and held_to >= target + search:
            if target + search >= total:
                return cuts  # near the end: the last piece takes the rest
            begin = max(target - search, held_from, cuts[-1] + 1 if cuts else 0)
            found = nearest_silence(region(begin, target + search), target - begin, sample_rate)
            if found is None:
                target += search  # no silence here: the piece grows to the next one
                continue
            cuts.append(begin + found)
            target = cuts[-1] + (total - cuts[-1]) // (count - len(cuts))
        if len(cuts) == count - 1:
            return cuts
        keep_from = min(held_to, max(held_from, target - search))
        if keep_from > held_from and held:
            joined = region(held_from, held_to)
            held[:] = [joined[keep_from - held_from :]]
            held_from = keep_from
    return cuts


def stretches(
    cuts: list[int], duration: float, sample_rate: int = SAMPLE_RATE
) -> list[tuple[float, float]]:
    """The pieces between the cuts, in seconds (the last one ends with the recording)."""
    edges = [0.0, *(cut / sample_rate for cut in cuts), float(duration)]
    return list(itertools.pairwise(edges))


def upto(blocks: Iterable[Any], count: int | None) -> Iterator[Any]:
    """The first `count` samples (None: all) of `blocks`. Closing it closes `blocks`."""
    handed = 0
    source = iter(blocks)
    try:
        for block in source:
            if count is not None and handed + len(block) >= count:
                yield block[: count - handed]
                return
            handed += len(block)
            yield block
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


class Splitter:
    """The split itself, for a job's run: how many pieces, where, written and published."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        queue: PieceQueue,
        slots: Callable[[str], int],
    ):
        self.settings = settings
        self.db = db
        self.queue = queue
        self.slots = slots
        """Model → free slots of its pool (`free_slots`)."""

    def split(self, claim: Claim, path: Path, keeper: LeaseKeeper) -> str | None:
        """Cut the job's recording into pieces and publish them: the run's outcome ("split",
        or "stopped" if the job stopped being the run's). None: not split, the run goes on."""
        duration = claim.duration_seconds
        if not duration or duration < self.settings.split_min_seconds:
            return None
        count = piece_count(self.settings, duration, self.slots(claim.options.model))
        if count < 2:
            return None
        first = search_start(duration, count)
        blocks = media.iter_audio(path, self.settings.max_duration_seconds, start=first)
        cuts = cut_points(blocks, duration, count, first=first)
        if not cuts or keeper.lost.is_set():
            return None if not cuts else "stopped"
        keeper.stop()  # the pieces hold the job's liveness from here on
        keeper.join()
        with self.db.session() as session:
            piece_ids = pieces.create(session, claim, stretches(cuts, duration))
        if piece_ids is None:
            return "stopped"
        confirmed = enqueue_and_mark(self.db, self.queue, piece_ids)
        logger.info(
            "split into %d pieces at %s s (%d published)",
            len(piece_ids),
            ", ".join(f"{cut / SAMPLE_RATE:.1f}" for cut in cuts),
            confirmed,
        )
        return "split"
