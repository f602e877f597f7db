"""Transcript revisions and the library's sort orders.

- `transcript_revisions`: one row per edit of a completed transcript (segment texts fixed,
  speakers renamed), numbered 1, 2, ... per transcription. A row holds what the edit changed,
  before and after, so every earlier revision can be rebuilt from the current one; revision 0
  (the recognition) is the current transcript with every edit undone (`core/revisions.py`).
- `transcriptions.revision` (0 = as recognised) and `edited_at` (the latest edit). The
  segments and `text` hold the latest revision, so the stored search vector follows it.
- Indexes for the library's keyset pages in each sort order: file name (case-insensitive),
  duration and status, each with `created_at, id` to break ties.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_SORT_INDEXES = {
    "ix_transcriptions_sort_filename": "lower(filename), created_at, id",
    "ix_transcriptions_sort_duration": "coalesce(duration_seconds, 0), created_at, id",
    "ix_transcriptions_sort_status": "status, created_at, id",
}


def upgrade() -> None:
    op.create_table(
        "transcript_revisions",
        sa.Column(
            "transcription_id",
            sa.Uuid,
            sa.ForeignKey("transcriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(200), nullable=True),
        sa.Column("segments", postgresql.JSONB, nullable=False),
        sa.Column("speakers_before", postgresql.JSONB, nullable=True),
        sa.Column("speakers_after", postgresql.JSONB, nullable=True),
    )
    op.add_column(
        "transcriptions",
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column(
        "transcriptions", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True)
    )
    for name, columns in _SORT_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON transcriptions ({columns})")


def downgrade() -> None:
    for name in _SORT_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_column("transcriptions", "edited_at")
    op.drop_column("transcriptions", "revision")
    op.drop_table("transcript_revisions")
