"""stage heartbeats: each worker's last sign of life, read by /readyz

Revision ID: a1e5c7d9f0b3
Revises: 9d4ab3e6f7c2
Create Date: 2026-12-02 01:03:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a1e5c7d9f0b3"
down_revision: str | Sequence[str] | None = "9d4ab3e6f7c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stage_heartbeats",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_stage_heartbeats")),
    )
    op.create_index(op.f("ix_stage_heartbeats_stage"), "stage_heartbeats", ["stage"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_stage_heartbeats_stage"), table_name="stage_heartbeats")
    op.drop_table("stage_heartbeats")
