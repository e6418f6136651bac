"""The firm file (一企一档): identity, names, status, park membership, tags and contacts, effective-dated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin


def label(text: str, choices: Mapping[Any, str] | None = None) -> dict[str, Any]:
    """Column info carrying the Chinese label (and value labels) the change history shows."""
    info: dict[str, Any] = {"label": text}
    if choices is not None:
        info["choices"] = {str(k): v for k, v in choices.items()}
    return info


class FirmStatus(StrEnum):
    active = "active"
    moved_out = "moved_out"
    deregistered = "deregistered"
    revoked = "revoked"


FIRM_STATUS_LABELS = {
    FirmStatus.active: "存续",
    FirmStatus.moved_out: "迁出",
    FirmStatus.deregistered: "注销",
    FirmStatus.revoked: "吊销",
}

# Labels beside the ladder that officers attach to a firm.
KNOWN_TAGS = ["链主", "瞪羚", "上市", "拟上市", "领军企业", "潜力企业", "授信白名单", "入孵企业"]


class Firm(TimestampMixin, Base):
    __tablename__ = "firms"
    __audited__ = True
    __label__ = "企业档案"
    __table_args__ = (
        # A park's list in name order (an officer's default): with the id, a page far into it walks the
        # index alone (page 710 of 1,700: 56 ms reading a row per firm passed).
        Index("ix_firms_park_code_name_id", "park_code", "name", "id"),
        # With the id, a count of a park's or an industry's firms reads only the index (no row of this wide
        # table): the list's totals.
        Index("ix_firms_park_code_id", "park_code", "id"),
        Index("ix_firms_industry_code_id", "industry_code", "id"),
        # A park's firms of an industry (group) counted from the index alone: 6 ms for 33k, not 47.
        Index("ix_firms_park_code_industry_code_id", "park_code", "industry_code", "id"),
        # The list's default order: a page far into it walks this index alone (no row read per firm passed).
        Index("ix_firms_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), info=label("企业名称"))
    uscc: Mapped[str] = mapped_column(String(18), unique=True, info=label("统一社会信用代码"))
    founded_on: Mapped[date | None] = mapped_column(Date, info=label("成立日期"))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), info=label("注册地"))
    address: Mapped[str | None] = mapped_column(String(256), info=label("地址"))
    status: Mapped[FirmStatus] = mapped_column(
        String(16), default=FirmStatus.active, index=True, info=label("经营状态", FIRM_STATUS_LABELS)
    )
    status_since: Mapped[date | None] = mapped_column(Date, info=label("状态日期"))
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True), index=True, info=label("服务专员")
    )
    # The open membership's placement, copied here by firms.service so that lists, filters and the officer's
    # park scope read one indexed row per firm; the dated history stays in `memberships` (whose codes are the
    # foreign keys, so these copies carry none).
    park_code: Mapped[str | None] = mapped_column(String(32), info=label("当前园区"))
    area_code: Mapped[str | None] = mapped_column(String(48), index=True, info=label("当前功能区"))
    industry_code: Mapped[str | None] = mapped_column(String(48), info=label("当前行业"))
    # Lower-cased name, former names and USCC: the one column the search box matches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    names: Mapped[list[FirmName]] = relationship(lazy="raise", order_by="FirmName.valid_from")
    memberships: Mapped[list[Membership]] = relationship(lazy="raise", order_by="Membership.valid_from")
    tags: Mapped[list[FirmTag]] = relationship(lazy="raise")
    contacts: Mapped[list[Contact]] = relationship(lazy="raise")
    status_periods: Mapped[list[FirmStatusPeriod]] = relationship(
        lazy="raise", order_by="FirmStatusPeriod.valid_from"
    )


class FirmName(Base):
    """Every name a firm has had; those with `valid_to` are former names (曾用名)."""

    __tablename__ = "firm_names"
    __audited__ = True
    __label__ = "名称"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128), info=label("名称"))
    valid_from: Mapped[date | None] = mapped_column(Date, info=label("起"))
    valid_to: Mapped[date | None] = mapped_column(Date, info=label("止"))


class FirmStatusPeriod(Base):
    __tablename__ = "firm_status_periods"
    __audited__ = True
    __label__ = "经营状态"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    status: Mapped[FirmStatus] = mapped_column(String(16), info=label("经营状态", FIRM_STATUS_LABELS))
    valid_from: Mapped[date | None] = mapped_column(Date, info=label("起"))
    valid_to: Mapped[date | None] = mapped_column(Date, info=label("止"))


class Membership(Base):
    """Where a firm sits: park, functional area, carrier and industry for a period (valid_to inclusive)."""

    __tablename__ = "memberships"
    __audited__ = True
    __label__ = "园区归属"
    __table_args__ = (
        Index("ix_memberships_current", "park_code", "valid_to"),
        Index("ix_memberships_firm_current", "firm_id", "valid_to"),
        # A firm sits in at most one place at a time: one open membership.
        Index(
            "uq_memberships_one_open",
            "firm_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    park_code: Mapped[str] = mapped_column(ForeignKey("parks.code"), info=label("园区"))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True, info=label("功能区"))
    carrier_code: Mapped[str | None] = mapped_column(ForeignKey("carriers.code"), info=label("载体"))
    industry_code: Mapped[str | None] = mapped_column(
        ForeignKey("industries.code"), index=True, info=label("行业")
    )
    valid_from: Mapped[date] = mapped_column(Date, info=label("起"))
    valid_to: Mapped[date | None] = mapped_column(Date, info=label("止"))


class FirmTag(Base):
    __tablename__ = "firm_tags"
    __audited__ = True
    __label__ = "标签"
    __table_args__ = (Index("ix_firm_tags_tag_firm", "tag", "firm_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(32), info=label("标签"))
    valid_from: Mapped[date | None] = mapped_column(Date, info=label("起"))
    valid_to: Mapped[date | None] = mapped_column(Date, info=label("止"))


class Contact(Base):
    """A firm's contact person. Phone and ID number are personal data (PIPL): masked unless permitted."""

    __tablename__ = "contacts"
    __audited__ = True
    __label__ = "联系人"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), info=label("姓名"))
    title: Mapped[str | None] = mapped_column(String(64), info=label("职务"))
    phone: Mapped[str | None] = mapped_column(String(32), info={"label": "电话", "personal": True})
    id_number: Mapped[str | None] = mapped_column(String(32), info={"label": "身份证号", "personal": True})
    email: Mapped[str | None] = mapped_column(String(128), info=label("邮箱"))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, info=label("主要联系人"))


class FirmListEpoch(Base):
    """One row whose `epoch` changes whenever a firm list's total may change: a write to what the list's
    filters read (firms' searchable and placement columns, recognitions, tags, industries). Database triggers
    set it (migration a7c3e9d2f481), so every writer counts, SQL included; `repository` keeps the totals it
    counted under the epoch it read and counts again once it moves."""

    __tablename__ = "firm_list_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
