"""Recognitions (认定/入库/复核) of a tier, and the evidence files behind them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, UTCDateTime, utcnow
from app.firms.models import label
from app.tiers.codes import TIER_LABELS, Tier


class RecognitionKind(StrEnum):
    first = "first"
    renewal = "renewal"
    review = "review"
    moved_in = "moved_in"


RECOGNITION_KIND_LABELS = {
    RecognitionKind.first: "首次认定",
    RecognitionKind.renewal: "重新认定",
    RecognitionKind.review: "复核",
    RecognitionKind.moved_in: "带证迁入",
}


class RecognitionLevel(StrEnum):
    national = "national"
    municipal = "municipal"
    district = "district"
    market = "market"


RECOGNITION_LEVEL_LABELS = {
    RecognitionLevel.national: "国家级",
    RecognitionLevel.municipal: "市级（省级）",
    RecognitionLevel.district: "区级",
    RecognitionLevel.market: "市场机构",
}


class Recognition(TimestampMixin, Base):
    """A recognition is held from issued_on to expires_on (inclusive) unless revoked on or before a date."""

    __tablename__ = "recognitions"
    __audited__ = True
    __label__ = "认定"
    __table_args__ = (
        Index("ix_recognitions_tier_expires", "tier", "expires_on"),
        # Who holds a tier on a date, from the index alone (the list's tier filter, on both engines).
        Index("ix_recognitions_tier_holders", "tier", "firm_id", "issued_on", "expires_on", "revoked_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    tier: Mapped[Tier] = mapped_column(String(24), info=label("梯度", TIER_LABELS))
    kind: Mapped[RecognitionKind] = mapped_column(String(16), info=label("认定类型", RECOGNITION_KIND_LABELS))
    level: Mapped[RecognitionLevel | None] = mapped_column(
        String(16), info=label("级别", RECOGNITION_LEVEL_LABELS)
    )
    certificate_no: Mapped[str | None] = mapped_column(String(64), info=label("证书编号"))
    issued_on: Mapped[date] = mapped_column(Date, info=label("认定日期"))
    expires_on: Mapped[date | None] = mapped_column(Date, info=label("有效期至"))
    revoked_on: Mapped[date | None] = mapped_column(Date, info=label("撤销日期"))
    revoke_reason: Mapped[str | None] = mapped_column(String(256), info=label("撤销原因"))
    note: Mapped[str | None] = mapped_column(Text, info=label("备注"))

    def held_on(self, day: date) -> bool:
        if self.issued_on > day:
            return False
        if self.expires_on is not None and day > self.expires_on:
            return False
        return not (self.revoked_on is not None and self.revoked_on <= day)


class EvidenceFile(Base):
    """A certificate scan, PDF or image; the bytes live in the file storage under `storage_key`."""

    __tablename__ = "evidence_files"
    __audited__ = True
    __label__ = "证明材料"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    recognition_id: Mapped[int | None] = mapped_column(
        ForeignKey("recognitions.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255), info=label("文件名"))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HeldTiersAsOf(Base):
    """One row: the day `HeldTier` holds the tiers of (None until the first refresh). Database triggers keep
    `HeldTier` right for that day on every write to recognitions; `app.recognitions.held.refresh` moves it
    to a new day (the ten-minute job, at its first run after midnight in Shanghai)."""

    __tablename__ = "held_tiers_as_of"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date | None] = mapped_column(Date)


class HeldTier(Base):
    """A tier a firm holds on `HeldTiersAsOf.as_of` (a recognition of it valid that day): what the firm list's
    tier filter reads, one narrow row per firm and tier instead of every recognition tested against the day.
    Derived data, written only by triggers and the refresh (migration c5e2a8f1d374), so not audited."""

    __tablename__ = "held_tiers"

    __table_args__ = (
        # A firm's held tiers (the triggers, the cascade), and "does this firm hold T" from the index alone
        # (the list's walk of the name index asks it of every firm it passes).
        Index("ix_held_tiers_firm_id_tier", "firm_id", "tier"),
    )

    tier: Mapped[str] = mapped_column(String(24), primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True)
