"""到期提醒: the officers' list of certificates about to expire, and the action that creates the
re-recognition tasks (plain form with a 303, or the list block for htmx)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.casework import service as casework_service
from app.casework.dependencies import TaskEditor
from app.db import SessionDep
from app.recognitions import expiry
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block

router = APIRouter(prefix="/recognitions", tags=["recognitions"], include_in_schema=False)

PAGE = "recognitions/expiring.html"
BLOCK = "expiry_table"


def _context(
    session: Session, principal: Principal, months: int, notice: str | None = None
) -> dict[str, Any]:
    rows = expiry.expiry_list(session, principal, today(), months)
    can_create = casework_service.can_manage(principal)
    return {
        "months": months,
        "windows": [(m, f"{m}个月内") for m in expiry.WINDOWS],
        "groups": expiry.group_rows(rows),
        "total": len(rows),
        "missing": sum(1 for r in rows if not r.has_task),
        "can_create": can_create,
        "notice": notice,
    }


def _notice(created: int | None) -> str | None:
    if created is None:
        return None
    return f"已生成 {created} 条重新认定待办" if created else "没有需要新生成的待办：列表中的认定均已有待办"


@router.get("/expiring", name="recognitions:expiring")
def expiring(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    months: Annotated[str, Query(max_length=2)] = "",
    created: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """到期提醒: certificates in my parks expiring within 1, 3 or 6 months; the table alone for htmx."""
    ctx = _context(session, principal, expiry.parse_months(months), _notice(created))
    return render(request, PAGE, ctx, block=BLOCK)


@router.post("/expiring/tasks", name="recognitions:ensure_tasks")
def ensure_tasks(
    request: Request,
    session: SessionDep,
    principal: TaskEditor,
    months: Annotated[str, Form(max_length=2)] = "",
    recognition_id: Annotated[int | None, Form()] = None,
) -> Response:
    """生成重新认定待办 for every listed certificate without one (or only `recognition_id`); idempotent."""
    window = expiry.parse_months(months)
    run = expiry.ensure_expiry_tasks(
        session,
        principal,
        today(),
        window,
        recognition_ids=[recognition_id] if recognition_id is not None else None,
    )
    if wants_block(request, BLOCK):
        return render(
            request, PAGE, _context(session, principal, window, _notice(len(run.created))), block=BLOCK
        )
    url = request.app.url_path_for("recognitions:expiring")
    return redirect_after_post(request, f"{url}?months={window}&created={len(run.created)}")
