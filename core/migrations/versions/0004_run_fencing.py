"""Runs are fenced: each claim of a job gets a run id that every write of the run must match;
the reason a run was started again is kept for the `processing` event.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcriptions", sa.Column("run_id", sa.Uuid, nullable=True))
    op.add_column("transcriptions", sa.Column("restart_reason", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("transcriptions", "restart_reason")
    op.drop_column("transcriptions", "run_id")
