"""Which transcriptions a principal may see: the owner filter, written here and nowhere else."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.access.keys import Principal
from core.models import Transcription


def visible_transcriptions(
    principal: Principal, *, own_only: bool = False
) -> SelectOfScalar[Transcription]:
    """Transcriptions the principal may read: an API key its owner's, an admin key (and
    anonymous access) every one. With `own_only`, just those stamped with the principal's own
    owner (what its limits count), admin or not."""
    query = select(Transcription)
    if not own_only and principal.scope is None:
        return query
    owner = principal.stamp if own_only else principal.scope
    if owner is None:
        return query.where(col(Transcription.owner).is_(None))
    return query.where(Transcription.owner == owner)
