"""The audit trail (who changed what, old → new) and the log of personal-data views and exports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Channel(StrEnum):
    web = "web"
    api = "api"
    import_ = "import"
    job = "job"
    system = "system"


CHANNEL_LABELS = {
    Channel.web: "网页",
    Channel.api: "接口",
    Channel.import_: "导入",
    Channel.job: "后台任务",
    Channel.system: "系统",
}


class AuditEntry(Base):
    """One changed field. Written only by the flush listener; never updated or deleted."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_firm_at", "firm_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    channel_ref: Mapped[str | None] = mapped_column(String(64))
    firm_id: Mapped[int | None] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(48))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(48))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(500))


class PersonalDataAccess(Base):
    """PIPL: every view or export of contacts' personal data, by whom and for which firm."""

    __tablename__ = "personal_data_accesses"
    __table_args__ = (Index("ix_personal_data_accesses_firm_at", "firm_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(128))
    firm_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(256))
