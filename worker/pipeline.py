"""The transcription pipeline as plain Python: claim → decode → transcribe → persist → finish.

Each state change is its own short transaction; no session is held across inference. Segments
are written burst by burst as they are decoded (`worker.bursts`); the last burst goes into the
transaction that stores the result. Events are published after each commit. Cancellation (or
deletion, or a takeover after this worker was presumed lost) is noticed at the next write, which
then stops the job here.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from core import lifecycle, media
from core.db import Database
from core.errors import MediaError
from core.events import EventPublisher, SegmentOut
from core.lifecycle import Claim
from core.logs import job_context
from core.options import JobOptions
from core.settings import Settings
from core.storage import Storage
from worker.bursts import Decoding

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.25


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""


class Model(Protocol):
    """A loaded model: `transcribe` returns faster-whisper's (segments, info)."""

    def transcribe(self, audio: Any, options: JobOptions) -> tuple[Iterable[Any], Any]: ...


class Models(Protocol):
    def get(self, model_name: str | None = None) -> Model: ...


class LeaseKeeper(threading.Thread):
    """Renews the job's lease while inference runs, so the sweeper knows this worker lives."""

    def __init__(self, db: Database, claim: Claim, lease_seconds: int):
        super().__init__(daemon=True, name=f"lease-{claim.job_id}")
        self.db = db
        self.claim = claim
        self.lease_seconds = lease_seconds
        self.stopped = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        interval = max(1.0, self.lease_seconds / 4)
        while not self.stopped.wait(interval):
            try:
                with self.db.session() as session:
                    if not lifecycle.renew_lease(session, self.claim, self.lease_seconds):
                        self.lost.set()
                        return
            except Exception as exc:  # the database may be briefly unreachable
                logger.warning("lease renewal failed: %s", exc)

    def stop(self) -> None:
        self.stopped.set()


def _segment(raw: Any, index: int) -> SegmentOut:
    words = None
    if getattr(raw, "words", None):
        words = [
            {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
            for w in raw.words
        ]
    return SegmentOut(index=index, start=raw.start, end=raw.end, text=raw.text, words=words)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        publisher: EventPublisher,
        storage: Storage,
        models: Models,
    ):
        self.settings = settings
        self.db = db
        self.publisher = publisher
        self.storage = storage
        self.models = models

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
        keeper = LeaseKeeper(self.db, claim, self.settings.job_lease_seconds)
        keeper.start()
        try:
            return self._transcribe(claim, keeper)
        except MediaError as exc:
            return self._fail(claim, exc.code, exc.message)
        finally:
            keeper.stop()

    def _fail(self, claim: Claim, code: str, message: str) -> Outcome:
        with self.db.session() as session:
            events = lifecycle.fail_claimed(session, claim, code, message)
        self.publisher.publish(*events)
        logger.info("job failed: %s: %s", code, message)
        return Outcome("failed", code)

    def _transcribe(self, claim: Claim, keeper: LeaseKeeper) -> Outcome:
        started = time.perf_counter()
        path = self.storage.path(claim.storage_key)
        if not path.is_file():
            return self._fail(claim, "media_missing", "The uploaded file is no longer stored.")
        audio = media.decode_audio(path, self.settings.max_duration_seconds)
        duration = len(audio) / media.SAMPLE_RATE
        model = self.models.get(claim.options.model)
        raw_segments, info = model.transcribe(audio, claim.options)
        texts: list[str] = []
        remaining = self._persist(claim, raw_segments, texts, keeper)
        if remaining is None or not self._complete(
            claim,
            remaining,
            text="".join(texts).strip(),
            language=info.language,
            duration=claim.duration_seconds or duration,
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

    def _persist(
        self, claim: Claim, raw_segments: Iterable[Any], texts: list[str], keeper: LeaseKeeper
    ) -> list[SegmentOut] | None:
        """Write segments burst by burst as they are decoded, at most one write per
        `FLUSH_INTERVAL_SECONDS`. Returns the segments still to be written, which `_complete`
        writes with the result; None if the job stopped being ours."""
        pending: list[SegmentOut] = []
        last_flush = time.monotonic()
        decoding = Decoding(raw_segments)
        try:
            for burst, finished in decoding.bursts():
                for raw in burst:
                    segment = _segment(raw, len(texts))
                    texts.append(segment.text)
                    pending.append(segment)
                if finished or not pending:
                    continue
                if time.monotonic() - last_flush >= FLUSH_INTERVAL_SECONDS:
                    if not self._flush(claim, pending) or keeper.lost.is_set():
                        return None
                    pending = []
                    last_flush = time.monotonic()
        finally:
            decoding.close()
        return pending

    def _complete(
        self,
        claim: Claim,
        remaining: list[SegmentOut],
        *,
        text: str,
        language: str | None,
        duration: float | None,
    ) -> bool:
        """The last burst of segments and the result in one transaction."""
        events: list[Any] = []
        with self.db.session() as session:
            if remaining:
                progress = lifecycle.record_segments(
                    session, claim, remaining, self.settings.job_lease_seconds
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

    def _flush(self, claim: Claim, segments: list[SegmentOut]) -> bool:
        with self.db.session() as session:
            event = lifecycle.record_segments(
                session, claim, segments, self.settings.job_lease_seconds
            )
        if event is None:
            return False
        self.publisher.publish(event)
        return True
