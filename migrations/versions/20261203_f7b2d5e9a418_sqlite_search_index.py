"""SQLite: an index for searching firms by a piece of their name (FTS5 trigrams, character pairs)

On SQLite every search read all firms' search text (LIKE '%…%': 35-60 ms of CPU at 100k firms, twice per
list page). Two indexes, kept by triggers on firms, now answer it as PostgreSQL's do:
- `firm_search_fts`, an FTS5 table with the trigram tokenizer over `firms.search_text` (external content: it
  stores only the index), for terms of three characters or more: a quoted phrase matches exactly the rows
  holding the term as a substring;
- `search_pairs (pair, firm_id)`, as on PostgreSQL (migration d9f3b7a2c615), for two-character terms with a
  character beyond ASCII; `search_positions` (1…2000) stands in for generate_series in its triggers (SQLite
  allows no WITH inside a trigger). Search text longer than that would lose pairs past it: a firm's name,
  former names and USCC are far shorter.
A term of two Latin letters or digits is still searched by LIKE. PostgreSQL is unchanged.

Revision ID: f7b2d5e9a418
Revises: e1a6c4d8b927
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f7b2d5e9a418"
down_revision: str | None = "e1a6c4d8b927"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSITIONS = 2000


def _pairs_of(row: str, tables: str = "search_positions") -> str:
    """Add the pairs of `row`'s search text that hold a character beyond ASCII (PostgreSQL: the regex of
    d9f3b7a2c615's `ladder_search_pairs`): `row` is a trigger's NEW, or `firms` itself (`tables` then names
    it too) to fill the table once."""
    return (
        "INSERT OR IGNORE INTO search_pairs (pair, firm_id) "
        f"SELECT substr({row}.search_text, n, 2), {row}.id FROM {tables} "
        f"WHERE n < length({row}.search_text) AND (unicode(substr({row}.search_text, n, 1)) > 127 "
        f"OR unicode(substr({row}.search_text, n + 1, 1)) > 127); "
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE firm_search_fts USING fts5("
        "search_text, content='firms', content_rowid='id', tokenize='trigram')"
    )
    op.execute("INSERT INTO firm_search_fts (firm_search_fts) VALUES ('rebuild')")
    op.execute("CREATE TABLE search_positions (n INTEGER PRIMARY KEY)")
    op.execute(
        "INSERT INTO search_positions (n) WITH RECURSIVE i(n) AS "
        f"(SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {POSITIONS}) SELECT n FROM i"
    )
    op.execute(
        "CREATE TABLE search_pairs (pair TEXT NOT NULL, "
        "firm_id INTEGER NOT NULL REFERENCES firms (id) ON DELETE CASCADE, "
        "PRIMARY KEY (pair, firm_id)) WITHOUT ROWID"
    )
    op.execute("CREATE INDEX ix_search_pairs_firm_id ON search_pairs (firm_id)")
    op.execute(_pairs_of("firms", tables="firms, search_positions"))
    op.execute(
        "CREATE TRIGGER tr_firms_search_insert AFTER INSERT ON firms BEGIN "
        "INSERT INTO firm_search_fts (rowid, search_text) VALUES (NEW.id, NEW.search_text); "
        f"{_pairs_of('NEW')}END"
    )
    op.execute(
        "CREATE TRIGGER tr_firms_search_update AFTER UPDATE OF search_text ON firms "
        "WHEN OLD.search_text IS NOT NEW.search_text BEGIN "
        "INSERT INTO firm_search_fts (firm_search_fts, rowid, search_text) "
        "VALUES ('delete', OLD.id, OLD.search_text); "
        "INSERT INTO firm_search_fts (rowid, search_text) VALUES (NEW.id, NEW.search_text); "
        "DELETE FROM search_pairs WHERE firm_id = OLD.id; "
        f"{_pairs_of('NEW')}END"
    )
    op.execute(
        "CREATE TRIGGER tr_firms_search_delete AFTER DELETE ON firms BEGIN "
        "INSERT INTO firm_search_fts (firm_search_fts, rowid, search_text) "
        "VALUES ('delete', OLD.id, OLD.search_text); "
        "DELETE FROM search_pairs WHERE firm_id = OLD.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS tr_firms_search_{name}")
    op.execute("DROP TABLE IF EXISTS search_pairs")
    op.execute("DROP TABLE IF EXISTS search_positions")
    op.execute("DROP TABLE IF EXISTS firm_search_fts")
