"""Pages of the policy catalogue (政策条目), admins' edits with the what-if preview, 免申即享 runs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.dependencies import AdminPrincipal, StaffPrincipal
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.db import SessionDep
from app.errors import DomainError, NotFound, RuleViolation
from app.firms.dependencies import FirmDep
from app.policies import catalogue, grants, pushes, whatif
from app.policies.catalogue import DISTRICT_LABELS, PARK_LABELS, amount_text, scope_text
from app.policies.models import (
    AMOUNT_KIND_LABELS,
    DECISION_LABELS,
    DELIVERY_MODE_LABELS,
    GRANT_STATUS_LABELS,
    POLICY_LEVEL_LABELS,
    PUSH_STATUS_LABELS,
    RISK_LABELS,
    Decision,
    GrantRun,
    GrantStatus,
    Policy,
)
from app.policies.rules import EVENT_KIND_LABELS
from app.rules.facts import YEAR_FIELD_INFO
from app.rules.firm_facts import facts_for_firm
from app.rules.loader import DISTRICTS
from app.rules.service import param_table
from app.tiers.codes import TIER_LABELS
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block

router = APIRouter(tags=["policies"], include_in_schema=False)

RISK_BADGE = {"low": "ok", "medium": "warn", "high": "danger"}
GRANT_BADGE = {
    "pending_confirmation": "info",
    "confirmed": "warn",
    "paid": "ok",
    "published": "ok",
    "withdrawn": "muted",
}


def _others(session: Session, policy: Policy | None) -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in catalogue.list_policies(session) if policy is None or p.id != policy.id]


def _labels() -> dict[str, Any]:
    return {
        "LEVELS": POLICY_LEVEL_LABELS,
        "MODES": DELIVERY_MODE_LABELS,
        "AMOUNT_KINDS": AMOUNT_KIND_LABELS,
        "DISTRICT_LABELS": DISTRICT_LABELS,
        "PARK_LABELS": PARK_LABELS,
        "TIER_LABELS": TIER_LABELS,
        "EVENT_KINDS": EVENT_KIND_LABELS,
        "YEAR_FIELDS": {k: v[0] for k, v in YEAR_FIELD_INFO.items()},
        "RISK_LABELS": RISK_LABELS,
        "RISK_BADGE": RISK_BADGE,
        "DECISION_LABELS": DECISION_LABELS,
        "GRANT_STATUS_LABELS": GRANT_STATUS_LABELS,
        "GRANT_BADGE": GRANT_BADGE,
        "PUSH_STATUS_LABELS": PUSH_STATUS_LABELS,
        "SKIP_LABELS": grants.SKIP_LABELS,
    }


# ------------------------------------------------------------------------------------------------ catalogue


@router.get("/policies", name="policies:list")
def list_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    mode: Annotated[str, Query(max_length=24)] = "",
    level: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """政策条目: the catalogue, with this year's budget use of each item."""
    year = today().year
    items = catalogue.list_policies(session, mode=mode or None)
    if level:
        items = [p for p in items if p.level == level]
    rows = [
        {
            "policy": p,
            "amount": amount_text(p),
            "scope": scope_text(p),
            "budget": grants.budget_state(session, p, year),
        }
        for p in items
    ]
    ctx = {"rows": rows, "mode": mode, "level": level, "year": year, **_labels()}
    return render(request, "policies/list.html", ctx, block="policy_table")


def _policy_ctx(session: Session, principal: Principal, policy: Policy) -> dict[str, Any]:
    year = today().year
    runs = session.scalars(
        select(GrantRun).where(GrantRun.policy_id == policy.id).order_by(GrantRun.id.desc()).limit(20)
    ).all()
    others = catalogue.excluded_ids(session, policy.id)
    excluded = session.scalars(select(Policy).where(Policy.id.in_(others))).all() if others else []
    cp = catalogue.compiled(policy)
    return {
        "policy": policy,
        "amount": amount_text(policy),
        "scope": scope_text(policy),
        "criteria": cp.criteria,
        "budget": grants.budget_state(session, policy, year),
        "year": year,
        "runs": runs,
        "excluded": excluded,
        "can_run": principal.role in (Role.admin, Role.officer),
        "is_admin": principal.role is Role.admin,
        "default_period": str(year),
        **_labels(),
    }


