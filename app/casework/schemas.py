"""Form input for tasks, validated with the Chinese messages officers read beside each field."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.casework.models import TaskStatus

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TaskTab(StrEnum):
    """The filter tabs of 我的待办; each is a set of statuses."""

    active = "active"
    open = "open"
    in_progress = "in_progress"
    closed = "closed"


TASK_TAB_LABELS = {
    TaskTab.active: "全部未办结",
    TaskTab.open: "待办",
    TaskTab.in_progress: "办理中",
    TaskTab.closed: "已办结",
}

TASK_TAB_STATUSES: dict[TaskTab, tuple[TaskStatus, ...]] = {
    TaskTab.active: (TaskStatus.open, TaskStatus.in_progress),
    TaskTab.open: (TaskStatus.open,),
    TaskTab.in_progress: (TaskStatus.in_progress,),
    TaskTab.closed: (TaskStatus.done, TaskStatus.cancelled),
}


class TaskSort(StrEnum):
    due_on = "due_on"
    created_at = "created_at"


class SortDir(StrEnum):
    asc = "asc"
    desc = "desc"


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def parse_form_date(value: Any) -> Any:
    """YYYY-MM-DD only (what <input type=date> sends and officers type); blank is no date."""
    value = _blank_to_none(value)
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("日期不存在，请检查年月日") from exc
    if not 2000 <= parsed.year <= 2100:
        raise ValueError("日期超出合理范围（2000–2100 年）")
    return parsed


class TaskCreate(BaseModel):
    """The 新建待办 form. `firm` is what the officer typed: a USCC or a firm's full name (optional)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(max_length=200)
    due_on: date | None = None
    firm: str | None = Field(default=None, max_length=128)
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("title", mode="before")
    @classmethod
    def _title_required(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("请填写事项")
        return value

    @field_validator("firm", "notes", mode="before")
    @classmethod
    def _optional_text(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("due_on", mode="before")
    @classmethod
    def _due_on(cls, value: Any) -> Any:
        return parse_form_date(value)


class TaskStatusChange(BaseModel):
    """A status change from the task row; notes left blank keep the current 办理情况."""

    model_config = ConfigDict(str_strip_whitespace=True)

    status: TaskStatus
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: Any) -> Any:
        if value not in {s.value for s in TaskStatus}:
            raise ValueError("请选择有效的办理状态")
        return value

    @field_validator("notes", mode="before")
    @classmethod
    def _optional_text(cls, value: Any) -> Any:
        return _blank_to_none(value)
