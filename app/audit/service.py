"""Reading the audit trail: a firm's change history with Chinese labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import CHANNEL_LABELS, AuditEntry, Channel, PersonalDataAccess
from app.db import Base

ACTION_LABELS = {"create": "新增", "update": "修改", "delete": "删除"}


def _labels() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    entities: dict[str, str] = {}
    fields: dict[tuple[str, str], str] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = getattr(cls, "__tablename__", None)
        if table is None or not getattr(cls, "__audited__", False):
            continue
        entities[table] = getattr(cls, "__label__", table)
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if "label" in column.info:
                fields[(table, attr.key)] = column.info["label"]
    return entities, fields


@dataclass
class HistoryLine:
    at: datetime
    actor: str
    channel: str
    entity: str
    entity_id: int | None
    action: str
    field: str | None
    old: str | None
    new: str | None
    reason: str | None


def _summary_labelled(table: str, text: str | None, fields: dict[tuple[str, str], str]) -> str | None:
    if not text:
        return text
    parts = []
    for part in text.split("; "):
        key, _, value = part.partition("=")
        parts.append(f"{fields.get((table, key), key)}：{value}")
    return "；".join(parts)


def firm_history(session: Session, firm_id: int, *, limit: int = 200, offset: int = 0) -> tuple[list[HistoryLine], int]:
    """Newest first. Field names and entities are shown with their Chinese labels."""
    entities, fields = _labels()
    total = int(session.scalar(select(func.count()).where(AuditEntry.firm_id == firm_id)) or 0)
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.firm_id == firm_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    lines = []
    for row in rows:
        channel = CHANNEL_LABELS.get(Channel(row.channel), row.channel)
        if row.channel_ref:
            channel = f"{channel} #{row.channel_ref}"
        old, new = row.old_value, row.new_value
        if row.action != "update":
            old = _summary_labelled(row.entity, old, fields)
            new = _summary_labelled(row.entity, new, fields)
        lines.append(
            HistoryLine(
                at=row.at,
                actor=row.actor_label,
                channel=channel,
                entity=entities.get(row.entity, row.entity),
                entity_id=row.entity_id,
                action=ACTION_LABELS.get(row.action, row.action),
                field=fields.get((row.entity, row.field), row.field) if row.field else None,
                old=old,
                new=new,
                reason=row.reason,
            )
        )
    return lines, total


def personal_data_log(session: Session, firm_id: int, limit: int = 50) -> list[PersonalDataAccess]:
    return list(
        session.scalars(
            select(PersonalDataAccess)
            .where(PersonalDataAccess.firm_id == firm_id)
            .order_by(PersonalDataAccess.at.desc())
            .limit(limit)
        )
    )
