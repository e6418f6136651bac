"""Firms: an index of (park, industry, id), so that a park's firms of an industry are counted from it alone

A list filtered by park and industry (an officer's park and 数字经济, which binds its 11 codes) counted its
33k firms by reading them from the table (47 ms at 100k); with this index the count reads only the index
(6 ms).

Revision ID: e1a6c4d8b927
Revises: d9f3b7a2c615
Create Date: 2026-12-03 04:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e1a6c4d8b927"
down_revision: str | None = "d9f3b7a2c615"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_firms_park_code_industry_code_id", "firms", ["park_code", "industry_code", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_firms_park_code_industry_code_id", table_name="firms")
