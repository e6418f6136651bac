"""一企一策 pages: the plans in my parks, a new plan for a firm, a plan with its items and follow-up notes
(changed in place: htmx re-renders `plan_items`, plain forms get a 303), and a printable layout. Leaders
read only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.casework import service as casework_service
from app.config import settings
from app.db import SessionDep
from app.errors import NotFound, RuleViolation
from app.firms import repository as firms_repository
from app.policies import plans
from app.policies.models import PLAN_STATUS_LABELS, PlanStatus, SupportPlan
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block
from app.web.validation import field_errors

router = APIRouter(prefix="/plans", tags=["policies"], include_in_schema=False)

LIST_PAGE = "policies/plans.html"
FORM_PAGE = "policies/plans_new.html"
DETAIL_PAGE = "policies/plans_detail.html"
PRINT_PAGE = "policies/plans_print.html"
TABS = [("active", "实施中"), ("closed", "已结束"), ("all", "全部")]
PLAN_FIELDS = ("firm", "title", "goal", "task_force")
ITEM_FIELDS = ("category", "content", "department", "due_on", "status")


def plan_editor(principal: StaffPrincipal) -> Principal:
    """Officers and admins; leaders read only (403)."""
    plans.ensure_can_manage(principal)
    return principal


PlanEditor = Annotated[Principal, Depends(plan_editor)]


def load_plan(plan_id: int, session: SessionDep, principal: StaffPrincipal) -> SupportPlan:
    """The plan if its firm is in the caller's parks; otherwise 404."""
    return plans.get_plan(session, principal, plan_id)


PlanDep = Annotated[SupportPlan, Depends(load_plan)]


# ------------------------------------------------------------------------------------------------ list


@router.get("", name="plans:list")
def plan_list(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    status: Annotated[str, Query(max_length=8)] = "active",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """一企一策: plans in my parks by status, with open and overdue item counts; the table alone for htmx."""
    tab = status if status in dict(TABS) else "active"
    rows, total, page, pages = plans.list_plans(
        session,
        principal,
        status=None if tab == "all" else PlanStatus(tab),
        today=today(),
        page=page,
        page_size=settings.page_size,
    )
    ctx = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "tab": tab,
        "tabs": TABS,
        "status_labels": PLAN_STATUS_LABELS,
        "can_edit": plans.can_manage(principal),
    }
    return render(request, LIST_PAGE, ctx, block="plan_table")


# ------------------------------------------------------------------------------------------------ new plan


def _form_context(values: dict[str, str], errors: dict[str, str], firm_label: str | None) -> dict[str, Any]:
    return {"form": values, "errors": errors, "firm_label": firm_label}


@router.get("/new", name="plans:new")
def new_plan(
    request: Request,
    session: SessionDep,
    principal: PlanEditor,
    firm_id: Annotated[int | None, Query()] = None,
) -> Response:
    """新建一企一策 form; `?firm_id=` (from a firm's file) fills in the firm."""
    values = {"firm": "", "title": "", "goal": "", "task_force": ""}
    firm_label = None
    if firm_id is not None:
        firm = firms_repository.get_in_scope(session, principal, firm_id)
        if firm is None:
            raise NotFound("未找到该企业，或该企业不在您负责的园区")
        values.update(firm=firm.uscc, title=f"{firm.name}一企一策方案")
        firm_label = firm.name
    return render(request, FORM_PAGE, _form_context(values, {}, firm_label))


