"""The file's 梯度评估 section: what the rules say of the firm on a date (today by default, Asia/Shanghai)
beside the tiers it holds then. The section alone for htmx, otherwise the whole file with the section filled
in (so the date form works without JavaScript)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.auth.dependencies import StaffPrincipal
from app.db import SessionDep
from app.firms.dependencies import FirmDep
from app.firms.web.file_view import file_context
from app.rules import service as rules_service
from app.rules.web import assess_as_of, decision_view, mode_fields, parse_day
from app.web.formatting import today
from app.web.templating import render, wants_block

router = APIRouter()


@router.get("/{firm_id}/eligibility", name="firms:eligibility")
def eligibility(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    as_of: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """梯度评估 on `?as_of=YYYY-MM-DD` (today when absent); `assess_as.<tier>=review` means 复核."""
    text = as_of.strip()
    day, error = parse_day(text) if text else (today(), None)
    modes = assess_as_of(request.query_params)
    section: dict[str, Any] = {
        "value": text if error else day.isoformat() if day else "",
        "error": error,
        "modes": mode_fields(modes),
        "reviewing": bool(modes),
        "view": None,
    }
    if day is not None:
        section["view"] = decision_view(rules_service.decide_firm(session, firm, day, modes), day)
    ctx: dict[str, Any] = {"firm": firm, "eligibility": section}
    if not wants_block(request, "eligibility"):
        ctx = {**file_context(request, session, principal, firm), **ctx}
    return render(request, "firms/detail.html", ctx, block="eligibility", status_code=422 if error else 200)
