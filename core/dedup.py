"""Deduplication: an upload identical to a completed transcription is completed from it.

Identical means the same owner, the same file (sha256), and the same model and options
(every field of `core.options.JobOptions`). The new job is its own row, with its own id,
file name and stored media (stored as usual, so deleting either job never touches the
other's file); it is created completed, with the text, language, duration and segments
copied and `reused_from` naming the source. Its webhook fires as for any completion.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import webhooks
from core.events import JobEvent, state_event
from core.models import Transcription, utcnow
from core.options import JobOptions
from core.states import JobStatus

_COPY_SEGMENTS = sa.text(
    """
    INSERT INTO segments (transcription_id, index, seq, start, "end", text, words)
    SELECT :job, index, :seq, start, "end", text, words
    FROM segments WHERE transcription_id = :source
    ORDER BY index
    """
)


def find_reusable(
    session: Session, owner: str | None, sha256: str, options: JobOptions
) -> Transcription | None:
    """The newest completed transcription of this owner with this file and these options,
    one that was transcribed rather than itself reused if there is one."""
    query = select(Transcription).where(
        Transcription.sha256 == sha256,
        col(Transcription.owner).is_not_distinct_from(owner),
        Transcription.status == JobStatus.completed.value,
    )
    for name, value in options.model_dump().items():
        query = query.where(col(getattr(Transcription, name)).is_not_distinct_from(value))
    transcribed_first = col(Transcription.reused_from).is_not(None)
    query = query.order_by(transcribed_first, col(Transcription.completed_at).desc()).limit(1)
    return session.exec(query).first()


def complete_from(session: Session, job: Transcription, source: Transcription) -> list[JobEvent]:
    """Add `job` (a new row) completed from `source`; returns its event."""
    now = utcnow()
    job.status = JobStatus.completed.value
    job.last_seq = 1
    job.progress = 1.0
    job.text = source.text
    job.language = source.language
    job.duration_seconds = source.duration_seconds or job.duration_seconds
    job.started_at = job.completed_at = now
    job.reused_from = source.id
    session.add(job)
    session.flush()
    session.execute(_COPY_SEGMENTS, {"job": job.id, "seq": job.last_seq, "source": source.id})
    webhooks.record(session, job)
    return [state_event(job)]
