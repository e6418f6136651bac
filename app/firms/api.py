"""JSON API of the firm registry (/api/v1/firms…): a contract other systems rely on — add, never rename."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from app.audit.service import firm_history
from app.auth.dependencies import CurrentPrincipal
from app.db import SessionDep
from app.firms import file as firm_file
from app.firms import references, repository, service
from app.firms.dependencies import FirmDep
from app.firms.schemas import (
    AwardIn,
    ContactIn,
    FactIn,
    FirmCreate,
    FirmFileOut,
    FirmList,
    FirmListItem,
    FirmUpdate,
    IncidentIn,
    RecognitionIn,
    RevokeIn,
    YearIn,
)
from app.indicators import service as indicators_service
from app.policies import flows as policy_flows
from app.recognitions import service as recognitions_service
from app.storage import get_storage
from app.tiers.codes import ladder_level
from app.web.formatting import today

router = APIRouter(prefix="/api/v1/firms", tags=["firms"])


def list_item(row: repository.FirmRow, names: dict[str, dict[str, str]]) -> FirmListItem:
    m = row.membership
    return FirmListItem(
        id=row.firm.id,
        name=row.firm.name,
        uscc=row.firm.uscc,
        park=m.park_code if m else None,
        area=m.area_code if m else None,
        industry=m.industry_code if m else None,
        tiers_held=sorted(row.tiers_held),
        ladder_level=ladder_level(set(row.tiers_held)),
        version=row.firm.version,
        park_name=names["park"].get(m.park_code) if m else None,
        area_name=names["area"].get(m.area_code or "") if m else None,
        industry_name=names["industry"].get(m.industry_code or "") if m else None,
        status=row.firm.status,
        officer=row.officer.display_name if row.officer else None,
        tags=row.tags,
    )


@router.get("", name="api_firms:list", response_model=FirmList)
def list_firms(
    session: SessionDep,
    principal: CurrentPrincipal,
    q: str | None = None,
    park: str | None = None,
    area: str | None = None,
    industry: str | None = None,
    tier: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    officer: int | None = None,
    sort: Annotated[str, Query(pattern="^-?(name|uscc|founded_on|updated_at)$")] = "name",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FirmList:
    """Firms in the caller's scope, filtered, sorted and paginated, with the total."""
    filters = repository.FirmFilters(
        q=q, park=park, area=area, industry=industry, tier=tier, tag=tag, status=status, officer=officer
    )
    rows, total = repository.list_firms(
        session,
        principal,
        filters,
        today=today(),
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
        limit=limit,
        offset=offset,
    )
    names = references.load(session).names
    return FirmList(items=[list_item(r, names) for r in rows], total=total, limit=limit, offset=offset)


def _file(
    session: SessionDep,
    principal: CurrentPrincipal,
    firm: FirmDep,
    *,
    as_of: date | None = None,
    reveal: bool = False,
) -> FirmFileOut:
    built = firm_file.build(
        session, principal, firm, today=today(), as_of=as_of, reveal_personal=reveal, with_history=False
    )
    return firm_file.to_api(built)


@router.get("/{firm_id}", name="api_firms:detail", response_model=FirmFileOut)
def get_firm(
    session: SessionDep,
    principal: CurrentPrincipal,
    firm: FirmDep,
    as_of: date | None = None,
    reveal_personal: bool = False,
) -> FirmFileOut:
    """The whole file, as of a date (default today). `reveal_personal=true` unmasks contacts (logged)."""
    return _file(session, principal, firm, as_of=as_of, reveal=reveal_personal)


@router.post("", name="api_firms:create", response_model=FirmFileOut, status_code=201)
def create_firm(session: SessionDep, principal: CurrentPrincipal, data: FirmCreate) -> FirmFileOut:
    """Register a firm (name, uscc and park are enough)."""
    firm = service.create_firm(session, principal, data, today=today())
    return _file(session, principal, firm)


@router.patch("/{firm_id}", name="api_firms:update", response_model=FirmFileOut)
def update_firm(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, data: FirmUpdate
) -> FirmFileOut:
    """Change the fields sent; `version` must be the one read (stale → 409, nothing changes)."""
    firm = service.update_firm(session, principal, firm, data, today=today())
    return _file(session, principal, firm)


