"""What-if: before an admin saves a policy's criteria or amount, which named firms would gain or lose it
and what it does to the budget (for the current year, over the firms the admin may see)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.firms.models import Firm
from app.policies import catalogue, grants
from app.policies.catalogue import CleanPolicy
from app.policies.models import Policy


@dataclass
class ImpactRow:
    firm_id: int
    name: str
    uscc: str
    event_label: str
    before: Decimal | None
    after: Decimal | None


@dataclass
class Impact:
    period: str
    gained: list[ImpactRow] = field(default_factory=list)
    lost: list[ImpactRow] = field(default_factory=list)
    changed: list[ImpactRow] = field(default_factory=list)
    unchanged: int = 0
    total_before: Decimal = Decimal(0)
    total_after: Decimal = Decimal(0)
    budget_total: Decimal | None = None
    budget_used: Decimal = Decimal(0)

    @property
    def delta(self) -> Decimal:
        return self.total_after - self.total_before

    @property
    def over_budget(self) -> bool:
        return self.budget_total is not None and self.budget_used + self.total_after > self.budget_total


def impact(
    session: Session, principal: Principal, policy: Policy | None, draft: CleanPolicy, today: date
) -> Impact:
    """Compare who the saved policy pays this year (nothing, for a new one) with who the draft would pay."""
    period = str(today.year)
    scope = sorted(principal.park_codes) if principal.park_codes is not None else None
    before: dict[tuple[int, str], grants.Match] = {}
    if policy is not None:
        _, matches, _ = grants.match_firms(
            session,
            policy,
            catalogue.compiled(policy),
            period,
            today,
            scope,
            firm_annual_cap=policy.firm_annual_cap,
        )
        before = {(m.firm_id, m.event_key): m for m in matches}
    shadow = Policy(**{k: v for k, v in draft.fields.items() if k != "code"})
    shadow.id = policy.id if policy is not None else None  # type: ignore[assignment]
    _, matches, _ = grants.match_firms(
        session,
        shadow,
        draft.compiled,
        period,
        today,
        scope,
        firm_annual_cap=draft.fields.get("firm_annual_cap"),
    )
    after = {(m.firm_id, m.event_key): m for m in matches}
    ids = {fid for fid, _ in set(before) | set(after)}
    firms = {f.id: f for f in session.scalars(select(Firm).where(Firm.id.in_(ids)))} if ids else {}
    result = Impact(period=period)
    for key in sorted(set(before) | set(after), key=lambda k: firms[k[0]].name):
        b, a = before.get(key), after.get(key)
        firm = firms[key[0]]
        row = ImpactRow(
            firm.id,
            firm.name,
            firm.uscc,
            (a or b).event_label,  # type: ignore[union-attr]
            b.amount if b else None,
            a.amount if a else None,
        )
        if b is None:
            result.gained.append(row)
        elif a is None:
            result.lost.append(row)
        elif a.amount != b.amount:
            result.changed.append(row)
        else:
            result.unchanged += 1
    result.total_before = sum((m.amount for m in before.values()), Decimal(0))
    result.total_after = sum((m.amount for m in after.values()), Decimal(0))
    if policy is not None:
        result.budget_total = catalogue.budget_for(session, policy.id, today.year)
        result.budget_used = catalogue.budget_used(session, policy.id, today.year)
    if draft.budget_year == today.year and draft.budget_total is not None:
        result.budget_total = draft.budget_total
    return result