@router.get("/policies/new", name="policies:new")
def new_page(request: Request, session: SessionDep, principal: AdminPrincipal) -> Response:
    """新增政策条目 (admins)."""
    values = {
        "level": "district",
        "mode": "auto_grant",
        "amount_kind": "fixed",
        "effective_from": today().isoformat(),
        "budget_year": str(today().year),
        "districts": [],
        "parks": [],
        "event_kinds": [],
    }
    return render(
        request, "policies/edit.html", {"values": values, "errors": {}, "policy": None, **_labels()}
    )


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.get(name, "") for name in catalogue.FORM_FIELDS}
    values["version"] = form.get("version", "")
    values["action"] = form.get("action", "")
    for name in ("districts", "parks", "event_kinds", "excludes"):
        values[name] = [v for v in form.getlist(name) if v]
    return values


@router.post("/policies/new", name="policies:create")
async def create(request: Request, session: SessionDep, principal: AdminPrincipal) -> Response:
    """Save a new policy item (or preview its impact first)."""
    values = _form_values(await request.form())
    return _save_or_preview(request, session, principal, None, values)


@router.get("/policies/{code}", name="policies:detail")
def detail_page(code: str, request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """One item: scope, 文号, amount, criteria with citations, budget and its grant runs."""
    policy = catalogue.get_by_code(session, code)
    return render(request, "policies/detail.html", _policy_ctx(session, principal, policy))


@router.get("/policies/{code}/edit", name="policies:edit")
def edit_page(code: str, request: Request, session: SessionDep, principal: AdminPrincipal) -> Response:
    """Edit an item (admins); 预览影响 shows who would gain or lose it before saving."""
    policy = catalogue.get_by_code(session, code)
    values = catalogue.form_from_policy(session, policy, today().year)
    return render(
        request, "policies/edit.html", {"values": values, "errors": {}, "policy": policy, **_labels()}
    )


@router.post("/policies/{code}/edit", name="policies:update")
async def update(code: str, request: Request, session: SessionDep, principal: AdminPrincipal) -> Response:
    policy = catalogue.get_by_code(session, code)
    values = _form_values(await request.form())
    values["code"] = policy.code
    return _save_or_preview(request, session, principal, policy, values)


def _save_or_preview(
    request: Request, session: Session, principal: Principal, policy: Policy | None, values: dict[str, Any]
) -> Response:
    action = request.headers.get("hx-trigger-name") or ""
    preview = values.get("action") == "preview" or action == "preview"
    draft, errors = catalogue.clean(values, creating=policy is None)
    ctx: dict[str, Any] = {
        "values": values,
        "errors": errors,
        "policy": policy,
        "others": _others(session, policy),
        **_labels(),
    }
    if draft is None:
        return render(request, "policies/edit.html", ctx, block="policy_form", status_code=422, retarget=True)
    if preview:
        ctx["impact"] = whatif.impact(session, principal, policy, draft, today())
        return render(request, "policies/edit.html", ctx, block="policy_impact")
    version = int(values["version"]) if str(values.get("version") or "").isdigit() else None
    reason = "新增政策条目" if policy is None else "修改政策条目"
    session.info["reason"] = reason
    try:
        with session.begin_nested():
            saved = catalogue.save(session, policy, draft, version)
    except DomainError as exc:
        errors[getattr(exc, "field", None) or "__all__"] = exc.message
        return render(request, "policies/edit.html", ctx, block="policy_form", status_code=422)
    return redirect_after_post(request, request.app.url_path_for("policies:detail", code=saved.code))


@router.post("/policies/{code}/what-if", name="policies:what_if")
async def what_if(code: str, request: Request, session: SessionDep, principal: AdminPrincipal) -> Response:
    """The impact of the draft on the edit form, without saving (the `policy_impact` block for htmx)."""
    policy = None if code == "_new" else catalogue.get_by_code(session, code)
    form = await request.form()
    values = _form_values(form)
    if policy is not None:
        values["code"] = policy.code
    values["action"] = "preview"
    return _save_or_preview(request, session, principal, policy, values)


# ------------------------------------------------------------------------------------------------ grant runs


@router.get("/grant-runs", name="grant_runs:list")
def runs_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """免申即享兑现批次: every run, newest first, and a form to start one."""
    runs = session.execute(
        select(GrantRun, Policy, User.display_name)
        .join(Policy, Policy.id == GrantRun.policy_id)
        .outerjoin(User, User.id == GrantRun.created_by_id)
        .order_by(GrantRun.id.desc())
        .limit(200)
    ).all()
    auto = catalogue.list_policies(session, mode="auto_grant", active_only=True)
    ctx = {
        "runs": runs,
        "policies": auto,
        "can_run": principal.role in (Role.admin, Role.officer),
        "values": {"period": str(today().year)},
        "errors": {},
        **_labels(),
    }
    return render(request, "policies/runs.html", ctx)


@router.post("/grant-runs", name="grant_runs:create")
def create_run(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    policy_code: Annotated[str, Form(max_length=64)] = "",
    period: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """发起兑现批次: match firms and list the candidates."""
    try:
        policy = catalogue.get_by_code(session, policy_code)
        run = grants.start_run(session, principal, policy, period, today())
    except (RuleViolation, NotFound) as exc:
        if isinstance(exc, NotFound):
            errors = {"policy_code": "请选择政策条目"}
        else:
            errors = {exc.field or "period": exc.message}
        auto = catalogue.list_policies(session, mode="auto_grant", active_only=True)
        ctx = {
            "runs": [],
            "policies": auto,
            "can_run": True,
            "values": {"policy_code": policy_code, "period": period},
            "errors": errors,
            **_labels(),
        }
        return render(request, "policies/runs.html", ctx, status_code=422)
    return redirect_after_post(request, request.app.url_path_for("grant_runs:detail", run_id=str(run.id)))


PAGE_SIZE = 100
SHOW = {
    "all": "全部",
    "pending": "待审核",
    "high": "高风险",
    "approve": "已通过",
    "reject": "已驳回",
}


def _shown(rows: list[tuple[Any, Any]], show: str) -> list[tuple[Any, Any]]:
    if show == "high":
        return [(c, f) for c, f in rows if c.risk_level == "high"]
    if show in ("pending", "approve", "reject"):
        return [(c, f) for c, f in rows if c.decision == show]
    return rows


def _run_ctx(
    session: Session,
    principal: Principal,
    run: GrantRun,
    notice: str | None = None,
    error: str | None = None,
    *,
    show: str = "all",
    page: int = 1,
) -> dict[str, Any]:
    policy = session.get(Policy, run.policy_id)
    assert policy is not None
    year = int(run.period[:4])
    every = grants.candidates(session, principal, run)
    shown = _shown(every, show if show in SHOW else "all")
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = every
    grant_rows = grants.list_grants(session, principal, policy_id=policy.id, period=run.period)
    pending = [c for c, _ in rows if c.decision == Decision.pending]
    counts = {
        "total": len(rows),
        "pending": len(pending),
        "approved": sum(1 for c, _ in rows if c.decision == Decision.approve),
        "rejected": sum(1 for c, _ in rows if c.decision == Decision.reject),
        "pending_amount": sum((c.amount for c in pending), Decimal(0)),
    }
    return {
        "run": run,
        "policy": policy,
        "rows": shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "shown_total": len(shown),
        "show": show if show in SHOW else "all",
        "SHOW": SHOW,
        "page": page,
        "pages": pages,
        "low_risk_pending": sum(
            1 for c, _ in every if c.decision == Decision.pending and c.risk_level == "low"
        ),
        "grants": grant_rows,
        "counts": counts,
        "budget": grants.budget_state(session, policy, year),
        "year": year,
        "can_run": principal.role in (Role.admin, Role.officer),
        "publishable": any(g.status == GrantStatus.paid for g, _ in grant_rows),
        "published": any(g.status == GrantStatus.published for g, _ in grant_rows),
        "notice": notice,
        "error": error,
        "amount": amount_text(policy),
        **_labels(),
    }


@router.get("/grant-runs/{run_id}", name="grant_runs:detail")
def run_page(
    run_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    notice: Annotated[str | None, Query(max_length=100)] = None,
    show: Annotated[str, Query(max_length=8)] = "all",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """A run: budget, candidates (100 a page, by risk or decision) with evidence and risks, decisions, grants
    and the 公示 list."""
    run = grants.get_run(session, run_id)
    ctx = _run_ctx(session, principal, run, notice, show=show, page=page)
    return render(request, "policies/run.html", ctx, block="run_body")


def _run_action(
    request: Request,
    session: Session,
    principal: Principal,
    run: GrantRun,
    action: Callable[[], str],
) -> Response:
    """Do one action on a run (in a savepoint): its refusal comes back in place (422, the run block), its
    success as a notice — the run block for htmx, else 303 to the run page."""
    try:
        with session.begin_nested():
            notice = action()
    except DomainError as exc:
        ctx = _run_ctx(session, principal, run, error=exc.message)
        return render(request, "policies/run.html", ctx, block="run_body", status_code=422)
    if wants_block(request, "run_body"):
        ctx = _run_ctx(session, principal, run, notice)
        return render(request, "policies/run.html", ctx, block="run_body")
    url = request.app.url_path_for("grant_runs:detail", run_id=str(run.id))
    return redirect_after_post(request, f"{url}?notice={quote(notice)}")


@router.post("/grant-runs/{run_id}/decisions", name="grant_runs:decide")
async def decide(run_id: int, request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """通过 / 驳回 one or several candidates (a reason is required to reject)."""
    run = grants.get_run(session, run_id)
    form = await request.form()
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "").strip() or None
    firm_ids = [int(v) for v in form.getlist("firm_id") if str(v).isdigit()]
    if form.get("scope") == "low_risk" and decision == "approve":
        # 绿色通道 (criteria.md §9.3): every pending low-risk candidate in my parks, in one decision.
        firm_ids = sorted(
            {
                c.firm_id
                for c, _ in grants.candidates(session, principal, run)
                if c.decision == Decision.pending and c.risk_level == "low"
            }
        )

    def act() -> str:
        if not firm_ids:
            raise RuleViolation("请先勾选候选企业", field="firm_id")
        if reason:
            session.info["reason"] = reason
        grants.decide(session, principal, run, [grants.DecisionIn(fid, decision, reason) for fid in firm_ids])
        return f"已{'通过' if decision == 'approve' else '驳回'} {len(firm_ids)} 家企业"

    return _run_action(request, session, principal, run, act)


@router.post("/grants/{grant_id}/advance", name="grants:advance")
def advance(
    grant_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    action: Annotated[str, Form(max_length=16)],
    run_id: Annotated[int, Form()],
    note: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Record the firm's confirmation, the payment, or withdraw a grant."""
    run = grants.get_run(session, run_id)
    grant = grants.grant_in_scope(session, principal, grant_id)

    def act() -> str:
        grants.advance(session, principal, grant, action, on=today(), note=note)
        return {"confirm": "已登记企业确认", "pay": "已登记拨付", "withdraw": "已撤回"}[action]

    return _run_action(request, session, principal, run, act)


@router.post("/grant-runs/{run_id}/publish", name="grant_runs:publish")
def publish(run_id: int, request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """公示: the paid grants of this policy and period become the published list."""
    run = grants.get_run(session, run_id)
    policy = session.get(Policy, run.policy_id)
    assert policy is not None

    def act() -> str:
        return f"已公示 {grants.publish(session, principal, policy, run.period, today())} 条兑现记录"

    return _run_action(request, session, principal, run, act)


PUBLICITY_HEADERS = [
    "序号",
    "企业名称",
    "统一社会信用代码",
    "政策条目",
    "文号",
    "兑现事件",
    "金额（万元）",
    "公示日期",
]


def _publicity_rows(session: Session, principal: Principal, policy: Policy, period: str) -> list[list[Any]]:
    rows = [
        (g, f)
        for g, f in grants.list_grants(session, principal, policy_id=policy.id, period=period)
        if g.status == GrantStatus.published
    ]
    return [
        [
            n,
            f.name,
            f.uscc,
            policy.name,
            policy.document_no,
            g.event_label,
            g.amount,
            g.published_on.isoformat() if g.published_on else "",
        ]
        for n, (g, f) in enumerate(rows, start=1)
    ]


@router.get("/grants/publicity.{fmt}", name="grants:publicity")
def publicity(
    fmt: str,
    session: SessionDep,
    principal: StaffPrincipal,
    policy_code: Annotated[str, Query(max_length=64)],
    period: Annotated[str, Query(max_length=16)],
) -> Response:
    """The 公示 list of a policy and period, as CSV (UTF-8 with BOM, opens in Excel) or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    policy = catalogue.get_by_code(session, policy_code)
    period = grants.parse_period(period)
    rows = _publicity_rows(session, principal, policy, period)
    total = sum((r[6] for r in rows), Decimal(0))
    filename = f"{policy.name}-{period}-公示名单.{fmt}"
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(PUBLICITY_HEADERS)
        for r in rows:
            writer.writerow([*r[:6], f"{r[6]:.2f}", r[7]])
        writer.writerow(["合计", "", "", "", "", f"{len(rows)} 家", f"{total:.2f}", ""])
        return Response(
            ("\ufeff" + buf.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    return Response(
        _publicity_xlsx(policy, period, rows, total),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition},
    )


def _publicity_xlsx(policy: Policy, period: str, rows: list[list[Any]], total: Decimal) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "公示名单"
    ws.append([f"{policy.name}（{period}）兑现公示名单"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PUBLICITY_HEADERS))
    ws.append(
        [f"依据：{policy.document_no}{(' ' + policy.article) if policy.article else ''}；金额单位：万元"]
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(PUBLICITY_HEADERS))
    ws.append(PUBLICITY_HEADERS)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for r in rows:
        ws.append([*r[:6], float(r[6]), r[7]])
        ws.cell(row=ws.max_row, column=7).number_format = "#,##0.00"
    ws.append(["合计", "", "", "", "", f"{len(rows)} 家", float(total), ""])
    ws.cell(row=ws.max_row, column=7).number_format = "#,##0.00"
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFGH", (6, 36, 22, 36, 26, 40, 14, 12), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ 申报 pushes


@router.get("/policies/{code}/pushes", name="policies:pushes")
def pushes_page(
    code: str,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    notice: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """申报推送: firms in my parks that match an 申报 item (with their gaps), who was told and who applied."""
    policy = catalogue.get_by_code(session, code)
    ctx = pushes.page_context(session, principal, policy, today())
    ctx.update({"notice": notice, "amount": amount_text(policy), **_labels()})
    return render(request, "policies/pushes.html", ctx, block="push_body")


@router.post("/policies/{code}/pushes", name="policies:push")
def push(code: str, request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """推送 the item to every matching firm in my parks not yet told this year."""
    policy = catalogue.get_by_code(session, code)
    count = pushes.push_all(session, principal, policy, today())
    notice = f"已向 {count} 家企业推送申报提醒" if count else "没有需要新推送的企业"
    url = request.app.url_path_for("policies:pushes", code=policy.code)
    if wants_block(request, "push_body"):
        ctx = pushes.page_context(session, principal, policy, today())
        ctx.update({"notice": notice, "amount": amount_text(policy), **_labels()})
        return render(request, "policies/pushes.html", ctx, block="push_body")
    return redirect_after_post(request, f"{url}?notice={quote(notice)}")


@router.post("/policy-pushes/{push_id}", name="policies:push_status")
def push_status(
    push_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    status: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Record that a pushed firm applied (已申报) or declined (不申报)."""
    item = pushes.push_in_scope(session, principal, push_id)
    policy = session.get(Policy, item.policy_id)
    assert policy is not None
    pushes.set_status(session, principal, item, status, note, today())
    notice = f"已登记：{PUSH_STATUS_LABELS.get(status, status)}"
    if wants_block(request, "push_body"):
        ctx = pushes.page_context(session, principal, policy, today())
        ctx.update({"notice": notice, "amount": amount_text(policy), **_labels()})
        return render(request, "policies/pushes.html", ctx, block="push_body")
    url = request.app.url_path_for("policies:pushes", code=policy.code)
    return redirect_after_post(request, f"{url}?notice={quote(notice)}")


# ------------------------------------------------------------------------------------------------ one firm


@router.get("/firms/{firm_id}/policies", name="policies:firm")
def firm_policies(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep
) -> Response:
    """政策兑现 of one firm: what it matches today, was granted and was pushed (a block of its file)."""
    day = today()
    facts = facts_for_firm(session, firm, day)
    joined = catalogue.joined_on(session, firm.id, facts.park, day)
    every = catalogue.list_policies(session)
    # match_facts keeps only items in force (active, inside their window) on the day.
    matches = catalogue.match_facts(every, facts, day, param_table(session), joined)
    names = {p.id: p for p in every}
    granted = [(g, names[g.policy_id]) for g in grants.grants_of_firm(session, firm.id)]
    pushed = [(p, names[p.policy_id]) for p in pushes.pushes_of_firm(session, firm.id)]
    ctx = {
        "firm": firm,
        "matches": matches,
        "granted": granted,
        "pushed": pushed,
        "MATCH_LABELS": pushes.STATUS_LABELS,
        "amount_text": amount_text,
        **_labels(),
    }
    return render(request, "policies/firm.html", ctx, block="firm_policies")


def district_options() -> list[tuple[str, str]]:
    return [(d, DISTRICT_LABELS[d]) for d in DISTRICTS]
