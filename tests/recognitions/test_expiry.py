"""到期提醒 as a service: which certificates are listed in which window, and the idempotent task creation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import Channel
from app.auth.dependencies import principal_for
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.errors import NotFound, NotPermitted
from app.firms.models import FirmStatus
from app.recognitions.expiry import (
    REMINDER_ACTOR,
    add_months,
    ensure_expiry_tasks,
    expiry_list,
    group_rows,
    window_of,
)
from app.recognitions.models import Recognition, RecognitionKind
from tests.factories import FirmFactory, RecognitionFactory, TaskFactory

TODAY = date(2026, 3, 10)


def expiring_in(days: int, **kwargs: Any) -> Recognition:
    """A 高企 certificate (by default) issued three years before and expiring `days` after TODAY."""
    expires = TODAY + timedelta(days=days)
    kwargs.setdefault("issued_on", expires - timedelta(days=3 * 365 - 1))
    return RecognitionFactory(expires_on=expires, **kwargs)


def as_principal(user: User) -> Principal:
    return principal_for(user, Channel.web)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.admin, display_name="刘管理")


def listed(db: Session, principal: Principal | Any, months: int = 6) -> dict[int, str]:
    """The recognitions on the principal's list, each with its window label."""
    return {row.recognition.id: row.window_label for row in expiry_list(db, principal, TODAY, months)}


# --- windows ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "months", "expires_on", "window"),
    [
        ("Expiring today is within a month", 1, TODAY, 1),
        ("A calendar month ahead is within a month", 1, date(2026, 4, 10), 1),
        ("A day beyond a calendar month is within three months", 3, date(2026, 4, 11), 3),
        ("Three calendar months ahead is within three months", 3, date(2026, 6, 10), 3),
        ("Six calendar months ahead is within six months", 6, date(2026, 9, 10), 6),
        ("A day beyond six months is in no window", 6, date(2026, 9, 11), None),
    ],
)
def test_the_window_of_an_expiry_date(case: str, months: int, expires_on: date, window: int | None) -> None:
    assert window_of(expires_on, TODAY) == window


def test_a_month_ahead_of_the_31st_is_the_last_day_of_a_shorter_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 31), 6) == date(2028, 6, 30)


def test_certificates_are_listed_in_the_smallest_window_they_fall_in(admin: User, db: Session) -> None:
    in_20 = expiring_in(20)
    in_80 = expiring_in(80)
    in_170 = expiring_in(170)
    expiring_in(200)
    expiring_in(-1)  # expired yesterday: no longer a reminder

    assert listed(db, as_principal(admin)) == {in_20.id: "≤1个月", in_80.id: "≤3个月", in_170.id: "≤6个月"}
    assert listed(db, as_principal(admin), 3) == {in_20.id: "≤1个月", in_80.id: "≤3个月"}
    assert listed(db, as_principal(admin), 1) == {in_20.id: "≤1个月"}


def test_rows_carry_the_days_left_and_group_by_window_soonest_first(admin: User, db: Session) -> None:
    later = expiring_in(80, certificate_no="GR-LATER")
    sooner = expiring_in(20, certificate_no="GR-SOONER")
    soonest = expiring_in(5, certificate_no="GR-SOONEST")

    rows = expiry_list(db, as_principal(admin), TODAY, 6)
    groups = group_rows(rows)

    assert [r.recognition.id for r in rows] == [soonest.id, sooner.id, later.id]
    assert [r.days_left for r in rows] == [5, 20, 80]
    assert [(g.label, [r.recognition.id for r in g.rows]) for g in groups] == [
        ("≤1个月", [soonest.id, sooner.id]),
        ("≤3个月", [later.id]),
    ]
    assert rows[0].tier_label == "高新技术企业" and rows[0].task_status_label == "未生成"


def test_revoked_certificates_are_not_listed_even_when_revoked_later(admin: User, db: Session) -> None:
    expiring_in(20, revoked_on=TODAY - timedelta(days=3), revoke_reason="撤销")
    expiring_in(40, revoked_on=TODAY + timedelta(days=10), revoke_reason="已决定撤销")

    assert listed(db, as_principal(admin)) == {}


