"""The request's session (`app.db.get_session`, which every route depends on): what a request wrote is
committed when it succeeds and rolled back when it fails, and the connection goes back to the pool either way.
Route tests replace it with the test's own session, so this drives the real one, on the real engine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select

from app.auth.models import LoginAttempt
from app.db import SessionLocal, engine, get_session


@pytest.fixture
def username() -> Iterator[str]:
    name = f"session-test-{uuid.uuid4().hex[:12]}"
    yield name
    with engine.begin() as conn:
        conn.execute(delete(LoginAttempt).where(LoginAttempt.username == name))


def attempts(username: str) -> int:
    with SessionLocal() as session:
        return int(session.scalar(select(func.count()).where(LoginAttempt.username == username)) or 0)


def run_request(username: str, fail: bool) -> None:
    async def request() -> None:
        dependency = get_session()
        session = await anext(dependency)
        session.add(LoginAttempt(username=username, client="test", success=True))
        session.flush()
        if fail:
            with pytest.raises(RuntimeError):
                await dependency.athrow(RuntimeError("the route failed"))
        else:
            with pytest.raises(StopAsyncIteration):
                await anext(dependency)
        assert not session.in_transaction()  # ended, its connection back in the pool

    # In a thread of its own: another test (the browser's) may have left an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, request()).result()


def test_a_request_that_succeeds_commits_what_it_wrote(username: str) -> None:
    checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
    run_request(username, fail=False)
    assert attempts(username) == 1
    assert engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]


def test_a_request_that_fails_writes_nothing(username: str) -> None:
    checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
    run_request(username, fail=True)
    assert attempts(username) == 0
    assert engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]
