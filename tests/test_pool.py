"""A pooled PostgreSQL connection the server dropped while it sat idle is not handed to a request: it is
tested on checkout once idle long enough (`app.db.IDLE_PING_SECONDS`), and a broken one is replaced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from app import db
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def pooled() -> Iterator[Engine]:
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("SQLite's connections are files: nothing to drop them")
    engine = db.make_engine(TEST_DATABASE_URL)
    yield engine
    engine.dispose()


def _drop_backend_of_pooled_connection(engine: Engine) -> int:
    with engine.connect() as conn:
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    with db.engine.connect() as other:  # what a database restart does to it
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    return pid


def test_an_idle_connection_the_server_dropped_is_replaced(
    pooled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    dropped = _drop_backend_of_pooled_connection(pooled)
    with pooled.connect() as conn:
        assert int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()) != dropped


def test_a_connection_in_steady_use_is_not_tested(pooled: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The contrast: without the test a dropped connection reaches the request (which then fails once)."""
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    _drop_backend_of_pooled_connection(pooled)
    with pytest.raises(OperationalError), pooled.connect() as conn:
        conn.execute(text("SELECT 1"))
