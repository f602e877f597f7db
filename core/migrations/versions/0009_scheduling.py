"""Scheduling: priorities, queue positions and estimates, dispatch notifications.

- `transcriptions.priority`: low, normal or high (the upload field `priority`).
- `transcriptions.queue_position`, `eta_starts_at`, `eta_finishes_at`, `scheduled_at`: the
  dispatcher's latest estimate for the job (`core.dispatch`), and when it was written.
- `enqueued_at` keeps its column and now means "dispatched": published by the dispatcher and
  confirmed by the broker.
- A trigger clears a job's position and estimate when its status changes (the next dispatch
  pass writes new ones) and sends `NOTIFY soundscripter_dispatch` whenever a job starts,
  stops running or is queued again, so every API process's dispatcher runs at once.
- Partial indexes for the dispatcher's reads: the waiting and running jobs, the recent
  completed jobs per model (measured speed) and the recent dispatches (whose turn is next).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION soundscripter_status_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('queued', 'processing') THEN
            PERFORM pg_notify('soundscripter_dispatch', '');
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.queue_position := NULL;
        NEW.eta_starts_at := NULL;
        IF NEW.status <> 'processing' THEN
            NEW.eta_finishes_at := NULL;
        END IF;
        NEW.scheduled_at := NULL;
        PERFORM pg_notify('soundscripter_dispatch', '');
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.add_column(
        "transcriptions",
        sa.Column("priority", sa.String(8), nullable=False, server_default="normal"),
    )
    op.add_column("transcriptions", sa.Column("queue_position", sa.Integer, nullable=True))
    op.add_column("transcriptions", sa.Column("eta_starts_at", tz, nullable=True))
    op.add_column("transcriptions", sa.Column("eta_finishes_at", tz, nullable=True))
    op.add_column("transcriptions", sa.Column("scheduled_at", tz, nullable=True))
    op.create_index(
        "ix_transcriptions_active_model",
        "transcriptions",
        ["model", "created_at"],
        postgresql_where=sa.text("status IN ('queued', 'processing')"),
    )
    op.create_index(
        "ix_transcriptions_completed_model",
        "transcriptions",
        ["model", sa.text("completed_at DESC")],
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.create_index(
        "ix_transcriptions_dispatched",
        "transcriptions",
        ["enqueued_at"],
        postgresql_where=sa.text("enqueued_at IS NOT NULL"),
    )
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER transcriptions_status_changed BEFORE UPDATE OF status ON transcriptions "
        "FOR EACH ROW EXECUTE FUNCTION soundscripter_status_changed()"
    )
    op.execute(
        "CREATE TRIGGER transcriptions_active_deleted AFTER DELETE ON transcriptions "
        "FOR EACH ROW EXECUTE FUNCTION soundscripter_status_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS transcriptions_active_deleted ON transcriptions")
    op.execute("DROP TRIGGER IF EXISTS transcriptions_status_changed ON transcriptions")
    op.execute("DROP FUNCTION IF EXISTS soundscripter_status_changed()")
    op.drop_index("ix_transcriptions_dispatched", table_name="transcriptions")
    op.drop_index("ix_transcriptions_completed_model", table_name="transcriptions")
    op.drop_index("ix_transcriptions_active_model", table_name="transcriptions")
    for column in ("scheduled_at", "eta_finishes_at", "eta_starts_at", "queue_position"):
        op.drop_column("transcriptions", column)
    op.drop_column("transcriptions", "priority")
