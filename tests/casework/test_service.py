"""Casework service on the real database: create, change status, 我的待办 and who sees which task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind
from app.audit.models import AuditEntry, Channel
from app.auth.dependencies import principal_for
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.casework import service
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.errors import NotFound, NotPermitted, RuleViolation
from app.web.formatting import today
from tests.factories import FirmFactory, MembershipFactory, TaskFactory

JOB = Actor(kind=ActorKind.job, label="到期提醒任务", channel=Channel.job)


def as_principal(user: User) -> Principal:
    return principal_for(user, Channel.web)


# --- create_task -------------------------------------------------------------------------------------------


def test_an_officer_creates_an_open_task_on_a_firm_in_their_park_and_it_is_audited(
    db: Session, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory(park="jingan")
    due = today() + timedelta(days=10)

    task = service.create_task(
        db,
        by=as_principal(officer),
        assignee_id=officer.id,
        title="  提醒企业准备高企复核材料 ",
        origin=TaskOrigin.manual,
        firm_id=firm.id,
        due_on=due,
        notes="电话联系财务负责人",
    )

    assert task.id is not None
    assert task.status == TaskStatus.open
    assert task.title == "提醒企业准备高企复核材料"
    assert task.created_by_id == officer.id
    assert task.closed_at is None
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "tasks", AuditEntry.entity_id == task.id)
    ).one()
    assert entry.action == "create"
    assert entry.firm_id == firm.id
    assert "提醒企业准备高企复核材料" in (entry.new_value or "")


def test_a_job_creates_a_task_without_a_signed_in_user(db: Session, make_user: Callable[..., User]) -> None:
    officer = make_user(Role.officer, parks=["yangpu"])
    firm = FirmFactory(park="jingan")  # a job is not limited to the assignee's parks

    task = service.create_task(
        db,
        by=JOB,
        assignee_id=officer.id,
        title="高新技术企业证书将于 90 天后到期",
        origin=TaskOrigin.expiry_reminder,
        firm_id=firm.id,
        origin_ref="recognition:12",
    )

    assert task.origin == TaskOrigin.expiry_reminder
    assert task.origin_ref == "recognition:12"
    assert task.created_by_id is None


def test_a_leader_cannot_create_a_task(db: Session, make_user: Callable[..., User]) -> None:
    leader = make_user(Role.leader)
    officer = make_user(Role.officer)

    with pytest.raises(NotPermitted):
        service.create_task(
            db, by=as_principal(leader), assignee_id=officer.id, title="走访", origin=TaskOrigin.manual
        )


def test_an_officer_cannot_attach_a_task_to_a_firm_in_another_park(
    db: Session, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory(park="yangpu")

    with pytest.raises(RuleViolation) as caught:
        service.create_task(
            db,
            by=as_principal(officer),
            assignee_id=officer.id,
            title="走访",
            origin=TaskOrigin.manual,
            firm_id=firm.id,
        )

    assert caught.value.field == "firm"
    assert db.scalars(select(Task).where(Task.firm_id == firm.id)).first() is None


def test_a_task_cannot_be_assigned_to_a_leader(db: Session, make_user: Callable[..., User]) -> None:
    leader = make_user(Role.leader)

    with pytest.raises(RuleViolation) as caught:
        service.create_task(db, by=JOB, assignee_id=leader.id, title="走访", origin=TaskOrigin.manual)

    assert caught.value.field == "assignee_id"


def test_a_blank_title_is_refused(db: Session, make_user: Callable[..., User]) -> None:
    officer = make_user(Role.officer)

    with pytest.raises(RuleViolation) as caught:
        service.create_task(
            db, by=as_principal(officer), assignee_id=officer.id, title="   ", origin=TaskOrigin.manual
        )

    assert caught.value.message == "请填写事项"


# --- update_status -----------------------------------------------------------------------------------------


def test_finishing_a_task_records_when_it_closed_and_reopening_clears_it(db: Session) -> None:
    task = TaskFactory(notes="已电话联系")

    service.update_status(db, task, TaskStatus.done, "材料已提交")
    assert task.status == TaskStatus.done
    assert task.closed_at is not None
    assert task.notes == "材料已提交"

    service.update_status(db, task, TaskStatus.open, None)
    assert task.status == TaskStatus.open
    assert task.closed_at is None
    assert task.notes == "材料已提交"  # blank notes keep what was written


def test_cancelling_a_task_also_closes_it(db: Session) -> None:
    task = TaskFactory()

    service.update_status(db, task, TaskStatus.cancelled, "企业已迁出")

    assert task.closed_at is not None


def test_a_status_change_is_audited_old_to_new(db: Session) -> None:
    task = TaskFactory()

    service.update_status(db, task, TaskStatus.in_progress, None)

    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "tasks", AuditEntry.entity_id == task.id, AuditEntry.field == "status"
        )
    ).one()
    assert (entry.old_value, entry.new_value) == ("open", "in_progress")


def test_a_leader_cannot_change_a_task(db: Session, make_user: Callable[..., User]) -> None:
    task = TaskFactory()

    with pytest.raises(NotPermitted):
        service.update_status(db, task, TaskStatus.done, None, by=as_principal(make_user(Role.leader)))

    assert task.status == TaskStatus.open


# --- my_tasks ----------------------------------------------------------------------------------------------


def test_my_tasks_lists_my_open_and_in_progress_tasks_by_due_date_with_firm_names(
    db: Session, make_user: Callable[..., User]
) -> None:
    me = make_user(Role.officer, parks=["jingan"])
    colleague = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory(name="上海数通链谷科技有限公司")
    later = TaskFactory(assignee=me, firm=firm, due_on=today() + timedelta(days=20), title="后到期")
    sooner = TaskFactory(
        assignee=me,
        firm=None,
        due_on=today() + timedelta(days=2),
        title="先到期",
        status=TaskStatus.in_progress,
    )
    undated = TaskFactory(assignee=me, firm=firm, due_on=None, title="无期限")
    TaskFactory(assignee=me, firm=firm, status=TaskStatus.done, title="已办结")
    TaskFactory(assignee=colleague, firm=firm, title="同事的")

    rows = service.my_tasks(db, as_principal(me))

    assert [r.task.id for r in rows] == [sooner.id, later.id, undated.id]
    assert [r.firm_name for r in rows] == [None, "上海数通链谷科技有限公司", "上海数通链谷科技有限公司"]
    assert [r.status_label for r in rows] == ["办理中", "待办", "待办"]
    assert rows[0].due_soon and not rows[1].due_soon


def test_my_tasks_with_a_status_lists_only_that_status(db: Session, make_user: Callable[..., User]) -> None:
    me = make_user(Role.officer)
    TaskFactory(assignee=me)
    done = TaskFactory(assignee=me, status=TaskStatus.done)

    rows = service.my_tasks(db, as_principal(me), TaskStatus.done)

    assert [r.task.id for r in rows] == [done.id]
    assert service.count_my_tasks(db, as_principal(me), TaskStatus.done) == 1


def test_a_task_past_its_due_date_is_overdue_until_it_is_closed(
    db: Session, make_user: Callable[..., User]
) -> None:
    me = make_user(Role.officer)
    day = date(2025, 6, 30)
    TaskFactory(assignee=me, due_on=day - timedelta(days=3))
    TaskFactory(assignee=me, due_on=day)

    rows = service.my_tasks(db, as_principal(me), today=day)

    assert [(r.is_overdue, r.overdue_days, r.due_soon) for r in rows] == [(True, 3, False), (False, 0, True)]
    closed = service.my_tasks(db, as_principal(me), TaskStatus.done, today=day)
    assert closed == []


@pytest.mark.parametrize("count", [2, 12])
def test_my_tasks_runs_one_query_whatever_the_number_of_tasks(
    db: Session, make_user: Callable[..., User], query_counter: Callable[[], Any], count: int
) -> None:
    me = make_user(Role.officer)
    for _ in range(count):
        TaskFactory(assignee=me, firm=FirmFactory())
    principal = as_principal(me)
    db.flush()

    with query_counter() as queries:
        rows = service.my_tasks(db, principal)
        names = [r.firm_name for r in rows]

    assert len(rows) == count and all(names)
    assert len(queries) == 1


# --- who sees which task -----------------------------------------------------------------------------------


def test_an_officer_sees_tasks_on_firms_in_their_parks_but_not_another_parks_firm_tasks(
    db: Session, make_user: Callable[..., User]
) -> None:
    jingan_officer = make_user(Role.officer, parks=["jingan"])
    yangpu_officer = make_user(Role.officer, parks=["yangpu"])
    on_jingan_firm = TaskFactory(assignee=yangpu_officer, firm=FirmFactory(park="jingan"))
    on_yangpu_firm = TaskFactory(assignee=yangpu_officer, firm=FirmFactory(park="yangpu"))
    mine_on_yangpu_firm = TaskFactory(assignee=jingan_officer, firm=FirmFactory(park="yangpu"))
    principal = as_principal(jingan_officer)

    assert service.get_task(db, principal, on_jingan_firm.id) is on_jingan_firm
    assert service.get_task(db, principal, mine_on_yangpu_firm.id) is mine_on_yangpu_firm
    with pytest.raises(NotFound):
        service.get_task(db, principal, on_yangpu_firm.id)


def test_a_firm_that_left_the_park_takes_its_tasks_out_of_the_officers_view(
    db: Session, make_user: Callable[..., User]
) -> None:
    jingan_officer = make_user(Role.officer, parks=["jingan"])
    other = make_user(Role.officer, parks=["yangpu"])
    firm = FirmFactory(park=False)
    MembershipFactory(
        firm_id=firm.id, park_code="jingan", valid_from=date(2020, 1, 1), valid_to=date(2024, 12, 31)
    )
    MembershipFactory(firm_id=firm.id, park_code="yangpu", valid_from=date(2025, 1, 1))
    task = TaskFactory(assignee=other, firm=firm)

    with pytest.raises(NotFound):
        service.get_task(db, as_principal(jingan_officer), task.id)
    assert service.get_task(db, as_principal(other), task.id) is task


def test_leaders_and_admins_see_every_task_and_firm_users_none(
    db: Session, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory(park="hongkou")
    task = TaskFactory(firm=firm)

    assert service.get_task(db, as_principal(make_user(Role.leader)), task.id) is task
    assert service.get_task(db, as_principal(make_user(Role.admin)), task.id) is task
    with pytest.raises(NotFound):
        service.get_task(db, as_principal(make_user(Role.firm, firm=firm)), task.id)


def test_firm_tasks_lists_the_tasks_on_one_firm_that_the_principal_may_see(
    db: Session, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory(park="jingan")
    open_task = TaskFactory(firm=firm)
    TaskFactory(firm=firm, status=TaskStatus.done)
    TaskFactory(firm=FirmFactory(park="jingan"))

    rows = service.firm_tasks(db, as_principal(officer), firm.id)

    assert [r.task.id for r in rows] == [open_task.id]


# --- resolve_firm ------------------------------------------------------------------------------------------


def test_an_officer_names_a_firm_by_uscc_or_full_name_within_their_parks(
    db: Session, make_user: Callable[..., User]
) -> None:
    officer = as_principal(make_user(Role.officer, parks=["jingan"]))
    firm = FirmFactory(park="jingan", name="上海大宁创芯科技有限公司")
    elsewhere = FirmFactory(park="yangpu")

    assert service.resolve_firm(db, officer, firm.uscc.lower()) == firm.id
    assert service.resolve_firm(db, officer, " 上海大宁创芯科技有限公司 ") == firm.id
    with pytest.raises(RuleViolation, match="不在您负责的园区"):
        service.resolve_firm(db, officer, elsewhere.uscc)


def test_two_firms_with_the_same_name_need_the_uscc(db: Session, make_user: Callable[..., User]) -> None:
    officer = as_principal(make_user(Role.officer, parks=["jingan"]))
    FirmFactory(name="上海同名科技有限公司")
    FirmFactory(name="上海同名科技有限公司")

    with pytest.raises(RuleViolation, match="统一社会信用代码"):
        service.resolve_firm(db, officer, "上海同名科技有限公司")
