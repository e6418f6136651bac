"""Policy items (政策条目) and how they reach firms: 免申即享 grant runs and grants, 申报 pushes, 服务包 and
一企一策 plans (docs/domain/criteria.md §9, glossary).

A policy's eligibility is data in the rule vocabulary of the tiers (app/rules/vocabulary.py) plus a tier-event
trigger; amounts are 万元 (Numeric). A grant is unique per (policy, firm, event): the database itself
refuses to pay the same event twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, UTCDateTime, utcnow
from app.firms.models import label

MONEY = Numeric(14, 2)


class PolicyLevel(StrEnum):
    national = "national"
    municipal = "municipal"
    zhangjiang = "zhangjiang"
    district = "district"


POLICY_LEVEL_LABELS = {
    PolicyLevel.national: "国家级",
    PolicyLevel.municipal: "市级",
    PolicyLevel.zhangjiang: "张江专项",
    PolicyLevel.district: "区级",
}


class DeliveryMode(StrEnum):
    auto_grant = "auto_grant"
    apply = "apply"
    service_package = "service_package"


DELIVERY_MODE_LABELS = {
    DeliveryMode.auto_grant: "免申即享",
    DeliveryMode.apply: "申报（快申快享）",
    DeliveryMode.service_package: "服务包",
}


class AmountKind(StrEnum):
    none = "none"
    fixed = "fixed"
    rate = "rate"


AMOUNT_KIND_LABELS = {
    AmountKind.none: "不涉及资金",
    AmountKind.fixed: "固定金额",
    AmountKind.rate: "按比例计算",
}


class Policy(TimestampMixin, Base):
    """A policy item of the catalogue (政策条目)."""

    __tablename__ = "policies"
    __audited__ = True
    __label__ = "政策条目"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, info=label("条目编码"))
    name: Mapped[str] = mapped_column(String(200), info=label("名称"))
    issuer: Mapped[str] = mapped_column(String(100), info=label("发文单位"))
    level: Mapped[PolicyLevel] = mapped_column(String(16), info=label("层级", POLICY_LEVEL_LABELS))
    # Where it applies: registered districts and/or parks (codes); empty = no restriction on that side.
    districts: Mapped[list[str]] = mapped_column(JSON, default=list, info=label("适用区"))
    parks: Mapped[list[str]] = mapped_column(JSON, default=list, info=label("适用园区"))
    document_no: Mapped[str] = mapped_column(String(100), info=label("文号"))
    article: Mapped[str | None] = mapped_column(String(100), info=label("条款"))
    effective_from: Mapped[date] = mapped_column(Date, info=label("生效日期"))
    effective_to: Mapped[date | None] = mapped_column(Date, info=label("失效日期"))
    mode: Mapped[DeliveryMode] = mapped_column(String(24), info=label("兑现方式", DELIVERY_MODE_LABELS))
    amount_kind: Mapped[AmountKind] = mapped_column(
        String(8), default=AmountKind.none, info=label("金额方式", AMOUNT_KIND_LABELS)
    )
    amount_fixed: Mapped[Decimal | None] = mapped_column(MONEY, info=label("固定金额（万元）"))
    amount_rate_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 3), info=label("比例（%）"))
    amount_base: Mapped[str | None] = mapped_column(String(32), info=label("计算基数（上年指标）"))
    amount_cap: Mapped[Decimal | None] = mapped_column(MONEY, info=label("单笔上限（万元）"))
    firm_annual_cap: Mapped[Decimal | None] = mapped_column(MONEY, info=label("每家企业年度上限（万元）"))
    # Tier-event trigger: a recognition of `event_tier` of one of `event_kinds` issued in the period.
    event_tier: Mapped[str | None] = mapped_column(String(24), info=label("触发梯度"))
    event_kinds: Mapped[list[str]] = mapped_column(JSON, default=list, info=label("触发认定类型"))
    # Further criteria in the rule vocabulary: [{id, label, citation, test}], as the tier rule files.
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, info=label("条件"))
    apply_deadline: Mapped[date | None] = mapped_column(Date, info=label("申报截止日期"))
    # Seeded amounts are patterns from other districts (criteria.md §9.4): to be confirmed before paying.
    amount_unconfirmed: Mapped[bool] = mapped_column(Boolean, default=False, info=label("金额待确认"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, info=label("启用"))
    note: Mapped[str | None] = mapped_column(Text, info=label("说明"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class PolicyBudget(Base):
    """The fund pool of a policy for one year (资金池)."""

    __tablename__ = "policy_budgets"
    __audited__ = True
    __label__ = "政策预算"
    __table_args__ = (UniqueConstraint("policy_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer, info=label("年度"))
    total: Mapped[Decimal] = mapped_column(MONEY, info=label("预算总额（万元）"))


class PolicyExclusion(Base):
    """Two items that never both pay for the same event (or, without events, the same firm and year)."""

    __tablename__ = "policy_exclusions"
    __audited__ = True
    __label__ = "不可兼得"
    __table_args__ = (UniqueConstraint("policy_id", "other_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))


# ------------------------------------------------------------------------------------------------ grant runs


class GrantRunStatus(StrEnum):
    open = "open"
    closed = "closed"


class GrantRun(Base):
    """One 免申即享 matching run of a policy for a period ("2026" or a batch "2026-1")."""

    __tablename__ = "grant_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[GrantRunStatus] = mapped_column(String(8), default=GrantRunStatus.open)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Park scope of the officer who ran it (None: every park) — the run lists only firms in that scope.
    park_scope: Mapped[list[str] | None] = mapped_column(JSON)
    candidate_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Decision(StrEnum):
    pending = "pending"
    approve = "approve"
    reject = "reject"


DECISION_LABELS = {Decision.pending: "待审核", Decision.approve: "已通过", Decision.reject: "已驳回"}


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


RISK_LABELS = {RiskLevel.low: "低", RiskLevel.medium: "中", RiskLevel.high: "高"}


class GrantCandidate(Base):
    """A firm a run found eligible, with the evidence, the amount and the officer's decision."""

    __tablename__ = "grant_candidates"
    __audited__ = True
    __label__ = "免申即享候选"
    __table_args__ = (UniqueConstraint("run_id", "firm_id", "event_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grant_runs.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    event_key: Mapped[str] = mapped_column(String(64), info=label("事件"))
    event_label: Mapped[str] = mapped_column(String(200), info=label("事件说明"))
    amount: Mapped[Decimal] = mapped_column(MONEY, info=label("金额（万元）"))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risk_level: Mapped[RiskLevel] = mapped_column(String(8), info=label("风险等级", RISK_LABELS))
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    decision: Mapped[Decision] = mapped_column(
        String(8), default=Decision.pending, info=label("审核结果", DECISION_LABELS)
    )
    reason: Mapped[str | None] = mapped_column(String(500), info=label("审核意见"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GrantStatus(StrEnum):
    pending_confirmation = "pending_confirmation"
    confirmed = "confirmed"
    paid = "paid"
    published = "published"
    withdrawn = "withdrawn"


GRANT_STATUS_LABELS = {
    GrantStatus.pending_confirmation: "待企业确认",
    GrantStatus.confirmed: "企业已确认",
    GrantStatus.paid: "已拨付",
    GrantStatus.published: "已公示",
    GrantStatus.withdrawn: "已撤回",
}


class Grant(TimestampMixin, Base):
    """An approved benefit: waits for the firm's confirmation, is paid, then published (公示)."""

    __tablename__ = "grants"
    __audited__ = True
    __label__ = "政策兑现"
    __table_args__ = (
        UniqueConstraint("policy_id", "firm_id", "event_key"),
        Index("ix_grants_policy_year", "policy_id", "year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("grant_runs.id", ondelete="SET NULL"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("grant_candidates.id", ondelete="SET NULL"))
    period: Mapped[str] = mapped_column(String(16), info=label("批次"))
    year: Mapped[int] = mapped_column(Integer, info=label("年度"))
    event_key: Mapped[str] = mapped_column(String(64), info=label("事件"))
    event_label: Mapped[str] = mapped_column(String(200), info=label("事件说明"))
    amount: Mapped[Decimal] = mapped_column(MONEY, info=label("金额（万元）"))
    status: Mapped[GrantStatus] = mapped_column(
        String(24), default=GrantStatus.pending_confirmation, info=label("状态", GRANT_STATUS_LABELS)
    )
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_on: Mapped[date | None] = mapped_column(Date, info=label("企业确认日期"))
    confirmation_note: Mapped[str | None] = mapped_column(String(300), info=label("确认方式"))
    paid_on: Mapped[date | None] = mapped_column(Date, info=label("拨付日期"))
    payment_ref: Mapped[str | None] = mapped_column(String(64), info=label("拨付凭证号"))
    published_on: Mapped[date | None] = mapped_column(Date, info=label("公示日期"))


# ------------------------------------------------------------------------------------------------ 申报 pushes


class PushStatus(StrEnum):
    pushed = "pushed"
    applied = "applied"
    declined = "declined"


PUSH_STATUS_LABELS = {
    PushStatus.pushed: "已推送",
    PushStatus.applied: "已申报",
    PushStatus.declined: "不申报",
}


class PolicyPush(TimestampMixin, Base):
    """An 申报 item pushed to a firm with its gap list and deadline; who was told and who applied."""

    __tablename__ = "policy_pushes"
    __audited__ = True
    __label__ = "政策推送"
    __table_args__ = (UniqueConstraint("policy_id", "firm_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, info=label("年度"))
    match_status: Mapped[str] = mapped_column(String(24), info=label("匹配结果"))
    gaps: Mapped[list[str]] = mapped_column(JSON, default=list, info=label("缺项"))
    deadline: Mapped[date | None] = mapped_column(Date, info=label("申报截止"))
    status: Mapped[PushStatus] = mapped_column(
        String(16), default=PushStatus.pushed, info=label("状态", PUSH_STATUS_LABELS)
    )
    pushed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_on: Mapped[date | None] = mapped_column(Date, info=label("申报日期"))
    note: Mapped[str | None] = mapped_column(String(300), info=label("备注"))


# ------------------------------------------------------------------------------------------------ 服务包


class ServicePackage(Base):
    """A bundle of services attached when a firm reaches a tier or carries a label (服务包)."""

    __tablename__ = "service_packages"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Attached when the firm holds one of these tiers or carries one of these tags.
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)


class FirmPackage(TimestampMixin, Base):
    """A service package attached to a firm, owned by its 服务管家."""

    __tablename__ = "firm_packages"
    __audited__ = True
    __label__ = "服务包"
    __table_args__ = (UniqueConstraint("firm_id", "package_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("service_packages.id"), info=label("服务包"))
    steward_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), info=label("服务管家"))
    attached_on: Mapped[date] = mapped_column(Date, info=label("配置日期"))
    reason: Mapped[str] = mapped_column(String(100), info=label("配置依据"))


class ServiceStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    done = "done"


SERVICE_STATUS_LABELS = {
    ServiceStatus.pending: "未开始",
    ServiceStatus.in_progress: "服务中",
    ServiceStatus.done: "已完成",
}


class FirmService(TimestampMixin, Base):
    """One service of a firm's package, with its status."""

    __tablename__ = "firm_services"
    __audited__ = True
    __label__ = "服务事项"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_package_id: Mapped[int] = mapped_column(
        ForeignKey("firm_packages.id", ondelete="CASCADE"), index=True
    )
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), info=label("服务"))
    status: Mapped[ServiceStatus] = mapped_column(
        String(16), default=ServiceStatus.pending, info=label("状态", SERVICE_STATUS_LABELS)
    )
    note: Mapped[str | None] = mapped_column(String(500), info=label("服务记录"))


# ------------------------------------------------------------------------------------------------ 一企一策


class PlanStatus(StrEnum):
    active = "active"
    closed = "closed"


PLAN_STATUS_LABELS = {PlanStatus.active: "实施中", PlanStatus.closed: "已结束"}


class SupportPlan(TimestampMixin, Base):
    """一企一策: a plan tailored to one firm, carried by a 工作专班."""

    __tablename__ = "support_plans"
    __audited__ = True
    __label__ = "一企一策"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), info=label("方案名称"))
    goal: Mapped[str | None] = mapped_column(Text, info=label("培育目标"))
    task_force: Mapped[str | None] = mapped_column(String(300), info=label("工作专班"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), info=label("牵头专员"))
    status: Mapped[PlanStatus] = mapped_column(
        String(8), default=PlanStatus.active, info=label("状态", PLAN_STATUS_LABELS)
    )


class PlanItemStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


PLAN_ITEM_STATUS_LABELS = {
    PlanItemStatus.open: "未开始",
    PlanItemStatus.in_progress: "推进中",
    PlanItemStatus.done: "已完成",
    PlanItemStatus.cancelled: "已取消",
}


class PlanItem(TimestampMixin, Base):
    """One measure of a 一企一策 plan; its follow-up runs through a task on the owner's 我的待办."""

    __tablename__ = "plan_items"
    __audited__ = True
    __label__ = "一企一策事项"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("support_plans.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32), info=label("类别"))
    content: Mapped[str] = mapped_column(Text, info=label("内容"))
    department: Mapped[str] = mapped_column(String(64), info=label("责任部门"))
    due_on: Mapped[date | None] = mapped_column(Date, info=label("完成时限"))
    status: Mapped[PlanItemStatus] = mapped_column(
        String(16), default=PlanItemStatus.open, info=label("状态", PLAN_ITEM_STATUS_LABELS)
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))


class PlanNote(Base):
    """A follow-up note on a plan item (跟进记录)."""

    __tablename__ = "plan_notes"
    __audited__ = True
    __label__ = "跟进记录"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, info=label("跟进情况"))
