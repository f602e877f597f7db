"""The transcription pipeline as plain Python: claim → decode → transcribe → persist → finish.

Each state change is its own short transaction; no session is held across inference. Segments
are written burst by burst as they are decoded (`worker.bursts`); the last burst goes into the
transaction that stores the result. Events are published after each commit. Every write is
fenced by the run's id, so a cancelled, deleted or taken-over run writes nothing; the lease
keeper (`worker.lease`) notices such a change within `CANCEL_CHECK_SECONDS` even in the middle
of a decoding step, and the run then stops at once. A step that is still computing is abandoned
(`Outcome("abandoned")`): the task tells Celery to replace the pool process (`worker.tasks`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core import lifecycle, media, speakers
from core.db import Database
from core.errors import JobRefused, MediaError, StorageUnavailable
from core.events import EventPublisher, SegmentOut
from core.lifecycle import Claim
from core.logs import job_context
from core.options import JobOptions
from core.settings import Settings
from core.storage import Storage
from worker.bursts import Decoding
from worker.diarization import Diarizer
from worker.diarization_stage import Labelled, SpeakerStage
from worker.lease import LeaseKeeper
from worker.splitting import Splitter
from worker.windowed import Model, WindowedTranscription
from worker.windows import at_silences

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.25
ABANDON_AFTER_SECONDS = 0.25
"""How long a run that lost its job waits for the decoding step under way to end before it
abandons it (and the process it runs in is replaced)."""
ABANDONED = "abandoned"
"""The outcome of a run that stopped while its decoding step was still computing."""


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""


class DecodingAbandoned(Exception):
    """The run lost its job while a decoding step was under way, and did not wait for it."""


Flush = Callable[[list[SegmentOut]], bool]
"""Writes a burst of segments (and publishes them); False once the run no longer owns them."""


class Models(Protocol):
    def get(self, model_name: str | None = None) -> Model: ...


def _segment(raw: Any, index: int) -> SegmentOut:
    words = None
    if getattr(raw, "words", None):
        words = [
            {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
            for w in raw.words
        ]
    return SegmentOut(
        index=index,
        start=raw.start,
        end=raw.end,
        text=raw.text,
        words=words,
        language=getattr(raw, "language", None),
    )


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        publisher: EventPublisher,
        storage: Storage,
        models: Models,
        diarizer: Diarizer | None = None,
        splitter: Splitter | None = None,
    ):
        self.settings = settings
        self.db = db
        self.publisher = publisher
        self.storage = storage
        self.models = models
        self.speakers = SpeakerStage(db, publisher, diarizer or Diarizer())
        self.splitter = splitter
        """Cuts a long recording into pieces for several workers (None: never splits)."""

    def run(self, job_id: uuid.UUID, *, worker: str, redelivered: bool = False) -> Outcome:
        with job_context(str(job_id)):
            with self.db.session() as session:
                result = lifecycle.claim(
                    session,
                    job_id,
                    worker=worker,
                    redelivered=redelivered,
                    max_attempts=self.settings.max_attempts,
                    lease_seconds=self.settings.job_lease_seconds,
                )
            self.publisher.publish(*result.events)
            if result.claim is None:
                logger.info("not running job: %s", result.reason)
                return Outcome("skipped", result.reason)
            logger.info("claimed job (attempt %d)", result.claim.attempt)
            return self._run_claimed(result.claim)

    def _run_claimed(self, claim: Claim) -> Outcome:
        keeper = LeaseKeeper(
            self.db, claim, self.settings.job_lease_seconds, self.settings.cancel_check_seconds
        )
        keeper.start()
        try:
            # Fetched (for the s3 backend) while the lease keeper runs; a store that stays
            # down ends as storage_unavailable, a missing object as media_missing.
            with self.storage.local_copy(claim.storage_key) as path:
                if self.splitter is not None:
                    split = self.splitter.split(claim, path, keeper)
                    if split is not None:
                        return Outcome(split)
                return self._transcribe(claim, path, keeper)
        except (MediaError, StorageUnavailable, JobRefused) as exc:
            return self._fail(claim, exc.code, exc.message)
        except DecodingAbandoned:
            logger.info("job stopped: cancelled, deleted or taken over mid-step; step abandoned")
            return Outcome(ABANDONED)
        finally:
            keeper.stop()

    def _fail(self, claim: Claim, code: str, message: str) -> Outcome:
        with self.db.session() as session:
            events = lifecycle.fail_claimed(session, claim, code, message)
        self.publisher.publish(*events)
        logger.info("job failed: %s: %s", code, message)
        return Outcome("failed", code)

    def _transcribe(self, claim: Claim, path: Path, keeper: LeaseKeeper) -> Outcome:
        started = time.perf_counter()
        run, transcript, remaining = self.transcribe_stretch(
            claim.options,
            media.iter_audio(path, self.settings.max_duration_seconds),
            keeper,
            lambda segments: self._flush(claim, segments),
        )
        duration = run.seconds
        labelled = None
        if remaining is not None and claim.options.speaker_mode != "off":
            labelled = self.speakers.run(claim, path, transcript, keeper.lost)
            remaining = None if labelled is None else remaining
        if remaining is None or not self._complete(
            claim,
            remaining,
            text="".join(s.text for s in transcript).strip(),
            language=run.language,
            duration=claim.duration_seconds or duration,
            labelled=labelled,
        ):
            logger.info("job stopped: cancelled, deleted or taken over")
            return Outcome("stopped")
        elapsed = time.perf_counter() - started
        logger.info(
            "job completed: %.1f s of audio in %.1f s (%.1fx)",
            duration,
            elapsed,
            duration / elapsed if elapsed else 0.0,
        )
        return Outcome("completed")

    def transcribe_stretch(
        self,
        options: JobOptions,
        blocks: Iterable[Any],
        keeper: LeaseKeeper,
        flush: Flush,
        *,
        start: int = 0,
        first_index: int = 0,
    ) -> tuple[WindowedTranscription, list[SegmentOut], list[SegmentOut] | None]:
        """Transcribe the audio in `blocks` (from sample `start` of the recording: the whole of
        it, or a piece) window by window, writing its segments (numbered from `first_index`)
        with `flush` as they come. Returns the run, every segment, and those still to be
        written (None if the job stopped being ours)."""
        # Decoded window by window at silences (worker.windows): memory stays one window's
        # worth whatever the length; past the limit, decoding stops with duration_exceeded.
        windows = at_silences(blocks, start=start)
        try:
            first = next(windows)  # a file that does not decode fails before a model loads
            model = self.models.get(options.model)
            if options.speaker_mode != "off":  # a segment is split at the word nearest a turn
                options = options.model_copy(update={"word_timestamps": True})
            run = WindowedTranscription(model, itertools.chain([first], windows), options)
            transcript: list[SegmentOut] = []
            remaining = self._persist(run.segments(), transcript, keeper, flush, first_index)
        finally:
            # Closes the file too. A decoding step that was abandoned may still be reading
            # it (the generator is then running): its process is replaced anyway.
            with contextlib.suppress(ValueError):
                windows.close()
        return run, transcript, remaining

    def _persist(
        self,
        raw_segments: Iterable[Any],
        transcript: list[SegmentOut],
        keeper: LeaseKeeper,
        flush: Flush,
        first_index: int,
    ) -> list[SegmentOut] | None:
        """Write segments burst by burst as they are decoded, at most one write per
        `FLUSH_INTERVAL_SECONDS`. Returns the segments still to be written, which the caller
        writes with the result; None if the job stopped being ours. Raises `DecodingAbandoned`
        when it stopped being ours while a decoding step is still computing."""
        if keeper.lost.is_set():
            return None
        decoding = Decoding(raw_segments)
        keeper.on_lost(decoding.interrupt)
        try:
            remaining = self._write_bursts(decoding, transcript, keeper, flush, first_index)
        except BaseException:
            decoding.close()
            raise
        if remaining is not None:
            decoding.close()
        elif not decoding.close(ABANDON_AFTER_SECONDS):
            raise DecodingAbandoned
        return remaining

    def _write_bursts(
        self,
        decoding: Decoding,
        transcript: list[SegmentOut],
        keeper: LeaseKeeper,
        flush: Flush,
        first_index: int,
    ) -> list[SegmentOut] | None:
        pending: list[SegmentOut] = []
        last_flush = time.monotonic()
        for burst, finished in decoding.bursts():
            for raw in burst:
                segment = _segment(raw, first_index + len(transcript))
                transcript.append(segment)
                pending.append(segment)
            if finished:
                return pending
            if pending and time.monotonic() - last_flush >= FLUSH_INTERVAL_SECONDS:
                if not flush(pending) or keeper.lost.is_set():
                    return None
                pending = []
                last_flush = time.monotonic()
        return None  # interrupted: the lease keeper found the job no longer ours

    def _complete(
        self,
        claim: Claim,
        remaining: list[SegmentOut],
        *,
        text: str,
        language: str | None,
        duration: float | None,
        labelled: Labelled | None = None,
    ) -> bool:
        """The last burst of segments (or, with speakers, every segment labelled) and the
        result in one transaction."""
        events: list[Any] = []
        with self.db.session() as session:
            if labelled is not None:
                replaced = speakers.replace_segments(
                    session,
                    claim,
                    labelled.segments,
                    speakers=labelled.speakers,
                    error=labelled.error,
                )
                if replaced is None:
                    return False
                events.extend(replaced)
            elif remaining:
                progress = lifecycle.record_segments(
                    session, claim, remaining, self.settings.job_lease_seconds, self._share(claim)
                )
                if progress is None:
                    return False
                events.append(progress)
            finished = lifecycle.complete(
                session, claim, text=text, language=language, duration=duration
            )
            if not finished:
                return False
        self.publisher.publish(*events, *finished)
        return True

    @staticmethod
    def _share(claim: Claim) -> float:
        """Transcription's share of the progress (the rest is the speaker stage's)."""
        return 1.0 if claim.options.speaker_mode == "off" else speakers.TRANSCRIBING_SHARE

    def _flush(self, claim: Claim, segments: list[SegmentOut]) -> bool:
        with self.db.session() as session:
            event = lifecycle.record_segments(
                session, claim, segments, self.settings.job_lease_seconds, self._share(claim)
            )
        if event is None:
            return False
        self.publisher.publish(event)
        return True
