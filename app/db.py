"""Engine, session factory, declarative Base and the request-scoped session dependency."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

from app.config import settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _sqlite_setup(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy emit BEGIN itself.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Keep the planner's statistics fresh (SQLite's advice for long-lived connections); bounded work.
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("PRAGMA optimize=0x10002")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_setup(engine)
        return engine
    # Custom plans: a cached generic plan cannot see that a search pattern is selective (measured 4x slower).
    # random_page_cost 1.1 (the default 4 is for spinning disks): the registry's working set is in memory, and
    # at 4 the planner scans all 100k firms rather than look up the 2,500 holders of a tier by key (list
    # filtered by tier: 68 -> 26 ms). A cluster that sets its own value can drop it here.
    # synchronize_seqscans off: a scan of a table larger than a quarter of shared_buffers may otherwise start
    # anywhere in it, and the firm list's probe (repository._page_ids) reads "how far into the table its
    # first matches lay" from the ids a scan met first.
    # max_parallel_workers_per_gather 0: on a busy server a parallel plan spends the CPU of three processes
    # to finish one query sooner, and the coordination costs more than it saves on these short queries (a
    # count of 44k tier holders: 40 ms on three processes, 23 ms on one).
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        connect_args={
            "options": "-c plan_cache_mode=force_custom_plan -c random_page_cost=1.1"
            " -c synchronize_seqscans=off -c max_parallel_workers_per_gather=0"
        },
    )
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for this long is tested before a request gets it (the database may have restarted
# or dropped it meanwhile); one in steady use is not. SQLAlchemy's `pool_pre_ping` tested every checkout: a
# round trip per request (the firm file under load: 126 -> 148 requests a second without it). A connection
# that breaks while in use fails its request once, and SQLAlchemy then renews every connection of the pool.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling (its `checkout` recipe), for idle connections only."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("pooled connection found broken") from exc


engine = make_engine(settings.database_url)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def _finish(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session() -> AsyncIterator[Session]:
    """One transaction per request: commit on success, roll back on any error. Opening a session does no
    I/O, so it happens on the event loop; ending it (commit or rollback, then the connection back to the
    pool) runs in the thread pool, as the request's queries did."""
    session = SessionLocal()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_finish, session, False)
        raise
    await run_in_threadpool(_finish, session, True)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# Every unit of work, whoever opens it (web, CLI, job, seed), writes the audit trail.
from app.audit import listener as _audit_listener  # noqa: E402, F401