@router.post("", name="plans:create")
def create_plan(
    request: Request,
    session: SessionDep,
    principal: PlanEditor,
    firm: Annotated[str, Form(max_length=128)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    goal: Annotated[str, Form(max_length=4000)] = "",
    task_force: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Create a plan: 422 with the form, Chinese errors beside each field, typed values kept; else 303."""
    values = {"firm": firm, "title": title, "goal": goal, "task_force": task_force}
    errors: dict[str, str] = {}
    firm_id: int | None = None
    if not firm.strip():
        errors["firm"] = "请填写企业（统一社会信用代码或企业全称）"
    else:
        try:
            firm_id = casework_service.resolve_firm(session, principal, firm)
        except RuleViolation as exc:
            errors["firm"] = exc.message
    data: plans.PlanIn | None = None
    try:
        data = plans.PlanIn.model_validate(values)
    except ValidationError as exc:
        errors.update({k: v for k, v in field_errors(exc.errors()).items() if k not in errors})
    if not errors and data is not None and firm_id is not None:
        target = firms_repository.get_in_scope(session, principal, firm_id)
        if target is None:
            errors["firm"] = "未找到该企业，或该企业不在您负责的园区"
        else:
            plan = plans.create_plan(session, principal, target, data)
            return redirect_after_post(
                request, request.app.url_path_for("plans:detail", plan_id=str(plan.id))
            )
    firm_label = None
    if firm_id is not None:
        found = firms_repository.get_in_scope(session, principal, firm_id)
        firm_label = found.name if found is not None else None
    return render(
        request, FORM_PAGE, _form_context(values, errors, firm_label), block="plan_form", status_code=422
    )


# ------------------------------------------------------------------------------------------------ a plan


def _detail_context(
    session: Session,
    principal: Principal,
    plan: SupportPlan,
    *,
    item_form: dict[str, str] | None = None,
    item_errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    firm, owner = plans.plan_header(session, plan)
    items = plans.plan_items(session, plan, today=today())
    return {
        "plan": plan,
        "firm": firm,
        "owner_name": owner,
        "items": items,
        "overdue": sum(1 for r in items if r.is_overdue),
        "status_labels": PLAN_STATUS_LABELS,
        "can_edit": plans.can_manage(principal),
        "categories": [(c, c) for c in plans.CATEGORIES],
        "departments": plans.DEPARTMENTS,
        "item_status_options": plans.ITEM_STATUS_OPTIONS,
        "item_form": item_form or {"status": "open"},
        "item_errors": item_errors or {},
    }


def _detail_url(request: Request, plan: SupportPlan, anchor: str = "") -> str:
    url = str(request.app.url_path_for("plans:detail", plan_id=str(plan.id)))
    return f"{url}#{anchor}" if anchor else url


@router.get("/{plan_id}", name="plans:detail")
def plan_detail(request: Request, session: SessionDep, principal: StaffPrincipal, plan: PlanDep) -> Response:
    """A plan: the firm, goal and 工作专班, its items with status and notes; the items alone for htmx."""
    return render(request, DETAIL_PAGE, _detail_context(session, principal, plan), block="plan_items")


@router.get("/{plan_id}/print", name="plans:print")
def plan_print(request: Request, session: SessionDep, principal: StaffPrincipal, plan: PlanDep) -> Response:
    """The plan laid out for printing (with signature lines)."""
    return render(request, PRINT_PAGE, _detail_context(session, principal, plan))


@router.post("/{plan_id}/status", name="plans:set_status")
def set_plan_status(
    request: Request,
    session: SessionDep,
    principal: PlanEditor,
    plan: PlanDep,
    status: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """结束方案 / 重新启用."""
    try:
        new = PlanStatus(status)
    except ValueError:
        raise RuleViolation("请选择有效的方案状态", field="status") from None
    plans.set_plan_status(session, principal, plan, new)
    return redirect_after_post(request, _detail_url(request, plan))


@router.post("/{plan_id}/items", name="plans:add_item")
def add_item(
    request: Request,
    session: SessionDep,
    principal: PlanEditor,
    plan: PlanDep,
    category: Annotated[str, Form(max_length=32)] = "",
    content: Annotated[str, Form(max_length=4000)] = "",
    department: Annotated[str, Form(max_length=200)] = "",
    due_on: Annotated[str, Form(max_length=32)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Add an item (and its task on the owner's 我的待办); 422 with the item form and its errors, else 303."""
    values = {"category": category, "content": content, "department": department, "due_on": due_on}
    values["status"] = status
    errors: dict[str, str]
    try:
        data = plans.PlanItemIn.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
    else:
        try:
            plans.add_item(session, principal, plan, data)
        except RuleViolation as exc:
            errors = {exc.field if exc.field in ITEM_FIELDS else "__all__": exc.message}
        else:
            return redirect_after_post(request, _detail_url(request, plan, "plan-items"))
    ctx = _detail_context(session, principal, plan, item_form=values, item_errors=errors)
    return render(request, DETAIL_PAGE, ctx, block="item_form", status_code=422)


def _items_changed(request: Request, session: Session, principal: Principal, plan: SupportPlan) -> Response:
    if wants_block(request, "plan_items"):
        return render(request, DETAIL_PAGE, _detail_context(session, principal, plan), block="plan_items")
    return redirect_after_post(request, _detail_url(request, plan, "plan-items"))


@router.post("/{plan_id}/items/{item_id}/status", name="plans:set_item_status")
def set_item_status(
    request: Request,
    session: SessionDep,
    principal: PlanEditor,
    plan: PlanDep,
    item_id: int,
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Change an item's status; its task on 我的待办 follows (done → 已办结, reopened → 待办)."""
    item = plans.get_item(session, plan, item_id)
    plans.set_item_status(session, principal, item, plans.parse_item_status(status))
    return _items_changed(request, session, principal, plan)


@router.post("/{plan_id}/items/{item_id}/notes", name="plans:add_note")
def add_note(
    request: Request,
    session: SessionDep,
    principal: PlanEditor,
    plan: PlanDep,
    item_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Add a follow-up note (跟进记录) to an item."""
    item = plans.get_item(session, plan, item_id)
    plans.add_note(session, principal, item, text)
    return _items_changed(request, session, principal, plan)
