"""Each segment's language, and the languages a transcription was found to speak.

- `segments.language`: the language the segment was recognised in (detected per window or
  chunk for a multilingual model asked for no language, else the file's one language).
- `transcriptions.languages`: `[{"language", "share"}]`, largest share first, from the
  segments when the job completes.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("segments", sa.Column("language", sa.String(16), nullable=True))
    op.add_column("transcriptions", sa.Column("languages", postgresql.JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("transcriptions", "languages")
    op.drop_column("segments", "language")
