"""月度报表 pages: the report of a month (page, or one of its blocks for htmx), the drill-down to named firms
(a block of the same page), closing a month and recording restatements, exports, and the plan targets."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.dependencies import AdminPrincipal, StaffPrincipal
from app.auth.principal import Principal
from app.db import SessionDep
from app.errors import NotFound, RuleViolation
from app.reports import exports, months, repository, service
from app.reports import report as report_view
from app.reports.models import View
from app.reports.report import DIMS
from app.reports.service import KEY_LABELS, MEASURE_LABELS
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block

router = APIRouter(prefix="/reports", tags=["reports"], include_in_schema=False)

PAGE = "reports/monthly.html"
TARGETS_PAGE = "reports/targets.html"
BREAKDOWN_DIMS = ("area", "industry", "officer")
DRILL_LIMIT = 500
MONTH_CHOICES = 36


def signed(n: int | None) -> str:
    if n is None:
        return "—"
    return f"+{n:,}" if n > 0 else ("0" if n == 0 else f"−{-n:,}")


def _month(month: str | None) -> str:
    return months.parse(month) if month else months.default_month(today())


def _month_options(session: Session, chosen: str) -> list[tuple[str, str]]:
    """The last three years' months (and the chosen one, if older), newest first, closed ones marked."""
    closed = {m.month for m in repository.all_closed(session)}
    current = months.of(today())
    choices = [months.shift(current, -back) for back in range(MONTH_CHOICES)]
    if chosen not in choices:
        choices.append(chosen)
    return [
        (m, months.label(m) + ("（已关账）" if m in closed else "（本月，截至今日）" if m == current else ""))
        for m in choices
    ]


def _drill(
    session: Session, principal: Principal, month: str, params: dict[str, str]
) -> dict[str, Any] | None:
    """The drill-down block's context when a number was chosen (`view` and `key` in the query)."""
    if not params.get("view") or not params.get("key"):
        return None
    try:
        view = View(params["view"])
    except ValueError:
        raise NotFound() from None
    officer = params.get("officer")
    measure = params.get("measure") or ("count" if view is not View.flows else "closing")
    firms = service.drill(
        session, principal, month, today(), view=view, key=params["key"], measure=measure,
        park=params.get("park") or None,
        area=params.get("area") if "area" in params else None,
        industry=params.get("industry") if "industry" in params else None,
        officer_id=int(officer) if officer and officer.isdigit() else None,
    )  # fmt: skip
    names = repository.names(session)
    labels = KEY_LABELS.get(view) or KEY_LABELS[View.counts]
    parts = [labels.get(params["key"], params["key"])]
    if params.get("park"):
        parts.insert(0, names["park"].get(params["park"], params["park"]))
    for dim in ("area", "industry"):
        if dim in params:
            parts.append(
                names[dim].get(params[dim], report_view.NONE_LABELS[dim])
                if params[dim]
                else report_view.NONE_LABELS[dim]
            )
    if officer is not None:
        parts.append(
            names["officer"].get(int(officer), report_view.NONE_LABELS["officer"])
            if officer.isdigit() and officer != "0"
            else report_view.NONE_LABELS["officer"]
        )
    if view is View.flows:
        parts.append(MEASURE_LABELS.get(measure, measure))
    elif measure.startswith("lapse"):
        parts.append(f"{measure.removeprefix('lapse')}个月内到期（未重新认定）")
    else:
        parts.append("月末企业数")
    return {
        "title": " · ".join(parts),
        "firms": firms[:DRILL_LIMIT],
        "total": len(firms),
        "limited": len(firms) > DRILL_LIMIT,
        "is_flow": view is View.flows,
        "measure": measure,
        "park_names": names["park"],
    }


def _context(
    session: Session, principal: Principal, month: str, by: str, params: dict[str, str], **extra: Any
) -> dict[str, Any]:
    rep = report_view.monthly(session, principal, month, today())
    ended = months.end(month) < today()

    def href(**query: str) -> str:
        return "?" + urlencode({"month": month, "by": by, **query})

    return {
        "report": rep,
        "month": month,
        "by": by,
        "dims": [(d, DIMS[d]) for d in BREAKDOWN_DIMS],
        "park_counts": rep.table(View.counts, "park"),
        "park_ladder": rep.table(View.ladder, "park"),
        "breakdown": [rep.table(View.counts, by), rep.table(View.ladder, by)],
        "month_options": _month_options(session, month),
        "prev_month": months.shift(month, -1),
        "next_month": months.shift(month, 1) if months.shift(month, 1) <= months.of(today()) else None,
        "can_close": service.can_close(principal) and ended and rep.closed is None,
        "can_restate": service.can_close(principal) and rep.closed is not None and bool(rep.pending),
        "ended": ended,
        "drill": _drill(session, principal, month, params),
        "measures": list(MEASURE_LABELS.items()),
        "key_labels": KEY_LABELS,
        "signed": signed,
        "href": href,
        "errors": {},
        "notice": None,
        **extra,
    }


def _params(request: Request) -> dict[str, str]:
    keep = ("view", "key", "measure", "park", "area", "industry", "officer")
    return {k: v[:64] for k, v in request.query_params.items() if k in keep}


