"""Where a client resumes: `Last-Event-ID` and the `since` parameter.

A per-job stream's event id is the job's seq. A multiplexed stream follows many jobs, so its
event id carries every job's last seq, in the order of the `ids` parameter, behind a short tag
of that list: `<tag>:<seq>.<seq>…`, with `x` for a job reported as deleted. A browser reconnects
to the same URL with the last id it saw, so the tag matches and the stream resumes exactly;
an id made for another list of jobs is ignored. A client that changes its list of jobs can
say where it stands with `since=<id>:<seq>,…` instead.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from api.live.ledger import Ledger
from core.errors import InvalidRequest

GONE = "x"
_SEQ = re.compile(r"[0-9]{1,15}")


def _seq(text: str) -> int | None:
    text = text.strip()
    return int(text) if _SEQ.fullmatch(text) else None


def job_seq(last_event_id: str | None) -> int:
    """The seq a per-job stream resumes after (0, the whole history, if the id is unusable)."""
    return (_seq(last_event_id) or 0) if last_event_id else 0


def stream_tag(job_ids: Sequence[str]) -> str:
    return hashlib.blake2s(",".join(job_ids).encode(), digest_size=4).hexdigest()


def encode(tag: str, ledger: Ledger) -> str:
    seqs = (GONE if job in ledger.gone else str(ledger.last[job]) for job in ledger.job_ids)
    return f"{tag}:{'.'.join(seqs)}"


@dataclass
class Resume:
    after: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def update(self, job_id: str, seq: int) -> None:
        self.after[job_id] = max(seq, self.after.get(job_id, 0))


def decode(value: str | None, job_ids: Sequence[str], tag: str) -> Resume:
    """The positions in a multiplexed stream's event id (nothing if it is not for these jobs)."""
    resume = Resume()
    if not value:
        return resume
    found_tag, _, body = value.strip().partition(":")
    items = body.split(".")
    if found_tag != tag or len(items) != len(job_ids):
        return resume
    for job_id, item in zip(job_ids, items, strict=True):
        seq = _seq(item)
        if item == GONE:
            resume.gone.add(job_id)
        elif seq is not None:
            resume.update(job_id, seq)
        else:
            return Resume()
    return resume


def parse_since(value: str | None, resume: Resume) -> Resume:
    """Add `since=<id>:<seq>,…` positions (ids the stream does not follow are ignored)."""
    if not value:
        return resume
    for part in value.split(","):
        if not part.strip():
            continue
        job, _, seq_text = part.strip().partition(":")
        try:
            job_id = str(uuid.UUID(job))
        except ValueError:
            raise InvalidRequest(
                f"'since' names an invalid transcription id: {job[:80]!r}", code="invalid_since"
            ) from None
        seq = _seq(seq_text)
        if seq is None:
            raise InvalidRequest(
                f"'since' needs <id>:<seq> pairs; got {part[:120]!r}", code="invalid_since"
            )
        resume.update(job_id, seq)
    return resume
