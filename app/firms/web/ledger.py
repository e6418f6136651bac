"""The file's tier ledger (梯度台账) and its question "which tiers did the firm hold on a date"
(a plain GET form, or the ledger block for htmx)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.auth.dependencies import StaffPrincipal
from app.db import SessionDep
from app.firms.dependencies import FirmDep
from app.firms.web.file_view import file_context
from app.web.templating import render, wants_block

router = APIRouter()

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str) -> tuple[date | None, str | None]:
    """(the date, None) for YYYY-MM-DD, (None, the message) otherwise."""
    text = text.strip()
    if not _ISO_DATE.match(text):
        return None, "日期格式应为 YYYY-MM-DD"
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, "日期不存在，请检查年月日"


@router.get("/{firm_id}/ledger", name="firms:ledger")
def ledger(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    on: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """查询某日持有的梯度: the file with the ledger answering for `?on=YYYY-MM-DD` (the block for htmx)."""
    day, error = parse_day(on) if on.strip() else (None, None)
    ctx = file_context(
        request,
        session,
        principal,
        firm,
        with_history=not wants_block(request, "ledger"),
        ledger_on=day,
        ledger_text=on,
        ledger_error=error,
    )
    return render(request, "firms/detail.html", ctx, block="ledger", status_code=422 if error else 200)
