"""The monthly report's operations: figures of a month (frozen when closed, else live from the tier ledger and
the dated memberships), flows, closing a month, restatements, drill-downs and plan-target edits.

Services flush, never commit. Who may do what: every staff member reads (officers only their parks); only
admins close a month, record a restatement or edit a plan target.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from app.audit.actor import Actor
from app.audit.listener import fmt
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.auth.principal import Principal
from app.db import utcnow
from app.errors import NotFound, NotPermitted, RuleViolation
from app.reference.models import PlanTarget
from app.reports import months
from app.reports import repository as repo
from app.reports.models import ReportMonth, Restatement, View
from app.reports.repository import FineRow, Scope
from app.tiers.codes import LADDER_LEVEL_LABELS, LADDER_POSITION, TIER_LABELS, Tier

MEASURES = ("opening", "new", "upgrade", "expired", "revoked", "moved_in", "moved_out", "closing")
MEASURE_LABELS = {
    "opening": "月初",
    "new": "新认定",
    "upgrade": "晋级",
    "expired": "到期",
    "revoked": "撤销",
    "moved_in": "迁入",
    "moved_out": "迁出",
    "closing": "月末",
}
# Sign of each measure in the identity: opening + new + upgrade − expired − revoked + moved_in − moved_out.
SIGNS = {"new": 1, "upgrade": 1, "expired": -1, "revoked": -1, "moved_in": 1, "moved_out": -1}
TIERS = [t.value for t in Tier]
LEVELS = [str(n) for n in range(1, 6)]
KEY_LABELS = {
    View.counts: {t.value: TIER_LABELS[t] for t in Tier},
    View.ladder: {str(n): LADDER_LEVEL_LABELS[n] for n in range(1, 6)},
}
LAPSE_WINDOWS = (3, 6)


def scope_of(principal: Principal) -> Scope:
    return principal.park_codes


def can_close(principal: Principal) -> bool:
    """Closing a month, restating it and editing plan targets are the administrator's (not officers')."""
    return principal.role is Role.admin


def as_of(month: str, today: date) -> date:
    """The day a month is counted on: its month-end, or today while the month is still running."""
    if months.first_day(month) > today:
        raise RuleViolation(f"{months.label(month)}尚未开始", field="month")
    return min(months.end(month), today)


# ------------------------------------------------------------------------------------ month figures


@dataclass
class MonthFigures:
    month: str
    day: date
    closed: ReportMonth | None
    counts: list[FineRow]
    ladder: list[FineRow]


@dataclass
class Live:
    """Live figures of several month-ends from one snapshot of the ledger."""

    rows: list[dict[View, list[FineRow]]]  # per date asked for
    flows: dict[tuple[str, str, str], int]  # (park, tier, measure) from dates[1] to dates[0], when asked
    lapses: dict[tuple[str, str], dict[int, int]]  # (park, tier) → {window in months: firms} at dates[0]


_POSITION = {t.value: LADDER_POSITION.get(t, 0) for t in Tier}


@cache
def _decode(mask: int) -> tuple[tuple[str, ...], int]:
    """The tiers in a mask and their highest ladder position."""
    tiers = tuple(t for i, t in enumerate(repo.TIER_BITS) if mask >> i & 1)
    return tiers, max((_POSITION[t] for t in tiers), default=0)


@cache
def _flow_events(
    park0: str | None, park1: str | None, mask0: int, mask1: int, revoked: int
) -> tuple[tuple[str, str, str], ...]:
    """(park, tier, measure) of a firm between two month-ends from its places and tier masks (many firms
    share the same story, hence the cache)."""
    level0 = _decode(mask0)[1]
    out = []
    for tier in _decode(mask0 | mask1)[0]:
        i = repo.TIER_BITS.index(tier)
        held0, held1 = bool(mask0 >> i & 1), bool(mask1 >> i & 1)
        up = _POSITION[tier] > level0 > 0
        out += [
            (park, tier, m) for park, m in classify(park0, park1, held0, held1, bool(revoked >> i & 1), up)
        ]
    return tuple(out)


def live(
    session: Session, dates: list[date], scope: Scope, *, flow: bool = False, lapses: bool = False
) -> Live:
    """Counts and ladder rows on each of `dates`; with `flow`, the flows from dates[1] to dates[0]; with
    `lapses`, the tiers held on dates[0] that lapse within 3 and 6 months. One statement
    (repository.snapshot); the grouped rows are spread over tiers and levels here."""
    windows = LAPSE_WINDOWS if lapses else ()
    spec = (
        repo.Lapses(dates[0], tuple(months.add_months_end(dates[0], n) for n in windows)) if lapses else None
    )
    raw = repo.snapshot(session, dates, scope, flow=(dates[1], dates[0]) if flow else None, lapses=spec)
    n_dates = len(dates)
    # First merge the rows that tell the same story for one purpose (one month-end's place and tiers, the
    # flow between two, the lapses), then spread each distinct story over its tiers once.
    places: list[dict[tuple[Any, ...], int]] = [defaultdict(int) for _ in dates]
    moves: dict[tuple[Any, ...], int] = defaultdict(int)
    ends: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in raw:
        officer, firms = row[0], row[-1]
        for i in range(n_dates):
            at = 1 + 4 * i
            if row[at + 3]:
                places[i][(row[at], row[at + 1], row[at + 2], officer, row[at + 3])] += firms
        if flow:
            moves[(row[5], row[1], row[8] or 0, row[4] or 0, row[1 + 4 * n_dates] or 0)] += firms
        if lapses and row[1] is not None:
            ends[(row[1], row[4], *row[-2 - len(windows) : -1])] += firms

    def ok(park: str | None) -> bool:
        return park is not None and (scope is None or park in scope)

    counts: list[dict[tuple[Any, ...], int]] = [defaultdict(int) for _ in dates]
    ladder: list[dict[tuple[Any, ...], int]] = [defaultdict(int) for _ in dates]
    for i, grouped in enumerate(places):
        for (park, area, industry, officer, mask), firms in grouped.items():
            if not ok(park):
                continue
            tiers, level = _decode(int(mask))
            for tier in tiers:
                counts[i][(park, area, industry, officer, tier)] += int(firms)
            if level:
                ladder[i][(park, area, industry, officer, str(level))] += int(firms)
    flows: dict[tuple[str, str, str], int] = defaultdict(int)
    for (park0, park1, mask0, mask1, revoked), firms in moves.items():
        for key in _flow_events(park0, park1, int(mask0), int(mask1), int(revoked)):
            if ok(key[0]):
                flows[key] += int(firms)
    lapsing: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: dict.fromkeys(windows, 0))
    for (park, held, running, *beyond), firms in ends.items():
        if not ok(park):
            continue
        for window, past in zip(windows, beyond, strict=True):
            for tier in _decode(int(held or 0) & int(running or 0) & ~int(past or 0))[0]:
                lapsing[(park, tier)][window] += int(firms)

    def fine(table: dict[tuple[Any, ...], int]) -> list[FineRow]:
        return [FineRow(p, a, i, o, k, v) for (p, a, i, o, k), v in table.items()]

    return Live(
        rows=[{View.counts: fine(counts[i]), View.ladder: fine(ladder[i])} for i in range(n_dates)],
        flows=dict(flows),
        lapses=dict(lapsing),
    )


def live_rows(session: Session, day: date, scope: Scope) -> dict[View, list[FineRow]]:
    return live(session, [day], scope).rows[0]


def figures(
    session: Session, month: str, scope: Scope, today: date, closed: ReportMonth | None
) -> MonthFigures:
    """The month's counts and ladder rows: frozen when the month is closed, live otherwise."""
    day = as_of(month, today)
    if closed is not None:
        counts = repo.frozen_rows(session, month, View.counts, scope)
        ladder = repo.frozen_rows(session, month, View.ladder, scope)
    else:
        rows = live_rows(session, day, scope)
        counts, ladder = rows[View.counts], rows[View.ladder]
    return MonthFigures(month, day, closed, counts, ladder)


