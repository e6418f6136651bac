"""PostgreSQL: the character pairs of firms' search text as one row per pair and firm, in a B-tree

Migration f3d8a1b6c047 kept each firm's pairs as an array under a GIN index. GIN answers "which firms
hold 航空" but cannot count them without visiting every match, nor give them in id order: a two-character
term held by many firms (信息 8.9k, 科技 73k of 100k) was searched by a scan of every name instead (45-55 ms
to count), and a mid-frequent one (据科, 3.8k) cost a probe and a second pass (37 ms).
`search_pairs (pair, firm_id)` holds one row per pair a firm's search text holds, its primary key the
index: the firms holding a pair come from the index alone, in id order, so the planner merges them with
the firms in scope (科技: 20 ms to count, 信息 14, 能科 12) and the list's probe stops after its first 501.

Only pairs with a character beyond ASCII are kept (Chinese, full-width): they are what officers type; a pair
of Latin letters or digits (a piece of a USCC) is searched as before, by the scan. About 13 pairs per firm
(97 MB at 100k firms, against 50 MB for the arrays it replaces). A statement trigger on firms keeps them
(from its transition tables: one INSERT … SELECT per statement, so an import of 10k firms adds its pairs in
one pass); an update that leaves the search text as it was writes nothing. SQLite is unchanged.

Revision ID: d9f3b7a2c615
Revises: c5e2a8f1d374
Create Date: 2026-12-03 04:00:00
"""

from collections.abc import Sequence

from alembic import op

import app.db  # noqa: F401

revision: str = "d9f3b7a2c615"
down_revision: str | None = "c5e2a8f1d374"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAIRS_OF = """
    SELECT DISTINCT substr({text}, i, 2) AS pair
    FROM generate_series(1, char_length({text}) - 1) AS i
    WHERE substr({text}, i, 2) ~ '[^\\x01-\\x7f]'
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tr_firms_search_pairs ON firms")
    op.execute("DROP FUNCTION IF EXISTS ladder_firm_search_pairs()")
    op.execute("DROP TABLE IF EXISTS firm_search_pairs")
    op.execute("DROP FUNCTION IF EXISTS ladder_bigrams(text)")
    op.execute(
        f"""
        CREATE FUNCTION ladder_search_pairs(t text) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ {PAIRS_OF.format(text="t")} $$
        """
    )
    op.execute(
        """
        CREATE TABLE search_pairs (
            pair text NOT NULL,
            firm_id integer NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
            PRIMARY KEY (pair, firm_id)
        )
        """
    )
    op.execute(
        "INSERT INTO search_pairs (pair, firm_id) "
        "SELECT p.pair, f.id FROM firms f, ladder_search_pairs(f.search_text) AS p(pair)"
    )
    # Deleting a firm's pairs (a rename, the cascade of a deleted firm) finds them by firm.
    op.execute("CREATE INDEX ix_search_pairs_firm_id ON search_pairs (firm_id)")
    op.execute(
        """
        CREATE FUNCTION ladder_search_pairs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_pairs (pair, firm_id)
                SELECT p.pair, n.id FROM new_rows n, ladder_search_pairs(n.search_text) AS p(pair)
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION ladder_search_pairs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM search_pairs s USING new_rows n, old_rows o
                WHERE o.id = n.id AND o.search_text IS DISTINCT FROM n.search_text AND s.firm_id = n.id
                  AND NOT EXISTS (
                      SELECT 1 FROM ladder_search_pairs(n.search_text) AS p(pair) WHERE p.pair = s.pair);
            INSERT INTO search_pairs (pair, firm_id)
                SELECT p.pair, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id,
                    ladder_search_pairs(n.search_text) AS p(pair)
                WHERE o.search_text IS DISTINCT FROM n.search_text
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER tr_firms_search_pairs_insert AFTER INSERT ON firms "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ladder_search_pairs_inserted()"
    )
    op.execute(
        "CREATE TRIGGER tr_firms_search_pairs_update AFTER UPDATE ON firms "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION ladder_search_pairs_updated()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tr_firms_search_pairs_update ON firms")
    op.execute("DROP TRIGGER IF EXISTS tr_firms_search_pairs_insert ON firms")
    op.execute("DROP FUNCTION IF EXISTS ladder_search_pairs_updated()")
    op.execute("DROP FUNCTION IF EXISTS ladder_search_pairs_inserted()")
    op.execute("DROP TABLE IF EXISTS search_pairs")
    op.execute("DROP FUNCTION IF EXISTS ladder_search_pairs(text)")
    # What migration f3d8a1b6c047 made.
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
