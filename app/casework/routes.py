"""我的待办: the officer's task list, a quick create form and status changes (plain forms and htmx)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.casework import service
from app.casework.dependencies import TaskDep, TaskEditor
from app.casework.models import TASK_STATUS_LABELS, TaskOrigin
from app.casework.schemas import (
    TASK_TAB_LABELS,
    TASK_TAB_STATUSES,
    SortDir,
    TaskCreate,
    TaskSort,
    TaskStatusChange,
    TaskTab,
)
from app.config import settings
from app.db import SessionDep
from app.errors import RuleViolation
from app.web.templating import redirect_after_post, render
from app.web.validation import field_errors

router = APIRouter(tags=["casework"], include_in_schema=False)

PAGE = "casework/my_tasks.html"
ROW = "casework/_task_row.html"
FORM_FIELDS = ("title", "due_on", "firm", "notes")


def _tab(value: str | None) -> TaskTab:
    try:
        return TaskTab(value or TaskTab.active)
    except ValueError:
        return TaskTab.active


def _list_context(
    session: Session, principal: Principal, *, tab: TaskTab, sort: TaskSort, direction: SortDir, page: int
) -> dict[str, Any]:
    statuses = TASK_TAB_STATUSES[tab]
    total = service.count_my_tasks(session, principal, statuses)
    pages = max(1, math.ceil(total / settings.page_size))
    page = min(max(page, 1), pages)
    rows = service.my_tasks(
        session,
        principal,
        statuses,
        sort=sort,
        direction=direction,
        limit=settings.page_size,
        offset=(page - 1) * settings.page_size,
    )
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "tab": tab,
        "tabs": list(TASK_TAB_LABELS.items()),
        "sort": sort,
        "direction": direction,
        "can_edit": service.can_manage(principal),
        "status_options": list(TASK_STATUS_LABELS.items()),
    }


def _is_htmx(request: Request) -> bool:
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


@router.get("/tasks", name="casework:my_tasks")
def my_tasks(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    tab: str | None = None,
    sort: TaskSort = TaskSort.due_on,
    dir: SortDir = SortDir.asc,
    page: Annotated[int, Query(ge=1)] = 1,
    firm: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """我的待办: tasks assigned to me, by status tab; the task table alone when htmx targets it."""
    ctx = _list_context(session, principal, tab=_tab(tab), sort=sort, direction=dir, page=page)
    # ?firm=<USCC> (from a firm's file) pre-fills the create form.
    ctx.update(form={"firm": firm.strip()}, errors={})
    return render(request, PAGE, ctx, block="task_table")


@router.post("/tasks", name="casework:create")
def create(
    request: Request,
    session: SessionDep,
    principal: TaskEditor,
    title: Annotated[str, Form()] = "",
    due_on: Annotated[str, Form()] = "",
    firm: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    tab: Annotated[str, Form()] = "",
) -> Response:
    """新建待办 for oneself; 422 with the form and its errors, else 303 (HX-Location for htmx)."""
    values = {"title": title, "due_on": due_on, "firm": firm, "notes": notes}
    errors: dict[str, str]
    try:
        data = TaskCreate.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
    else:
        try:
            firm_id = service.resolve_firm(session, principal, data.firm) if data.firm else None
            service.create_task(
                session,
                by=principal,
                assignee_id=principal.user_id,
                title=data.title,
                origin=TaskOrigin.manual,
                firm_id=firm_id,
                due_on=data.due_on,
                notes=data.notes,
            )
        except RuleViolation as exc:
            errors = {exc.field if exc.field in FORM_FIELDS else "__all__": exc.message}
        else:
            return redirect_after_post(request, _list_url(request, _tab(tab)))
    ctx = _list_context(
        session, principal, tab=_tab(tab), sort=TaskSort.due_on, direction=SortDir.asc, page=1
    )
    ctx.update(form=values, errors=errors)
    return render(request, PAGE, ctx, block="task_form", status_code=422)


@router.post("/tasks/{task_id}/status", name="casework:set_status")
def set_status(
    request: Request,
    session: SessionDep,
    task: TaskDep,
    principal: TaskEditor,
    status: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    tab: Annotated[str, Form()] = "",
) -> Response:
    """Change a task's status (and 办理情况). htmx gets the row (HX-Target task-<id>) or the table back."""
    try:
        change = TaskStatusChange.model_validate({"status": status, "notes": notes})
    except ValidationError as exc:
        first = field_errors(exc.errors())
        raise RuleViolation(next(iter(first.values()), "输入有误"), field="status") from exc
    service.update_status(session, task, change.status, change.notes, by=principal)
    current_tab = _tab(tab)
    if _is_htmx(request) and request.headers.get("hx-target") == f"task-{task.id}":
        ctx = {
            "row": service.task_row(session, task),
            "tab": current_tab,
            "can_edit": True,
            "status_options": list(TASK_STATUS_LABELS.items()),
        }
        return render(request, ROW, ctx)
    if _is_htmx(request) and request.headers.get("hx-target") == "task-table":
        ctx = _list_context(
            session, principal, tab=current_tab, sort=TaskSort.due_on, direction=SortDir.asc, page=1
        )
        ctx.update(form={}, errors={})
        return render(request, PAGE, ctx, block="task_table")
    return redirect_after_post(request, _list_url(request, current_tab))


def _list_url(request: Request, tab: TaskTab) -> str:
    url = request.app.url_path_for("casework:my_tasks")
    return url if tab is TaskTab.active else f"{url}?tab={tab.value}"
