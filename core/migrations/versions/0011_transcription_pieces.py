"""Long recordings split into pieces: `transcription_pieces`, one row per piece of a job.

Each piece is a stretch of the recording (`start_seconds` to `end_seconds`, cut at silences)
that one worker transcribes on its own, fenced like a run: its own `run_id`, lease and
attempts, under the job run (`job_run_id`) that cut the recording. Rows go with their job.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcription_pieces",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "transcription_id",
            sa.Uuid,
            sa.ForeignKey("transcriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("job_run_id", sa.Uuid, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("start_seconds", sa.Float, nullable=False),
        sa.Column("end_seconds", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Uuid, nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_seconds", sa.Float, nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("transcription_id", "number", name="uq_pieces_job_number"),
    )
    op.create_index(
        "ix_transcription_pieces_running",
        "transcription_pieces",
        ["lease_expires_at"],
        postgresql_where=sa.text("status = 'processing'"),
    )


def downgrade() -> None:
    op.drop_index("ix_transcription_pieces_running", table_name="transcription_pieces")
    op.drop_table("transcription_pieces")
