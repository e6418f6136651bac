"""`python -m app.recognitions.remind`: the scheduled run over every park, as the job actor 到期提醒."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.casework.models import Task, TaskOrigin
from app.recognitions import remind
from tests.conftest import TEST_ACTOR
from tests.factories import FirmFactory, RecognitionFactory

TODAY = date(2026, 3, 10)


def expiring_in(days: int, **kwargs: object) -> None:
    expires = TODAY + timedelta(days=days)
    RecognitionFactory(expires_on=expires, issued_on=expires - timedelta(days=3 * 365 - 1), **kwargs)


def reminder_tasks(db: Session) -> list[Task]:
    return list(db.scalars(select(Task).where(Task.origin == TaskOrigin.expiry_reminder)))


@pytest.fixture
def officers(make_user: Callable[..., User]) -> tuple[User, User]:
    return make_user(Role.officer, parks=["jingan"]), make_user(Role.officer, parks=["yangpu"])


def test_a_run_creates_the_tasks_of_every_park_as_the_job_and_restores_the_callers_actor(
    db: Session, officers: tuple[User, User]
) -> None:
    jingan, yangpu = officers
    expiring_in(20, firm=FirmFactory(park="jingan", officer_id=jingan.id))
    expiring_in(100, firm=FirmFactory(park="yangpu", officer_id=yangpu.id))

    result = remind.run(db, today=TODAY, months=6)

    assert {t.assignee_id for t in result.created} == {jingan.id, yangpu.id}
    labels = set(db.scalars(select(AuditEntry.actor_label).where(AuditEntry.entity == "tasks")))
    assert labels == {"到期提醒"}
    assert db.info["actor"] == TEST_ACTOR
    assert remind.run(db, today=TODAY, months=6).created == []


def test_the_command_commits_once_and_reports_what_it_did(
    db: Session,
    officers: tuple[User, User],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jingan, _ = officers
    expiring_in(20, firm=FirmFactory(officer_id=jingan.id))
    expiring_in(80, firm=FirmFactory(officer_id=jingan.id))
    expiring_in(25, firm=FirmFactory(officer_id=None))
    # The command's own session on the test's connection: its commit releases a savepoint; the test rolls
    # everything back.
    factory = sessionmaker(
        bind=db.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    monkeypatch.setattr(remind, "_sessions", lambda: factory)

    assert remind.main(["--months", "1", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out

    assert "到期提醒（2026-03-10，1 个月内）：到期认定 2 张，新生成待办 1 条" in out
    assert "1 张因企业未指定服务专员未生成" in out
    assert [t.assignee_id for t in reminder_tasks(db)] == [jingan.id]

    assert remind.main(["--today", TODAY.isoformat()]) == 0
    assert "新生成待办 1 条" in capsys.readouterr().out  # the 80-day one; the 20-day one already has its task
    assert len(reminder_tasks(db)) == 2


def test_the_command_accepts_only_the_three_windows(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        remind.main(["--months", "12"])
    assert "invalid choice" in capsys.readouterr().err