@router.get("", name="reports:monthly")
def monthly(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    month: Annotated[str | None, Query(max_length=7)] = None,
    by: Annotated[str, Query(max_length=16)] = "area",
    notice: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """月度报表 of a month (default: the last ended month); htmx gets the block it targets."""
    month = _month(month)
    by = by if by in BREAKDOWN_DIMS else "area"
    params = _params(request)
    if wants_block(request, "drill_list"):
        # The drill-down alone: only the named firms are read.
        ctx = {"month": month, "by": by, "drill": _drill(session, principal, month, params), "signed": signed}
        return render(request, PAGE, ctx, block="drill_list")
    ctx = _context(session, principal, month, by, params, notice=notice)
    for block in ("breakdown", "report_body"):
        if wants_block(request, block):
            return render(request, PAGE, ctx, block=block)
    return render(request, PAGE, ctx)


@router.post("/months/{month}/close", name="reports:close")
def close(
    month: str,
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """关账 (freeze) an ended month, or record the pending differences of a closed one as restatements."""
    month = months.parse(month)
    try:
        result = service.close_month(session, principal.actor, month, today(), reason)
    except RuleViolation as exc:
        if exc.field != "reason":
            raise
        ctx = _context(session, principal, month, "area", {}, errors={"reason": exc.message}, reason=reason)
        block = "report_body" if request.headers.get("hx-request") == "true" else None
        return render(request, PAGE, ctx, block=block, status_code=422, retarget=block is not None)
    if result.newly_closed:
        notice = f"{months.label(month)}已关账，数据已冻结"
    elif result.restated:
        notice = f"已记录 {len(result.restated)} 项更正"
    else:
        notice = f"{months.label(month)}已关账，数据与台账一致，无需更正"
    url = request.app.url_path_for("reports:monthly")
    return redirect_after_post(request, f"{url}?month={month}&notice={quote(notice)}")


def _download(body: bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("/tier-counts.xlsx", name="reports:xlsx")
def xlsx(
    session: SessionDep, principal: StaffPrincipal, month: Annotated[str | None, Query(max_length=7)] = None
) -> Response:
    """The month's report as an Excel workbook: one sheet per view, Chinese headers, 合计 rows."""
    month = _month(month)
    rep = report_view.monthly(session, principal, month, today())
    return _download(
        exports.xlsx_bytes(rep),
        f"{month}月度梯度报表.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@router.get("/tier-counts.csv", name="reports:csv")
def csv(
    session: SessionDep, principal: StaffPrincipal, month: Annotated[str | None, Query(max_length=7)] = None
) -> Response:
    """The month's tier counts by park, area and industry as CSV (with a 合计 row)."""
    month = _month(month)
    rep = report_view.monthly(session, principal, month, today())
    return _download(exports.csv_bytes(rep), f"{month}梯度企业数明细.csv", "text/csv; charset=utf-8")


# ------------------------------------------------------------------------------------- plan targets


def _targets_context(session: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    month = months.default_month(today())
    scope = service.scope_of(principal)
    names = repository.names(session)
    counts = service.figures(
        session, month, scope, today(), repository.closed_months(session, [month]).get(month)
    )
    return {
        "month": month,
        "month_label": months.label(month),
        "targets": report_view.target_progress(repository.targets(session, scope), counts.counts, names),
        "history": repository.target_history(session, scope),
        "can_edit": service.can_close(principal),
        "errors": {},
        "form": {},
        "editing": None,
        "notice": None,
        **extra,
    }


@router.get("/targets", name="reports:targets")
def targets(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    notice: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """规划目标: the parks' plan targets with their source documents, progress and change history."""
    return render(request, TARGETS_PAGE, _targets_context(session, principal, notice=notice))


@router.post("/targets/{target_id}", name="reports:update_target")
def update_target(
    target_id: int,
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    label: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=20)] = "",
    by_year: Annotated[str, Form(max_length=4)] = "",
    source: Annotated[str, Form(max_length=128)] = "",
    note: Annotated[str, Form(max_length=256)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """An admin corrects a target (value, year, label, source document, note); audited field by field."""
    form = {
        "label": label,
        "value": value,
        "by_year": by_year,
        "source": source,
        "note": note,
        "reason": reason,
    }
    errors: dict[str, str] = {}
    amount: Decimal | None = None
    try:
        amount = Decimal(value.strip())
        if amount < 0 or not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors["value"] = "目标值应为不小于 0 的数字"
    year = int(by_year) if by_year.strip().isdigit() else 0
    if not 2000 <= year <= 2100:
        errors["by_year"] = "年份应为 2000–2100 之间的四位数"
    if not label.strip():
        errors["label"] = "必填"
    if not source.strip():
        errors["source"] = "须填写目标的来源文件"
    if not errors and amount is not None:
        edit = service.TargetEdit(label.strip(), amount, year, source.strip(), note.strip() or None, reason)
        service.update_target(session, principal, target_id, edit)
        url = request.app.url_path_for("reports:targets")
        return redirect_after_post(request, f"{url}?notice={quote('目标已更新，修改已记入审计记录')}")
    if repository.target(session, target_id) is None:
        raise NotFound()
    ctx = _targets_context(session, principal, errors=errors, form=form, editing=target_id)
    return render(request, TARGETS_PAGE, ctx, status_code=422)
