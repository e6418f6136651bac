"""Every query of the monthly report. Set-based: each figure is one grouped statement over recognitions and
dated memberships (never a loop over firms). Park scope (an officer's parks) is applied in `_in_scope` only,
always to the park the firm belonged to on the day counted, so a past month reads the same whoever asks later.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session, aliased

from app.audit.models import AuditEntry
from app.auth.models import User
from app.firms.models import Firm, Membership
from app.firms.repository import held_on
from app.recognitions.models import Recognition
from app.reference.models import Area, Industry, Park, PlanTarget
from app.reports.models import ReportFigure, ReportMonth, Restatement, View
from app.tiers.codes import LADDER_POSITION

Scope = frozenset[str] | None  # an officer's parks; None = every park
FAR = date(9999, 12, 31)
LADDER_TIERS = sorted(LADDER_POSITION)


@dataclass(frozen=True)
class FineRow:
    """One number at the finest grain: park, area, industry, officer, and a tier (or ladder level)."""

    park: str
    area: str | None
    industry: str | None
    officer_id: int | None
    key: str
    value: int


@dataclass(frozen=True)
class FlowCombo:
    """Firm-tier pairs with the same story between two month-ends (see service.classify)."""

    park0: str | None
    park1: str | None
    tier: str
    held0: bool
    held1: bool
    revoked: bool
    upgrade: bool
    firms: int


@dataclass(frozen=True)
class FlowFirm:
    firm_id: int
    name: str
    uscc: str
    park0: str | None
    park1: str | None
    tier: str
    held0: bool
    held1: bool
    revoked: bool
    upgrade: bool


def _position(tier_column: Any) -> Any:
    return case({t.value: p for t, p in LADDER_POSITION.items()}, value=tier_column, else_=0)


def _member_on(m: Any, day: date) -> ColumnElement[bool]:
    return and_(m.valid_from <= day, or_(m.valid_to.is_(None), m.valid_to >= day))


def _in_scope(column: Any, scope: Scope) -> ColumnElement[bool]:
    return column.in_(sorted(scope)) if scope is not None else literal(True)


# ------------------------------------------------------------------------------------- live figures


def count_rows(session: Session, day: date, scope: Scope) -> list[FineRow]:
    """Firms holding each tier on `day`, by the park, area and industry they belonged to that day and their
    officer. A firm with two certificates of one tier (a renewal overlapping the old one) counts once."""
    held = select(Recognition.firm_id, Recognition.tier).where(held_on(day)).distinct().subquery()
    m = Membership
    stmt = (
        select(m.park_code, m.area_code, m.industry_code, Firm.officer_id, held.c.tier, func.count())
        .select_from(held)
        .join(m, and_(m.firm_id == held.c.firm_id, _member_on(m, day)))
        .join(Firm, Firm.id == held.c.firm_id)
        .where(_in_scope(m.park_code, scope))
        .group_by(m.park_code, m.area_code, m.industry_code, Firm.officer_id, held.c.tier)
    )
    return [FineRow(p, a, i, o, str(t), int(n)) for p, a, i, o, t, n in session.execute(stmt)]


def _levels(day: date) -> Any:
    return (
        select(Recognition.firm_id, func.max(_position(Recognition.tier)).label("level"))
        .where(held_on(day), Recognition.tier.in_(LADDER_TIERS))
        .group_by(Recognition.firm_id)
        .subquery()
    )


def ladder_rows(session: Session, day: date, scope: Scope) -> list[FineRow]:
    """Each firm once, at the highest ladder position it holds on `day`."""
    levels = _levels(day)
    m = Membership
    stmt = (
        select(m.park_code, m.area_code, m.industry_code, Firm.officer_id, levels.c.level, func.count())
        .select_from(levels)
        .join(m, and_(m.firm_id == levels.c.firm_id, _member_on(m, day)))
        .join(Firm, Firm.id == levels.c.firm_id)
        .where(_in_scope(m.park_code, scope))
        .group_by(m.park_code, m.area_code, m.industry_code, Firm.officer_id, levels.c.level)
    )
    return [FineRow(p, a, i, o, str(lv), int(n)) for p, a, i, o, lv, n in session.execute(stmt)]


def _flow_base(day0: date, day1: date, scope: Scope) -> tuple[Any, Any, Any, Any, Any]:
    """Firm-tier pairs held on `day0` (the last month-end) or `day1` (this one), with where the firm sat
    on each day, whether a certificate held on day0 was revoked by day1, and whether a gain is a move up
    the ladder."""
    h0, h1 = held_on(day0), held_on(day1)
    revoked = and_(
        h0,
        Recognition.revoked_on <= day1,
        or_(Recognition.expires_on.is_(None), Recognition.revoked_on <= Recognition.expires_on),
    )
    pairs = (
        select(
            Recognition.firm_id,
            Recognition.tier,
            func.max(case((h0, 1), else_=0)).label("h0"),
            func.max(case((h1, 1), else_=0)).label("h1"),
            func.max(case((revoked, 1), else_=0)).label("rv"),
        )
        # Held on day0 or on day1 (the union of the two held_on conditions).
        .where(
            Recognition.issued_on <= day1,
            or_(Recognition.expires_on.is_(None), Recognition.expires_on >= day0),
            or_(Recognition.revoked_on.is_(None), Recognition.revoked_on > day0),
        )
        .group_by(Recognition.firm_id, Recognition.tier)
        .subquery()
    )
    before = _levels(day0)
    m0, m1 = aliased(Membership), aliased(Membership)
    upgrade = case((_position(pairs.c.tier) > func.coalesce(before.c.level, 0), 1), else_=0) * case(
        (func.coalesce(before.c.level, 0) > 0, 1), else_=0
    )
    joined = (
        select(pairs)
        .outerjoin(m0, and_(m0.firm_id == pairs.c.firm_id, _member_on(m0, day0)))
        .outerjoin(m1, and_(m1.firm_id == pairs.c.firm_id, _member_on(m1, day1)))
        .outerjoin(before, before.c.firm_id == pairs.c.firm_id)
        .where(or_(pairs.c.h0 == 1, pairs.c.h1 == 1))
    )
    if scope is not None:
        joined = joined.where(or_(_in_scope(m0.park_code, scope), _in_scope(m1.park_code, scope)))
    return pairs, m0, m1, upgrade, joined


def flow_combos(session: Session, day0: date, day1: date, scope: Scope) -> list[FlowCombo]:
    """Firm-tier pairs grouped by their story (a few hundred groups, whatever the number of firms)."""
    pairs, m0, m1, upgrade, joined = _flow_base(day0, day1, scope)
    keys = (m0.park_code, m1.park_code, pairs.c.tier, pairs.c.h0, pairs.c.h1, pairs.c.rv, upgrade)
    stmt = joined.with_only_columns(*keys, func.count()).group_by(*keys)
    return [
        FlowCombo(p0, p1, str(t), bool(a), bool(b), bool(rv), bool(up), int(n))
        for p0, p1, t, a, b, rv, up, n in session.execute(stmt)
    ]


def flow_firms(
    session: Session, day0: date, day1: date, scope: Scope, tier: str, park: str | None
) -> list[FlowFirm]:
    """The named firm-tier pairs of one tier (in one park on either day), for a drill-down."""
    pairs, m0, m1, upgrade, joined = _flow_base(day0, day1, scope)
    stmt = (
        joined.with_only_columns(
            Firm.id, Firm.name, Firm.uscc, m0.park_code, m1.park_code, pairs.c.tier,
            pairs.c.h0, pairs.c.h1, pairs.c.rv, upgrade,
        )
        .join(Firm, Firm.id == pairs.c.firm_id)
        .where(pairs.c.tier == tier)
        .order_by(Firm.name, Firm.id)
    )  # fmt: skip
    if park is not None:
        stmt = stmt.where(or_(m0.park_code == park, m1.park_code == park))
    return [
        FlowFirm(i, n, u, p0, p1, str(t), bool(a), bool(b), bool(rv), bool(up))
        for i, n, u, p0, p1, t, a, b, rv, up in session.execute(stmt)
    ]


@dataclass(frozen=True)
class HolderFirm:
    firm_id: int
    name: str
    uscc: str
    park: str
    area: str | None
    industry: str | None
    officer_id: int | None


def holders(
    session: Session,
    day: date,
    scope: Scope,
    *,
    tier: str | None = None,
    level: int | None = None,
    park: str | None = None,
    area: str | None = None,
    industry: str | None = None,
    officer_id: int | None = None,
) -> list[HolderFirm]:
    """The firms behind one count: holding `tier` (or at ladder `level`) on `day`, where they sat that day."""
    if level is not None:
        levels = _levels(day)
        firms = select(levels.c.firm_id).where(levels.c.level == level)
    else:
        firms = select(Recognition.firm_id).where(held_on(day), Recognition.tier == tier)
    m = Membership
    stmt = (
        select(Firm.id, Firm.name, Firm.uscc, m.park_code, m.area_code, m.industry_code, Firm.officer_id)
        .join(m, and_(m.firm_id == Firm.id, _member_on(m, day)))
        .where(Firm.id.in_(firms), _in_scope(m.park_code, scope))
        .order_by(Firm.name, Firm.id)
    )
    for column, value in ((m.park_code, park), (m.area_code, area), (m.industry_code, industry)):
        if value is not None:
            stmt = stmt.where(column.is_(None) if value == "" else column == value)
    if officer_id is not None:
        stmt = stmt.where(Firm.officer_id.is_(None) if officer_id == 0 else Firm.officer_id == officer_id)
    return [HolderFirm(*row) for row in session.execute(stmt)]


def lapse_rows(session: Session, day: date, until: date, scope: Scope) -> list[tuple[str, str, date, int]]:
    """Firm-tier pairs held on `day` that end in (day, until] unless renewed: (park, tier, lapse day, firms).

    A pair ends on the latest expiry of its unrevoked certificates (a renewal already recorded pushes it out;
    one without expiry never ends)."""
    ends = func.max(func.coalesce(Recognition.expires_on, FAR)).label("ends")
    pairs = (
        select(Recognition.firm_id, Recognition.tier, ends)
        .where(
            Recognition.revoked_on.is_(None),
            or_(Recognition.expires_on.is_(None), Recognition.expires_on >= day),
        )
        .group_by(Recognition.firm_id, Recognition.tier)
        .having(func.max(case((held_on(day), 1), else_=0)) == 1)
        .subquery()
    )
    m = Membership
    stmt = (
        select(m.park_code, pairs.c.tier, pairs.c.ends, func.count())
        .select_from(pairs)
        .join(m, and_(m.firm_id == pairs.c.firm_id, _member_on(m, day)))
        .where(pairs.c.ends > day, pairs.c.ends <= until, _in_scope(m.park_code, scope))
        .group_by(m.park_code, pairs.c.tier, pairs.c.ends)
    )
    return [
        (p, str(t), e if isinstance(e, date) else date.fromisoformat(str(e)), int(n))
        for p, t, e, n in session.execute(stmt)
    ]


# ------------------------------------------------------------------------------------ closed months


def closed_months(session: Session, months: Collection[str]) -> dict[str, ReportMonth]:
    rows = session.scalars(select(ReportMonth).where(ReportMonth.month.in_(sorted(months))))
    return {r.month: r for r in rows}


def all_closed(session: Session) -> list[ReportMonth]:
    return list(session.scalars(select(ReportMonth).order_by(ReportMonth.month.desc())))


def frozen_rows(session: Session, month: str, view: View, scope: Scope) -> list[FineRow]:
    f = ReportFigure
    stmt = select(f.park_code, f.area_code, f.industry_code, f.officer_id, f.key, f.value).where(
        f.month == month, f.view == view, f.measure == "count", _in_scope(f.park_code, scope)
    )
    return [FineRow(p, a, i, o, k, int(v)) for p, a, i, o, k, v in session.execute(stmt)]


def frozen_flows(session: Session, month: str, scope: Scope) -> dict[tuple[str, str, str], int]:
    f = ReportFigure
    stmt = select(f.park_code, f.key, f.measure, f.value).where(
        f.month == month, f.view == View.flows, _in_scope(f.park_code, scope)
    )
    return {(p, k, ms): int(v) for p, k, ms, v in session.execute(stmt)}


def freeze(
    session: Session,
    month: ReportMonth,
    rows: dict[View, list[FineRow]],
    flows: dict[tuple[str, str, str], int],
) -> None:
    """Write the month and its figures (bulk insert: tens of thousands of rows at 100k firms)."""
    session.add(month)
    session.flush()
    session.execute(delete(ReportFigure).where(ReportFigure.month == month.month))
    values: list[dict[str, Any]] = [
        {
            "month": month.month,
            "view": view.value,
            "park_code": r.park,
            "area_code": r.area,
            "industry_code": r.industry,
            "officer_id": r.officer_id,
            "key": r.key,
            "measure": "count",
            "value": r.value,
        }
        for view, fine in rows.items()
        for r in fine
    ]
    values += [
        {
            "month": month.month,
            "view": View.flows.value,
            "park_code": park,
            "area_code": None,
            "industry_code": None,
            "officer_id": None,
            "key": tier,
            "measure": measure,
            "value": value,
        }
        for (park, tier, measure), value in flows.items()
    ]
    for start in range(0, len(values), 5000):
        session.execute(insert(ReportFigure), values[start : start + 5000])


def restatements(session: Session, month: str, scope: Scope) -> list[Restatement]:
    stmt = (
        select(Restatement)
        .where(Restatement.month == month, _in_scope(Restatement.park_code, scope))
        .order_by(Restatement.at, Restatement.id)
    )
    return list(session.scalars(stmt))


def add_restatements(session: Session, rows: Iterable[Restatement]) -> None:
    session.add_all(list(rows))
    session.flush()


# ------------------------------------------------------------------------------ reference and names


def names(session: Session) -> dict[str, dict[Any, str]]:
    """Display names of parks, areas, industries and officers (small tables, four statements)."""
    return {
        "park": {k: v for k, v in session.execute(select(Park.code, Park.name).order_by(Park.code))},
        "area": {k: v for k, v in session.execute(select(Area.code, Area.name))},
        "industry": {k: v for k, v in session.execute(select(Industry.code, Industry.name))},
        "officer": {k: v for k, v in session.execute(select(User.id, User.display_name))},
    }


def targets(session: Session, scope: Scope) -> list[PlanTarget]:
    stmt = (
        select(PlanTarget)
        .where(_in_scope(PlanTarget.park_code, scope))
        .order_by(PlanTarget.park_code, PlanTarget.by_year, PlanTarget.code)
    )
    return list(session.scalars(stmt))


def target(session: Session, target_id: int) -> PlanTarget | None:
    return session.get(PlanTarget, target_id)


def target_history(session: Session, scope: Scope, limit: int = 100) -> list[tuple[AuditEntry, str, str]]:
    """The latest audited changes to plan targets (entry, target label, park), newest first."""
    stmt = (
        select(AuditEntry, PlanTarget.label, PlanTarget.park_code)
        .join(PlanTarget, PlanTarget.id == AuditEntry.entity_id)
        .where(AuditEntry.entity == PlanTarget.__tablename__, _in_scope(PlanTarget.park_code, scope))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [(e, label, park) for e, label, park in session.execute(stmt)]
