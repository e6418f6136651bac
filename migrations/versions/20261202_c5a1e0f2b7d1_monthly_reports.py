"""monthly tier-count report: closed months, frozen figures, restatements, editable plan targets (issue 5)

Revision ID: c5a1e0f2b7d1
Revises: f5655f140072
Create Date: 2026-12-02 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision: str = "c5a1e0f2b7d1"
down_revision: str | None = "f5655f140072"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
