"""服务包 pages: the firms' packages in my parks with each service's status, changed in place (htmx
re-renders the `package_table` block; without JavaScript the same forms post and land back on the list
with a 303)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.config import settings
from app.db import SessionDep
from app.firms.dependencies import FirmDep
from app.policies import packages, plans
from app.policies.models import PLAN_STATUS_LABELS, SERVICE_STATUS_LABELS, ServiceStatus
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block

router = APIRouter(prefix="/packages", tags=["policies"], include_in_schema=False)

PAGE = "policies/packages.html"
BLOCK = "package_table"


def package_editor(principal: StaffPrincipal) -> Principal:
    """Officers and admins change services and stewards; leaders read only (403)."""
    packages.ensure_can_manage(principal)
    return principal


PackageEditor = Annotated[Principal, Depends(package_editor)]


def _status(value: str | None) -> ServiceStatus | None:
    try:
        return ServiceStatus(value) if value else None
    except ValueError:
        return None


def _query(package: str | None, status: ServiceStatus | None, page: int = 1) -> dict[str, str]:
    params = {"package": package or "", "status": status.value if status else ""}
    if page > 1:
        params["page"] = str(page)
    return {k: v for k, v in params.items() if v}


def _context(
    session: Session,
    principal: Principal,
    *,
    package: str | None,
    status: ServiceStatus | None,
    page: int,
    notice: str | None = None,
    errors: dict[int, str] | None = None,
) -> dict[str, Any]:
    cards, total, page, pages = packages.list_packages(
        session, principal, package=package, status=status, page=page, page_size=settings.page_size
    )
    can_edit = packages.can_manage(principal)
    stewards = packages.stewards_for(session, {c.firm.park_code for c in cards}) if can_edit else {}
    base = "?" + urlencode(_query(package, status)) if _query(package, status) else "?"
    return {
        "cards": cards,
        "total": total,
        "page": page,
        "pages": pages,
        "filters": {"package": package or "", "status": status.value if status else ""},
        "page_qs": base,
        "package_options": packages.package_options(session),
        "status_options": list(SERVICE_STATUS_LABELS.items()),
        "stewards": stewards,
        "can_edit": can_edit,
        "notice": notice,
        "errors": errors or {},
    }


def _list_url(request: Request, package: str | None, status: ServiceStatus | None, page: int = 1) -> str:
    url = request.app.url_path_for("packages:list")
    params = _query(package, status, page)
    return f"{url}?{urlencode(params)}" if params else url


def _after_change(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    package: str,
    status: str,
    page: int,
    notice: str | None = None,
) -> Response:
    """The table block for htmx, else 303 back to the list with its filters."""
    filter_status = _status(status)
    if wants_block(request, BLOCK):
        ctx = _context(
            session, principal, package=package or None, status=filter_status, page=page, notice=notice
        )
        return render(request, PAGE, ctx, block=BLOCK)
    return redirect_after_post(request, _list_url(request, package or None, filter_status, page))


@router.get("", name="packages:list")
def package_list(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    package: Annotated[str, Query(max_length=48)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    synced: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """服务包: firms with packages in my parks, by package and service status; the table alone for htmx."""
    notice = _sync_notice(synced) if synced is not None else None
    ctx = _context(
        session, principal, package=package or None, status=_status(status), page=page, notice=notice
    )
    return render(request, PAGE, ctx, block=BLOCK)


def _sync_notice(created: int) -> str:
    return (
        f"已为 {created} 家次企业新配置服务包"
        if created
        else "没有需要新配置的服务包：符合条件的企业均已配置"
    )


@router.post("/sync", name="packages:sync")
def sync(
    request: Request,
    session: SessionDep,
    principal: PackageEditor,
    package: Annotated[str, Form(max_length=48)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """同步服务包 for the firms in my parks (all firms for an admin); idempotent."""
    result = packages.sync_packages(session, today=today(), firm_ids=packages.firm_ids_in_scope(principal))
    created = len(result.created)
    if wants_block(request, BLOCK):
        ctx = _context(
            session,
            principal,
            package=package or None,
            status=_status(status),
            page=1,
            notice=_sync_notice(created),
        )
        return render(request, PAGE, ctx, block=BLOCK)
    url = _list_url(request, package or None, _status(status))
    return redirect_after_post(request, f"{url}{'&' if '?' in url else '?'}synced={created}")


@router.post("/services/{service_id}", name="packages:update_service")
def update_service(
    request: Request,
    session: SessionDep,
    principal: PackageEditor,
    service_id: int,
    new_status: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    package: Annotated[str, Form(max_length=48)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    page: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    """Change one service's status and 服务记录 (audited old → new)."""
    service = packages.get_service(session, principal, service_id)
    packages.update_service(session, principal, service, status=packages.parse_status(new_status), note=note)
    return _after_change(request, session, principal, package=package, status=status, page=page)


@router.post("/{firm_package_id}/steward", name="packages:set_steward")
def set_steward(
    request: Request,
    session: SessionDep,
    principal: PackageEditor,
    firm_package_id: int,
    steward_id: Annotated[str, Form(max_length=12)] = "",
    package: Annotated[str, Form(max_length=48)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    page: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    """Hand a firm's package to another 服务管家 (blank: none)."""
    firm_package = packages.get_firm_package(session, principal, firm_package_id)
    steward = int(steward_id) if steward_id.strip().isdigit() else None
    packages.set_steward(session, principal, firm_package, steward)
    return _after_change(request, session, principal, package=package, status=status, page=page)


@router.get("/firm/{firm_id}", name="packages:firm")
def firm_packages(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep
) -> Response:
    """The 服务包 section of a firm's file (loaded into the file page by htmx, or opened on its own)."""
    ctx = {
        "firm": firm,
        "cards": packages.firm_cards(session, principal, firm.id),
        "plans": plans.plans_of_firm(session, principal, firm.id),
        "plan_status_labels": PLAN_STATUS_LABELS,
        "can_edit": packages.can_manage(principal),
    }
    if wants_block(request, "firm_packages"):
        return render(request, "policies/_firm_packages.html", ctx)
    return render(request, "policies/packages_firm.html", ctx)
