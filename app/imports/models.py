"""Imports of rosters, yearly indicators and recognitions from Excel/CSV: the runs, their rejected rows and the
header mappings officers saved for next time."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, UTCDateTime


class ImportKind(StrEnum):
    firms = "firms"
    years = "years"
    recognitions = "recognitions"


IMPORT_KIND_LABELS = {
    ImportKind.firms: "企业名册",
    ImportKind.years: "年度指标",
    ImportKind.recognitions: "认定记录",
}


class ImportStatus(StrEnum):
    uploaded = "uploaded"  # header read, mapping proposed; waiting for the officer
    queued = "queued"  # a job will analyse or commit it
    running = "running"
    analysed = "analysed"  # dry run done: counts and rejected rows known, nothing written
    committed = "committed"
    failed = "failed"


IMPORT_STATUS_LABELS = {
    ImportStatus.uploaded: "待确认对应关系",
    ImportStatus.queued: "排队中",
    ImportStatus.running: "处理中",
    ImportStatus.analysed: "已试导入",
    ImportStatus.committed: "已导入",
    ImportStatus.failed: "失败",
}


class ImportRun(TimestampMixin, Base):
    """One uploaded file and what became of it. The file itself lives in the storage under `storage_key`."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_created_by_id_created_at", "created_by_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(String(16))
    status: Mapped[ImportStatus] = mapped_column(String(16), default=ImportStatus.uploaded)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # What the officer confirmed: header row, column → field, units, the source of yearly indicators.
    header_signature: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Counts of the last dry run or of the commit.
    rows: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImportRejection(Base):
    """A refused cell or row: its row number as Excel shows it, the column letter and a Chinese reason."""

    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_import_id_row", "import_id", "row"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(8))
    header: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(String(256))


class ImportMapping(TimestampMixin, Base):
    """A header mapping an officer confirmed, reused for the next file of the same kind and headers."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("user_id", "kind", "header_signature"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ImportKind] = mapped_column(String(16))
    header_signature: Mapped[str] = mapped_column(String(64))
    # Header text → field name ("" = ignored), and the units chosen per amount field.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
