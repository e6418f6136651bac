"""Tasks: create, change status, list an officer's own. Every workflow (reminders, 一企一策, pushes,
requests, visits) creates its tasks through `create_task`."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.audit.actor import Actor
from app.auth.models import Role
from app.auth.principal import Principal
from app.casework import repository
from app.casework.models import TASK_ORIGIN_LABELS, TASK_STATUS_LABELS, Task, TaskOrigin, TaskStatus
from app.db import utcnow
from app.errors import NotFound, NotPermitted, RuleViolation
from app.firms import uscc as uscc_codes
from app.web.formatting import today as shanghai_today

OPEN_STATUSES = (TaskStatus.open, TaskStatus.in_progress)
CLOSED_STATUSES = (TaskStatus.done, TaskStatus.cancelled)
# A task due within this many days (and not overdue) is flagged 即将到期.
DUE_SOON_DAYS = 3

STATUS_BADGE = {
    TaskStatus.open: "info",
    TaskStatus.in_progress: "warn",
    TaskStatus.done: "ok",
    TaskStatus.cancelled: "muted",
}

# The one-click transitions offered on a row: (new status, button label, button kind).
QUICK_ACTIONS: dict[TaskStatus, list[tuple[TaskStatus, str, str]]] = {
    TaskStatus.open: [
        (TaskStatus.in_progress, "开始办理", "secondary"),
        (TaskStatus.done, "办结", "primary"),
    ],
    TaskStatus.in_progress: [(TaskStatus.done, "办结", "primary")],
    TaskStatus.done: [(TaskStatus.open, "重新打开", "secondary")],
    TaskStatus.cancelled: [(TaskStatus.open, "重新打开", "secondary")],
}

READ_ONLY_MESSAGE = "领导账号仅可查看待办，不能新建或办理"


@dataclass(frozen=True)
class TaskRow:
    """A task as a list shows it: the firm's name and the labels and flags the row needs."""

    task: Task
    firm_name: str | None
    status_label: str
    status_kind: str
    origin_label: str
    is_closed: bool
    is_overdue: bool
    overdue_days: int
    due_soon: bool
    actions: list[tuple[TaskStatus, str, str]] = field(default_factory=list)


def can_manage(principal: Principal) -> bool:
    """Admins and officers create and handle tasks; leaders only read; firm users never see them."""
    return principal.role in (Role.admin, Role.officer)


def ensure_can_manage(principal: Principal) -> None:
    if principal.role is Role.leader:
        raise NotPermitted(READ_ONLY_MESSAGE)
    if not can_manage(principal):
        raise NotPermitted()


def _statuses(status: TaskStatus | Collection[TaskStatus] | None) -> tuple[TaskStatus, ...]:
    if status is None:
        return OPEN_STATUSES
    if isinstance(status, TaskStatus):
        return (status,)
    return tuple(status)


def to_row(task: Task, firm_name: str | None, *, today: date | None = None) -> TaskRow:
    today = today or shanghai_today()
    status = TaskStatus(task.status)
    closed = status in CLOSED_STATUSES
    overdue_days = (today - task.due_on).days if task.due_on and not closed else 0
    return TaskRow(
        task=task,
        firm_name=firm_name,
        status_label=TASK_STATUS_LABELS[status],
        status_kind=STATUS_BADGE[status],
        origin_label=TASK_ORIGIN_LABELS.get(TaskOrigin(task.origin), str(task.origin)),
        is_closed=closed,
        is_overdue=overdue_days > 0,
        overdue_days=max(overdue_days, 0),
        due_soon=bool(task.due_on) and not closed and -DUE_SOON_DAYS <= overdue_days <= 0,
        actions=QUICK_ACTIONS[status],
    )


def my_tasks(
    session: Session,
    principal: Principal,
    status: TaskStatus | Collection[TaskStatus] | None = None,
    *,
    sort: str = "due_on",
    direction: str = "asc",
    limit: int | None = None,
    offset: int = 0,
    today: date | None = None,
) -> list[TaskRow]:
    """Tasks assigned to the principal (default: 待办 and 办理中), with firm names, in one query."""
    rows = repository.assigned_tasks(
        session, principal, _statuses(status), sort=sort, direction=direction, limit=limit, offset=offset
    )
    today = today or shanghai_today()
    return [to_row(task, name, today=today) for task, name in rows]


