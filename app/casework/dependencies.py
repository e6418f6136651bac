"""Who may handle tasks, and the task of the URL loaded within the caller's scope (or 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.casework import service
from app.casework.models import Task
from app.db import SessionDep


def task_editor(principal: StaffPrincipal) -> Principal:
    """Officers and admins; leaders read only (403)."""
    service.ensure_can_manage(principal)
    return principal


TaskEditor = Annotated[Principal, Depends(task_editor)]


def load_task(task_id: int, session: SessionDep, principal: TaskEditor) -> Task:
    """The task if the editor may see it; otherwise 404, so a task outside one's parks stays invisible."""
    return service.get_task(session, principal, task_id)


TaskDep = Annotated[Task, Depends(load_task)]
