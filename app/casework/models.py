"""The shared task model every workflow uses: expiry reminders, 一企一策 items, pushes, requests, visits."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, UTCDateTime
from app.firms.models import label


class TaskOrigin(StrEnum):
    manual = "manual"
    expiry_reminder = "expiry_reminder"
    plan_item = "plan_item"
    push = "push"
    request = "request"
    visit = "visit"


TASK_ORIGIN_LABELS = {
    TaskOrigin.manual: "手工登记",
    TaskOrigin.expiry_reminder: "到期提醒",
    TaskOrigin.plan_item: "一企一策事项",
    TaskOrigin.push: "政策推送",
    TaskOrigin.request: "企业诉求",
    TaskOrigin.visit: "走访",
}


class TaskStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


TASK_STATUS_LABELS = {
    TaskStatus.open: "待办",
    TaskStatus.in_progress: "办理中",
    TaskStatus.done: "已办结",
    TaskStatus.cancelled: "已取消",
}


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"
    __audited__ = True
    __label__ = "待办"
    __table_args__ = (Index("ix_tasks_assignee_status", "assignee_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), info=label("承办人"))
    origin: Mapped[TaskOrigin] = mapped_column(String(24), info=label("来源", TASK_ORIGIN_LABELS))
    # What the task came from in its own workflow (e.g. "recognition:12"), for later issues to link back.
    origin_ref: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), info=label("事项"))
    due_on: Mapped[date | None] = mapped_column(Date, info=label("办理期限"))
    status: Mapped[TaskStatus] = mapped_column(
        String(16), default=TaskStatus.open, info=label("状态", TASK_STATUS_LABELS)
    )
    notes: Mapped[str | None] = mapped_column(Text, info=label("办理情况"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=label("办结时间"))
