"""Test harness: a real database migrated by alembic, each test in a transaction rolled back after (STYLE §7).

`make test` runs the suite twice, with TEST_DATABASE_URL pointing at a SQLite file and at PostgreSQL.
Fixtures: `db`, `client`, `make_user`, `login`, `bearer`, `query_counter`, `fresh_database`, `alembic_config`.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# `seeds`, `scripts` and `tests` live beside `app` at the repository root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The settings are read when `app` is first imported: set the environment before that.
_TMP = Path(tempfile.mkdtemp(prefix="ladder-tests-"))
atexit.register(shutil.rmtree, _TMP, True)
os.environ["LADDER_SECRET_KEY"] = secrets.token_urlsafe(36)  # 48 characters
os.environ["LADDER_DEMO_MODE"] = "0"
os.environ["LADDER_STORAGE_DIR"] = str(_TMP / "files")
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'ladder_test.db'}"
TEST_DATABASE_URL = os.environ["DATABASE_URL"]

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import app.models  # noqa: E402, F401
from app.audit.actor import Actor, ActorKind, act_as  # noqa: E402
from app.audit.models import Channel  # noqa: E402
from app.auth import security  # noqa: E402
from app.auth.models import Role, TokenKind, User  # noqa: E402
from app.auth.service import create_user, issue_token  # noqa: E402
from app.db import engine as app_engine  # noqa: E402
from app.db import get_session  # noqa: E402
from app.firms.models import Firm  # noqa: E402
from app.recognitions import held  # noqa: E402
from app.web.csrf import CSRF_COOKIE, SESSION_COOKIE  # noqa: E402
from app.web.formatting import today  # noqa: E402
from scripts.testdb import drop_database, recreate_database, sibling_url  # noqa: E402
from seeds.reference import load_reference  # noqa: E402

# argon2id with the production cost takes ~0.4 s per hash or check on CI's 2 cores; tests use the same
# algorithm (hashes still start with $argon2id$) at the lowest cost. Set before factories hash their password.
if hasattr(security, "_hasher"):
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash(secrets.token_urlsafe(16))

from tests import factories  # noqa: E402

# `tests/` is on sys.path in pytest's default import mode: `import factories` must be the same module, or its
# factories would not be bound to the test session.
sys.modules.setdefault("factories", factories)

TEST_ACTOR = Actor(kind=ActorKind.system, label="测试", channel=Channel.system)
# The CSRF token `login` puts in the browser's cookie; send it back as `X-CSRF-Token` or the form field.
CSRF_TOKEN = "test-csrf-token-0123456789abcdefghijklmnop"
PASSWORD = factories.PASSWORD


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def make_alembic_config(url: str) -> Config:
    """An alembic Config for this database (migrations/env.py reads attributes["database_url"])."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


# --- the database ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def alembic_config() -> Callable[[str], Config]:
    """`alembic_config(url)` → a Config for `command.upgrade/downgrade/check` on that database."""
    return make_alembic_config


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """`fresh_database("_mig")` → the URL of an empty database beside the test one (PG database or file)."""
    folder = tmp_path_factory.mktemp("databases")
    created: set[str] = set()

    def _fresh(suffix: str) -> str:
        url = recreate_database(sibling_url(TEST_DATABASE_URL, suffix, sqlite_dir=folder))
        created.add(url)
        return url

    yield _fresh
    for url in created:
        drop_database(url)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return app_engine


@pytest.fixture(scope="session", autouse=True)
def migrated_database(engine: Engine) -> str:
    """The test database, emptied and migrated to head with alembic once per run (never create_all)."""
    if is_postgres(TEST_DATABASE_URL):
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        engine.dispose()
        recreate_database(TEST_DATABASE_URL)
    command.upgrade(make_alembic_config(TEST_DATABASE_URL), "head")
    engine.dispose()
    return TEST_DATABASE_URL


