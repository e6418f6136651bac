"""一企一策: a plan tailored to one firm, carried by a 工作专班. Each item (贷款贴息, 减费降本 …) has an
owner department, a due date and a status, and its follow-up runs through a task on the plan owner's
我的待办 (created by app.casework.service.create_task, kept in step with the item's status), so overdue items
show there.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.auth.principal import Principal
from app.casework import service as casework_service
from app.casework.models import TaskOrigin, TaskStatus
from app.errors import NotFound, NotPermitted, RuleViolation
from app.firms.models import Firm
from app.firms.repository import scoped
from app.policies.models import (
    PLAN_ITEM_STATUS_LABELS,
    PLAN_STATUS_LABELS,
    PlanItem,
    PlanItemStatus,
    PlanNote,
    PlanStatus,
    SupportPlan,
)

CATEGORIES = ["贷款贴息", "减费降本", "适销对路", "人才支持", "场景应用", "融资服务", "其他"]
# Suggestions for the owner department (a datalist): the 工作专班 is cross-department, the text is free.
DEPARTMENTS = ["区科委", "区商务委", "区经信委", "区财政局", "区人社局", "区金融办", "区市场监管局", "园区"]
OPEN_ITEM_STATUSES = (PlanItemStatus.open, PlanItemStatus.in_progress)
ITEM_BADGE = {
    PlanItemStatus.open: "info",
    PlanItemStatus.in_progress: "warn",
    PlanItemStatus.done: "ok",
    PlanItemStatus.cancelled: "muted",
}
# The plan item's status and its task's status share their values (open, in_progress, done, cancelled).
TASK_STATUS_FOR = {s: TaskStatus(s.value) for s in PlanItemStatus}
READ_ONLY_MESSAGE = "领导账号仅可查看一企一策，不能修改"


def can_manage(principal: Principal) -> bool:
    return principal.role in (Role.admin, Role.officer)


def ensure_can_manage(principal: Principal) -> None:
    if principal.role is Role.leader:
        raise NotPermitted(READ_ONLY_MESSAGE)
    if not can_manage(principal):
        raise NotPermitted()


# ------------------------------------------------------------------------------------------------ input


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class PlanIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    title: Annotated[str, Field(min_length=1, max_length=200)]
    goal: Annotated[str | None, Field(max_length=2000)] = None
    task_force: Annotated[str | None, Field(max_length=300)] = None

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        if not _blank_to_none(value):
            raise ValueError("请填写方案名称")
        return value

    @field_validator("goal", "task_force", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank_to_none(value)


class PlanItemIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    category: str
    content: Annotated[str, Field(max_length=2000)]
    department: Annotated[str, Field(max_length=64)]
    due_on: date
    status: PlanItemStatus = PlanItemStatus.open

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> Any:
        if value not in CATEGORIES:
            raise ValueError("请选择事项类别")
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> Any:
        if not _blank_to_none(value):
            raise ValueError("请填写事项内容")
        return value

    @field_validator("department", mode="before")
    @classmethod
    def _department(cls, value: Any) -> Any:
        if not _blank_to_none(value):
            raise ValueError("请填写责任部门")
        return value

    @field_validator("due_on", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        if not _blank_to_none(value):
            raise ValueError("请填写完成时限")
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        value = _blank_to_none(value) or PlanItemStatus.open.value
        if value not in {s.value for s in PlanItemStatus}:
            raise ValueError("请选择有效的状态")
        return value


def parse_item_status(value: str | None) -> PlanItemStatus:
    try:
        return PlanItemStatus(value or "")
    except ValueError:
        raise RuleViolation("请选择有效的状态", field="status") from None


# ------------------------------------------------------------------------------------------------ reading


@dataclass
class PlanRow:
    plan: SupportPlan
    firm_name: str
    owner_name: str | None
    items: int = 0
    open_items: int = 0
    overdue: int = 0


@dataclass
class ItemRow:
    item: PlanItem
    status_label: str
    status_kind: str
    is_overdue: bool
    overdue_days: int
    notes: list[tuple[PlanNote, str | None]] = field(default_factory=list)


def _scoped_plans(principal: Principal) -> Select[Any]:
    return scoped(select(SupportPlan.id).join(Firm, Firm.id == SupportPlan.firm_id), principal)


def list_plans(
    session: Session,
    principal: Principal,
    *,
    status: PlanStatus | None,
    today: date,
    page: int = 1,
    page_size: int = 25,
) -> tuple[list[PlanRow], int, int, int]:
    """One page of plans in scope with item and overdue counts: (rows, total, page, pages), three queries."""
    ids = _scoped_plans(principal)
    if status is not None:
        ids = ids.where(SupportPlan.status == status)
    total = int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(SupportPlan, Firm.name, User.display_name)
        .join(Firm, Firm.id == SupportPlan.firm_id)
        .outerjoin(User, User.id == SupportPlan.owner_id)
        .where(SupportPlan.id.in_(ids))
        .order_by(SupportPlan.status, Firm.name, SupportPlan.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    out = [PlanRow(plan, firm_name, owner) for plan, firm_name, owner in rows]
    if out:
        is_open = PlanItem.status.in_(list(OPEN_ITEM_STATUSES))
        counts = session.execute(
            select(
                PlanItem.plan_id,
                func.count(PlanItem.id),
                func.sum(case((is_open, 1), else_=0)),
                func.sum(case((is_open & (PlanItem.due_on < today), 1), else_=0)),
            )
            .where(PlanItem.plan_id.in_([r.plan.id for r in out]))
            .group_by(PlanItem.plan_id)
        ).all()
        by_id = {r.plan.id: r for r in out}
        for plan_id, items, open_items, overdue in counts:
            row = by_id[plan_id]
            row.items, row.open_items, row.overdue = int(items), int(open_items or 0), int(overdue or 0)
    return out, total, page, pages


def get_plan(session: Session, principal: Principal, plan_id: int) -> SupportPlan:
    """The plan if its firm is in the principal's scope, else NotFound."""
    plan = session.scalars(
        select(SupportPlan).where(
            SupportPlan.id.in_(_scoped_plans(principal).where(SupportPlan.id == plan_id))
        )
    ).first()
    if plan is None:
        raise NotFound("未找到该一企一策方案，或该企业不在您负责的园区")
    return plan


