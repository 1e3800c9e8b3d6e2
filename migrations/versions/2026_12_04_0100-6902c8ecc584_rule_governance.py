"""rule governance: versions, hits as rows, shadow, backtests

Revision ID: 6902c8ecc584
Revises: e6c9a1b3d4f7
Create Date: 2026-12-04 18:43:37

Issue 17. `rulesets` (unused until now) gains who wrote, approved and activated
a version, why, and its golden-test result; hits become rows
(`assessment_hits`) so per-rule statistics are indexed queries; a shadow
version's decisions go to `shadow_assessments`, apart from everything that
reaches an operator; `backtests` are jobs with their results; a stage
heartbeat says which ruleset its worker scores with (/metrics).
tests/component/test_migrations.py runs it on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "6902c8ecc584"
down_revision: str | Sequence[str] | None = "e6c9a1b3d4f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backtests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ruleset_id", sa.Uuid(), nullable=True),
        sa.Column("candidate", sa.String(length=160), nullable=False),
        sa.Column("baseline", sa.String(length=160), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("items_done", sa.Integer(), nullable=False),
        sa.Column(
            "result",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ruleset_id"], ["rulesets.id"], name=op.f("fk_backtests_ruleset_id_rulesets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtests")),
    )
    with op.batch_alter_table("backtests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backtests_ruleset_id"), ["ruleset_id"], unique=False)

    op.create_table(
        "assessment_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("item_row_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=35), nullable=False),
        sa.Column("ruleset", sa.String(length=100), nullable=False),
        sa.Column("ruleset_version", sa.String(length=50), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("axis", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=True),
        sa.Column("shadow", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_row_id"], ["items.id"], name=op.f("fk_assessment_hits_item_row_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_hits")),
    )
    with op.batch_alter_table("assessment_hits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_hits_item_row_id"), ["item_row_id"], unique=False
        )
        batch_op.create_index("ix_assessment_hits_rule_at", ["rule", "assessed_at"], unique=False)
        batch_op.create_index(
            "ix_assessment_hits_version_at", ["ruleset_version", "assessed_at"], unique=False
        )

    op.create_table(
        "shadow_assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("item_row_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=35), nullable=False),
        sa.Column("ruleset", sa.String(length=100), nullable=False),
        sa.Column("ruleset_version", sa.String(length=50), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("security_action", sa.String(length=20), nullable=True),
        sa.Column(
            "hits",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_row_id"], ["items.id"], name=op.f("fk_shadow_assessments_item_row_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_assessments")),
        sa.UniqueConstraint(
            "item_row_id",
            "ruleset",
            "ruleset_version",
            name=op.f("uq_shadow_assessments_item_row_id_ruleset_ruleset_version"),
        ),
    )
    with op.batch_alter_table("shadow_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shadow_assessments_assessed_at"), ["assessed_at"], unique=False
        )

    with op.batch_alter_table("rulesets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("author", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "golden",
                sa.JSON(none_as_null=True).with_variant(
                    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("approved_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("activated_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("stage_heartbeats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ruleset", sa.String(length=160), nullable=True))

    op.create_index("ix_assessments_assessed_at", "assessments", ["assessed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_assessments_assessed_at", table_name="assessments")
    with op.batch_alter_table("stage_heartbeats", schema=None) as batch_op:
        batch_op.drop_column("ruleset")

    with op.batch_alter_table("rulesets", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("activated_by")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("golden")
        batch_op.drop_column("reason")
        batch_op.drop_column("author")
        batch_op.drop_column("sha256")

    with op.batch_alter_table("shadow_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shadow_assessments_assessed_at"))

    op.drop_table("shadow_assessments")
    with op.batch_alter_table("assessment_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_hits_version_at")
        batch_op.drop_index("ix_assessment_hits_rule_at")
        batch_op.drop_index(batch_op.f("ix_assessment_hits_item_row_id"))

    op.drop_table("assessment_hits")
    with op.batch_alter_table("backtests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backtests_ruleset_id"))

    op.drop_table("backtests")
