"""Closed months (月度关账), their frozen figures and the restatements recorded against them.

A closed month's report is read from `report_figures`, never recomputed: a later correction to recognitions
or memberships that would change it appears as a `report_restatements` row (old, new, reason, who, when)
listed beside the frozen figure.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class View(StrEnum):
    counts = "counts"  # firms holding each tier (a firm counts under every tier it holds)
    ladder = "ladder"  # each firm once, at its highest ladder position
    flows = "flows"  # opening + new + upgrades − expiries − revocations ± moves = closing, per park and tier


VIEW_LABELS = {View.counts: "梯度企业数", View.ladder: "阶梯视图", View.flows: "流量"}


class ReportMonth(Base):
    """A closed month: its figures were frozen at `closed_at` by `closed_by`."""

    __tablename__ = "report_months"
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_by: Mapped[str] = mapped_column(String(128))


class ReportFigure(Base):
    """One frozen number of a closed month. `key` is a tier code (counts, flows) or a ladder level 1-5
    (ladder); `measure` is `count` or a flow measure. Area, industry and officer are empty for flows."""

    __tablename__ = "report_figures"
    __table_args__ = (Index("ix_report_figures_month_view", "month", "view"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(ForeignKey("report_months.month", ondelete="CASCADE"))
    view: Mapped[View] = mapped_column(String(16))
    park_code: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(48))
    industry_code: Mapped[str | None] = mapped_column(String(48))
    officer_id: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(24))
    measure: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer)


class Restatement(Base):
    """A closed month's figure (view, park, key) corrected after closing: the frozen value stays."""

    __tablename__ = "report_restatements"
    __table_args__ = (Index("ix_report_restatements_month", "month", "view", "park_code", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(ForeignKey("report_months.month", ondelete="CASCADE"))
    view: Mapped[View] = mapped_column(String(16))
    park_code: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(24))
    old_value: Mapped[int] = mapped_column(Integer)
    new_value: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    by_label: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
