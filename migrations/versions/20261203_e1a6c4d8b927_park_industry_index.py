"""Firms: indexes that answer a park's lists from the index alone

(park, industry, id): a list filtered by park and industry (an officer's park and 数字经济, which binds its
11 codes) counted its 33k firms by reading them from the table (47 ms at 100k); from the index, 6 ms.

(park, name, id) replaces (park, name): a park's list in name order (an officer's default) far into its pages
read a row per firm passed to learn its id (page 710 of 1,700: 56 ms); now it walks the index alone.

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
    op.create_index("ix_firms_park_code_name_id", "firms", ["park_code", "name", "id"], unique=False)
    op.drop_index("ix_firms_park_code_name", table_name="firms")


def downgrade() -> None:
    op.create_index("ix_firms_park_code_name", "firms", ["park_code", "name"], unique=False)
    op.drop_index("ix_firms_park_code_name_id", table_name="firms")
    op.drop_index("ix_firms_park_code_industry_code_id", table_name="firms")
