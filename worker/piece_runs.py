"""One piece of a split recording (`core.pieces`), run by any worker of the job's model pool.

Like a job's run: claim (fenced: the job still running under the run that cut it, the piece
ours), then the piece's stretch of the recording decoded window by window with its segments
written as they come (absolute times, the piece's indexes), under a lease keeper that renews
the piece's lease and notices a cancel within `CANCEL_CHECK_SECONDS`. The stretch is read
from the cut's sample on (a PCM recording seeks there; any other is decoded from its start and
the samples before the piece dropped, `core.media.iter_audio`), so every piece meets its
neighbours at exactly the cut's sample. The piece that finishes last stitches the job
(`core.piece_stitch`), with the speaker stage first when speakers were asked for. A piece
that cannot be transcribed fails the job with its reason.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from core import media, piece_stitch, pieces
from core.errors import JobRefused, MediaError, StorageUnavailable
from core.events import SegmentOut
from core.logs import job_context
from core.pieces import PieceClaim
from worker.lease import LeaseKeeper
from worker.pipeline import ABANDONED, DecodingAbandoned, Outcome, Pipeline
from worker.splitting import upto

logger = logging.getLogger(__name__)


def run_piece(
    pipeline: Pipeline, piece_id: uuid.UUID, *, worker: str, redelivered: bool = False
) -> Outcome:
    settings = pipeline.settings
    with pipeline.db.session() as session:
        result = pieces.claim(
            session,
            piece_id,
            worker=worker,
            redelivered=redelivered,
            max_attempts=settings.max_attempts,
            lease_seconds=settings.job_lease_seconds,
        )
    pipeline.publisher.publish(*result.events)
    held = result.claim
    if held is None:
        logger.info("not running piece %s: %s", piece_id, result.reason or "failed its job")
        return Outcome("skipped" if result.reason else "failed", result.reason)
    with job_context(str(held.job.job_id)):
        logger.info("claimed %s (attempt %d)", held.describe(), held.attempt)
        return PieceRun(pipeline, held).run()


class PieceRun:
    def __init__(self, pipeline: Pipeline, held: PieceClaim):
        self.pipeline = pipeline
        self.held = held
        self.db = pipeline.db
        self.settings = pipeline.settings
        self.keeper = LeaseKeeper(
            self.db,
            held,
            self.settings.job_lease_seconds,
            self.settings.cancel_check_seconds,
            owns=pieces.owns,
            renew=pieces.renew_lease,
        )

    def run(self) -> Outcome:
        self.keeper.start()
        try:
            with self.pipeline.storage.local_copy(self.held.job.storage_key) as path:
                return self._transcribe(path)
        except (MediaError, StorageUnavailable, JobRefused) as exc:
            return self._fail(exc.code, exc.message)
        except DecodingAbandoned:
            logger.info("piece stopped mid-step (job cancelled, deleted or taken over)")
            return Outcome(ABANDONED)
        finally:
            self.keeper.stop()

    def _fail(self, code: str, message: str) -> Outcome:
        with self.db.session() as session:
            events = pieces.fail(session, self.held, code, message)
        self.pipeline.publisher.publish(*events)
        logger.info("%s failed: %s: %s", self.held.describe(), code, message)
        return Outcome("failed", code)

    def _flush(self, segments: list[SegmentOut]) -> bool:
        with self.db.session() as session:
            event = pieces.record_segments(
                session, self.held, segments, self.settings.job_lease_seconds
            )
        if event is None:
            return False
        self.pipeline.publisher.publish(event)
        return True

    def _transcribe(self, path: Path) -> Outcome:
        held = self.held
        started = time.perf_counter()
        rate = media.SAMPLE_RATE
        start = round(held.start_seconds * rate)
        end = None if held.number == held.count - 1 else round(held.end_seconds * rate)
        samples = media.iter_audio(path, self.settings.max_duration_seconds, start=start)
        blocks = upto(samples, None if end is None else end - start)
        run, _, remaining = self.pipeline.transcribe_stretch(
            held.job.options,
            blocks,
            self.keeper,
            self._flush,
            start=start,
            first_index=held.first_index,
        )
        if remaining is None:
            return self._stopped()
        with self.db.session() as session:
            finished = pieces.finish(session, held, remaining, run.language)
        if finished is None:
            return self._stopped()
        self.pipeline.publisher.publish(*finished.events)
        elapsed = time.perf_counter() - started
        audio = held.end_seconds - held.start_seconds
        logger.info("%s transcribed: %.1f s of audio in %.1f s", held.describe(), audio, elapsed)
        if not finished.last:
            return Outcome("completed")
        return self._stitch(path)

    def _stitch(self, path: Path) -> Outcome:
        """The job's last piece: label speakers if asked for, then complete the job."""
        held = self.held
        labelled = None
        if held.job.options.speaker_mode != "off":
            with self.db.session() as session:
                transcript = piece_stitch.transcript(session, held.job.job_id)
            labelled = self.pipeline.speakers.run(held.job, path, transcript, self.keeper.lost)
            if labelled is None:
                return self._stopped()
        with self.db.session() as session:
            events = piece_stitch.stitch(session, held, labelled)
        if events is None:
            return self._stopped()
        self.pipeline.publisher.publish(*events)
        logger.info("job completed: stitched from %d pieces", held.count)
        return Outcome("completed")

    def _stopped(self) -> Outcome:
        logger.info("%s stopped: job cancelled, deleted or taken over", self.held.describe())
        return Outcome("stopped")
