"""Signed-out session tokens: refused until they would have expired anyway.

A token is kept by its SHA-256 only, in Postgres, so every API process refuses it at once.
Only a token with a valid signature is recorded (a stranger cannot fill the table), and rows
whose token has expired are removed by the API's sweep loop.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from core.db import Database
from core.models import RevokedSession, utcnow


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke(db: Database, token: str, expires: int) -> None:
    row = {"digest": token_digest(token), "expires_at": datetime.fromtimestamp(expires, UTC)}
    with db.session() as session:
        session.execute(insert(RevokedSession).values(row).on_conflict_do_nothing())


def is_revoked(db: Database, token: str) -> bool:
    with db.session() as session:
        found = session.exec(
            select(RevokedSession.digest).where(RevokedSession.digest == token_digest(token))
        ).first()
    return found is not None


def purge_expired(db: Database) -> int:
    with db.session() as session:
        result = session.execute(
            delete(RevokedSession).where(col(RevokedSession.expires_at) < utcnow())
        )
    return int(getattr(result, "rowcount", 0) or 0)
