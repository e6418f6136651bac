"""JSON API of the monthly report (issue 5 contract: keep the names; add, never rename)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from app.auth.dependencies import AdminPrincipal, StaffPrincipal
from app.db import SessionDep
from app.errors import NotFound
from app.reports import months, report, repository
from app.reports import service as reports_service
from app.reports.models import View
from app.web.formatting import today

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


class TierCountRow(BaseModel):
    park: str
    area: str | None
    industry: str | None
    tier: str
    count: int


class RestatementOut(BaseModel):
    park: str
    tier: str
    old: int
    new: int
    reason: str
    by: str
    at: str


class TierCounts(BaseModel):
    month: str
    closed: bool
    rows: list[TierCountRow]
    restatements: list[RestatementOut]


@router.get("/tier-counts", name="api_reports:tier_counts", summary="月末梯度企业数")
def tier_counts(
    session: SessionDep,
    principal: StaffPrincipal,
    month: Annotated[str, Query(max_length=7)],
    park: Annotated[str | None, Query(max_length=32)] = None,
) -> TierCounts:
    """Month-end firms per tier by park, functional area and industry (frozen when the month is closed),
    with the restatements recorded against a closed month. Officers get their own parks only."""
    month = months.parse(month)
    if park is not None and not principal.may_use_park(park):
        raise NotFound()
    scope = reports_service.scope_of(principal)
    closed = repository.closed_months(session, [month]).get(month)
    figures = reports_service.figures(session, month, scope, today(), closed)
    rows = [r for r in report.detail_rows(figures.counts) if park is None or r["park"] == park]
    restatements = repository.restatements(session, month, scope) if closed else []
    restated = [
        RestatementOut(
            park=r.park_code,
            tier=r.key,
            old=r.old_value,
            new=r.new_value,
            reason=r.reason,
            by=r.by_label,
            at=r.at.isoformat(timespec="seconds"),
        )
        for r in restatements
        if r.view == View.counts and (park is None or r.park_code == park)
    ]
    return TierCounts(
        month=month,
        closed=closed is not None,
        rows=[TierCountRow(**r) for r in rows],
        restatements=restated,
    )


class CloseIn(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class DifferenceOut(BaseModel):
    view: str
    park: str
    key: str
    old: int
    new: int


class CloseOut(BaseModel):
    month: str
    closed: bool
    newly_closed: bool
    restated: list[DifferenceOut]


@router.post("/months/{month}/close", name="api_reports:close", summary="月度关账（或记录更正）")
def close(
    month: str,
    session: SessionDep,
    principal: AdminPrincipal,
    body: Annotated[CloseIn | None, Body()] = None,
) -> CloseOut:
    """Close (freeze) an ended month; on a closed month whose figures changed since, record the changes as
    restatements — `reason` is then required (422 without it). Admins only."""
    result = reports_service.close_month(
        session, principal.actor, months.parse(month), today(), body.reason if body else None
    )
    return CloseOut(
        month=result.month,
        closed=True,
        newly_closed=result.newly_closed,
        restated=[
            DifferenceOut(view=d.view, park=d.park, key=d.key, old=d.old, new=d.new) for d in result.restated
        ],
    )
