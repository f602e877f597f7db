"""Webhook outbox, deduplication columns, and transcript search stemmed in each row's language.

- `webhook_deliveries`: one row per webhook message, inserted with the state change it reports.
- `transcriptions.webhook_url` (where its outcome is posted) and `reused_from` (the completed
  transcription a deduplicated upload was completed from); an index on `sha256` finds it.
- `soundscripter_search_config(language)`: the text search configuration of a Whisper language
  code (`simple` for a language Postgres has no stemmer for, or none detected). The stored
  `text_search` vector now holds the transcript's stemmed words in that configuration and its
  plain words (`simple`), so a search can match stems and word prefixes alike.
  `core/search.py` keeps the same map (a test compares them).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CONFIGS = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nn": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}

_CASES = " ".join(
    f"WHEN '{code}' THEN 'pg_catalog.{name}'::regconfig" for code, name in CONFIGS.items()
)
_FUNCTION = f"""
CREATE FUNCTION soundscripter_search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE language {_CASES} ELSE 'pg_catalog.simple'::regconfig END
"""
_VECTOR = """
CASE WHEN soundscripter_search_config(language) = 'pg_catalog.simple'::regconfig
THEN to_tsvector('pg_catalog.simple'::regconfig, coalesce(text, ''))
ELSE to_tsvector(soundscripter_search_config(language), coalesce(text, ''))
    || to_tsvector('pg_catalog.simple'::regconfig, coalesce(text, ''))
END
"""


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("transcription_id", sa.Uuid, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_webhook_deliveries_transcription_id", "webhook_deliveries", ["transcription_id"]
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.add_column("transcriptions", sa.Column("webhook_url", sa.Text, nullable=True))
    op.add_column("transcriptions", sa.Column("reused_from", sa.Uuid, nullable=True))
    op.create_index("ix_transcriptions_sha256", "transcriptions", ["sha256"])

    op.execute(_FUNCTION)
    op.execute("DROP INDEX IF EXISTS ix_transcriptions_text_search")
    op.execute("ALTER TABLE transcriptions DROP COLUMN text_search")
    op.execute(
        f"ALTER TABLE transcriptions ADD COLUMN text_search tsvector "
        f"GENERATED ALWAYS AS ({_VECTOR}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_transcriptions_text_search ON transcriptions USING gin (text_search)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_transcriptions_text_search")
    op.execute("ALTER TABLE transcriptions DROP COLUMN text_search")
    op.execute(
        "ALTER TABLE transcriptions ADD COLUMN text_search tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED"
    )
    op.execute(
        "CREATE INDEX ix_transcriptions_text_search ON transcriptions USING gin (text_search)"
    )
    op.execute("DROP FUNCTION soundscripter_search_config(text)")
    op.drop_index("ix_transcriptions_sha256", "transcriptions")
    op.drop_column("transcriptions", "reused_from")
    op.drop_column("transcriptions", "webhook_url")
    op.drop_table("webhook_deliveries")
