"""A stored firm's facts on a date, in the contract's shape: yearly indicators field by field and dated
observations by source precedence (专员核实 > 部门数据 > 企业填报, newest first), recognitions, awards,
incidents, and where the firm sat (district, park) on that date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.firms.models import Firm, Membership
from app.indicators.facts import FACTS, effective_facts, typed_value
from app.indicators.models import SOURCE_RANK, Award, FactObservation, FirmYear, Incident, Source
from app.recognitions.models import Recognition
from app.rules.facts import YEAR_FIELD_INFO, AwardFact, Facts, IncidentFact, RecognitionFact

# Facts the rules compare as numbers: every decimal and integer fact of the contract, as Decimal.
NUMBER_KEYS = frozenset(k for k, d in FACTS.items() if d.kind in ("decimal", "int"))


def rules_value(key: str, stored: Any) -> Any:
    """A stored observation's value as the rules read it (typed; numbers as Decimal)."""
    value = typed_value(key, stored)
    if value is not None and key in NUMBER_KEYS:
        return Decimal(str(value))
    return value


def merge_years(
    rows: Iterable[Any], fields: Iterable[str] = tuple(YEAR_FIELD_INFO)
) -> dict[int, dict[str, Decimal | None]]:
    """Per year and field (every contract field, or `fields`), the value of the highest-precedence source
    that gave one."""
    names = list(fields)
    ranked: dict[int, list[Any]] = {}
    for row in rows:
        ranked.setdefault(row.year, []).append(row)
    years: dict[int, dict[str, Decimal | None]] = {}
    for year, group in ranked.items():
        group.sort(key=lambda r: SOURCE_RANK[Source(r.source)], reverse=True)
        merged: dict[str, Decimal | None] = {}
        for name in names:
            value = next((getattr(r, name) for r in group if getattr(r, name) is not None), None)
            merged[name] = None if value is None else Decimal(value)
        years[year] = merged
    return years


def facts_for_firm(session: Session, firm: Firm, as_of: date) -> Facts:
    """What the rules see of `firm` on `as_of`: only what was known to hold on that date."""
    year_rows = session.scalars(
        select(FirmYear).where(FirmYear.firm_id == firm.id, FirmYear.year < as_of.year)
    )
    observations = session.scalars(
        select(FactObservation).where(FactObservation.firm_id == firm.id, FactObservation.valid_from <= as_of)
    ).all()
    scalars: dict[str, Any] = {
        key: rules_value(key, eff.value) for key, eff in effective_facts(observations, as_of).items()
    }
    scalars["founded_on"] = firm.founded_on
    recognitions = session.scalars(
        select(Recognition).where(Recognition.firm_id == firm.id, Recognition.issued_on <= as_of)
    ).all()
    awards = session.scalars(select(Award).where(Award.firm_id == firm.id, Award.awarded_on <= as_of)).all()
    incidents = session.scalars(
        select(Incident).where(Incident.firm_id == firm.id, Incident.occurred_on <= as_of)
    ).all()
    membership = session.scalars(
        select(Membership).where(
            Membership.firm_id == firm.id,
            Membership.valid_from <= as_of,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= as_of),
        )
    ).first()
    return Facts(
        scalars=scalars,
        years=merge_years(year_rows),
        # A stored firm's lists are complete: what the registry does not hold did not happen (as far as it knows).
        recognitions=[
            RecognitionFact(
                tier=r.tier,
                issued_on=r.issued_on,
                expires_on=r.expires_on,
                revoked_on=r.revoked_on,
                kind=r.kind,
                certificate_no=r.certificate_no,
            )
            for r in recognitions
        ],
        awards=[AwardFact(level=a.level, awarded_on=a.awarded_on, rank=a.rank) for a in awards],
        incidents=[IncidentFact(kind=i.kind, grade=i.grade, occurred_on=i.occurred_on) for i in incidents],
        district=firm.district_code,
        park=membership.park_code if membership else None,
    )
