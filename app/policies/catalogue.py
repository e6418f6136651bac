"""The policy catalogue: read, compile, match one firm, and save an admin's edit (validated, audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, RuleViolation
from app.firms.models import Membership
from app.policies.models import (
    AmountKind,
    DeliveryMode,
    Grant,
    GrantStatus,
    Policy,
    PolicyBudget,
    PolicyExclusion,
    PolicyLevel,
)
from app.policies.rules import (
    EVENT_KINDS,
    CompiledPolicy,
    PolicyDecision,
    compile_policy,
    evaluate_policy,
    parse_criteria_text,
)
from app.rules.facts import YEAR_FIELD_INFO, Facts
from app.rules.loader import DISTRICTS, TIERS, ParamTable
from app.rules.vocabulary import RuleError

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
PARKS = ("jingan", "yangpu", "hongkou")


DISTRICT_LABELS = {"jingan": "静安区", "yangpu": "杨浦区", "hongkou": "虹口区"}
PARK_LABELS = {"jingan": "静安园", "yangpu": "杨浦园", "hongkou": "虹口园"}


def _wan(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value.normalize():f}"


def amount_text(p: Policy) -> str:
    if p.amount_kind == "fixed":
        return f"{_wan(p.amount_fixed)} 万元"
    if p.amount_kind == "rate":
        base = YEAR_FIELD_INFO.get(p.amount_base or "", ("—",))[0]
        cap = f"，最高 {_wan(p.amount_cap)} 万元" if p.amount_cap is not None else ""
        return f"上年{base} × {_wan(p.amount_rate_pct)}%{cap}"
    return "不涉及资金"


def scope_text(p: Policy) -> str:
    parts = []
    if p.districts:
        parts.append("、".join(DISTRICT_LABELS.get(d, d) for d in p.districts))
    if p.parks:
        parts.append("、".join(PARK_LABELS.get(x, x) for x in p.parks))
    return " · ".join(parts) if parts else "全市"


def compiled(policy: Policy) -> CompiledPolicy:
    return compile_policy(
        policy.code,
        criteria=list(policy.criteria or []),
        event_tier=policy.event_tier,
        event_kinds=list(policy.event_kinds or []),
        districts=list(policy.districts or []),
        parks=list(policy.parks or []),
        amount_kind=policy.amount_kind,
        amount_fixed=policy.amount_fixed,
        amount_rate_pct=policy.amount_rate_pct,
        amount_base=policy.amount_base,
        amount_cap=policy.amount_cap,
    )


def get_by_code(session: Session, code: str) -> Policy:
    policy = session.scalar(select(Policy).where(Policy.code == code))
    if policy is None:
        raise NotFound("未找到该政策条目")
    return policy


def list_policies(session: Session, *, mode: str | None = None, active_only: bool = False) -> list[Policy]:
    stmt = select(Policy).order_by(Policy.level, Policy.code)
    if mode:
        stmt = stmt.where(Policy.mode == mode)
    if active_only:
        stmt = stmt.where(Policy.active.is_(True))
    return list(session.scalars(stmt))


def joined_on(session: Session, firm_id: int, park: str | None, as_of: date) -> date | None:
    """When the firm joined the park it sits in on `as_of` (the event date of a 带证迁入)."""
    if park is None:
        return None
    return session.scalar(
        select(func.min(Membership.valid_from)).where(
            Membership.firm_id == firm_id, Membership.park_code == park, Membership.valid_from <= as_of
        )
    )


def in_force(policy: Policy, day: date) -> bool:
    return (
        policy.active
        and policy.effective_from <= day
        and (policy.effective_to is None or day <= policy.effective_to)
    )


def overlaps(policy: Policy, start: date, end: date) -> bool:
    return (
        policy.active
        and policy.effective_from <= end
        and (policy.effective_to is None or policy.effective_to >= start)
    )


def budget_for(session: Session, policy_id: int, year: int) -> Decimal | None:
    return session.scalar(
        select(PolicyBudget.total).where(PolicyBudget.policy_id == policy_id, PolicyBudget.year == year)
    )


def budget_used(session: Session, policy_id: int, year: int) -> Decimal:
    used = session.scalar(
        select(func.coalesce(func.sum(Grant.amount), 0)).where(
            Grant.policy_id == policy_id, Grant.year == year, Grant.status != GrantStatus.withdrawn
        )
    )
    return Decimal(used or 0)


def excluded_ids(session: Session, policy_id: int) -> set[int]:
    rows = session.execute(
        select(PolicyExclusion.policy_id, PolicyExclusion.other_id).where(
            (PolicyExclusion.policy_id == policy_id) | (PolicyExclusion.other_id == policy_id)
        )
    ).all()
    return {b if a == policy_id else a for a, b in rows}


# ------------------------------------------------------------------------------------------------ one firm


@dataclass
class Match:
    policy: Policy
    decision: PolicyDecision


def match_facts(
    policies: list[Policy], facts: Facts, as_of: date, params: ParamTable, joined_on: date | None = None
) -> list[Match]:
    """Policies in force on `as_of` applying to the firm that it does not fail (events since 1 Jan)."""
    out: list[Match] = []
    for policy in policies:
        if not in_force(policy, as_of):
            continue
        decision = evaluate_policy(
            compiled(policy), facts, as_of, params, period_start=date(as_of.year, 1, 1), joined_on=joined_on
        )
        if decision.status in ("eligible", "needs_review", "insufficient_data"):
            out.append(Match(policy, decision))
    return out


# ------------------------------------------------------------------------------------------------ admin edits


@dataclass
class PolicyForm:
    """An admin's draft of a policy, as typed (strings), with field errors in Chinese."""

    values: dict[str, Any]
    errors: dict[str, str]


