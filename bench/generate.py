"""Synthetic registries for the benchmark: one database per engine and size, migrated by alembic, filled with
the demo generator's rows (`seeds.fake`) by bulk Core inserts, and kept between runs.

    SQLite       var/bench/ladder_<size>.db
    PostgreSQL   database ladder_bench_<size> on BENCH_PG_URL (default postgres@127.0.0.1:5432)

A database that already holds the expected number of firms is reused (after `alembic upgrade head`, so new
index migrations reach it); `regenerate=True` drops and rebuilds it. When several engines need the same size,
the rows are drawn once and written to each.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import Column, Connection, Engine, Table, create_engine, func, select, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (every table in Base.metadata)
from app.auth.service import create_user
from app.config import settings
from app.db import Base, make_engine
from app.firms.models import Firm
from bench.targets import BENCH_DIR, ENGINES, PG_SERVER, ROOT, Target, size_label
from seeds.demo import DEMO_ACCOUNTS, park_officers
from seeds.fake import TABLE_ORDER, table_batches
from seeds.fake import reset_id_sequence as reset_firm_ids
from seeds.reference import load_reference

__all__ = ["BENCH_DIR", "ENGINES", "PG_SERVER", "ROOT", "Target", "size_label", "ensure", "drop_database"]

# Fixed, so that every run and both engines hold the same firms (dates stay relative to the day generated).
SEED = 20_261_123
FIRMS_PER_BATCH = 2_000
ROWS_PER_INSERT = 5_000
DEMO_PASSWORD = "ladder-demo"


@dataclass
class Generated:
    target: Target
    cached: bool
    firms: int
    seconds: float = 0.0  # wall time of the whole build (migrate, draw, insert, analyse)
    insert_seconds: float = 0.0  # of which spent writing this target
    rows: dict[str, int] = field(default_factory=dict)


# -- databases --------------------------------------------------------------------------------------------


def _pg_admin(target: Target) -> Engine:
    return create_engine(f"{target.pg_server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")


def database_exists(target: Target) -> bool:
    if target.engine == "sqlite":
        return target.sqlite_path.exists()
    admin = _pg_admin(target)
    try:
        with admin.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.db_name})
            return bool(found == 1)
    finally:
        admin.dispose()


def drop_database(target: Target) -> None:
    if target.engine == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target.sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    admin = _pg_admin(target)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.db_name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def create_database(target: Target) -> None:
    if target.engine == "sqlite":
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        return
    admin = _pg_admin(target)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{target.db_name}"'))
    finally:
        admin.dispose()


def firm_count(target: Target) -> int | None:
    """Firms in the target database, or None when the database or its schema is missing."""
    if not database_exists(target):
        return None
    engine = make_engine(target.url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Firm)) or 0)
    except DBAPIError:
        return None
    finally:
        engine.dispose()


def migrate(url: str) -> None:
    """`alembic upgrade head` on the bench database (never on DATABASE_URL)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.scalar(text("SELECT version_num FROM alembic_version"))
            return None if value is None else str(value)
    except DBAPIError:
        return None
    finally:
        engine.dispose()


