"""Download routes of exports: the firm list as filtered on its page, the 授信白名单, one firm's file."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.auth.dependencies import StaffPrincipal
from app.db import SessionDep
from app.firms import repository
from app.firms.dependencies import FirmDep
from app.firms.web.common import clean, int_or_none
from app.imports import export
from app.web.formatting import today

router = APIRouter(prefix="/exports", include_in_schema=False)

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _filters(request: Request) -> repository.FirmFilters:
    """The firm list's filters, read from the same query parameters its page uses."""
    q = request.query_params
    return repository.FirmFilters(
        q=clean(q.get("q")),
        park=clean(q.get("park")),
        area=clean(q.get("area")),
        industry=clean(q.get("industry")),
        tier=clean(q.get("tier")),
        tag=clean(q.get("tag")),
        status=clean(q.get("status")),
        officer=int_or_none(clean(q.get("officer"))),
    )


def _download(sheets: list[export.Sheet], fmt: str, name: str) -> Response:
    fmt = "csv" if fmt == "csv" else "xlsx"
    body = export.to_csv(sheets) if fmt == "csv" else export.to_xlsx(sheets)
    filename = f"{name}-{today().isoformat()}.{fmt}"
    disposition = f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})


@router.get("/firms", name="imports:export_firms")
def export_firms(
    request: Request, session: SessionDep, principal: StaffPrincipal, format: str = "xlsx"
) -> Response:
    """The firm list with the page's filters, within the caller's parks."""
    return _download([export.firm_list(session, principal, _filters(request), today())], format, "企业名单")


@router.get("/whitelist", name="imports:export_whitelist")
def export_whitelist(
    request: Request, session: SessionDep, principal: StaffPrincipal, format: str = "xlsx", reveal: str = ""
) -> Response:
    """Firms tagged 授信白名单 (and the list's filters): phones masked unless `reveal=1` by a role that may."""
    sheet = export.whitelist(session, principal, _filters(request), today(), reveal=reveal in ("1", "true"))
    return _download([sheet], format, "授信白名单")


@router.get("/firms/{firm_id}", name="imports:export_firm")
def export_firm(
    session: SessionDep, principal: StaffPrincipal, firm: FirmDep, format: str = "xlsx", reveal: str = ""
) -> Response:
    """One firm's file; contacts masked unless `reveal=1` by a role that may (logged)."""
    sheets = export.firm_sheets(session, principal, firm, today(), reveal=reveal in ("1", "true"))
    return _download(sheets, format, f"企业档案-{firm.name}")
