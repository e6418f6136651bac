"""What the rules module stores: admins' dated district settings, and the latest batch decision per firm and tier."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.firms.models import label


class RuleSetting(Base):
    """A dated value of a district setting (parameters.yaml `district_setting: true`). Append-only: a change is a
    new row with its effective date, so the rules of any past date can be reproduced."""

    __tablename__ = "rule_settings"
    # Every appended value lands in the audit trail (firm_id NULL: a setting belongs to no firm's file).
    __audited__ = True
    __label__ = "规则参数（区级设置）"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), info=label("参数"))
    district_code: Mapped[str | None] = mapped_column(String(16), info=label("适用区"))
    effective_from: Mapped[date] = mapped_column(Date, info=label("生效日期"))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4), info=label("取值"))
    note: Mapped[str | None] = mapped_column(Text, info=label("依据/说明"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_rule_settings_name_from", "name", "effective_from"),)


class EvaluationRun(Base):
    """One batch evaluation of every firm (after a data or rule change)."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    firms: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(64))


class TierDecisionRow(Base):
    """The latest batch decision of one firm for one tier (潜力企业蓄水池 reads these)."""

    __tablename__ = "tier_decisions"

    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(24), primary_key=True)
    status: Mapped[str] = mapped_column(String(24))
    holds: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    fails: Mapped[int] = mapped_column(Integer, default=0)
    unknowns: Mapped[int] = mapped_column(Integer, default=0)
    distance: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=0)
    ruleset: Mapped[str | None] = mapped_column(String(120))
    as_of: Mapped[date] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_tier_decisions_pool", "tier", "status", "holds", "distance"),)
