"""webhooks: operators' push endpoints and the delivery log

`webhooks` holds each operator's endpoint, its HMAC secret and the delivery
worker's cursor (`last_response_id`), lease and pause; `webhook_deliveries`
holds one row per response and webhook (unique, so a response is never queued
twice), with a partial index over the pending rows the worker reads.

Revision ID: 8c3fa2d5e6b1
Revises: 7b2e91c4d5a0
Create Date: 2026-12-02 01:01:00

Written by hand against the models; tests/component/test_migrations.py runs it
on SQLite and PostgreSQL and checks for drift. Types are spelled out: a
migration is frozen history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Ordered ids: BIGSERIAL on PostgreSQL; exactly INTEGER on SQLite (the rowid alias).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("status = 'PENDING'")

# revision identifiers, used by Alembic.
revision: str = "8c3fa2d5e6b1"
down_revision: str | Sequence[str] | None = "7b2e91c4d5a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator", sa.String(length=35), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_response_id", sa.BigInteger(), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator"], ["operators.code"], name=op.f("fk_webhooks_operator_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_operator"), ["operator"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("response_id", ROW_ID, nullable=False),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_webhook_deliveries_response_id_responses"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "webhook_id",
            "response_id",
            name=op.f("uq_webhook_deliveries_webhook_id_response_id"),
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_pending",
            ["webhook_id", "response_id"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_webhook_deliveries_pending", sqlite_where=PENDING, postgresql_where=PENDING
        )
    op.drop_table("webhook_deliveries")

    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_operator"))
    op.drop_table("webhooks")
