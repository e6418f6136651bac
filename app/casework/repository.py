"""Every query on tasks. Who may see which task is decided in `scoped()`, and only there."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.auth.principal import Principal
from app.casework.models import Task, TaskStatus
from app.firms.models import Firm, Membership

Ts = TypeVarTuple("Ts")


def _park_firm_ids(park_codes: Collection[str]) -> Select[int]:
    """Firms whose current membership (valid_to IS NULL) is in one of these parks."""
    return select(Membership.firm_id).where(
        Membership.valid_to.is_(None), Membership.park_code.in_(sorted(park_codes))
    )


def _visible(principal: Principal) -> ColumnElement[bool] | None:
    """The task filter for this principal; None means every task."""
    if principal.role in (Role.admin, Role.leader):
        return None
    if principal.role is Role.officer:
        parks = principal.park_codes or frozenset()
        mine = Task.assignee_id == principal.user_id
        if not parks:
            return mine
        return or_(mine, Task.firm_id.in_(_park_firm_ids(parks)))
    # Firm users reach their requests through the portal, never the back-office task list.
    return false()


def scoped(stmt: Select[*Ts], principal: Principal) -> Select[*Ts]:
    """Restrict a statement over Task to what the principal may see.

    Admins and leaders see every task; an officer sees tasks assigned to them plus tasks on firms
    currently in their parks; firm users see none.
    """
    condition = _visible(principal)
    return stmt if condition is None else stmt.where(condition)


def _order(sort: str, direction: str) -> list[Any]:
    desc = direction == "desc"
    if sort == "created_at":
        if desc:
            return [Task.created_at.desc(), Task.id.desc()]
        return [Task.created_at.asc(), Task.id]
    # Due date: tasks without one always last, whichever the direction.
    return [Task.due_on.is_(None), Task.due_on.desc() if desc else Task.due_on.asc(), Task.id]


def assigned_tasks(
    session: Session,
    principal: Principal,
    statuses: Collection[TaskStatus],
    *,
    sort: str = "due_on",
    direction: str = "asc",
    limit: int | None = None,
    offset: int = 0,
) -> list[tuple[Task, str | None]]:
    """Tasks assigned to the principal with these statuses, each with its firm's name: one query."""
    stmt = (
        select(Task, Firm.name)
        .outerjoin(Firm, Firm.id == Task.firm_id)
        .where(Task.assignee_id == principal.user_id, Task.status.in_(list(statuses)))
        .order_by(*_order(sort, direction))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(task, name) for task, name in session.execute(scoped(stmt, principal))]


def count_assigned(session: Session, principal: Principal, statuses: Collection[TaskStatus]) -> int:
    stmt = select(func.count(Task.id)).where(
        Task.assignee_id == principal.user_id, Task.status.in_(list(statuses))
    )
    return int(session.scalar(scoped(stmt, principal)) or 0)


def visible_tasks(
    session: Session,
    principal: Principal,
    *,
    firm_id: int | None = None,
    statuses: Collection[TaskStatus] | None = None,
) -> list[tuple[Task, str | None]]:
    """Every task the principal may see (optionally on one firm), with firm names: one query."""
    stmt = select(Task, Firm.name).outerjoin(Firm, Firm.id == Task.firm_id).order_by(*_order("due_on", "asc"))
    if firm_id is not None:
        stmt = stmt.where(Task.firm_id == firm_id)
    if statuses is not None:
        stmt = stmt.where(Task.status.in_(list(statuses)))
    return [(task, name) for task, name in session.execute(scoped(stmt, principal))]


def task_by_id(session: Session, principal: Principal, task_id: int) -> Task | None:
    return session.scalars(scoped(select(Task).where(Task.id == task_id), principal)).first()


def firm_name(session: Session, firm_id: int) -> str | None:
    return session.scalar(select(Firm.name).where(Firm.id == firm_id))


# Firm look-ups for attaching a task to a firm. They follow the same park rule as `scoped()` (an
# officer may attach only firms currently in their parks); move to app.firms.service once it has them.


def firms_matching(
    session: Session, principal: Principal, *, uscc: str | None = None, name: str | None = None
) -> list[tuple[int, str]]:
    """(id, name) of at most two firms with this USCC or exact name that the principal may attach."""
    stmt = select(Firm.id, Firm.name).order_by(Firm.id).limit(2)
    if uscc is not None:
        stmt = stmt.where(Firm.uscc == uscc)
    elif name is not None:
        stmt = stmt.where(Firm.name == name)
    else:
        return []
    if principal.role is Role.officer:
        stmt = stmt.where(Firm.id.in_(_park_firm_ids(principal.park_codes or frozenset())))
    elif principal.role not in (Role.admin, Role.leader):
        return []
    return [(int(fid), str(fname)) for fid, fname in session.execute(stmt)]


def firm_in_parks(session: Session, firm_id: int, park_codes: Collection[str]) -> bool:
    stmt = _park_firm_ids(park_codes).where(Membership.firm_id == firm_id).limit(1)
    return session.scalar(stmt) is not None


def firm_exists(session: Session, firm_id: int) -> bool:
    return session.scalar(select(Firm.id).where(Firm.id == firm_id)) is not None


def assignable_user(session: Session, user_id: int) -> User | None:
    """An active officer or admin: the people a task can be assigned to."""
    return session.scalars(
        select(User).where(
            User.id == user_id, User.is_active.is_(True), User.role.in_([Role.officer, Role.admin])
        )
    ).first()