def get_item(session: Session, plan: SupportPlan, item_id: int) -> PlanItem:
    item = session.get(PlanItem, item_id)
    if item is None or item.plan_id != plan.id:
        raise NotFound("未找到该事项")
    return item


def plan_items(session: Session, plan: SupportPlan, *, today: date) -> list[ItemRow]:
    """The plan's items (by due date) with their follow-up notes and authors: two queries."""
    items = list(
        session.scalars(
            select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.due_on, PlanItem.id)
        )
    )
    notes: dict[int, list[tuple[PlanNote, str | None]]] = defaultdict(list)
    if items:
        for note, author in session.execute(
            select(PlanNote, User.display_name)
            .outerjoin(User, User.id == PlanNote.author_id)
            .where(PlanNote.item_id.in_([i.id for i in items]))
            .order_by(PlanNote.at, PlanNote.id)
        ):
            notes[note.item_id].append((note, author))
    rows = []
    for item in items:
        status = PlanItemStatus(item.status)
        late = (today - item.due_on).days if item.due_on and status in OPEN_ITEM_STATUSES else 0
        rows.append(
            ItemRow(
                item=item,
                status_label=PLAN_ITEM_STATUS_LABELS[status],
                status_kind=ITEM_BADGE[status],
                is_overdue=late > 0,
                overdue_days=max(late, 0),
                notes=notes.get(item.id, []),
            )
        )
    return rows


def plan_header(session: Session, plan: SupportPlan) -> tuple[Firm, str | None]:
    """The plan's firm and the owner's name."""
    firm = session.get(Firm, plan.firm_id)
    assert firm is not None
    owner = (
        session.scalar(select(User.display_name).where(User.id == plan.owner_id)) if plan.owner_id else None
    )
    return firm, owner