def count_my_tasks(
    session: Session, principal: Principal, status: TaskStatus | Collection[TaskStatus] | None = None
) -> int:
    return repository.count_assigned(session, principal, _statuses(status))


def firm_tasks(
    session: Session,
    principal: Principal,
    firm_id: int,
    status: TaskStatus | Collection[TaskStatus] | None = None,
) -> list[TaskRow]:
    """Tasks on one firm that the principal may see (for the firm's file), in one query."""
    rows = repository.visible_tasks(session, principal, firm_id=firm_id, statuses=_statuses(status))
    today = shanghai_today()
    return [to_row(task, name, today=today) for task, name in rows]


def get_task(session: Session, principal: Principal, task_id: int) -> Task:
    """The task if the principal may see it, else NotFound (never reveal that it exists)."""
    task = repository.task_by_id(session, principal, task_id)
    if task is None:
        raise NotFound("未找到该待办，或您无权查看")
    return task


def task_row(session: Session, task: Task) -> TaskRow:
    name = repository.firm_name(session, task.firm_id) if task.firm_id is not None else None
    return to_row(task, name)


_USCC_SHAPE = re.compile(r"^[0-9A-Z]{18}$")


def resolve_firm(session: Session, principal: Principal, text: str) -> int:
    """The firm named by USCC or full name, within the principal's parks; else RuleViolation on `firm`."""
    text = text.strip()
    code = uscc_codes.normalise(text)
    if _USCC_SHAPE.match(code):
        found = repository.firms_matching(session, principal, uscc=code)
    else:
        found = repository.firms_matching(session, principal, name=text)
    if not found:
        raise RuleViolation("未找到该企业，或该企业不在您负责的园区", field="firm")
    if len(found) > 1:
        raise RuleViolation("有多家企业同名，请填写统一社会信用代码", field="firm")
    return found[0][0]


def create_task(
    session: Session,
    *,
    by: Principal | Actor | None,
    assignee_id: int,
    title: str,
    origin: TaskOrigin,
    firm_id: int | None = None,
    due_on: date | None = None,
    notes: str | None = None,
    origin_ref: str | None = None,
) -> Task:
    """Create a task. `by` is who creates it: a signed-in principal (permissions checked), or a job's
    Actor / None (no check). The session's audit actor must already be set (the auth dependency does)."""
    title = title.strip()
    if not title:
        raise RuleViolation("请填写事项", field="title")
    if len(title) > 200:
        raise RuleViolation("事项不能超过 200 个字符", field="title")
    if isinstance(by, Principal):
        ensure_can_manage(by)
        if (
            firm_id is not None
            and by.role is Role.officer
            and not repository.firm_in_parks(session, firm_id, by.park_codes or frozenset())
        ):
            raise RuleViolation("该企业不在您负责的园区", field="firm")
    if firm_id is not None and not repository.firm_exists(session, firm_id):
        raise RuleViolation("未找到该企业", field="firm")
    if repository.assignable_user(session, assignee_id) is None:
        raise RuleViolation("承办人应为在岗的企业服务专员或管理员", field="assignee_id")
    task = Task(
        firm_id=firm_id,
        assignee_id=assignee_id,
        origin=TaskOrigin(origin),
        origin_ref=origin_ref,
        title=title,
        due_on=due_on,
        status=TaskStatus.open,
        notes=(notes or "").strip() or None,
        created_by_id=by.user_id if by is not None else None,
    )
    session.add(task)
    session.flush()
    return task


def update_status(
    session: Session, task: Task, status: TaskStatus, notes: str | None = None, *, by: Principal | None = None
) -> Task:
    """Move a task to `status` (closed_at set on 已办结/已取消, cleared on reopening); non-blank notes
    replace the 办理情况. With `by`, leaders and firm users are refused."""
    if by is not None:
        ensure_can_manage(by)
    status = TaskStatus(status)
    if status != task.status:
        task.status = status
        task.closed_at = utcnow() if status in CLOSED_STATUSES else None
    notes = (notes or "").strip()
    if notes:
        task.notes = notes
    session.flush()
    return task
