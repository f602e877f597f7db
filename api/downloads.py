"""Transcript files: one rendering (`GET .../transcript`) and a zip of many (`GET .../export`).

A file holds the transcript's latest revision unless an earlier one is asked for
(`core.revisions`). The zip is written while it is sent: each transcript is read in a short
transaction of its own, rendered, compressed into the archive and handed to the response, so
memory holds one transcript at a time, whatever the number of files.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from urllib.parse import quote

from sqlmodel import Session, col

from api.access.keys import Principal
from api.access.visibility import visible_transcriptions
from api.job_actions import load, parse_id
from api.resources import Resources
from api.schemas import TranscriptionPublic
from core import revisions
from core.errors import NotFound
from core.models import Transcription
from core.transcripts import FORMATS

EXPORT_LIMIT = 500
"""Transcriptions one zip may hold."""


def disposition(kind: str, filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stem(filename: str) -> str:
    stem, dot, _ = filename.rpartition(".")
    return stem if dot and stem else filename


def render(
    session: Session, job: Transcription, fmt: str, revision: int | None = None
) -> tuple[str, str, str]:
    """The transcript (at `revision`, else the latest) in `fmt`: body, media type, file name
    (an earlier revision's name says which it is)."""
    snapshot = revisions.at(session, job, revision)
    renderer, media_type = FORMATS[fmt]
    meta = TranscriptionPublic.of(job).model_dump(mode="json")
    name = stem(job.filename)
    if snapshot.revision != job.revision:
        meta.update(revision=snapshot.revision, text=snapshot.text, speakers=snapshot.speakers)
        name = f"{name} (revision {snapshot.revision})"
    return renderer(snapshot.segments, meta), media_type, f"{name}.{fmt}"


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


class _Names:
    """Archive member names: the upload's name made safe to unpack (no folders, no control
    characters) and unique regardless of case (`name (2).srt`)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def unique(self, filename: str) -> str:
        base, dot, ext = filename.rpartition(".")
        base = _UNSAFE.sub("_", base).strip(" .")[:200] or "transcript"
        name, number = f"{base}{dot}{ext}", 1
        while name.lower() in self._taken:
            number += 1
            name = f"{base} ({number}){dot}{ext}"
        self._taken.add(name.lower())
        return name


class _Sink(io.RawIOBase):
    """Where the archive is written: bytes kept until the response takes them (no `tell` or
    `seek`, so `zipfile` writes each member's sizes after its data)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def visible_ids(session: Session, principal: Principal, ids: Sequence[str]) -> list[uuid.UUID]:
    """The distinct ids in their order, all visible to the principal (else 404 naming the
    first that is not)."""
    wanted: dict[uuid.UUID, str] = {}
    for value in ids:
        try:
            wanted.setdefault(parse_id(value), value)
        except NotFound:
            raise NotFound(f"No transcription with id {value[:64]!r}.") from None
    query = visible_transcriptions(principal).where(col(Transcription.id).in_(list(wanted)))
    found = set(session.execute(query.with_only_columns(col(Transcription.id))).scalars())
    for job_id, value in wanted.items():
        if job_id not in found:
            raise NotFound(f"No transcription with id {value[:64]!r}.")
    return list(wanted)


def zip_stream(
    resources: Resources, principal: Principal, ids: Sequence[uuid.UUID], fmt: str
) -> Iterator[bytes]:
    """The zip of the transcripts of `ids` in `fmt`, in pieces as it is written. A job deleted
    since the request was checked is left out."""
    sink, names = _Sink(), _Names()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for job_id in ids:
            with resources.db.session() as session:
                try:
                    job = load(session, principal, job_id)
                except NotFound:
                    continue
                body, _, filename = render(session, job, fmt)
                when = job.completed_at or job.created_at
            member = zipfile.ZipInfo(names.unique(filename), date_time=when.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, body)
            yield sink.take()
    yield sink.take()
