"""PostgreSQL: two-character searches through an index of each firm's character pairs

The trigram index serves a search of three characters or more; a two-character term (环境, 航空: common in
Chinese names) has no trigram, so it read every firm (about 65 ms at 100k, twice per list page). On
PostgreSQL a side table keeps, per firm, the distinct pairs of characters of its search text (a trigger on
firms keeps it current), indexed with GIN; `repository.list_firms` adds "firm among those whose pairs
contain the term" to a two-character search (the LIKE stays, so the result is the same). A side table, not
a column, so that the firms table (read by every list) stays as narrow as it was. SQLite is unchanged.

Revision ID: f3d8a1b6c047
Revises: e4b7c2a9d315
Create Date: 2026-12-02 14:35:00
"""

from collections.abc import Sequence

from alembic import op

import app.db  # noqa: F401

revision: str = "f3d8a1b6c047"
down_revision: str | None = "e4b7c2a9d315"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION ladder_bigrams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}'::text[])
            FROM generate_series(1, char_length(t) - 1) AS i
        $$
        """
    )
    op.execute(
        """
        CREATE TABLE firm_search_pairs (
            firm_id integer PRIMARY KEY REFERENCES firms (id) ON DELETE CASCADE,
            pairs text[] NOT NULL
        )
        """
    )
    op.execute("INSERT INTO firm_search_pairs SELECT id, ladder_bigrams(search_text) FROM firms")
    op.execute("CREATE INDEX ix_firm_search_pairs_pairs ON firm_search_pairs USING gin (pairs)")
    op.execute(
        """
        CREATE FUNCTION ladder_firm_search_pairs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO firm_search_pairs (firm_id, pairs)
            VALUES (NEW.id, ladder_bigrams(NEW.search_text))
            ON CONFLICT (firm_id) DO UPDATE SET pairs = EXCLUDED.pairs;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER tr_firms_search_pairs AFTER INSERT OR UPDATE OF search_text ON firms "
        "FOR EACH ROW EXECUTE FUNCTION ladder_firm_search_pairs()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tr_firms_search_pairs ON firms")
    op.execute("DROP FUNCTION IF EXISTS ladder_firm_search_pairs()")
    op.execute("DROP TABLE IF EXISTS firm_search_pairs")
    op.execute("DROP FUNCTION IF EXISTS ladder_bigrams(text)")
