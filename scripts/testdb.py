"""Create, recreate and drop throw-away test databases (PostgreSQL) or files (SQLite).

CLI: `python scripts/testdb.py recreate|drop URL`. The test harness imports the same functions.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.engine import URL, make_url


def _sqlite_path(url: URL) -> Path | None:
    return Path(url.database) if url.database and url.database != ":memory:" else None


def _admin_connect(url: URL):  # type: ignore[no-untyped-def]
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres")
    return psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True)


def drop_database(url_text: str) -> None:
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(url.database)))


def recreate_database(url_text: str) -> str:
    """An empty database at this URL (dropped first if it exists); returns the URL."""
    drop_database(url_text)
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return url_text
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(url.database)
            )
        )
    return url_text


def sibling_url(url_text: str, suffix: str, sqlite_dir: Path | None = None) -> str:
    """Another database beside this one: `<name><suffix>` on the same server, or a file for SQLite."""
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        base = _sqlite_path(url)
        folder = sqlite_dir or (base.parent if base else Path.cwd())
        stem = base.stem if base else "ladder"
        return f"sqlite:///{folder / f'{stem}{suffix}.db'}"
    return url.set(database=f"{url.database}{suffix}").render_as_string(hide_password=False)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"recreate", "drop"}:
        sys.exit("usage: testdb.py recreate|drop URL")
    (recreate_database if sys.argv[1] == "recreate" else drop_database)(sys.argv[2])