FORM_FIELDS = (
    "code",
    "name",
    "issuer",
    "level",
    "document_no",
    "article",
    "effective_from",
    "effective_to",
    "mode",
    "amount_kind",
    "amount_fixed",
    "amount_rate_pct",
    "amount_base",
    "amount_cap",
    "firm_annual_cap",
    "event_tier",
    "apply_deadline",
    "criteria",
    "note",
    "budget_year",
    "budget_total",
)


def form_from_policy(session: Session, policy: Policy, year: int) -> dict[str, Any]:
    from app.policies.rules import criteria_text

    def num(v: Decimal | None) -> str:
        return "" if v is None else f"{v.normalize():f}"

    budget = budget_for(session, policy.id, year)
    return {
        "code": policy.code,
        "name": policy.name,
        "issuer": policy.issuer,
        "level": policy.level,
        "districts": list(policy.districts or []),
        "parks": list(policy.parks or []),
        "document_no": policy.document_no,
        "article": policy.article or "",
        "effective_from": policy.effective_from.isoformat(),
        "effective_to": policy.effective_to.isoformat() if policy.effective_to else "",
        "mode": policy.mode,
        "amount_kind": policy.amount_kind,
        "amount_fixed": num(policy.amount_fixed),
        "amount_rate_pct": num(policy.amount_rate_pct),
        "amount_base": policy.amount_base or "",
        "amount_cap": num(policy.amount_cap),
        "firm_annual_cap": num(policy.firm_annual_cap),
        "event_tier": policy.event_tier or "",
        "event_kinds": list(policy.event_kinds or []),
        "apply_deadline": policy.apply_deadline.isoformat() if policy.apply_deadline else "",
        "criteria": criteria_text(list(policy.criteria or [])),
        "note": policy.note or "",
        "budget_year": str(year),
        "budget_total": num(budget),
        "version": str(policy.version),
        "excludes": sorted(
            session.scalars(select(Policy.code).where(Policy.id.in_(excluded_ids(session, policy.id))))
        ),
    }


def _date(values: dict[str, Any], name: str, errors: dict[str, str], required: bool = False) -> date | None:
    text = str(values.get(name) or "").strip()
    if not text:
        if required:
            errors[name] = "请填写日期"
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "日期格式应为 YYYY-MM-DD"
        return None