def test_a_certificate_already_renewed_is_not_listed(admin: User, db: Session) -> None:
    firm = FirmFactory()
    old = expiring_in(30, firm=firm)
    RecognitionFactory(
        firm=firm,
        kind=RecognitionKind.renewal,
        issued_on=TODAY - timedelta(days=5),
        expires_on=TODAY + timedelta(days=3 * 365),
    )
    other_tier = expiring_in(30, firm=firm, tier="srdi_sme")

    assert old.id not in listed(db, as_principal(admin))
    assert other_tier.id in listed(db, as_principal(admin))


def test_a_revoked_renewal_does_not_supersede_the_old_certificate(admin: User, db: Session) -> None:
    firm = FirmFactory()
    old = expiring_in(30, firm=firm)
    RecognitionFactory(
        firm=firm,
        kind=RecognitionKind.renewal,
        issued_on=TODAY - timedelta(days=5),
        expires_on=TODAY + timedelta(days=3 * 365),
        revoked_on=TODAY - timedelta(days=1),
        revoke_reason="材料不实",
    )

    assert old.id in listed(db, as_principal(admin))


def test_labels_re_checked_yearly_and_firms_no_longer_active_are_not_listed(admin: User, db: Session) -> None:
    expiring_in(30, tier="gazelle")
    expiring_in(30, tier="unicorn")
    expiring_in(30, firm=FirmFactory(status=FirmStatus.deregistered))

    assert listed(db, as_principal(admin)) == {}


def test_the_yearly_tech_sme_registration_is_listed_for_its_annual_re_registration(
    admin: User, db: Session
) -> None:
    rec = expiring_in(30, tier="tech_sme")

    assert set(listed(db, as_principal(admin))) == {rec.id}


def test_an_officer_sees_only_the_certificates_of_firms_in_their_parks(
    officer: User, make_user: Callable[..., User], db: Session
) -> None:
    mine = expiring_in(30, firm=FirmFactory(park="jingan"))
    theirs = expiring_in(30, firm=FirmFactory(park="yangpu"))
    leader = make_user(Role.leader)

    assert set(listed(db, as_principal(officer))) == {mine.id}
    assert set(listed(db, as_principal(leader))) == {mine.id, theirs.id}


def test_the_list_runs_two_queries_however_long_it_is(
    admin: User, db: Session, query_counter: Callable[[], Any]
) -> None:
    for days in (5, 20, 40, 80, 120, 170):
        rec = expiring_in(days, firm=FirmFactory(officer_id=admin.id))
        TaskFactory(
            firm=None,
            firm_id=rec.firm_id,
            origin=TaskOrigin.expiry_reminder,
            origin_ref=f"recognition:{rec.id}",
        )
    principal = as_principal(admin)

    with query_counter() as queries:
        rows = expiry_list(db, principal, TODAY, 6)
        _ = [(r.officer_name, r.task_status_label) for r in rows]

    assert len(rows) == 6 and len(queries) == 2


# --- creating the tasks -------------------------------------------------------------------------------------


def test_each_listed_certificate_gets_one_task_for_the_firms_officer_due_on_the_expiry(
    db: Session, officer: User, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory(name="上海市北数智科技有限公司", officer_id=officer.id)
    rec = expiring_in(20, firm=firm)
    colleague = make_user(Role.officer, parks=["jingan"])

    run = ensure_expiry_tasks(db, as_principal(colleague), TODAY, 6)

    [task] = run.created
    assert task.title == f"高新技术企业 重新认定（有效期至 {rec.expires_on.isoformat()}）"
    assert (task.firm_id, task.assignee_id, task.due_on) == (firm.id, officer.id, rec.expires_on)
    assert (task.origin, task.origin_ref, task.status) == (
        TaskOrigin.expiry_reminder,
        f"recognition:{rec.id}",
        TaskStatus.open,
    )
    assert task.created_by_id == colleague.id


def test_running_twice_creates_nothing_new_even_when_the_first_task_was_closed(
    db: Session, officer: User
) -> None:
    expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    expiring_in(80, firm=FirmFactory(officer_id=officer.id))

    first = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6)
    first.created[0].status = TaskStatus.cancelled
    db.flush()
    second = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6)

    assert len(first.created) == 2
    assert second.created == [] and second.considered == 2
    assert len(db.scalars(select(Task).where(Task.origin == TaskOrigin.expiry_reminder)).all()) == 2


