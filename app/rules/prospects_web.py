"""潜力企业蓄水池: the officers' page (/prospects, the table alone for htmx), the button that re-evaluates every
firm, and the JSON list (/api/v1/prospects)."""

from __future__ import annotations

from math import ceil
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.config import settings
from app.db import SessionDep
from app.firms.repository import reference_names
from app.rules import prospects
from app.rules.batch import run_batch
from app.rules.engine import STATUS_LABELS
from app.rules.loader import TIERS
from app.tiers.codes import TIER_LABELS, Tier
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block

router = APIRouter(prefix="/prospects", tags=["prospects"], include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/prospects", tags=["prospects"])

PAGE = "rules/prospects.html"
BLOCK = "prospect_table"
DEFAULT_TIER = "hnte"
VIEW_LABELS = {"qualified": "符合条件、尚未认定", "closest": "最接近（按差距排序）"}
STATUS_KINDS = {
    "eligible": "valid",
    "needs_review": "info",
    "insufficient_data": "warn",
    "ineligible": "muted",
}
_TIER_PATTERN = "^(" + "|".join(TIERS) + ")$"


def _tier(value: str | None) -> str:
    return value if value in TIERS else DEFAULT_TIER


def _view(value: str | None) -> str:
    return value if value in prospects.VIEWS else "qualified"


def _context(
    request: Request,
    session: Session,
    principal: Principal,
    tier: str,
    view: str,
    page: int,
    notice: str | None,
) -> dict[str, Any]:
    size = settings.page_size
    rows, total = prospects.prospects(session, principal, tier, view, limit=size, offset=(page - 1) * size)
    pages = max(ceil(total / size), 1)
    run = prospects.latest_run(session)
    parks = reference_names(session)["park"]
    list_url = request.app.url_path_for("prospects:list")
    return {
        "tier": tier,
        "view": view,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "page_base": f"{list_url}?{urlencode({'tier': tier, 'view': view})}",
        "tier_options": [(t, TIER_LABELS[Tier(t)]) for t in TIERS],
        "tier_label": TIER_LABELS[Tier(tier)],
        "views": [
            (v, label, f"{list_url}?{urlencode({'tier': tier, 'view': v})}")
            for v, label in VIEW_LABELS.items()
        ],
        "status_labels": STATUS_LABELS,
        "status_kinds": STATUS_KINDS,
        "park_names": parks,
        "run": prospects.run_summary(run),
        "can_run": prospects.can_run(principal),
        "notice": notice,
    }


def _page_number(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


@router.get("", name="prospects:list")
def prospect_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    tier: str | None = None,
    view: str | None = None,
    page: str | None = None,
    ran: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """潜力企业: firms in my parks that qualify for a tier they do not hold, or come closest; the table for htmx."""
    notice = _ran_notice(session, ran)
    ctx = _context(request, session, principal, _tier(tier), _view(view), _page_number(page), notice)
    return render(request, PAGE, ctx, block=BLOCK)


def _ran_notice(session: Session, run_id: int | None) -> str | None:
    if run_id is None:
        return None
    run = prospects.latest_run(session)
    summary = prospects.run_summary(run)
    if summary is None or summary["id"] != run_id:
        return None
    seconds = summary["seconds"] or 0.0
    return f"已重新评估 {summary['firms']:,} 家存续企业的全部梯度，用时 {seconds:.1f} 秒"


@router.post("/evaluate", name="prospects:evaluate")
def evaluate_all_firms(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    tier: Annotated[str, Form(max_length=24)] = DEFAULT_TIER,
    view: Annotated[str, Form(max_length=16)] = "qualified",
) -> Response:
    """重新评估全部企业: run the batch now (synchronously, inside this request) and show the fresh pool."""
    prospects.ensure_can_run(principal)
    run = run_batch(session, today(), reason="手动重新评估", actor_label=principal.label)
    tier, view = _tier(tier), _view(view)
    if wants_block(request, BLOCK):
        notice = f"已重新评估 {run.firms:,} 家存续企业的全部梯度，用时 {_seconds(run):.1f} 秒"
        return render(
            request, PAGE, _context(request, session, principal, tier, view, 1, notice), block=BLOCK
        )
    url = request.app.url_path_for("prospects:list")
    return redirect_after_post(request, f"{url}?{urlencode({'tier': tier, 'view': view, 'ran': run.id})}")


def _seconds(run: Any) -> float:
    summary = prospects.run_summary(run)
    return float(summary["seconds"] or 0.0) if summary else 0.0


# -------------------------------------------------------------------------------------------------------- API


class ProspectOut(BaseModel):
    firm_id: int
    name: str
    uscc: str
    park: str | None
    tier: str
    status: str
    score: float | None
    distance: float


class ProspectList(BaseModel):
    items: list[ProspectOut]
    total: int
    as_of: str | None


@api_router.get("", name="api_prospects:list", response_model=ProspectList)
def list_prospects(
    session: SessionDep,
    principal: StaffPrincipal,
    tier: Annotated[str, Query(pattern=_TIER_PATTERN)] = DEFAULT_TIER,
    view: Annotated[str, Query(pattern="^(qualified|closest)$")] = "qualified",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProspectList:
    """Firms in the caller's scope that qualify for `tier` without holding it (`view=closest`: the nearest others),
    as the last batch run decided; `as_of` is that run's date (null before the first run)."""
    rows, total = prospects.prospects(session, principal, tier, view, limit=limit, offset=offset)
    as_of = prospects.as_of_of(prospects.latest_run(session))
    return ProspectList(
        items=[
            ProspectOut(
                firm_id=r.firm_id,
                name=r.name,
                uscc=r.uscc,
                park=r.park,
                tier=r.tier,
                status=r.status,
                score=None if r.score is None else float(r.score),
                distance=float(r.distance),
            )
            for r in rows
        ],
        total=total,
        as_of=as_of.isoformat() if as_of else None,
    )
