"""The speaker stage of a run: diarization between the transcript and the job's completion.

It runs in the job's thread after the last segment is decoded, while the lease keeper goes on
renewing the lease and watching for a cancel (the encoder stops between two batches once the
run has lost its job). Its progress is the last `1 - TRANSCRIBING_SHARE` of the job's,
published as `processing` events with `stage: diarizing` at most every `PROGRESS_SECONDS`.
Any failure keeps the transcript: the job completes with `speakers_error` saying why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import speakers
from core.db import Database
from core.events import EventPublisher, SegmentOut
from core.lifecycle import Claim
from worker.diarization import Diarizer, describe, plain

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5


@dataclass(frozen=True)
class Labelled:
    """What replaces the job's segments when it completes."""

    segments: list[SegmentOut]
    speakers: list[str]
    error: str | None = None


class SpeakerStage:
    def __init__(self, db: Database, publisher: EventPublisher, diarizer: Diarizer):
        self.db = db
        self.publisher = publisher
        self.diarizer = diarizer

    def run(
        self, claim: Claim, path: Path, transcript: Sequence[SegmentOut], lost: Any
    ) -> Labelled | None:
        """The labelled segments; None if the run lost its job meanwhile."""
        keep_words = claim.options.word_timestamps
        last = 0.0

        def progress(fraction: float) -> None:
            nonlocal last
            if time.monotonic() - last < PROGRESS_SECONDS:
                return
            last = time.monotonic()
            share = speakers.TRANSCRIBING_SHARE
            with self.db.session() as session:
                event = speakers.stage_progress(session, claim, share + (1 - share) * fraction)
            if event is None:
                lost.set()
            else:
                self.publisher.publish(event)

        started = time.process_time()
        try:
            result = self.diarizer.run(
                path,
                claim.options.speaker_mode,
                transcript,
                keep_words=keep_words,
                duration=claim.duration_seconds,
                progress=progress,
                stop=lost.is_set,
            )
        except Exception as exc:
            logger.warning("speaker labels failed, transcript kept: %s", exc, exc_info=True)
            return Labelled(plain(transcript, keep_words=keep_words), [], describe(exc))
        if result is None or lost.is_set():
            return None
        logger.info(
            "speakers: %d found in %.1f CPU s", len(result.speakers), time.process_time() - started
        )
        return Labelled(result.segments, result.speakers)
