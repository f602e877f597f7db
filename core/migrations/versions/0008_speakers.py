"""Speaker labels: the upload's `speakers` option, each segment's speaker, the names.

- `transcriptions.speaker_mode`: off, auto, 1-8 or channels (the upload field `speakers`).
- `transcriptions.speakers`: speaker id -> display name (renamed with PATCH).
- `transcriptions.speakers_error`: why a completed job has no speaker labels.
- `segments.speaker`: the segment's speaker id (its words carry theirs in `words`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "transcriptions",
        sa.Column("speaker_mode", sa.String(16), nullable=False, server_default="off"),
    )
    op.add_column("transcriptions", sa.Column("speakers", postgresql.JSONB, nullable=True))
    op.add_column("transcriptions", sa.Column("speakers_error", sa.Text, nullable=True))
    op.add_column("segments", sa.Column("speaker", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("segments", "speaker")
    op.drop_column("transcriptions", "speakers_error")
    op.drop_column("transcriptions", "speakers")
    op.drop_column("transcriptions", "speaker_mode")
