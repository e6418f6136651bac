"""潜力企业蓄水池 (prospect pool): firms that qualify for a tier they do not hold, or come closest to it, as the
last batch run decided (tier_decisions, written by app/rules/batch.py). Every query is scoped by
app.firms.repository.scoped: an officer sees the firms of their parks, leaders and admins every park."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.principal import Principal
from app.errors import NotPermitted
from app.firms.models import Firm, FirmStatus
from app.firms.repository import scoped
from app.rules.models import EvaluationRun, TierDecisionRow

# The two views of the pool: qualified (符合条件，尚未认定) and closest (最接近，按差距排序).
QUALIFIED = ("eligible", "needs_review")
CLOSEST = ("insufficient_data", "ineligible")
VIEWS = {"qualified": QUALIFIED, "closest": CLOSEST}


@dataclass
class Prospect:
    firm_id: int
    name: str
    uscc: str
    park: str | None
    tier: str
    status: str
    score: Decimal | None
    fails: int
    unknowns: int
    distance: Decimal

    @property
    def gaps(self) -> int:
        """Criteria that stand between the firm and the tier: failing or missing data."""
        return self.fails + self.unknowns


def latest_run(session: Session) -> EvaluationRun | None:
    """The last finished batch run (its date is the pool's as-of date)."""
    return session.scalars(
        select(EvaluationRun)
        .where(EvaluationRun.finished_at.is_not(None))
        .order_by(EvaluationRun.id.desc())
        .limit(1)
    ).first()


def _pool(principal: Principal, tier: str, view: str) -> Select[Any]:
    stmt = (
        select(Firm.id)
        .join(TierDecisionRow, TierDecisionRow.firm_id == Firm.id)
        .where(
            TierDecisionRow.tier == tier,
            TierDecisionRow.holds.is_(False),
            TierDecisionRow.status.in_(VIEWS[view]),
            Firm.status == FirmStatus.active,
        )
    )
    return scoped(stmt, principal)


def prospects(
    session: Session, principal: Principal, tier: str, view: str, *, limit: int, offset: int
) -> tuple[list[Prospect], int]:
    """One page of the pool and its total, in two queries.

    Qualified: eligible before needs_review, then the higher score. Closest: the smallest distance (a failing
    criterion counts 1, a missing input ½), then the higher score — a score shortfall is not added to the distance,
    which stays a count an officer can read; the score only breaks ties.
    """
    base = _pool(principal, tier, view)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    order: list[Any]
    if view == "qualified":
        order = [
            case((TierDecisionRow.status == "eligible", 0), else_=1),
            TierDecisionRow.score.desc().nulls_last(),
        ]
    else:
        order = [TierDecisionRow.distance, TierDecisionRow.score.desc().nulls_last()]
    stmt = (
        base.with_only_columns(
            Firm.id,
            Firm.name,
            Firm.uscc,
            Firm.park_code,
            TierDecisionRow.tier,
            TierDecisionRow.status,
            TierDecisionRow.score,
            TierDecisionRow.fails,
            TierDecisionRow.unknowns,
            TierDecisionRow.distance,
        )
        .order_by(*order, Firm.name, Firm.id)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        Prospect(
            firm_id=r[0],
            name=r[1],
            uscc=r[2],
            park=r[3],
            tier=r[4],
            status=r[5],
            score=r[6],
            fails=r[7],
            unknowns=r[8],
            distance=r[9],
        )
        for r in session.execute(stmt).all()
    ]
    return rows, total


def can_run(principal: Principal) -> bool:
    """Admins and officers may re-evaluate every firm; leaders only read."""
    return principal.role in (Role.admin, Role.officer)


def ensure_can_run(principal: Principal) -> None:
    if not can_run(principal):
        raise NotPermitted("只有管理员和企业服务专员可以重新评估全部企业")


def run_summary(run: EvaluationRun | None) -> dict[str, Any] | None:
    """What the page says about a run: its date, who started it, how many firms, how long it took."""
    if run is None:
        return None
    seconds = None
    if run.finished_at is not None and run.started_at is not None:
        seconds = (_aware(run.finished_at) - _aware(run.started_at)).total_seconds()
    return {
        "id": run.id,
        "as_of": run.as_of,
        "started_at": run.started_at,
        "actor": run.actor,
        "firms": run.firms,
        "seconds": seconds,
        "reason": run.reason,
    }


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def as_of_of(run: EvaluationRun | None) -> date | None:
    return run.as_of if run is not None else None
