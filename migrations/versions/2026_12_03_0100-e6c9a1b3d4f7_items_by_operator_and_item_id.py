"""items by operator and item id: one index for the version lookups

Revision ID: e6c9a1b3d4f7
Revises: d5b8f0a2c3e6
Create Date: 2026-12-03 01:00:00

The validate stage asks, per message, which of an operator's item ids are known
or live. With an index on the operator alone, the planner (SQLite's certainly)
walked every item that operator had ever sent: a cost that grew with the table.
The composite index answers both columns, and its prefix serves whatever the
old index served. tests/component/test_migrations.py runs it on SQLite and
PostgreSQL.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e6c9a1b3d4f7"
down_revision: str | Sequence[str] | None = "d5b8f0a2c3e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_items_sender_operator_item_id", "items", ["sender_operator", "item_id"], unique=False
    )
    op.drop_index("ix_items_sender_operator", table_name="items")


def downgrade() -> None:
    op.create_index("ix_items_sender_operator", "items", ["sender_operator"], unique=False)
    op.drop_index("ix_items_sender_operator_item_id", table_name="items")
