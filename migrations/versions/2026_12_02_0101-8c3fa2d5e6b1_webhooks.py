"""webhooks: operators' push endpoints and the delivery log

(Skeleton: the webhook helper fills in upgrade/downgrade.)

Revision ID: 8c3fa2d5e6b1
Revises: 7b2e91c4d5a0
Create Date: 2026-12-02 01:01:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

# revision identifiers, used by Alembic.
revision: str = "8c3fa2d5e6b1"
down_revision: str | Sequence[str] | None = "7b2e91c4d5a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
