"""申报 (快申快享) items: firms that match get the item pushed with their gap list and deadline; officers
see who was told and who applied (criteria.md §9.5: push-and-apply when some criteria are manual)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.principal import Principal
from app.errors import NotFound, NotPermitted, RuleViolation
from app.firms.models import Firm
from app.firms.repository import scoped
from app.policies import catalogue
from app.policies.facts import decisions_in_scope
from app.policies.models import DeliveryMode, Policy, PolicyPush, PushStatus

MATCHING = ("eligible", "needs_review", "insufficient_data")
STATUS_LABELS = {"eligible": "符合条件", "needs_review": "需人工审核", "insufficient_data": "资料待补充"}


@dataclass
class PushMatch:
    firm: Firm
    status: str
    gaps: list[str]


def matches(session: Session, principal: Principal, policy: Policy, today: date) -> list[PushMatch]:
    """Firms in the principal's parks that the item applies to and that do not fail it, with their gaps."""
    park_scope = sorted(principal.park_codes) if principal.park_codes is not None else None
    decided = decisions_in_scope(
        session,
        catalogue.compiled(policy),
        as_of=today,
        period_start=date(today.year, 1, 1),
        park_scope=park_scope,
    )
    found = {fid: (d.status, d.gaps) for fid, _, d in decided if d.status in MATCHING}
    if not found:
        return []
    firms = session.scalars(
        scoped(select(Firm).where(Firm.id.in_(list(found))), principal).order_by(Firm.name)
    )
    return [PushMatch(f, *found[f.id]) for f in firms]


def _ensure_apply(policy: Policy) -> None:
    if policy.mode != DeliveryMode.apply:
        raise RuleViolation("只有“申报”条目可以推送", field="policy")


def pushes_of(
    session: Session, principal: Principal, policy: Policy, year: int
) -> list[tuple[PolicyPush, Firm]]:
    stmt = scoped(
        select(PolicyPush, Firm)
        .join(Firm, Firm.id == PolicyPush.firm_id)
        .where(PolicyPush.policy_id == policy.id, PolicyPush.year == year),
        principal,
    ).order_by(PolicyPush.status, Firm.name)
    return [(p, f) for p, f in session.execute(stmt)]


def push_all(session: Session, principal: Principal, policy: Policy, today: date) -> int:
    """Push the item to every matching firm in scope not yet told this year; returns how many were told."""
    if principal.role not in (Role.admin, Role.officer):
        raise NotPermitted("领导账号仅可查看，不能推送")
    _ensure_apply(policy)
    if not catalogue.in_force(policy, today):
        raise RuleViolation("该条目当前未生效", field="policy")
    told = {p.firm_id for p, _ in pushes_of(session, principal, policy, today.year)}
    count = 0
    for m in matches(session, principal, policy, today):
        if m.firm.id in told:
            continue
        session.add(
            PolicyPush(
                policy_id=policy.id,
                firm_id=m.firm.id,
                year=today.year,
                match_status=m.status,
                gaps=m.gaps,
                deadline=policy.apply_deadline,
                status=PushStatus.pushed,
                pushed_by_id=principal.user_id,
            )
        )
        count += 1
    session.flush()
    return count


def push_in_scope(session: Session, principal: Principal, push_id: int) -> PolicyPush:
    row = session.execute(
        scoped(
            select(PolicyPush).join(Firm, Firm.id == PolicyPush.firm_id).where(PolicyPush.id == push_id),
            principal,
        )
    ).first()
    if row is None:
        raise NotFound("未找到该推送记录，或您无权查看")
    return row[0]


def set_status(
    session: Session, principal: Principal, item: PolicyPush, status: str, note: str, today: date
) -> PolicyPush:
    if principal.role not in (Role.admin, Role.officer):
        raise NotPermitted("领导账号仅可查看")
    if status not in set(PushStatus):
        raise RuleViolation("未知状态", field="status")
    item.status = PushStatus(status)
    item.applied_on = today if status == PushStatus.applied else None
    item.note = note.strip() or item.note
    session.flush()
    return item


def page_context(session: Session, principal: Principal, policy: Policy, today: date) -> dict[str, Any]:
    pushed = pushes_of(session, principal, policy, today.year)
    told = {p.firm_id for p, _ in pushed}
    pending = (
        [m for m in matches(session, principal, policy, today) if m.firm.id not in told]
        if (policy.mode == DeliveryMode.apply and catalogue.in_force(policy, today))
        else []
    )
    return {
        "policy": policy,
        "pending": pending,
        "pushed": pushed,
        "year": today.year,
        "counts": {
            "pushed": len(pushed),
            "applied": sum(1 for p, _ in pushed if p.status == PushStatus.applied),
            "declined": sum(1 for p, _ in pushed if p.status == PushStatus.declined),
        },
        "MATCH_LABELS": STATUS_LABELS,
        "can_push": principal.role in (Role.admin, Role.officer) and policy.mode == DeliveryMode.apply,
    }


def pushes_of_firm(session: Session, firm_id: int) -> list[PolicyPush]:
    """Every 申报 push to one firm, newest first (the caller has checked the firm is in scope)."""
    return list(
        session.scalars(
            select(PolicyPush).where(PolicyPush.firm_id == firm_id).order_by(PolicyPush.id.desc())
        )
    )
