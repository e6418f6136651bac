"""Alembic environment: the same migrations run on SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from typing import Any

from alembic import context

import app.models  # noqa: F401  (fills Base.metadata)
from app.config import settings
from app.db import Base, make_engine

# The search indexes, made by hand in migrations and unknown to the models (read by name in SQL only, in
# app.firms.repository, and kept by triggers): trigram and character-pair search on PostgreSQL; FTS5 trigrams
# (a virtual table and its shadow tables) and character pairs on SQLite.
POSTGRES_ONLY_INDEXES = {"ix_firms_search_trgm"}
HAND_MADE_TABLES = {"search_pairs", "search_positions"}
FTS_TABLE = "firm_search_fts"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "index" and name in POSTGRES_ONLY_INDEXES:
        return False
    return not (
        type_ == "table" and name is not None and (name in HAND_MADE_TABLES or name.startswith(FTS_TABLE))
    )


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or settings.database_url
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        # Batch mode rebuilds a table by copy-drop-rename; with foreign keys on, the drop would cascade
        # into the child tables. The pragma only takes effect outside a transaction, so set it on the
        # raw connection before SQLAlchemy begins one, and check the keys once the migration is done.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")


run_migrations()