def analyse(target: Target) -> None:
    """PostgreSQL: fresh planner statistics and visibility map after a migration rewrote rows (what autovacuum
    does soon enough). SQLite: nothing, as the app never runs ANALYZE."""
    if target.engine != "postgresql":
        return
    engine = make_engine(target.url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()


# -- rows -------------------------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


class TableWriter:
    """Executemany (SQLite) or COPY (PostgreSQL) of plain dict rows into one table.

    Values go through SQLAlchemy's own bind processors, so they read back exactly as if SQLAlchemy had written
    them, and Python-side column defaults (timestamps, version) are filled once per call. The plain
    `Connection.execute(insert(table), rows)` spends ~100 µs per row on parameter processing (five minutes at
    100k firms); this spends a few. Enum members are all `StrEnum`, which both drivers take as `str`.
    """

    def __init__(self, table: Table, dialect: Dialect, keys: Iterable[str]) -> None:
        given = list(keys)
        by_key = {c.key: c for c in table.columns}
        unknown = set(given) - set(by_key)
        if unknown:
            raise ValueError(f"{table.name}: no such columns {sorted(unknown)}")
        defaulted = [c for c in table.columns if c.key not in given and _python_default(c) is not None]
        self.columns = [by_key[k] for k in given] + defaulted
        self.defaulted = defaulted
        self.getter = itemgetter(*given) if len(given) > 1 else (lambda row, _k=given[0]: (row[_k],))
        self.processors = [
            (i, proc)
            for i, c in enumerate(self.columns[: len(given)])
            if (proc := c.type._cached_bind_processor(dialect)) is not None
        ]
        self.default_processors = [c.type._cached_bind_processor(dialect) for c in defaulted]
        names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in self.columns)
        self.postgres = dialect.name == "postgresql"
        if self.postgres:
            self.sql = f"COPY {table.name} ({names}) FROM STDIN"
        else:
            self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' for _ in self.columns)})"

    def _tuples(self, rows: list[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
        tail = []
        for column, process in zip(self.defaulted, self.default_processors, strict=True):
            value = _python_default(column)(None)
            tail.append(process(value) if process is not None and value is not None else value)
        defaults = tuple(tail)
        getter, processors = self.getter, self.processors
        for row in rows:
            values = getter(row)
            if processors:
                values = list(values)
                for i, process in processors:
                    if values[i] is not None:
                        values[i] = process(values[i])
                values = tuple(values)
            yield values + defaults if defaults else values

    def write(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Write inside the caller's transaction on `conn`."""
        if not rows:
            return
        raw = _raw(conn)
        if self.postgres:
            with raw.cursor() as cur, cur.copy(self.sql) as copy:
                for values in self._tuples(rows):
                    copy.write_row(values)
            return
        cur = raw.cursor()
        try:
            for start in range(0, len(rows), ROWS_PER_INSERT):
                cur.executemany(self.sql, self._tuples(rows[start : start + ROWS_PER_INSERT]))
        finally:
            cur.close()


def _python_default(column: Column[Any]) -> Any:
    """The column's Python-side default as a one-argument callable, or None."""
    default = column.default
    if default is None or not (default.is_scalar or default.is_callable):
        return None
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return lambda _ctx: value
    return default.arg  # type: ignore[attr-defined]


def _accounts(engine: Engine) -> dict[str, int]:
    """Reference data and the five demo accounts, through the app's own functions; returns park → officer."""
    with Session(engine) as session:
        load_reference(session)
        for username, display_name, role, parks in DEMO_ACCOUNTS:
            create_user(
                session,
                username=username,
                display_name=display_name,
                password=DEMO_PASSWORD,
                role=role,
                park_codes=list(parks),
            )
        officers = park_officers(session)
        session.commit()
    return officers


def _raw(conn: Connection) -> Any:
    """The DBAPI connection, for PRAGMAs that must run outside the BEGIN the app's engine emits."""
    return conn.connection.dbapi_connection


def _open_for_load(target: Target) -> tuple[Engine, Connection]:
    engine = make_engine(target.url)
    conn = engine.connect()
    if target.engine == "sqlite":
        # A throw-away bulk load: no fsync per commit (WAL stays on, as the app sets it).
        _raw(conn).execute("PRAGMA synchronous=OFF")
    return engine, conn


def _finish(target: Target, engine: Engine, conn: Connection) -> None:
    if target.engine == "postgresql":
        with conn.begin():
            reset_firm_ids(conn, "firms")
        analyse(target)
    else:
        # No ANALYZE: the app never runs one, so the benchmark sees the plans the app gets.
        _raw(conn).execute("PRAGMA wal_checkpoint(TRUNCATE)")


def build(targets: Sequence[Target], size: int, *, log: Any = print) -> list[Generated]:
    """Create, migrate and fill the given databases (all of one size) from a single pass of the generator."""
    started = time.perf_counter()
    results = {t: Generated(target=t, cached=False, firms=size) for t in targets}
    loads: list[tuple[Target, Engine, Connection]] = []
    officers: dict[str, int] | None = None
    for target in targets:
        drop_database(target)
        create_database(target)
        migrate(target.url)
        engine, conn = _open_for_load(target)
        mine = _accounts(engine)
        if officers is not None and mine != officers:  # pragma: no cover - fresh databases number alike
            raise RuntimeError(f"officer ids differ between bench databases: {officers} vs {mine}")
        officers = mine
        loads.append((target, engine, conn))
    tables = Base.metadata.tables
    writers: dict[tuple[str, str], TableWriter] = {}
    counts = dict.fromkeys(TABLE_ORDER, 0)
    done = 0
    try:
        for batch in table_batches(
            size, today=_today(), seed=SEED, first_id=1, batch_size=FIRMS_PER_BATCH, officers=officers
        ):
            for table in TABLE_ORDER:
                counts[table] += len(batch[table])
            for target, _engine, conn in loads:
                t0 = time.perf_counter()
                with conn.begin():
                    for table in TABLE_ORDER:
                        rows = batch[table]
                        if not rows:
                            continue
                        writer = writers.get((target.engine, table))
                        if writer is None:
                            writer = TableWriter(tables[table], conn.dialect, rows[0].keys())
                            writers[(target.engine, table)] = writer
                        writer.write(conn, rows)
                results[target].insert_seconds += time.perf_counter() - t0
            done += len(batch["firms"])
            if done % 20_000 == 0 or done == size:
                log(f"  {done:>7,} / {size:,} firms  ({time.perf_counter() - started:5.1f} s)")
        for target, engine, conn in loads:
            t0 = time.perf_counter()
            _finish(target, engine, conn)
            results[target].insert_seconds += time.perf_counter() - t0
    finally:
        for _target, engine, conn in loads:
            conn.close()
            engine.dispose()
    elapsed = time.perf_counter() - started
    for result in results.values():
        result.seconds = elapsed
        result.rows = dict(counts)
    return list(results.values())


def ensure(targets: Sequence[Target], *, regenerate: bool = False, log: Any = print) -> list[Generated]:
    """Every target ready to benchmark: reused when it holds the expected firm count, built otherwise."""
    out: list[Generated] = []
    for size in sorted({t.size for t in targets}):
        todo = []
        for target in (t for t in targets if t.size == size):
            found = None if regenerate else firm_count(target)
            if found == size:
                before = revision(target.url)
                migrate(target.url)  # cheap when current; brings new migrations to a cached database
                after = revision(target.url)
                if after != before:
                    log(f"{target.label}: migrated {before} → {after}")
                    analyse(target)
                log(f"{target.label}: reusing {_where(target)} ({size:,} firms)")
                out.append(Generated(target=target, cached=True, firms=size))
            else:
                why = "--regenerate" if regenerate else ("missing" if found is None else f"{found:,} firms")
                log(f"{target.label}: building {_where(target)} ({why})")
                todo.append(target)
        if todo:
            built = build(todo, size, log=log)
            for result in built:
                log(
                    f"{result.target.label}: built in {result.seconds:.1f} s "
                    f"(of which writing this database {result.insert_seconds:.1f} s)"
                )
            out.extend(built)
    for generated in out:
        hold_today(generated.target, log=log)
    return out


def hold_today(target: Target, *, log: Any = print) -> None:
    """The tiers held today, as the ten-minute job keeps them in production (`app.recognitions.held`); a fresh
    VACUUM ANALYZE when that changed many rows (the first time), as autovacuum would do soon after."""
    from app.recognitions import held
    from app.web.formatting import today

    engine = make_engine(target.url)
    try:
        with Session(engine) as session:
            removed, added = held.refresh(session, today())
            session.commit()
    finally:
        engine.dispose()
    if removed or added:
        log(f"{target.label}: tiers held today: {removed:,} rows removed, {added:,} added")
    if removed + added > target.size // 10:
        analyse(target)


def _where(target: Target) -> str:
    if target.engine == "sqlite":
        return str(target.sqlite_path.relative_to(ROOT))
    url = make_url(target.url)
    return f"postgresql://{url.host}:{url.port}/{url.database}"
