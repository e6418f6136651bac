"""Yearly indicators and dated fact observations, each with its source (企业填报 / 部门数据 / 专员核实)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, UTCDateTime
from app.firms.models import label


class Source(StrEnum):
    firm_reported = "firm_reported"
    department = "department"
    officer_verified = "officer_verified"


SOURCE_LABELS = {
    Source.firm_reported: "企业填报",
    Source.department: "部门数据",
    Source.officer_verified: "专员核实",
}

# Precedence when sources disagree: 专员核实 > 部门数据 > 企业填报 (then newest first).
SOURCE_RANK = {Source.officer_verified: 3, Source.department: 2, Source.firm_reported: 1}

MONEY = Numeric(18, 2)

# Every `years` field of the eligibility contract: (field, label, is_amount_in_万元).
YEAR_FIELDS: list[tuple[str, str, bool]] = [
    ("employees", "职工总数（人）", False),
    ("tech_staff", "科技人员（人）", False),
    ("rd_staff", "研发人员（人）", False),
    ("revenue", "营业收入", True),
    ("main_revenue", "主营业务收入", True),
    ("hightech_revenue", "高新技术产品（服务）收入", True),
    ("total_income", "总收入", True),
    ("rd_expense", "研发费用", True),
    ("rd_expense_domestic", "境内研发费用", True),
    ("cost_total", "成本费用总额", True),
    ("total_assets", "资产总额", True),
    ("total_liabilities", "负债总额", True),
    ("net_profit", "净利润", True),
    ("equity_financing", "股权融资", True),
]


class FirmYear(TimestampMixin, Base):
    """One firm's indicators for one calendar year from one source. Amounts in 万元."""

    __tablename__ = "firm_years"
    __audited__ = True
    __label__ = "年度指标"
    __table_args__ = (UniqueConstraint("firm_id", "year", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, info=label("年度"))
    source: Mapped[Source] = mapped_column(String(24), info=label("来源", SOURCE_LABELS))
    source_department: Mapped[str | None] = mapped_column(String(64), info=label("来源部门"))
    employees: Mapped[int | None] = mapped_column(Integer, info=label("职工总数"))
    tech_staff: Mapped[int | None] = mapped_column(Integer, info=label("科技人员"))
    rd_staff: Mapped[int | None] = mapped_column(Integer, info=label("研发人员"))
    revenue: Mapped[Decimal | None] = mapped_column(MONEY, info=label("营业收入"))
    main_revenue: Mapped[Decimal | None] = mapped_column(MONEY, info=label("主营业务收入"))
    hightech_revenue: Mapped[Decimal | None] = mapped_column(MONEY, info=label("高新技术产品（服务）收入"))
    total_income: Mapped[Decimal | None] = mapped_column(MONEY, info=label("总收入"))
    rd_expense: Mapped[Decimal | None] = mapped_column(MONEY, info=label("研发费用"))
    rd_expense_domestic: Mapped[Decimal | None] = mapped_column(MONEY, info=label("境内研发费用"))
    cost_total: Mapped[Decimal | None] = mapped_column(MONEY, info=label("成本费用总额"))
    total_assets: Mapped[Decimal | None] = mapped_column(MONEY, info=label("资产总额"))
    total_liabilities: Mapped[Decimal | None] = mapped_column(MONEY, info=label("负债总额"))
    net_profit: Mapped[Decimal | None] = mapped_column(MONEY, info=label("净利润"))
    equity_financing: Mapped[Decimal | None] = mapped_column(MONEY, info=label("股权融资"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), info=label("核实人"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=label("核实时间"))


class FactObservation(Base):
    """A fact of the eligibility contract as one source saw it, holding from `valid_from`."""

    __tablename__ = "fact_observations"
    __audited__ = True
    __label__ = "企业事实"
    __table_args__ = (Index("ix_fact_observations_firm_key", "firm_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(48), info=label("事实"))
    value: Mapped[Any] = mapped_column(JSON, info=label("取值"))
    valid_from: Mapped[date] = mapped_column(Date, info=label("起始日期"))
    source: Mapped[Source] = mapped_column(String(24), info=label("来源", SOURCE_LABELS))
    source_department: Mapped[str | None] = mapped_column(String(64), info=label("来源部门"))
    note: Mapped[str | None] = mapped_column(String(256), info=label("备注"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), info=label("核实人"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=label("核实时间"))


class IncidentKind(StrEnum):
    safety = "safety"
    quality = "quality"
    environment = "environment"
    network = "network"
    data = "data"
    tax = "tax"
    fraud = "fraud"


INCIDENT_KIND_LABELS = {
    IncidentKind.safety: "安全事故",
    IncidentKind.quality: "质量事故",
    IncidentKind.environment: "环境事故",
    IncidentKind.network: "网络安全事件",
    IncidentKind.data: "数据安全事件",
    IncidentKind.tax: "税务违法",
    IncidentKind.fraud: "弄虚作假",
}


class IncidentGrade(StrEnum):
    general = "general"
    larger = "larger"
    major = "major"
    extraordinary = "extraordinary"


INCIDENT_GRADE_LABELS = {
    IncidentGrade.general: "一般",
    IncidentGrade.larger: "较大",
    IncidentGrade.major: "重大",
    IncidentGrade.extraordinary: "特别重大",
}


class Incident(Base):
    __tablename__ = "incidents"
    __audited__ = True
    __label__ = "事故与违法记录"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[IncidentKind] = mapped_column(String(16), info=label("类型", INCIDENT_KIND_LABELS))
    grade: Mapped[IncidentGrade] = mapped_column(String(16), info=label("等级", INCIDENT_GRADE_LABELS))
    occurred_on: Mapped[date] = mapped_column(Date, info=label("发生日期"))
    source: Mapped[Source] = mapped_column(String(24), info=label("来源", SOURCE_LABELS))
    source_department: Mapped[str | None] = mapped_column(String(64), info=label("来源部门"))
    description: Mapped[str | None] = mapped_column(Text, info=label("说明"))


class AwardLevel(StrEnum):
    national = "national"
    provincial = "provincial"
    ministerial = "ministerial"


AWARD_LEVEL_LABELS = {
    AwardLevel.national: "国家级",
    AwardLevel.provincial: "省级",
    AwardLevel.ministerial: "省部级",
}


class Award(Base):
    __tablename__ = "awards"
    __audited__ = True
    __label__ = "获奖"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(128), info=label("奖项"))
    level: Mapped[AwardLevel] = mapped_column(String(16), info=label("级别", AWARD_LEVEL_LABELS))
    awarded_on: Mapped[date] = mapped_column(Date, info=label("获奖日期"))
    rank: Mapped[int | None] = mapped_column(Integer, info=label("排名"))
    source: Mapped[Source] = mapped_column(String(24), info=label("来源", SOURCE_LABELS))