def test_a_task_made_earlier_for_the_certificate_counts_and_shows_its_status(
    db: Session, officer: User
) -> None:
    rec = expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    TaskFactory(
        firm=None,
        firm_id=rec.firm_id,
        assignee=officer,
        origin=TaskOrigin.expiry_reminder,
        origin_ref=f"recognition:{rec.id}",
        status=TaskStatus.in_progress,
    )

    run = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6)
    [row] = expiry_list(db, as_principal(officer), TODAY, 6)

    assert run.created == []
    assert row.task_status_label == "办理中"


def test_the_window_limits_which_tasks_are_created(db: Session, officer: User) -> None:
    soon = expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    expiring_in(80, firm=FirmFactory(officer_id=officer.id))

    run = ensure_expiry_tasks(db, as_principal(officer), TODAY, 1)

    assert [t.origin_ref for t in run.created] == [f"recognition:{soon.id}"]


def test_the_review_tiers_get_a_review_task(db: Session, officer: User) -> None:
    rec = expiring_in(20, firm=FirmFactory(officer_id=officer.id), tier="little_giant")

    [task] = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6).created

    assert task.title == f"专精特新“小巨人”企业 复核（有效期至 {rec.expires_on.isoformat()}）"


def test_a_firm_without_an_officer_is_assigned_to_whoever_creates_the_tasks(
    db: Session, officer: User
) -> None:
    expiring_in(20, firm=FirmFactory(officer_id=None))

    [task] = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6).created

    assert task.assignee_id == officer.id


def test_a_departed_officer_is_replaced_by_whoever_creates_the_tasks(
    db: Session, officer: User, make_user: Callable[..., User]
) -> None:
    departed = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory(officer_id=departed.id)
    departed.is_active = False
    db.flush()
    expiring_in(20, firm=firm)

    [task] = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6).created

    assert task.assignee_id == officer.id


def test_an_officer_creates_tasks_only_for_their_parks(
    db: Session, officer: User, make_user: Callable[..., User]
) -> None:
    yangpu_officer = make_user(Role.officer, parks=["yangpu"])
    other = expiring_in(20, firm=FirmFactory(park="yangpu", officer_id=yangpu_officer.id))

    run = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6)

    assert run.created == []
    with pytest.raises(NotFound):
        ensure_expiry_tasks(db, as_principal(officer), TODAY, 6, recognition_ids=[other.id])
    assert db.scalars(select(Task).where(Task.origin_ref == f"recognition:{other.id}")).first() is None


def test_one_certificate_can_be_asked_for_alone(db: Session, officer: User) -> None:
    wanted = expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    expiring_in(30, firm=FirmFactory(officer_id=officer.id))

    run = ensure_expiry_tasks(db, as_principal(officer), TODAY, 6, recognition_ids=[wanted.id])

    assert [t.origin_ref for t in run.created] == [f"recognition:{wanted.id}"]


@pytest.mark.parametrize("role", [Role.leader, Role.firm])
def test_leaders_and_firm_users_may_not_create_the_tasks(
    db: Session, make_user: Callable[..., User], role: Role
) -> None:
    expiring_in(20)
    user = make_user(role, firm=FirmFactory() if role is Role.firm else None)

    with pytest.raises(NotPermitted):
        ensure_expiry_tasks(db, as_principal(user), TODAY, 6)


def test_a_job_covers_every_park_and_leaves_firms_without_an_officer_unassigned(
    db: Session, officer: User, make_user: Callable[..., User]
) -> None:
    yangpu_officer = make_user(Role.officer, parks=["yangpu"])
    expiring_in(20, firm=FirmFactory(park="jingan", officer_id=officer.id))
    expiring_in(40, firm=FirmFactory(park="yangpu", officer_id=yangpu_officer.id))
    orphan = expiring_in(60, firm=FirmFactory(park="hongkou", officer_id=None))

    run = ensure_expiry_tasks(db, REMINDER_ACTOR, TODAY, 6)

    assert sorted(t.assignee_id for t in run.created) == sorted([officer.id, yangpu_officer.id])
    assert all(t.created_by_id is None for t in run.created)
    assert run.unassigned == [orphan.id]
