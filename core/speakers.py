"""A transcription's speakers: the stage's writes, renaming, and the names exports show.

Diarization (`worker.diarization`) labels segments and words `S1`, `S2`, … A transcription's
`speakers` maps each id to its display name (the id itself until renamed with
`PATCH /api/transcriptions/{id}`); every export shows the names (`core.transcripts`).
Like `core.lifecycle`, the functions here take a session, never commit, and return the
events to publish after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col

from core import events as ev
from core.errors import Conflict, InvalidRequest
from core.events import SegmentOut
from core.lifecycle import Claim, _bump, _owned  # the same fenced row lock as every write
from core.models import Segment, Transcription

NAME_LIMIT = 100
DIARIZING = "diarizing"
TRANSCRIBING_SHARE = 0.9
"""The share of a job's progress given to transcription when speakers are asked for; the
rest is diarization's."""


def stage_progress(
    session: Session, claim: Claim, progress: float, stage: str = DIARIZING
) -> ev.JobEvent | None:
    """The job's progress during a stage after transcription; None if the job is not ours."""
    job = _owned(session, claim)
    if job is None:
        return None
    _bump(job)
    job.progress = min(0.999, max(job.progress, progress))
    session.add(job)
    event = ev.state_event(job)
    assert isinstance(event, ev.ProcessingEvent)
    return event.model_copy(update={"stage": stage})


def replace_segments(
    session: Session,
    claim: Claim,
    segments: Sequence[SegmentOut],
    *,
    speakers: Sequence[str],
    error: str | None,
) -> list[ev.JobEvent] | None:
    """All the job's segments replaced by `segments` (labelled, perhaps split, renumbered),
    its speakers (named after their ids) or why there are none; the events to publish (the
    segments, all of them). None if the job is not ours."""
    job = _owned(session, claim)
    if job is None:
        return None
    _bump(job)
    session.execute(delete(Segment).where(col(Segment.transcription_id) == claim.job_id))
    if segments:
        columns = set(Segment.__table__.columns.keys())  # type: ignore[attr-defined]
        rows = [
            {k: v for k, v in s.model_dump().items() if k in columns}
            | {"transcription_id": claim.job_id, "seq": job.last_seq}
            for s in segments
        ]
        session.execute(insert(Segment), rows)
    job.speakers = {name: name for name in speakers} if speakers else None
    job.speakers_error = error
    session.add(job)
    return [ev.progress_event(job, segments)] if segments else []


def one_line(text: str, limit: int, what: str, code: str) -> str:
    """`text` with its white space collapsed, refused (`code`) past `limit` characters or with
    a control character; `what` names it in the message ("A speaker's name")."""
    cleaned = " ".join(text.split())
    if len(cleaned) > limit:
        raise InvalidRequest(f"{what} is at most {limit} characters.", code=code)
    if any(ch < " " or ch == "\x7f" for ch in cleaned):
        raise InvalidRequest(f"{what} has no control characters.", code=code)
    return cleaned


def _clean(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidRequest("A speaker's name must be a string.", code="invalid_speakers")
    return one_line(name, NAME_LIMIT, "A speaker's name", "invalid_speakers")


def rename(job: Transcription, names: Mapping[str, Any]) -> dict[str, str]:
    """The job's speakers with `names` applied (an empty name gives the id back); every id
    must be one of the job's speakers."""
    current = dict(job.speakers or {})
    if not current:
        raise Conflict("This transcription has no speakers to rename.")
    for speaker, name in names.items():
        if speaker not in current:
            raise InvalidRequest(
                f"No speaker {speaker!r} here; the speakers are {', '.join(current)}.",
                code="invalid_speakers",
            )
        current[speaker] = _clean(name) or speaker
    return current


def display_name(speaker: str | None, names: Mapping[str, str] | None) -> str | None:
    """What an export shows for a segment's speaker."""
    if speaker is None:
        return None
    return (names or {}).get(speaker) or speaker
