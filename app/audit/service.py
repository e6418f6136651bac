"""Reading the audit trail: a firm's change history with Chinese labels."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.audit.models import CHANNEL_LABELS, AuditEntry, Channel, PersonalDataAccess
from app.auth import repository as auth_repository
from app.db import Base
from app.indicators.facts import FACT_DEFS, FACTS

ACTION_LABELS = {"create": "新增", "update": "修改", "delete": "删除"}


Choices = dict[tuple[str, str], dict[str, str]]


def _labels() -> tuple[dict[str, str], dict[tuple[str, str], str], Choices]:
    """Chinese names of audited tables, of their fields, and of coded values (from the column info); built
    once per set of mapped classes (they only change when models are imported)."""
    return _labels_of(len(Base.registry.mappers))


@functools.cache
def _labels_of(_mappers: int) -> tuple[dict[str, str], dict[tuple[str, str], str], Choices]:
    entities: dict[str, str] = {}
    fields: dict[tuple[str, str], str] = {}
    choices: Choices = {}
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
            if "choices" in column.info:
                choices[(table, attr.key)] = column.info["choices"]
    choices[("fact_observations", "key")] = {d.key: d.label for d in FACT_DEFS}
    return entities, fields, choices


# Columns holding a reference code or a user id, shown by name.
REFERENCE_FIELDS = {
    "park_code": "park",
    "area_code": "area",
    "carrier_code": "carrier",
    "industry_code": "industry",
}
USER_FIELDS = {"officer_id", "assignee_id", "verified_by_id", "uploaded_by_id"}


class _Values:
    """Turns stored codes into what officers read: 高新技术企业, not hnte; 静安园, not jingan."""

    def __init__(
        self, session: Session, entries: list[Any], choices: Choices, names: dict[str, dict[str, str]]
    ) -> None:
        self.choices = choices
        self.refs = names
        ids = {
            int(v)
            for e in entries
            if e.field in USER_FIELDS
            for v in (e.old_value, e.new_value)
            if v and v.isdigit()
        }
        ids |= {
            int(m)
            for e in entries
            for m in re.findall(
                r"(?:officer_id|assignee_id)=(\d+)", (e.new_value or "") + (e.old_value or "")
            )
        }
        self.users = auth_repository.user_names(session, ids)

    def show(self, table: str, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        if (table, field) in self.choices:
            return self.choices[(table, field)].get(value, value)
        if field in REFERENCE_FIELDS:
            return self.refs[REFERENCE_FIELDS[field]].get(value, value)
        if field == "district_code":
            return self.refs["district"].get(value, value)
        if field in USER_FIELDS and value.isdigit():
            return self.users.get(int(value), value)
        return value


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


def _summary_labelled(
    table: str, text: str | None, fields: dict[tuple[str, str], str], values: _Values
) -> str | None:
    if not text:
        return text
    pairs = [part.partition("=")[::2] for part in text.split("; ")]
    fact_key = dict(pairs).get("key") if table == "fact_observations" else None
    parts = []
    for key, value in pairs:
        shown = values.show(table, key, value)
        if key == "value" and fact_key in FACTS:
            # A coded fact value (e.g. 研发机构级别 municipal) reads as its label (市级).
            shown = FACTS[fact_key].choices.get(value, value)
        parts.append(f"{fields.get((table, key), key)}：{shown}")
    return "；".join(parts)


_HISTORY = (
    select(
        AuditEntry.at,
        AuditEntry.actor_label,
        AuditEntry.channel,
        AuditEntry.channel_ref,
        AuditEntry.entity,
        AuditEntry.entity_id,
        AuditEntry.action,
        AuditEntry.field,
        AuditEntry.old_value,
        AuditEntry.new_value,
        AuditEntry.reason,
    )
    .where(AuditEntry.firm_id == bindparam("firm_id"))
    .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_COUNT = select(func.count()).where(AuditEntry.firm_id == bindparam("firm_id"))


def firm_history(
    session: Session,
    firm_id: int,
    *,
    limit: int = 200,
    offset: int = 0,
    names: dict[str, dict[str, str]] | None = None,
) -> tuple[list[HistoryLine], int]:
    """Newest first. Field names and entities are shown with their Chinese labels; reference codes with the
    names in `names` (`app.firms.references`, read here when not given). The entries are read as plain rows
    (Core); the total is counted only when the page read does not tell it."""
    entities, fields, choices = _labels()
    if names is None:
        from app.firms import references  # the firm package builds on this one

        names = references.load(session).names
    session.flush()
    conn = session.connection()
    rows = conn.execute(_HISTORY, {"firm_id": firm_id, "limit": limit, "offset": offset}).all()
    if len(rows) < limit and (rows or offset == 0):
        total = offset + len(rows)
    else:
        total = int(conn.execute(_COUNT, {"firm_id": firm_id}).scalar() or 0)
    values = _Values(session, list(rows), choices, names)
    lines = []
    for row in rows:
        channel = CHANNEL_LABELS.get(Channel(row.channel), row.channel)
        if row.channel_ref:
            channel = f"{channel} #{row.channel_ref}"
        old, new = row.old_value, row.new_value
        if row.action != "update":
            old = _summary_labelled(row.entity, old, fields, values)
            new = _summary_labelled(row.entity, new, fields, values)
        else:
            old = values.show(row.entity, row.field or "", old)
            new = values.show(row.entity, row.field or "", new)
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