def _money(values: dict[str, Any], name: str, errors: dict[str, str]) -> Decimal | None:
    text = str(values.get(name) or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = "请输入数字（万元）"
        return None
    if not value.is_finite() or value < 0:
        errors[name] = "金额不能为负数"
        return None
    return value


@dataclass
class CleanPolicy:
    fields: dict[str, Any]
    budget_year: int | None
    budget_total: Decimal | None
    compiled: CompiledPolicy
    excludes: list[str] = field(default_factory=list)


def clean(values: dict[str, Any], *, creating: bool) -> tuple[CleanPolicy | None, dict[str, str]]:
    """Check a draft; every error beside its field."""
    errors: dict[str, str] = {}
    code = str(values.get("code") or "").strip()
    if creating and not CODE_RE.match(code):
        errors["code"] = "编码须为 3–64 位小写字母、数字或下划线，以字母开头"
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写名称"
    issuer = str(values.get("issuer") or "").strip()
    if not issuer:
        errors["issuer"] = "请填写发文单位"
    level = str(values.get("level") or "")
    if level not in set(PolicyLevel):
        errors["level"] = "请选择层级"
    districts = [d for d in values.get("districts") or [] if d]
    if not set(districts) <= set(DISTRICTS):
        errors["districts"] = "未知的区"
    parks = [p for p in values.get("parks") or [] if p]
    if not set(parks) <= set(PARKS):
        errors["parks"] = "未知的园区"
    if level == PolicyLevel.district and not districts:
        errors["districts"] = "区级条目须选择适用的区"
    document_no = str(values.get("document_no") or "").strip()
    if not document_no:
        errors["document_no"] = "请填写文号"
    effective_from = _date(values, "effective_from", errors, required=True)
    effective_to = _date(values, "effective_to", errors)
    if effective_from and effective_to and effective_to < effective_from:
        errors["effective_to"] = "失效日期不能早于生效日期"
    mode = str(values.get("mode") or "")
    if mode not in set(DeliveryMode):
        errors["mode"] = "请选择兑现方式"
    amount_kind = str(values.get("amount_kind") or "none")
    if amount_kind not in set(AmountKind):
        errors["amount_kind"] = "请选择金额方式"
    amount_fixed = _money(values, "amount_fixed", errors)
    amount_rate = _money(values, "amount_rate_pct", errors)
    amount_base = str(values.get("amount_base") or "") or None
    if amount_base is not None and amount_base not in YEAR_FIELD_INFO:
        errors["amount_base"] = "未知的计算基数"
    amount_cap = _money(values, "amount_cap", errors)
    firm_cap = _money(values, "firm_annual_cap", errors)
    if mode == DeliveryMode.auto_grant and amount_kind == AmountKind.none:
        errors["amount_kind"] = "免申即享条目须有金额"
    event_tier = str(values.get("event_tier") or "") or None
    if event_tier is not None and event_tier not in TIERS:
        errors["event_tier"] = "未知的梯度"
    event_kinds = [k for k in values.get("event_kinds") or [] if k]
    if not set(event_kinds) <= set(EVENT_KINDS):
        errors["event_kinds"] = "未知的认定类型"
    if event_tier and not event_kinds:
        errors["event_kinds"] = "请至少选择一种触发认定类型"
    apply_deadline = _date(values, "apply_deadline", errors)
    criteria: list[dict[str, Any]] = []
    try:
        criteria = parse_criteria_text(str(values.get("criteria") or ""))
    except RuleError as exc:
        errors["criteria"] = str(exc)
    budget_year_text = str(values.get("budget_year") or "").strip()
    budget_total = _money(values, "budget_total", errors)
    budget_year: int | None = None
    if budget_year_text:
        if not budget_year_text.isdigit() or not (2000 <= int(budget_year_text) <= 2100):
            errors["budget_year"] = "年度应为四位数字"
        else:
            budget_year = int(budget_year_text)
    compiled_policy = None
    if not errors:
        try:
            compiled_policy = compile_policy(
                code or "draft",
                criteria=criteria,
                event_tier=event_tier,
                event_kinds=event_kinds,
                districts=districts,
                parks=parks,
                amount_kind=amount_kind,
                amount_fixed=amount_fixed,
                amount_rate_pct=amount_rate,
                amount_base=amount_base,
                amount_cap=amount_cap,
            )
        except RuleError as exc:
            text = str(exc)
            key = (
                "amount_fixed" if "固定金额" in text else "amount_rate_pct" if "比例" in text else "criteria"
            )
            if "计算基数" in text:
                key = "amount_base"
            if "触发" in text:
                key = "event_kinds"
            errors[key] = text
    if errors or compiled_policy is None:
        return None, errors
    fields = {
        "name": name,
        "issuer": issuer,
        "level": PolicyLevel(level),
        "districts": districts,
        "parks": parks,
        "document_no": document_no,
        "article": str(values.get("article") or "").strip() or None,
        "effective_from": effective_from,
        "effective_to": effective_to,
        "mode": DeliveryMode(mode),
        "amount_kind": AmountKind(amount_kind),
        "amount_fixed": amount_fixed,
        "amount_rate_pct": amount_rate,
        "amount_base": amount_base,
        "amount_cap": amount_cap,
        "firm_annual_cap": firm_cap,
        "event_tier": event_tier,
        "event_kinds": event_kinds,
        "criteria": criteria,
        "apply_deadline": apply_deadline,
        "note": str(values.get("note") or "").strip() or None,
    }
    if creating:
        fields["code"] = code
    excludes = sorted({str(c) for c in values.get("excludes") or [] if c and c != code})
    return CleanPolicy(fields, budget_year, budget_total, compiled_policy, excludes), {}


def save(session: Session, policy: Policy | None, draft: CleanPolicy, version: int | None) -> Policy:
    """Create or update a policy (optimistic: a stale `version` is a conflict) and its budget for the year."""
    if policy is None:
        if session.scalar(select(Policy.id).where(Policy.code == draft.fields["code"])) is not None:
            raise RuleViolation("该编码已存在", field="code")
        policy = Policy(**draft.fields)
        session.add(policy)
    else:
        if version is not None and version != policy.version:
            raise Conflict("该条目已被他人修改，请刷新后重试")
        for key, value in draft.fields.items():
            if getattr(policy, key) != value:
                setattr(policy, key, value)
    session.flush()
    if draft.budget_year is not None and draft.budget_total is not None:
        row = session.scalar(
            select(PolicyBudget).where(
                PolicyBudget.policy_id == policy.id, PolicyBudget.year == draft.budget_year
            )
        )
        if row is None:
            session.add(PolicyBudget(policy_id=policy.id, year=draft.budget_year, total=draft.budget_total))
        elif row.total != draft.budget_total:
            row.total = draft.budget_total
        session.flush()
    _set_exclusions(session, policy, draft.excludes)
    return policy


def _set_exclusions(session: Session, policy: Policy, codes: list[str]) -> None:
    """不可兼得: make the policy's exclusions exactly `codes` (each pair stored once, either way round)."""
    wanted = {pid for (pid,) in session.execute(select(Policy.id).where(Policy.code.in_(codes)))}
    if len(wanted) != len(codes):
        raise RuleViolation("不可兼得条目中有未知的条目", field="excludes")
    rows = session.scalars(
        select(PolicyExclusion).where(
            (PolicyExclusion.policy_id == policy.id) | (PolicyExclusion.other_id == policy.id)
        )
    ).all()
    have = set()
    for row in rows:
        other = row.other_id if row.policy_id == policy.id else row.policy_id
        if other in wanted:
            have.add(other)
        else:
            session.delete(row)
    for other in sorted(wanted - have):
        session.add(PolicyExclusion(policy_id=policy.id, other_id=other))
    session.flush()