@pytest.fixture(scope="session", autouse=True)
def reference_data(migrated_database: str, engine: Engine) -> None:
    """Districts, parks, areas, carriers and industries, loaded once and committed (tests only read them)."""
    with Session(engine) as session:
        act_as(session, TEST_ACTOR)
        load_reference(session)
        # Tiers held today kept by the triggers from here on, as in production after the ten-minute job: the
        # list's tier filter reads them (tests that move "today" elsewhere get the recognitions query).
        held.refresh(session, today())
        session.commit()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; commits only release savepoints."""
    connection = engine.connect()
    trans = connection.begin()
    session = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    act_as(session, TEST_ACTOR)
    try:
        yield session
    finally:
        session.close()
        trans.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _held_day_read_again() -> Iterator[None]:
    """The day of the held tiers as committed, not as a rolled-back test left it in this process's memory."""
    held.forget()
    yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Each test starts with an unused per-client allowance (the counters live in the process)."""
    from app.rules import ratelimit

    ratelimit.reset()
    yield


@pytest.fixture(autouse=True)
def _factories_use_db(request: pytest.FixtureRequest) -> Iterator[None]:
    """Binds every factory to this test's `db` session (opened only when a factory is first used)."""
    factories.bind_session(lambda: request.getfixturevalue("db"))
    yield
    factories.bind_session(None)


@pytest.fixture
def query_counter(engine: Engine) -> Callable[[], Any]:
    """`with query_counter() as queries: ...` then `len(queries)`: the SQL statements run inside."""

    @contextmanager
    def _count() -> Iterator[list[str]]:
        statements: list[str] = []

        def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", _before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", _before)

    return _count


# --- HTTP ---------------------------------------------------------------------------------------------------


@pytest.fixture
def client(db: Session) -> Iterator[TestClient]:
    """The app over HTTPS (so Secure cookies flow), every request using the test's `db` session."""
    from app.main import app as ladder_app

    def _session() -> Iterator[Session]:
        saved = dict(db.info)
        # What the test set up counts as committed before the request, as it would be in real life:
        # a failing request then rolls back only its own work.
        db.commit()
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            # The request acted as its user; the test body goes on as the test actor.
            db.info.clear()
            db.info.update(saved)

    ladder_app.dependency_overrides[get_session] = _session
    try:
        yield TestClient(ladder_app, base_url="https://testserver")
    finally:
        ladder_app.dependency_overrides.clear()


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    """`make_user(role, parks=None, firm=None, *, username=None, password=PASSWORD)` via auth.service.

    An officer without `parks` serves `jingan`; pass `parks=[]` for none.
    """
    counter = iter(range(1, 1_000_000))

    def _make(
        role: Role | str,
        parks: Sequence[str] | None = None,
        firm: Firm | None = None,
        *,
        username: str | None = None,
        password: str = PASSWORD,
        display_name: str | None = None,
    ) -> User:
        role = Role(role)
        if parks is None:
            parks = ["jingan"] if role is Role.officer else []
        name = username or f"{role.value}_{next(counter)}"
        return create_user(
            db,
            username=name,
            display_name=display_name or f"测试{name}",
            password=password,
            role=role,
            park_codes=list(parks),
            firm_id=firm.id if firm is not None else None,
        )

    return _make


@pytest.fixture
def login(db: Session) -> Callable[[TestClient, User], dict[str, str]]:
    """`login(client, user)` signs the browser in; returns the headers an htmx/JSON post needs."""

    def _login(client: TestClient, user: User) -> dict[str, str]:
        issued = issue_token(db, user, TokenKind.session)
        client.cookies.set(SESSION_COOKIE, issued.token)
        client.cookies.set(CSRF_COOKIE, CSRF_TOKEN)
        return {"X-CSRF-Token": CSRF_TOKEN}

    return _login


@pytest.fixture
def bearer(db: Session) -> Callable[[User], dict[str, str]]:
    """`bearer(user)` → `{"Authorization": "Bearer …"}` for the JSON API."""

    def _bearer(user: User) -> dict[str, str]:
        issued = issue_token(db, user, TokenKind.bearer)
        return {"Authorization": f"Bearer {issued.token}"}

    return _bearer