@router.put("/{firm_id}/years/{year}", name="api_firms:put_year", response_model=FirmFileOut)
def put_year(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, year: int, data: YearIn
) -> FirmFileOut:
    """Add or replace one year's indicators from one source (amounts in 万元)."""
    indicators_service.upsert_year(session, principal, firm, year, data, today=today())
    return _file(session, principal, firm)


@router.post(
    "/{firm_id}/recognitions", name="api_firms:add_recognition", response_model=FirmFileOut, status_code=201
)
def add_recognition(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, data: RecognitionIn
) -> FirmFileOut:
    """Record a recognition (认定/入库/复核/带证迁入)."""
    recognitions_service.add_recognition(session, principal, firm, data)
    policy_flows.recognition_recorded(session, firm.id, today=today())
    return _file(session, principal, firm)


@router.post(
    "/{firm_id}/recognitions/{recognition_id}/revoke",
    name="api_firms:revoke_recognition",
    response_model=FirmFileOut,
)
def revoke_recognition(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, recognition_id: int, data: RevokeIn
) -> FirmFileOut:
    """Revoke a recognition from a date, with the reason."""
    rec = recognitions_service.get_recognition(session, firm, recognition_id)
    recognitions_service.revoke(session, principal, rec, data)
    return _file(session, principal, firm)


@router.post("/{firm_id}/facts", name="api_firms:add_fact", response_model=FirmFileOut, status_code=201)
def add_fact(session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, data: FactIn) -> FirmFileOut:
    """Record a dated fact from a source (企业填报 / 部门数据 / 专员核实)."""
    indicators_service.add_fact(session, principal, firm, data, today=today())
    return _file(session, principal, firm)


@router.post(
    "/{firm_id}/incidents", name="api_firms:add_incident", response_model=FirmFileOut, status_code=201
)
def add_incident(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, data: IncidentIn
) -> FirmFileOut:
    """Record an incident (accident, violation) with its grade and date."""
    indicators_service.add_incident(session, principal, firm, data)
    return _file(session, principal, firm)


@router.post("/{firm_id}/awards", name="api_firms:add_award", response_model=FirmFileOut, status_code=201)
def add_award(session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, data: AwardIn) -> FirmFileOut:
    """Record an award with its level and the firm's rank."""
    indicators_service.add_award(session, principal, firm, data)
    return _file(session, principal, firm)


@router.post("/{firm_id}/contacts", name="api_firms:add_contact", response_model=FirmFileOut, status_code=201)
def add_contact(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, data: ContactIn
) -> FirmFileOut:
    """Add a contact person."""
    service.add_contact(session, principal, firm, data)
    return _file(session, principal, firm)


@router.post(
    "/{firm_id}/evidence", name="api_firms:add_evidence", response_model=FirmFileOut, status_code=201
)
def add_evidence(
    session: SessionDep,
    principal: CurrentPrincipal,
    firm: FirmDep,
    file: UploadFile,
    recognition_id: int | None = None,
) -> FirmFileOut:
    """Upload a certificate scan, PDF or image (type checked from the content, size-limited)."""
    data = file.file.read()
    recognitions_service.attach_evidence(
        session,
        principal,
        get_storage(),
        firm,
        filename=file.filename or "",
        data=data,
        recognition_id=recognition_id,
    )
    return _file(session, principal, firm)


@router.get("/{firm_id}/evidence/{evidence_id}", name="api_firms:evidence")
def get_evidence(
    session: SessionDep, principal: CurrentPrincipal, firm: FirmDep, evidence_id: int
) -> Response:
    """Download an evidence file."""
    row = recognitions_service.get_evidence(session, firm, evidence_id)
    data = get_storage().open(row.storage_key)
    return Response(
        data,
        media_type=row.content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}"},
    )


@router.get("/{firm_id}/history", name="api_firms:history")
def history(
    session: SessionDep,
    principal: CurrentPrincipal,
    firm: FirmDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """The change history of the file, newest first."""
    lines, total = firm_history(session, firm.id, limit=limit, offset=offset)
    return JSONResponse(
        {
            "total": total,
            "items": [
                {
                    "at": x.at.isoformat(),
                    "actor": x.actor,
                    "channel": x.channel,
                    "entity": x.entity,
                    "entity_id": x.entity_id,
                    "action": x.action,
                    "field": x.field,
                    "old": x.old,
                    "new": x.new,
                    "reason": x.reason,
                }
                for x in lines
            ],
        }
    )
