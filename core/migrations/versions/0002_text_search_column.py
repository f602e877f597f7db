"""Transcript-text search on a stored tsvector column.

The expression index of 0001 finds rare words quickly, but a common word makes the planner walk
the newest-first index and compute `to_tsvector` for every row it passes, which took tens of
milliseconds per page at 100,000 transcriptions (docs/benchmarks.md). A stored column makes
that per-row check a cheap comparison.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE transcriptions ADD COLUMN text_search tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED"
    )
    op.execute(
        "CREATE INDEX ix_transcriptions_text_search ON transcriptions USING gin (text_search)"
    )
    op.execute("DROP INDEX IF EXISTS ix_transcriptions_text_fts")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX ix_transcriptions_text_fts ON transcriptions "
        "USING gin (to_tsvector('simple', coalesce(text, '')))"
    )
    op.execute("DROP INDEX IF EXISTS ix_transcriptions_text_search")
    op.execute("ALTER TABLE transcriptions DROP COLUMN text_search")
