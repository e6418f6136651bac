"""Finer planner statistics for the firm search column (PostgreSQL)

With the default statistics target (100) PostgreSQL guesses how many firms a search term matches from a
100-value histogram of `firms.search_text`, and for an uncommon term it guessed far too many: a USCC fragment
(`91310109MA1X`, 278 firms) was taken for 2,000, so the list's probe ("the first 501 matches by id") walked
the primary key expecting to find them early, tested all 100k firms (50 ms) instead of asking the trigram
index (7 ms). At 1,000 the guesses come within a few per cent for rare and dense terms alike (科技: 72,773
guessed, 73,473 true; 能科 9,209 / 8,364; 字出版 601 / 989), and the planner picks the index when matches
are few. ANALYZE reads more rows for this one column (about 1 s at 100k firms).

SQLite has no such statistics: nothing to do there.

Revision ID: b8d4e1f6a293
Revises: a7c3e9d2f481
Create Date: 2026-12-03 02:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b8d4e1f6a293"
down_revision: str | None = "a7c3e9d2f481"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_STATISTICS = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE firms ALTER COLUMN search_text SET STATISTICS {SEARCH_STATISTICS}")
    op.execute("ANALYZE firms (search_text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE firms ALTER COLUMN search_text SET STATISTICS -1")
    op.execute("ANALYZE firms (search_text)")
