"""The languages a transcription was found to speak, with their share of its speech.

Read from the stored segments when the job completes: each segment's language weighs by its
length, so a recording read half in English and half in German reports both, about half each.
The list (largest share first) is the Transcription's `languages`; its first language becomes
the job's `language`.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session

_SHARES = sa.text(
    """
    SELECT language, sum(greatest("end" - start, 0)) AS seconds
    FROM segments
    WHERE transcription_id = :job AND language IS NOT NULL
    GROUP BY language
    """
)


class LanguageShare(BaseModel):
    language: str = Field(description="Language code (e.g. en, de).")
    share: float = Field(description="Its part of the transcribed speech, 0-1.")


def shares(seconds: dict[str, float]) -> list[dict[str, Any]]:
    """`[{language, share}]` from seconds per language, largest first, rounded to 0.01."""
    total = sum(seconds.values())
    ranked = sorted(seconds.items(), key=lambda item: (-item[1], item[0]))
    return [
        {"language": language, "share": round(value / total, 2) if total > 0 else 0.0}
        for language, value in ranked
    ]


def found(session: Session, job_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The job's languages from its stored segments; None when no segment says."""
    rows = session.execute(_SHARES, {"job": job_id}).all()
    if not rows:
        return None
    return shares({str(language): float(seconds or 0) for language, seconds in rows})


def main(languages: list[dict[str, Any]] | None) -> str | None:
    """The language with the largest share."""
    return str(languages[0]["language"]) if languages else None
