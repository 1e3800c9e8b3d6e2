"""manifest locations: where each item of a converted manifest came from

Adds `inbox_messages.locations`, a nullable JSON document: for a message the API
made from an express manifest, the shipment (and CSV rows) of each item, so the
validate stage reports findings at the manifest's own places. Existing rows and
XML messages have none.

Revision ID: 7b2e91c4d5a0
Revises: 4c8f308f0f5d
Create Date: 2026-12-02 01:00:00

tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "7b2e91c4d5a0"
down_revision: str | Sequence[str] | None = "4c8f308f0f5d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: JSON documents: JSONB on PostgreSQL, JSON (text) on SQLite (frozen here, as in the initial).
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locations", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.drop_column("locations")
