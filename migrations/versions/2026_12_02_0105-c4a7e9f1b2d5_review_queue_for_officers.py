"""review queue for officers: security tasks, filter columns, claims

Revision ID: c4a7e9f1b2d5
Revises: b3f6d8e0a1c4
Create Date: 2026-12-02 02:40:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: JSON documents: JSONB on PostgreSQL, JSON (text) on SQLite (as service.db.base).
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# revision identifiers, used by Alembic.
revision: str = "c4a7e9f1b2d5"
down_revision: str | Sequence[str] | None = "b3f6d8e0a1c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        batch.add_column(sa.Column("security_action", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("origin", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("rules", JSON_DOCUMENT, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("expected_arrival", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            batch.f("ix_review_queue_security_action"), ["security_action"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        batch.drop_index(batch.f("ix_review_queue_security_action"))
        for column in (
            "claimed_until",
            "claimed_by",
            "expected_arrival",
            "received_at",
            "rules",
            "origin",
            "security_action",
        ):
            batch.drop_column(column)
