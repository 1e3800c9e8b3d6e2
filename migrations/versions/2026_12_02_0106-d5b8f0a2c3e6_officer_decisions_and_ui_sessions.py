"""officer decisions, their outbox, party keys on items, UI sessions

Revision ID: d5b8f0a2c3e6
Revises: c4a7e9f1b2d5
Create Date: 2026-12-02 11:10:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Autoincrement keys: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite (as the models).
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision: str = "d5b8f0a2c3e6"
down_revision: str | Sequence[str] | None = "c4a7e9f1b2d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("sender_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("addressee_key", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_items_sender_key"), ["sender_key"], unique=False)
        batch.create_index(batch.f("ix_items_addressee_key"), ["addressee_key"], unique=False)
    with op.batch_alter_table("review_queue") as batch:
        batch.alter_column(
            "outcome",
            existing_type=sa.String(length=40),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
        batch.add_column(sa.Column("infringement", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("revenue_corrected_eur", sa.Numeric(precision=18, scale=2), nullable=True)
        )
        batch.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    op.create_table(
        "review_decisions",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("item_row_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=35), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("infringement", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("revenue_corrected_eur", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amends", SERIAL, nullable=True),
        sa.Column("amend_reason", sa.Text(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("response_id", SERIAL, nullable=False),
        sa.ForeignKeyConstraint(["amends"], ["review_decisions.id"]),
        sa.ForeignKeyConstraint(["item_row_id"], ["items.id"]),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["review_queue.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("task_id", "item_row_id", "item_id", "group_id"):
        op.create_index(f"ix_review_decisions_{column}", "review_decisions", [column])
    op.create_table(
        "response_outbox",
        sa.Column("response_id", SERIAL, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"]),
        sa.PrimaryKeyConstraint("response_id"),
    )
    op.create_index("ix_response_outbox_published_at", "response_outbox", ["published_at"])
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ui_sessions_user_id", "ui_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_ui_sessions_user_id", table_name="ui_sessions")
    op.drop_table("ui_sessions")
    op.drop_index("ix_response_outbox_published_at", table_name="response_outbox")
    op.drop_table("response_outbox")
    for column in ("group_id", "item_id", "item_row_id", "task_id"):
        op.drop_index(f"ix_review_decisions_{column}", table_name="review_decisions")
    op.drop_table("review_decisions")
    with op.batch_alter_table("review_queue") as batch:
        for column in ("version", "revenue_corrected_eur", "infringement"):
            batch.drop_column(column)
        batch.alter_column(
            "outcome",
            existing_type=sa.String(length=200),
            type_=sa.String(length=40),
            existing_nullable=True,
        )
    with op.batch_alter_table("items") as batch:
        batch.drop_index(batch.f("ix_items_addressee_key"))
        batch.drop_index(batch.f("ix_items_sender_key"))
        batch.drop_column("addressee_key")
        batch.drop_column("sender_key")
