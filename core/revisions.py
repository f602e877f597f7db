"""Transcript revisions: edits of a completed transcript, with the recognition kept.

An edit fixes segment texts and/or renames speakers (`PATCH /api/transcriptions/{id}`). The
segments and the transcription's `text` and `speakers` always hold the latest revision, so
everything that reads them (search, whose stored vector is computed from `text`; every
export; the OpenAI-compatible answers; a deduplicated upload) uses the edited transcript.
Each edit is also stored as a `TranscriptRevision` row holding what it changed, before and
after; revision N is rebuilt from the current transcript by undoing the edits after N, so
revision 0 is the recognition as it was.

An edited segment keeps its times. Its word timestamps are kept, with the new words, when the
new text has as many words as the old one (a spelling fix); otherwise the segment has none
(the old words no longer describe it). Like `core.lifecycle`, nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core import lifecycle, speakers
from core.errors import Conflict, InvalidRequest, NotFound
from core.events import SegmentOut
from core.models import Segment, Transcription, TranscriptRevision
from core.states import JobStatus

TEXT_LIMIT = 2000
"""Characters of one segment's edited text."""
EDITS_LIMIT = 1000
"""Segments one edit may change."""


@dataclass(frozen=True)
class SegmentEdit:
    index: int
    text: str


@dataclass(frozen=True)
class Snapshot:
    """A transcript at one revision."""

    revision: int
    segments: list[SegmentOut]
    speakers: dict[str, str] | None

    @property
    def text(self) -> str:
        return text_of(self.segments)


@dataclass(frozen=True)
class RevisionSummary:
    revision: int
    created_at: datetime | None
    author: str | None
    segments: list[int]
    """Indexes of the segments whose text it changed."""
    speakers: bool
    """Whether it renamed speakers."""


def text_of(segments: Sequence[Any]) -> str:
    """The whole transcript's text from its segments, as the pipeline joins it (each segment's
    text carries its own leading space where the language puts spaces between words)."""
    return "".join(s.text for s in segments).strip()


def _clean(text: str) -> str:
    return speakers.one_line(text, TEXT_LIMIT, "A segment's text", "invalid_segments")


def _respelled(words: list[dict[str, Any]] | None, text: str) -> list[dict[str, Any]] | None:
    """The segment's words with the edited text's words, when they are as many."""
    tokens = text.split()
    if not words or len(tokens) != len(words):
        return None
    return [
        {**word, "word": (" " if str(word.get("word", "")).startswith(" ") else "") + token}
        for word, token in zip(words, tokens, strict=True)
    ]


def _check_editable(job: Transcription, base_revision: int | None) -> None:
    if job.status != JobStatus.completed.value:
        raise Conflict(
            f"Only a completed transcription can be edited; this one is {job.status}.",
            code="invalid_state",
        )
    if base_revision is not None and base_revision != job.revision:
        raise Conflict(
            f"The transcript changed since revision {base_revision}: it is at revision "
            f"{job.revision} now. Reload it and edit again.",
            code="revision_conflict",
        )


def _segment_changes(
    session: Session, job: Transcription, edits: Sequence[SegmentEdit]
) -> list[tuple[Segment, dict[str, Any]]]:
    """Each segment the edits change, with its new text and words."""
    if len(edits) > EDITS_LIMIT:
        raise InvalidRequest(
            f"One edit changes at most {EDITS_LIMIT} segments.", code="invalid_segments"
        )
    wanted = {e.index: _clean(e.text) for e in edits}
    if len(wanted) != len(edits):
        raise InvalidRequest("Each segment appears once in an edit.", code="invalid_segments")
    rows = session.exec(
        select(Segment).where(
            Segment.transcription_id == job.id, col(Segment.index).in_(list(wanted))
        )
    ).all()
    found = {row.index: row for row in rows}
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise InvalidRequest(f"No segment {missing[0]} here.", code="invalid_segments")
    changes = []
    for index, cleaned in wanted.items():
        row = found[index]
        lead = row.text[: len(row.text) - len(row.text.lstrip())] if cleaned else ""
        if lead + cleaned != row.text:
            changes.append((row, {"text": lead + cleaned, "words": _respelled(row.words, cleaned)}))
    return changes


def edit(
    session: Session,
    job: Transcription,
    *,
    segments: Sequence[SegmentEdit] = (),
    names: Mapping[str, Any] | None = None,
    base_revision: int | None = None,
    author: str | None = None,
) -> TranscriptRevision | None:
    """Apply an edit to `job` (its row locked by the caller) as its next revision; None when
    it changes nothing (no revision is recorded)."""
    _check_editable(job, base_revision)
    changes = _segment_changes(session, job, segments)
    renamed = speakers.rename(job, names) if names else job.speakers
    speakers_changed = renamed != job.speakers
    if not changes and not speakers_changed:
        return None
    revision = TranscriptRevision(
        transcription_id=job.id,
        revision=job.revision + 1,
        author=author,
        segments=[
            {
                "index": row.index,
                "before": {"text": row.text, "words": row.words},
                "after": after,
            }
            for row, after in changes
        ],
        speakers_before=job.speakers if speakers_changed else None,
        speakers_after=renamed if speakers_changed else None,
    )
    for row, after in changes:
        row.text, row.words = after["text"], after["words"]
        session.add(row)
    session.flush()
    job.text = text_of(lifecycle.segments_of(session, job.id))
    job.speakers = renamed
    job.revision = revision.revision
    job.edited_at = revision.created_at
    session.add(job)
    session.add(revision)
    return revision


def at(session: Session, job: Transcription, revision: int | None = None) -> Snapshot:
    """The transcript at `revision` (the latest when None; 0 = as recognised)."""
    current = [SegmentOut.of(s) for s in lifecycle.segments_of(session, job.id)]
    wanted = job.revision if revision is None else revision
    if wanted < 0 or wanted > job.revision:
        raise NotFound(
            f"No revision {wanted}: this transcript has revisions 0 to {job.revision}.",
            code="revision_not_found",
        )
    names = job.speakers
    if wanted == job.revision:
        return Snapshot(wanted, current, names)
    by_index = {s.index: s for s in current}
    later = session.exec(
        select(TranscriptRevision)
        .where(TranscriptRevision.transcription_id == job.id, TranscriptRevision.revision > wanted)
        .order_by(col(TranscriptRevision.revision).desc())
    ).all()
    for row in later:
        for change in row.segments:
            segment = by_index.get(change["index"])
            if segment is not None:
                segment.text = change["before"]["text"]
                segment.words = change["before"]["words"]
        if row.speakers_after is not None:
            names = row.speakers_before
    return Snapshot(wanted, current, names)


def history(session: Session, job: Transcription) -> list[RevisionSummary]:
    """Every revision of the transcript, oldest (0, the recognition) first."""
    rows = session.exec(
        select(TranscriptRevision)
        .where(TranscriptRevision.transcription_id == job.id)
        .order_by(col(TranscriptRevision.revision))
    ).all()
    original = RevisionSummary(0, job.completed_at, None, [], False)
    return [original] + [
        RevisionSummary(
            row.revision,
            row.created_at,
            row.author,
            [change["index"] for change in row.segments],
            row.speakers_after is not None,
        )
        for row in rows
    ]
