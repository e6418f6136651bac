"""monthly tier-count report: closed months, frozen figures, restatements, editable plan targets (issue 5)

Revision ID: c5a1e0f2b7d1
Revises: f5655f140072
Create Date: 2026-12-02 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "c5a1e0f2b7d1"
down_revision: str | None = "f5655f140072"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["users.id"],
            name=op.f("fk_report_months_closed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_report_months")),
    )
    op.create_table(
        "report_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("view", sa.String(length=16), nullable=False),
        sa.Column("park_code", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=48), nullable=True),
        sa.Column("industry_code", sa.String(length=48), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["month"],
            ["report_months.month"],
            name=op.f("fk_report_figures_month_report_months"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_figures")),
    )
    with op.batch_alter_table("report_figures", schema=None) as batch_op:
        batch_op.create_index("ix_report_figures_month_view", ["month", "view"], unique=False)
    op.create_table(
        "report_restatements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("view", sa.String(length=16), nullable=False),
        sa.Column("park_code", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("old_value", sa.Integer(), nullable=False),
        sa.Column("new_value", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_label", sa.String(length=128), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["users.id"], name=op.f("fk_report_restatements_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["month"],
            ["report_months.month"],
            name=op.f("fk_report_restatements_month_report_months"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_restatements")),
    )
    with op.batch_alter_table("report_restatements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_restatements_month", ["month", "view", "park_code", "key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_restatements", schema=None) as batch_op:
        batch_op.drop_index("ix_report_restatements_month")
    op.drop_table("report_restatements")
    with op.batch_alter_table("report_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_report_figures_month_view")
    op.drop_table("report_figures")
    op.drop_table("report_months")
