"""security decision in one CUSRSP: responses.security_decision

An item with a security decision now gets one CUSRSP holding the SECURITY
response first and the FISCAL one after it (DESIGN.md §3), stored as one row;
the column says which security decision that row carries. Rows written before
keep their separate ":security" rows and a NULL here.

Revision ID: 9d4ab3e6f7c2
Revises: 8c3fa2d5e6b1
Create Date: 2026-12-02 01:02:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9d4ab3e6f7c2"
down_revision: str | Sequence[str] | None = "8c3fa2d5e6b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("security_decision", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("security_decision")
