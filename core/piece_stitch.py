"""Stitching a split job (`core.pieces`): its last piece completes it from every piece's
segments, once. Runs in the transaction that ends the last piece, under the job's row lock
(`owned_piece`), so exactly one piece stitches; with speakers asked for, after the speaker
stage has labelled the whole recording."""

from __future__ import annotations

import uuid
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import events as ev
from core import lifecycle, speakers
from core.events import SegmentOut
from core.models import Segment, TranscriptionPiece
from core.pieces import PieceClaim, end_piece, owned_piece
from core.states import JobStatus


def transcript(session: Session, job_id: uuid.UUID) -> list[SegmentOut]:
    return [SegmentOut.of(s) for s in lifecycle.segments_of(session, job_id)]


class Labelled(Protocol):
    """Every segment of the job labelled with its speaker (`worker.diarization_stage`)."""

    @property
    def segments(self) -> list[SegmentOut]: ...
    @property
    def speakers(self) -> list[str]: ...
    @property
    def error(self) -> str | None: ...


def stitch(
    session: Session, held: PieceClaim, labelled: Labelled | None = None
) -> list[ev.JobEvent] | None:
    """Complete the job from its pieces' segments: indexes 0..n-1 in order (or the labelled
    segments, which are), the text joined, the languages counted. None if no longer ours."""
    owned = owned_piece(session, held)
    if owned is None:
        return None
    job, piece = owned
    if labelled is not None:
        replaced = speakers.replace_segments(
            session,
            held.job,
            labelled.segments,
            speakers=labelled.speakers,
            error=labelled.error,
        )
        if replaced is None:
            return None
    else:
        _renumber(session, job.id)
    texts = session.execute(
        select(Segment.text)
        .where(col(Segment.transcription_id) == job.id)
        .order_by(col(Segment.index))
    ).scalars()
    first = session.execute(
        select(TranscriptionPiece.language)
        .where(col(TranscriptionPiece.transcription_id) == job.id)
        .order_by(col(TranscriptionPiece.number))
        .limit(1)
    ).scalar_one_or_none()
    end_piece(session, piece, JobStatus.completed)
    return lifecycle.complete(
        session,
        held.job,
        text="".join(texts).strip(),
        language=first,
        duration=job.duration_seconds,
    )


def _renumber(session: Session, job_id: uuid.UUID) -> None:
    """Indexes 0..n-1 in index order. Safe in one statement: a piece has fewer than
    `INDEX_STRIDE` segments, so no new index is one another row still holds."""
    session.execute(
        sa.text(
            "UPDATE segments AS s SET index = r.position - 1 FROM ("
            "  SELECT id, row_number() OVER (ORDER BY index) AS position"
            "  FROM segments WHERE transcription_id = :job"
            ") AS r WHERE s.id = r.id AND s.index <> r.position - 1"
        ),
        {"job": job_id},
    )