def plans_of_firm(session: Session, principal: Principal, firm_id: int) -> list[SupportPlan]:
    return list(
        session.scalars(
            select(SupportPlan)
            .where(SupportPlan.id.in_(_scoped_plans(principal).where(SupportPlan.firm_id == firm_id)))
            .order_by(SupportPlan.id.desc())
        )
    )


# ------------------------------------------------------------------------------------------------ changes


def create_plan(session: Session, principal: Principal, firm: Firm, data: PlanIn) -> SupportPlan:
    """A new plan for a firm in scope; the author leads it (牵头专员) and receives its items' tasks."""
    ensure_can_manage(principal)
    plan = SupportPlan(
        firm_id=firm.id,
        title=data.title,
        goal=data.goal,
        task_force=data.task_force,
        owner_id=principal.user_id,
        status=PlanStatus.active,
    )
    session.add(plan)
    session.flush()
    return plan


def set_plan_status(session: Session, principal: Principal, plan: SupportPlan, status: PlanStatus) -> None:
    ensure_can_manage(principal)
    plan.status = PlanStatus(status)
    session.flush()


def _task_title(firm_name: str, item: PlanItem) -> str:
    content = " ".join(item.content.split())
    title = f"一企一策·{item.category}：{content}（{firm_name}，{item.department}）"
    return title if len(title) <= 200 else title[:199] + "…"


def add_item(session: Session, principal: Principal, plan: SupportPlan, data: PlanItemIn) -> PlanItem:
    """Add an item and the task that follows it up on the plan owner's 我的待办 (due on the item's date)."""
    ensure_can_manage(principal)
    if plan.status != PlanStatus.active:
        raise RuleViolation("方案已结束，不能再添加事项", field="__all__")
    item = PlanItem(
        plan_id=plan.id,
        firm_id=plan.firm_id,
        category=data.category,
        content=data.content,
        department=data.department,
        due_on=data.due_on,
        status=data.status,
    )
    session.add(item)
    session.flush()
    firm_name = session.scalar(select(Firm.name).where(Firm.id == plan.firm_id)) or ""
    task = casework_service.create_task(
        session,
        by=principal,
        assignee_id=plan.owner_id or principal.user_id,
        title=_task_title(firm_name, item),
        origin=TaskOrigin.plan_item,
        origin_ref=f"plan_item:{item.id}",
        firm_id=plan.firm_id,
        due_on=data.due_on,
    )
    if data.status != PlanItemStatus.open:
        casework_service.update_status(session, task, TASK_STATUS_FOR[data.status])
    item.task_id = task.id
    session.flush()
    return item


def set_item_status(session: Session, principal: Principal, item: PlanItem, status: PlanItemStatus) -> None:
    """Change an item's status and move its task with it (done → 已办结, reopened → 待办)."""
    ensure_can_manage(principal)
    item.status = PlanItemStatus(status)
    if item.task_id is not None:
        try:
            task = casework_service.get_task(session, principal, item.task_id)
        except NotFound:
            task = None
        if task is not None:
            casework_service.update_status(session, task, TASK_STATUS_FOR[item.status])
    session.flush()


def add_note(session: Session, principal: Principal, item: PlanItem, text: str) -> PlanNote:
    """A follow-up note (跟进记录) on an item, signed by its author."""
    ensure_can_manage(principal)
    text = (text or "").strip()
    if not text:
        raise RuleViolation("请填写跟进情况", field="text")
    if len(text) > 2000:
        raise RuleViolation("跟进情况不能超过 2000 个字符", field="text")
    note = PlanNote(item_id=item.id, firm_id=item.firm_id, author_id=principal.user_id, text=text)
    session.add(note)
    session.flush()
    return note


PLAN_STATUS_OPTIONS = list(PLAN_STATUS_LABELS.items())
ITEM_STATUS_OPTIONS = list(PLAN_ITEM_STATUS_LABELS.items())
