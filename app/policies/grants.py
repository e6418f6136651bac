"""免申即享 grant runs: match → candidates with evidence and risks → officer's decisions → grants that
wait for the firm's confirmation → paid → published (公示). criteria.md §9.3:
系统比对 → 精准推送 → 意愿确认 → 自动兑付 → 公示归档.

Never pays twice: a firm already granted for the same policy and event (an event-less policy: the same
year) is not a candidate again, and the unique key (policy, firm, event) refuses a second grant in
the database itself.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.principal import Principal
from app.db import utcnow
from app.errors import Conflict, NotFound, NotPermitted, RuleViolation
from app.firms.models import Firm
from app.firms.repository import scoped
from app.policies import catalogue
from app.policies.facts import decisions_in_scope
from app.policies.models import (
    Decision,
    DeliveryMode,
    Grant,
    GrantCandidate,
    GrantRun,
    GrantStatus,
    Policy,
    RiskLevel,
)
from app.policies.rules import CompiledPolicy, period_bounds

PERIOD_RE = re.compile(r"^(20\d{2})(?:-([1-9]|1[0-2]))?$")
WARN_LEVELS = (Decimal("0.9"), Decimal("0.7"))


def parse_period(period: str) -> str:
    period = (period or "").strip()
    if not PERIOD_RE.match(period):
        raise RuleViolation("兑现批次应为年度（如 2026）或年度内批次（如 2026-1）", field="period")
    return period


def ensure_can_run(principal: Principal) -> None:
    if principal.role is Role.leader:
        raise NotPermitted("领导账号仅可查看，不能发起或审核兑现")
    if principal.role not in (Role.admin, Role.officer):
        raise NotPermitted()


@dataclass
class Skips:
    counts: Counter[str]

    def as_dict(self) -> dict[str, int]:
        return dict(self.counts)


SKIP_LABELS = {
    "already_granted": "已兑现过同一事件",
    "excluded": "已享受不可兼得的条目",
    "firm_cap": "已达每家企业年度上限",
    "ineligible": "不符合条件",
    "insufficient_data": "数据不足",
    "needs_review": "需人工审核（请走申报）",
    "no_event": "兑现期内无触发事件",
}


@dataclass
class Match:
    firm_id: int
    event_key: str
    event_label: str
    amount: Decimal
    evidence: dict[str, Any]
    risk_level: RiskLevel
    risks: list[str]


def match_firms(
    session: Session,
    policy: Policy,
    cp: CompiledPolicy,
    period: str,
    today: date,
    park_scope: list[str] | None,
    *,
    firm_annual_cap: Decimal | None,
) -> tuple[date, list[Match], Counter[str]]:
    """Every firm in scope that the policy (as compiled — the saved one or an admin's draft) would pay for the
    period, minus events already granted or excluded; writes nothing."""
    year, start, end = period_bounds(period)
    as_of = min(today, end, policy.effective_to or end)
    window_start = max(start, policy.effective_from)
    decided = decisions_in_scope(session, cp, as_of=as_of, period_start=window_start, park_scope=park_scope)

    granted: dict[int, set[str]] = defaultdict(set)
    granted_amount: dict[int, Decimal] = defaultdict(Decimal)
    if policy.id is not None:
        for firm_id, key, amount, g_year in session.execute(
            select(Grant.firm_id, Grant.event_key, Grant.amount, Grant.year).where(
                Grant.policy_id == policy.id, Grant.status != GrantStatus.withdrawn
            )
        ):
            granted[firm_id].add(key)
            if g_year == year:
                granted_amount[firm_id] += amount
    others = catalogue.excluded_ids(session, policy.id) if policy.id is not None else set()
    excluded: dict[int, set[str]] = defaultdict(set)
    if others:
        for firm_id, key in session.execute(
            select(Grant.firm_id, Grant.event_key).where(
                Grant.policy_id.in_(others), Grant.status != GrantStatus.withdrawn
            )
        ):
            excluded[firm_id].add(key)

    skips: Counter[str] = Counter()
    out: list[Match] = []
    for firm_id, fi, decision in decided:
        if decision.status != "eligible":
            skips[decision.status if decision.status in SKIP_LABELS else "ineligible"] += 1
            continue
        if cp.trigger is not None:
            events = [(e.key, e.label) for e in decision.events]
        else:
            events = [(f"year:{year}", f"{year} 年度")]
        if not events:
            skips["no_event"] += 1
            continue
        for key, label in events:
            if key in granted[firm_id]:
                skips["already_granted"] += 1
                continue
            if key in excluded[firm_id]:
                skips["excluded"] += 1
                continue
            amount = decision.amount or Decimal(0)
            if firm_annual_cap is not None:
                room = firm_annual_cap - granted_amount[firm_id]
                if room <= 0:
                    skips["firm_cap"] += 1
                    continue
                amount = min(amount, room)
            risks = [f"数据冲突：{c}" for c in fi.conflicts] + [f"未核实：{u}" for u in fi.unverified]
            rid = int(key.split(":", 1)[1]) if key.startswith("recognition:") else None
            if (
                rid is not None
                and rid in fi.certificate_missing
                and cp.trigger
                and cp.trigger.tiers == ["hnte"]
            ):
                risks.append("认定缺少证书编号")
            level = RiskLevel.high if fi.conflicts else RiskLevel.medium if risks else RiskLevel.low
            evidence = {
                "criteria": [c.to_contract() for c in decision.criteria],
                "amount": decision.amount_text,
            }
            out.append(Match(firm_id, key, label, amount, evidence, level, risks))
    return as_of, out, skips


def start_run(session: Session, principal: Principal, policy: Policy, period: str, today: date) -> GrantRun:
    """Match every firm in scope against the policy for the period; list the candidates (nothing paid)."""
    ensure_can_run(principal)
    period = parse_period(period)
    if policy.mode != DeliveryMode.auto_grant:
        raise RuleViolation("只有“免申即享”条目可以发起兑现批次", field="policy_code")
    _, start, end = period_bounds(period)
    if start > today:
        raise RuleViolation("兑现期尚未开始", field="period")
    if not catalogue.overlaps(policy, start, end):
        raise RuleViolation("该条目在此兑现期内未生效或已停用", field="period")
    park_scope = sorted(principal.park_codes) if principal.park_codes is not None else None
    as_of, matches, skips = match_firms(
        session,
        policy,
        catalogue.compiled(policy),
        period,
        today,
        park_scope,
        firm_annual_cap=policy.firm_annual_cap,
    )
    run = GrantRun(
        policy_id=policy.id,
        period=period,
        as_of=as_of,
        created_by_id=principal.user_id,
        park_scope=park_scope,
        candidate_count=len(matches),
        skipped=dict(skips),
    )
    session.add(run)
    session.flush()
    if matches:
        # Candidates are a proposal, not yet a change to a firm's file: one multi-row INSERT; every decision
        # on them is audited.
        session.execute(
            insert(GrantCandidate),
            [
                {
                    "run_id": run.id,
                    "firm_id": m.firm_id,
                    "event_key": m.event_key,
                    "event_label": m.event_label,
                    "amount": m.amount,
                    "evidence": m.evidence,
                    "risk_level": m.risk_level,
                    "risks": m.risks,
                    "decision": Decision.pending,
                }
                for m in matches
            ],
        )
    return run


def get_run(session: Session, run_id: int) -> GrantRun:
    run = session.get(GrantRun, run_id)
    if run is None:
        raise NotFound("未找到该兑现批次")
    return run


def candidates(session: Session, principal: Principal, run: GrantRun) -> list[tuple[GrantCandidate, Firm]]:
    """The run's candidates the principal may see (an officer: firms in their parks), riskiest first."""
    stmt = scoped(
        select(GrantCandidate, Firm)
        .join(Firm, Firm.id == GrantCandidate.firm_id)
        .where(GrantCandidate.run_id == run.id),
        principal,
    )
    rows = [(c, f) for c, f in session.execute(stmt)]
    order = {RiskLevel.high: 0, RiskLevel.medium: 1, RiskLevel.low: 2}
    rows.sort(key=lambda cf: (order.get(RiskLevel(cf[0].risk_level), 3), cf[1].name))
    return rows


@dataclass
class BudgetState:
    total: Decimal | None
    used: Decimal

    @property
    def share(self) -> Decimal | None:
        if not self.total:
            return None
        return self.used / self.total

    @property
    def percent(self) -> int | None:
        share = self.share
        return None if share is None else int(share * 100)

    @property
    def warning(self) -> str | None:
        share = self.share
        if share is None:
            return None
        if share >= 1:
            return "预算已用完"
        if share >= WARN_LEVELS[0]:
            return "预算已使用 90% 以上"
        if share >= WARN_LEVELS[1]:
            return "预算已使用 70% 以上"
        return None

    @property
    def remaining(self) -> Decimal | None:
        return None if self.total is None else self.total - self.used


def budget_state(session: Session, policy: Policy, year: int) -> BudgetState:
    return BudgetState(
        catalogue.budget_for(session, policy.id, year), catalogue.budget_used(session, policy.id, year)
    )


@dataclass
class DecisionIn:
    firm_id: int
    decision: str
    reason: str | None = None


def decide(
    session: Session, principal: Principal, run: GrantRun, decisions: list[DecisionIn]
) -> list[GrantCandidate]:
    """Approve or reject candidates of a run, all or nothing: a refusal (budget, duplicate, exclusion, missing
    reason, a firm outside the run or the officer's parks) changes nothing."""
    ensure_can_run(principal)
    policy = session.get(Policy, run.policy_id)
    assert policy is not None
    year, _, _ = period_bounds(run.period)
    visible: dict[int, list[GrantCandidate]] = defaultdict(list)
    for c, _ in candidates(session, principal, run):
        visible[c.firm_id].append(c)
    budget = budget_state(session, policy, year)
    used = budget.used
    others = catalogue.excluded_ids(session, policy.id)
    changed: list[GrantCandidate] = []
    seen: set[int] = set()
    for index, d in enumerate(decisions):
        if d.decision not in ("approve", "reject"):
            raise RuleViolation("审核结果应为 approve（通过）或 reject（驳回）", field=f"{index}.decision")
        if d.firm_id in seen:
            raise RuleViolation("同一企业在一次提交中只能出现一次", field=f"{index}.firm_id")
        seen.add(d.firm_id)
        rows = visible.get(d.firm_id)
        if not rows:
            raise NotFound(f"企业 {d.firm_id} 不是本批次的候选企业，或不在您的权限范围内")
        pending = [c for c in rows if c.decision == Decision.pending]
        if not pending:
            raise Conflict(f"企业 {d.firm_id} 在本批次已审核，不能重复审核")
        reason = (d.reason or "").strip() or None
        if d.decision == "reject" and not reason:
            raise RuleViolation("驳回须填写理由", field=f"{index}.reason")
        for c in pending:
            if d.decision == "approve":
                if session.scalar(
                    select(Grant.id).where(
                        Grant.policy_id == policy.id,
                        Grant.firm_id == c.firm_id,
                        Grant.event_key == c.event_key,
                        Grant.status != GrantStatus.withdrawn,
                    )
                ):
                    raise Conflict(f"企业 {c.firm_id} 已就同一事件获得该条目兑现，不能重复兑现")
                if others and session.scalar(
                    select(Grant.id).where(
                        Grant.policy_id.in_(others),
                        Grant.firm_id == c.firm_id,
                        Grant.event_key == c.event_key,
                        Grant.status != GrantStatus.withdrawn,
                    )
                ):
                    raise Conflict(f"企业 {c.firm_id} 已就同一事件享受不可兼得的条目")
                if budget.total is not None and used + c.amount > budget.total:
                    raise RuleViolation(
                        f"预算不足：{year} 年预算 {budget.total.normalize():f} 万元，"
                        f"已用 {used.normalize():f} 万元，"
                        f"本笔 {c.amount.normalize():f} 万元",
                        field=f"{index}.firm_id",
                    )
                used += c.amount
                grant = Grant(
                    policy_id=policy.id,
                    firm_id=c.firm_id,
                    run_id=run.id,
                    candidate_id=c.id,
                    period=run.period,
                    year=year,
                    event_key=c.event_key,
                    event_label=c.event_label,
                    amount=c.amount,
                    status=GrantStatus.pending_confirmation,
                    approved_by_id=principal.user_id,
                )
                session.add(grant)
            c.decision = Decision(d.decision)
            c.reason = reason
            c.decided_by_id = principal.user_id
            c.decided_at = utcnow()
            changed.append(c)
    session.flush()
    return changed


# -------------------------------------------------------------------------------------------- grant states


def grants_query(principal: Principal, *, policy_id: int | None = None, period: str | None = None) -> Any:
    stmt = select(Grant, Firm).join(Firm, Firm.id == Grant.firm_id)
    if policy_id is not None:
        stmt = stmt.where(Grant.policy_id == policy_id)
    if period:
        stmt = stmt.where(Grant.period == period)
    return scoped(stmt, principal).order_by(Grant.id)


def list_grants(
    session: Session, principal: Principal, *, policy_id: int | None = None, period: str | None = None
) -> list[tuple[Grant, Firm]]:
    return [(g, f) for g, f in session.execute(grants_query(principal, policy_id=policy_id, period=period))]


def grant_in_scope(session: Session, principal: Principal, grant_id: int) -> Grant:
    row = session.execute(
        scoped(select(Grant).join(Firm, Firm.id == Grant.firm_id).where(Grant.id == grant_id), principal)
    ).first()
    if row is None:
        raise NotFound("未找到该兑现记录，或您无权查看")
    return row[0]


TRANSITIONS = {
    "confirm": (GrantStatus.pending_confirmation, GrantStatus.confirmed),
    "pay": (GrantStatus.confirmed, GrantStatus.paid),
    "withdraw": (None, GrantStatus.withdrawn),
}


def advance(
    session: Session,
    principal: Principal,
    grant: Grant,
    action: str,
    *,
    on: date,
    note: str | None = None,
) -> Grant:
    """confirm (the firm's confirmation, recorded by the officer until the portal), pay, or withdraw."""
    ensure_can_run(principal)
    if action not in TRANSITIONS:
        raise RuleViolation("未知操作", field="action")
    before, after = TRANSITIONS[action]
    note = (note or "").strip() or None
    if action == "withdraw":
        if grant.status not in (GrantStatus.pending_confirmation, GrantStatus.confirmed):
            raise Conflict("已拨付或已公示的兑现不能撤回")
        if not note:
            raise RuleViolation("撤回须填写理由", field="note")
        session.info["reason"] = note
    elif grant.status != before:
        raise Conflict(f"当前状态不能执行此操作（{grant.status}）")
    if action == "confirm":
        grant.confirmed_on = on
        grant.confirmation_note = note or "专员代为登记企业确认"
    if action == "pay":
        if not note:
            raise RuleViolation("请填写拨付凭证号", field="note")
        grant.paid_on = on
        grant.payment_ref = note
    grant.status = after
    session.flush()
    return grant


def publish(session: Session, principal: Principal, policy: Policy, period: str, on: date) -> int:
    """公示: every paid grant of the policy and period (in the principal's parks) becomes published."""
    ensure_can_run(principal)
    rows = list_grants(session, principal, policy_id=policy.id, period=period)
    count = 0
    for grant, _ in rows:
        if grant.status == GrantStatus.paid:
            grant.status = GrantStatus.published
            grant.published_on = on
            count += 1
    if not count:
        raise RuleViolation("没有已拨付、待公示的兑现记录", field="period")
    session.flush()
    return count


def grants_of_firm(session: Session, firm_id: int) -> list[Grant]:
    """Every grant of one firm, newest first (the caller has checked the firm is in scope)."""
    return list(session.scalars(select(Grant).where(Grant.firm_id == firm_id).order_by(Grant.id.desc())))
