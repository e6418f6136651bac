"""Indexes for the firm list's counts: tier holders and park/industry ids readable from the index alone

Revision ID: e4b7c2a9d315
Revises: d6b2f1a3c8e2
Create Date: 2026-12-02 14:20:00
"""

from collections.abc import Sequence

from alembic import op

import app.db  # noqa: F401

revision: str = "e4b7c2a9d315"
down_revision: str | None = "d6b2f1a3c8e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_recognitions_tier_holders",
        "recognitions",
        ["tier", "firm_id", "issued_on", "expires_on", "revoked_on"],
    )
    op.create_index("ix_firms_park_code_id", "firms", ["park_code", "id"])
    # (industry_code, id) serves every lookup the single-column index did.
    op.create_index("ix_firms_industry_code_id", "firms", ["industry_code", "id"])
    op.drop_index("ix_firms_industry_code", table_name="firms")


def downgrade() -> None:
    op.create_index("ix_firms_industry_code", "firms", ["industry_code"])
    op.drop_index("ix_firms_industry_code_id", table_name="firms")
    op.drop_index("ix_firms_park_code_id", table_name="firms")
    op.drop_index("ix_recognitions_tier_holders", table_name="recognitions")
