"""Transcriptions and segments, with search indexes.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "transcriptions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("filename", sa.String(1024), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=True),
        sa.Column("requested_language", sa.String(16), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("word_timestamps", sa.Boolean, nullable=False),
        sa.Column("vad", sa.Boolean, nullable=False),
        sa.Column("initial_prompt", sa.Text, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("enqueued_at", tz, nullable=True),
        sa.Column("started_at", tz, nullable=True),
        sa.Column("completed_at", tz, nullable=True),
        sa.Column("lease_expires_at", tz, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
    )
    op.create_index("ix_transcriptions_owner", "transcriptions", ["owner"])
    op.create_index(
        "ix_transcriptions_created",
        "transcriptions",
        [sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_transcriptions_status_created", "transcriptions", ["status", "created_at"])
    op.execute(
        "CREATE INDEX ix_transcriptions_filename_trgm ON transcriptions "
        "USING gin (filename gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_transcriptions_text_fts ON transcriptions "
        "USING gin (to_tsvector('simple', coalesce(text, '')))"
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "transcription_id",
            sa.Uuid,
            sa.ForeignKey("transcriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("start", sa.Float, nullable=False),
        sa.Column("end", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("words", postgresql.JSONB, nullable=True),
        sa.UniqueConstraint("transcription_id", "index", name="uq_segments_job_index"),
    )


def downgrade() -> None:
    op.drop_table("segments")
    op.drop_table("transcriptions")
