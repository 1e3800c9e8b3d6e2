"""manifest locations: where each item of a converted manifest came from

(Skeleton: the manifest helper fills in upgrade/downgrade.)

Revision ID: 7b2e91c4d5a0
Revises: 4c8f308f0f5d
Create Date: 2026-12-02 01:00:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

# revision identifiers, used by Alembic.
revision: str = "7b2e91c4d5a0"
down_revision: str | Sequence[str] | None = "4c8f308f0f5d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
