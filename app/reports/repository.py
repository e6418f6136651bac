"""Every query of the monthly report. Set-based: each figure is one grouped statement over recognitions and
dated memberships (never a loop over firms). Park scope (an officer's parks) is applied in `_in_scope` only,
always to the park the firm belonged to on the day counted, so a past month reads the same whoever asks later.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, or_, select, text
from sqlalchemy.orm import Session, aliased

from app.audit.models import AuditEntry
from app.auth.models import User
from app.firms.models import Firm, Membership
from app.firms.repository import held_on
from app.recognitions.models import Recognition
from app.reference.models import Area, Industry, Park, PlanTarget
from app.reports.models import ReportFigure, ReportMonth, Restatement, View
from app.tiers.codes import LADDER_POSITION, Tier

Scope = frozenset[str] | None  # an officer's parks; None = every park
FAR = date(9999, 12, 31)
LADDER_TIERS = sorted(LADDER_POSITION)
# Bit i of a tier mask is TIER_BITS[i].
TIER_BITS = [t.value for t in Tier]


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


def _tune(session: Session) -> None:
    """PostgreSQL, this transaction only: room for the report's hash aggregates in memory, and no JIT — the
    planner cannot estimate grouped subqueries, guesses millions of rows, and would spend a second compiling
    a statement that runs in a fraction of that."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


@dataclass(frozen=True)
class Lapses:
    day: date
    until: tuple[date, ...]  # one per window, ascending


def _bits(session: Session, condition: ColumnElement[bool], bit: Any) -> Any:
    """Per firm, the bit-or of the tier bits of the certificates meeting `condition` (PostgreSQL's bit_or;
    elsewhere the sum of the distinct bits, which is the same number: every bit is a power of two)."""
    value = case((condition, bit), else_=0)
    if session.get_bind().dialect.name == "postgresql":
        return func.bit_or(value)
    return func.sum(value.distinct())


def snapshot(
    session: Session,
    dates: Sequence[date],
    scope: Scope,
    *,
    flow: tuple[date, date] | None = None,
    lapses: Lapses | None = None,
) -> list[tuple[Any, ...]]:
    """Everything the report reads of the ledger, in one statement: one row per group of firms with the same
    officer, the same place (park, area, industry) on each of `dates`, and the same tiers held on each.

    Tiers are bit masks (bit i = TIER_BITS[i]) aggregated per firm in one pass over the recognitions, so a
    firm is one row whatever it holds. `flow` adds the mask of tiers whose certificate held on its first day
    was revoked by its second. `lapses` adds, for `lapses.day` (the first date), the tiers with an
    unrevoked certificate running past the day (E) and per window those with one running past the
    window's end or without end (F): a tier held on the day lapses within the window iff held & E & ~F.
    Columns: officer_id, then per date park, area, industry, mask, then [revoked], [E, F...], firms.
    """
    _tune(session)
    r = Recognition
    held_any: list[ColumnElement[bool]] = [held_on(d) for d in dates]
    if lapses is not None:
        assert lapses.day == dates[0], "lapses are counted from the first date"
        # Renewals recorded after the day still push the end out.
        held_any.append(and_(r.revoked_on.is_(None), or_(r.expires_on.is_(None), r.expires_on > lapses.day)))
    # Each certificate's tier bit and open ends computed once (OFFSET 0 keeps PostgreSQL from inlining the
    # subquery and re-evaluating them in every aggregate below).
    certs = (
        select(
            r.firm_id,
            case({t: 1 << i for i, t in enumerate(TIER_BITS)}, value=r.tier, else_=0).label("bit"),
            r.issued_on.label("issued"),
            func.coalesce(r.expires_on, FAR).label("ends"),
            func.coalesce(r.revoked_on, FAR).label("revoked"),
        )
        .where(or_(*held_any))
        .offset(0)
        .subquery("certs")
    )
    c = certs.c

    def held(day: date) -> ColumnElement[bool]:
        # The rule of app.firms.repository.held_on, on the open ends read as the far future.
        return and_(c.issued <= day, c.ends >= day, c.revoked > day)

    cols: list[Any] = [_bits(session, held(d), c.bit).label(f"m{i}") for i, d in enumerate(dates)]
    if flow is not None:
        revoked = and_(held(flow[0]), c.revoked <= flow[1], c.revoked <= c.ends)
        cols.append(_bits(session, revoked, c.bit).label("rv"))
    if lapses is not None:
        unrevoked = c.revoked == FAR
        cols.append(_bits(session, and_(unrevoked, c.ends > lapses.day), c.bit).label("le"))
        for n, until in enumerate(lapses.until):
            cols.append(_bits(session, and_(unrevoked, c.ends > until), c.bit).label(f"lf{n}"))
    masks = select(c.firm_id, *cols).group_by(c.firm_id).subquery("masks")

    # Where each firm sat on each date: one outer join per date (at most one membership covers a day).
    places = [aliased(Membership, name=f"m{i}") for i in range(len(dates))]
    stmt = select(masks).join(Firm, Firm.id == masks.c.firm_id)
    keys: list[Any] = [Firm.officer_id]
    for i, (m, day) in enumerate(zip(places, dates, strict=True)):
        stmt = stmt.outerjoin(m, and_(m.firm_id == masks.c.firm_id, _member_on(m, day)))
        keys += [m.park_code, m.area_code, m.industry_code, masks.c[f"m{i}"]]
    keys += [c for c in masks.c if c.name == "rv" or c.name.startswith("l")]
    stmt = stmt.with_only_columns(*keys, func.count()).group_by(*keys)
    stmt = stmt.where(or_(*(m.park_code.is_not(None) for m in places)))
    if scope is not None:
        stmt = stmt.where(or_(*(_in_scope(m.park_code, scope) for m in places)))
    return [tuple(row) for row in session.execute(stmt)]


def _levels(day: date) -> Any:
    return (
        select(Recognition.firm_id, func.max(_position(Recognition.tier)).label("level"))
        .where(held_on(day), Recognition.tier.in_(LADDER_TIERS))
        .group_by(Recognition.firm_id)
        .subquery()
    )


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
    lapsing_by: date | None = None,
    park: str | None = None,
    area: str | None = None,
    industry: str | None = None,
    officer_id: int | None = None,
) -> list[HolderFirm]:
    """The firms behind one count: holding `tier` (or at ladder `level`) on `day`, where they sat that day;
    with `lapsing_by`, only those whose `tier` lapses after `day` and by that date unless renewed (the rule of
    `snapshot`'s lapse masks)."""
    r = Recognition
    if level is not None:
        levels = _levels(day)
        firms = select(levels.c.firm_id).where(levels.c.level == level)
    elif lapsing_by is not None:
        unrevoked = r.revoked_on.is_(None)

        def any_(condition: ColumnElement[bool]) -> Any:
            return func.max(case((condition, 1), else_=0))

        firms = (
            select(r.firm_id)
            .where(r.tier == tier)
            .group_by(r.firm_id)
            .having(
                any_(held_on(day)) == 1,
                any_(and_(unrevoked, or_(r.expires_on.is_(None), r.expires_on > day))) == 1,
                any_(and_(unrevoked, or_(r.expires_on.is_(None), r.expires_on > lapsing_by))) == 0,
            )
        )
    else:
        firms = select(r.firm_id).where(held_on(day), r.tier == tier)
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
