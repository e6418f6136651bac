"""Yearly indicators, dated facts, incidents and awards of a firm, each with its source."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actor import set_reason
from app.auth.principal import Principal
from app.db import utcnow
from app.errors import RuleViolation
from app.firms.models import Firm
from app.firms.schemas import YEAR_AMOUNT_FIELDS, YEAR_INT_FIELDS, AwardIn, FactIn, IncidentIn, YearIn
from app.firms.service import ensure_can_edit
from app.indicators.facts import FACTS, parse_fact_value
from app.indicators.models import Award, FactObservation, FirmYear, Incident, Source

YEAR_FIELDS = YEAR_INT_FIELDS + YEAR_AMOUNT_FIELDS

# Parts that cannot exceed their whole; each message is shown beside the part.
_COHERENCE: list[tuple[str, str, str]] = [
    ("tech_staff", "employees", "科技人员不能多于职工总数"),
    ("rd_staff", "employees", "研发人员不能多于职工总数"),
    ("main_revenue", "revenue", "主营业务收入不能大于营业收入"),
    ("rd_expense_domestic", "rd_expense", "境内研发费用不能大于研发费用"),
]


def incoherent(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The (part, whole, message) of every part that exceeds its whole among one year's known values."""
    out = []
    for part, whole, message in _COHERENCE:
        a, b = values.get(part), values.get(whole)
        if a is not None and b is not None and a > b:
            out.append((part, whole, message))
    return out


def _check_year(year: int, data: YearIn, today: date) -> None:
    if year < 1990 or year > today.year:
        raise RuleViolation(f"年度应在 1990 至 {today.year} 之间", field="year")
    problems = incoherent(data.model_dump())
    if problems:
        part, _whole, message = problems[0]
        raise RuleViolation(message, field=part)
    if data.source == Source.department and not data.source_department:
        raise RuleViolation("部门数据须注明来源部门", field="source_department")


def upsert_year(
    session: Session, principal: Principal, firm: Firm, year: int, data: YearIn, *, today: date
) -> FirmYear:
    """Add or replace one year's indicators from one source; unchanged fields stay as they were."""
    ensure_can_edit(principal)
    _check_year(year, data, today)
    set_reason(session, data.reason)
    row = session.scalars(
        select(FirmYear).where(
            FirmYear.firm_id == firm.id, FirmYear.year == year, FirmYear.source == data.source
        )
    ).first()
    if row is None:
        row = FirmYear(firm_id=firm.id, year=year, source=data.source, recorded_by_id=principal.user_id)
        session.add(row)
    row.source_department = data.source_department
    for name in YEAR_FIELDS:
        setattr(row, name, getattr(data, name))
    if data.source == Source.officer_verified:
        row.verified_by_id = principal.user_id
        row.verified_at = utcnow()
    session.flush()
    return row


def years_of(session: Session, firm_id: int) -> list[FirmYear]:
    return list(
        session.scalars(select(FirmYear).where(FirmYear.firm_id == firm_id).order_by(FirmYear.year.desc()))
    )


def add_fact(
    session: Session, principal: Principal, firm: Firm, data: FactIn, *, today: date
) -> FactObservation:
    """Record what one source says of a fact, holding from `valid_from` (default today)."""
    ensure_can_edit(principal)
    if data.key not in FACTS:
        raise RuleViolation(f"未知的事实项：{data.key}", field="key")
    try:
        value = parse_fact_value(data.key, data.value)
    except ValueError as exc:
        raise RuleViolation(str(exc), field="value") from None
    if data.source == Source.department and not data.source_department:
        raise RuleViolation("部门数据须注明来源部门", field="source_department")
    set_reason(session, data.reason)
    verified = data.source == Source.officer_verified
    obs = FactObservation(
        firm_id=firm.id,
        key=data.key,
        value=value,
        valid_from=data.valid_from or today,
        source=data.source,
        source_department=data.source_department,
        note=data.note,
        recorded_by_id=principal.user_id,
        recorded_at=utcnow(),
        verified_by_id=principal.user_id if verified else None,
        verified_at=utcnow() if verified else None,
    )
    session.add(obs)
    session.flush()
    return obs


def add_incident(session: Session, principal: Principal, firm: Firm, data: IncidentIn) -> Incident:
    ensure_can_edit(principal)
    set_reason(session, data.reason)
    row = Incident(firm_id=firm.id, **data.model_dump(exclude={"reason"}))
    session.add(row)
    session.flush()
    return row


def add_award(session: Session, principal: Principal, firm: Firm, data: AwardIn) -> Award:
    ensure_can_edit(principal)
    set_reason(session, data.reason)
    row = Award(firm_id=firm.id, **data.model_dump(exclude={"reason"}))
    session.add(row)
    session.flush()
    return row