def frozen_or(
    session: Session,
    month: str,
    scope: Scope,
    today: date,
    closed: ReportMonth | None,
    rows: dict[View, list[FineRow]],
) -> MonthFigures:
    """A month's figures: frozen when closed, else the live `rows` already read for it."""
    if closed is not None:
        return figures(session, month, scope, today, closed)
    return MonthFigures(month, as_of(month, today), None, rows[View.counts], rows[View.ladder])


def by_park_key(rows: list[FineRow]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        out[(r.park, r.key)] += r.value
    return out


# -------------------------------------------------------------------------------------------- flows


def classify(
    park0: str | None, park1: str | None, held0: bool, held1: bool, revoked: bool, upgrade: bool
) -> list[tuple[str, str]]:
    """(park, measure) pairs of one firm-tier between two month-ends.

    A tier gained is counted where the firm sits at the month-end (新认定, or 晋级 when the firm held a lower
    ladder position before); a tier lost where it sat at the start (撤销 when a certificate held then was
    revoked, else 到期); a tier held on both days by a firm that changed park is 迁出 of the old park and 迁入
    of the new one (a firm arriving from outside every park is only 迁入). So, per park and tier:
    opening + new + upgrade − expired − revoked + moved_in − moved_out = closing.
    """
    out: list[tuple[str, str]] = []
    if held0 and park0:
        out.append((park0, "opening"))
    if held1 and park1:
        out.append((park1, "closing"))
    if held0 and held1:
        if park0 != park1:
            if park0:
                out.append((park0, "moved_out"))
            if park1:
                out.append((park1, "moved_in"))
    elif held1 and park1:
        out.append((park1, "upgrade" if upgrade else "new"))
    elif held0 and park0:
        out.append((park0, "revoked" if revoked else "expired"))
    return out


def live_flows(session: Session, month: str, scope: Scope, today: date) -> dict[tuple[str, str, str], int]:
    """(park, tier, measure) → firms between the previous month-end and this one."""
    day1 = as_of(month, today)
    day0 = months.end(months.shift(month, -1))
    return live(session, [day1, day0], scope, flow=True).flows


def month_flows(
    session: Session, month: str, scope: Scope, today: date, closed: ReportMonth | None
) -> dict[tuple[str, str, str], int]:
    if closed is not None:
        return repo.frozen_flows(session, month, scope)
    return live_flows(session, month, scope, today)


# ------------------------------------------------------------------------- closing and restatements


@dataclass(frozen=True)
class Difference:
    """A closed month's published figure (frozen, or last restated) that the ledger now reads differently."""

    view: View
    park: str
    key: str
    old: int
    new: int


def published(session: Session, month: str, scope: Scope) -> dict[tuple[View, str, str], int]:
    """The closed month's figures by (view, park, key), restatements applied in order."""
    out: dict[tuple[View, str, str], int] = {}
    for view in (View.counts, View.ladder):
        for (park, key), value in by_park_key(repo.frozen_rows(session, month, view, scope)).items():
            out[(view, park, key)] = value
    for r in repo.restatements(session, month, scope):
        out[(View(r.view), r.park_code, r.key)] = r.new_value
    return out


def differences(session: Session, month: str, scope: Scope, today: date) -> list[Difference]:
    """Where recomputing a closed month from today's ledger differs from what was published for it."""
    return compare(published(session, month, scope), live_rows(session, as_of(month, today), scope))


def compare(now: dict[tuple[View, str, str], int], live_now: dict[View, list[FineRow]]) -> list[Difference]:
    fresh: dict[tuple[View, str, str], int] = {}
    for view, rows in live_now.items():
        for (park, key), value in by_park_key(rows).items():
            fresh[(view, park, key)] = value
    out = []
    for k in sorted(set(now) | set(fresh)):
        old, new = now.get(k, 0), fresh.get(k, 0)
        if old != new:
            out.append(Difference(k[0], k[1], k[2], old, new))
    return out


@dataclass
class CloseResult:
    month: str
    newly_closed: bool
    restated: list[Difference] = field(default_factory=list)
    pending: list[Difference] = field(default_factory=list)


def close_month(
    session: Session, actor: Actor, month: str, today: date, reason: str | None = None
) -> CloseResult:
    """Freeze an ended month; on a closed month, record each difference as a restatement (reason required).

    Idempotent: closing a closed month whose figures still hold changes nothing.
    """
    month = months.parse(month)
    if months.end(month) >= today:
        raise RuleViolation(f"{months.label(month)}尚未结束（月末之后才能关账）", field="month")
    existing = repo.closed_months(session, [month]).get(month)
    if existing is None:
        snap = live(session, [months.end(month), months.end(months.shift(month, -1))], None, flow=True)
        rows, flows = snap.rows[0], snap.flows
        closed = ReportMonth(
            month=month, closed_at=utcnow(), closed_by_id=actor.user_id, closed_by=actor.label
        )
        repo.freeze(session, closed, rows, flows)
        return CloseResult(month, newly_closed=True)
    pending = differences(session, month, None, today)
    reason = (reason or "").strip()
    if not pending:
        return CloseResult(month, newly_closed=False)
    if not reason:
        raise RuleViolation("该月已关账，台账数据已变化：请填写更正理由以记录更正", field="reason")
    if len(reason) > 500:
        raise RuleViolation("更正理由不能超过 500 个字符", field="reason")
    at = utcnow()
    repo.add_restatements(
        session,
        (
            Restatement(
                month=month,
                view=d.view,
                park_code=d.park,
                key=d.key,
                old_value=d.old,
                new_value=d.new,
                reason=reason,
                by_id=actor.user_id,
                by_label=actor.label,
                at=at,
            )
            for d in pending
        ),
    )
    return CloseResult(month, newly_closed=False, restated=pending)


# --------------------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class DrillFirm:
    firm_id: int
    name: str
    uscc: str
    park: str | None
    other_park: str | None = None  # for moves: the park at the other month-end
    area: str | None = None
    industry: str | None = None
    officer_id: int | None = None


def drill(
    session: Session,
    principal: Principal,
    month: str,
    today: date,
    *,
    view: View,
    key: str,
    measure: str = "count",
    park: str | None = None,
    area: str | None = None,
    industry: str | None = None,
    officer_id: int | None = None,
) -> list[DrillFirm]:
    """The named firms behind one number of the report (as the ledger reads them now)."""
    scope = scope_of(principal)
    if park is not None and not principal.may_use_park(park):
        raise NotFound()
    if view is View.flows:
        if key not in TIERS or measure not in MEASURES or park is None:
            raise NotFound()
        day1 = as_of(month, today)
        day0 = months.end(months.shift(month, -1))
        out = []
        for f in repo.flow_firms(session, day0, day1, scope, key, park):
            if (park, measure) in classify(f.park0, f.park1, f.held0, f.held1, f.revoked, f.upgrade):
                here, there = (
                    (f.park0, f.park1)
                    if measure in ("opening", "expired", "revoked", "moved_out")
                    else (f.park1, f.park0)
                )
                out.append(DrillFirm(f.firm_id, f.name, f.uscc, here, there))
        return out
    if view is View.counts and key in TIERS and measure.startswith("lapse"):
        # Tiers held at the month-end that lapse within `measure` = lapse3 / lapse6 months.
        window = int(measure.removeprefix("lapse") or 0)
        if window not in LAPSE_WINDOWS:
            raise NotFound()
        day = as_of(month, today)
        kwargs: dict[str, object] = {"tier": key, "lapsing_by": months.add_months_end(day, window)}
    elif view is View.counts and key in TIERS:
        kwargs = {"tier": key}
    elif view is View.ladder and key in LEVELS:
        kwargs = {"level": int(key)}
    else:
        raise NotFound()
    rows = repo.holders(
        session, as_of(month, today), scope, park=park, area=area, industry=industry, officer_id=officer_id,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    return [
        DrillFirm(r.firm_id, r.name, r.uscc, r.park, None, r.area, r.industry, r.officer_id) for r in rows
    ]


# ------------------------------------------------------------------------------------- plan targets


@dataclass
class TargetEdit:
    label: str
    value: Decimal
    by_year: int
    source: str
    note: str | None
    reason: str | None = None


TARGET_FIELDS = ("label", "value", "by_year", "source", "note")


def update_target(session: Session, principal: Principal, target_id: int, edit: TargetEdit) -> PlanTarget:
    """An admin corrects a plan target; each changed field is written to the audit trail (old → new)."""
    if not can_close(principal):
        raise NotPermitted()
    target = repo.target(session, target_id)
    if target is None:
        raise NotFound()
    if not edit.source.strip():
        raise RuleViolation("须填写目标的来源文件", field="source")
    at = utcnow()
    actor = principal.actor
    for name in TARGET_FIELDS:
        old, new = getattr(target, name), getattr(edit, name)
        if fmt(old) == fmt(new):
            continue
        setattr(target, name, new)
        session.add(
            AuditEntry(
                at=at,
                actor_kind=actor.kind.value,
                actor_id=actor.user_id,
                actor_label=actor.label,
                channel=actor.channel.value,
                channel_ref=None,
                firm_id=None,
                entity=PlanTarget.__tablename__,
                entity_id=target.id,
                action="update",
                field=name,
                old_value=fmt(old),
                new_value=fmt(new),
                reason=(edit.reason or "").strip() or None,
            )
        )
    session.flush()
    return target
