"""Writes an AuditEntry for every insert, update and delete of an audited model, in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

# app.db imports this module to register the listener for every Session, so the audit models and
# the actor are imported inside the hooks (they import app.db themselves).

# Bookkeeping columns that are not facts of the file.
SKIP = {
    "id",
    "firm_id",
    "created_at",
    "updated_at",
    "version",
    "search_text",
    "recorded_at",
    "recorded_by_id",
}


class AuditTrailIsReadOnly(RuntimeError):
    pass


class MissingActor(RuntimeError):
    pass


def fmt(value: Any) -> str | None:
    """The text form of a value as the history shows it."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _firm_id(obj: Any) -> int | None:
    if obj.__tablename__ == "firms":
        return int(obj.id)
    return getattr(obj, "firm_id", None)


def _mapper(obj_or_model: Any) -> Any:
    """The mapper of an instance or of a mapped class."""
    return inspect(obj_or_model) if isinstance(obj_or_model, type) else inspect(obj_or_model).mapper


def _columns(obj_or_model: Any) -> list[str]:
    return [a.key for a in _mapper(obj_or_model).column_attrs if a.key not in SKIP]


def _personal(obj_or_model: Any, key: str) -> bool:
    return bool(_mapper(obj_or_model).column_attrs[key].columns[0].info.get("personal"))


def _value(obj_or_model: Any, key: str, value: Any) -> str | None:
    """The audited text of a value; personal data (PIPL) is kept masked in the trail."""
    text = fmt(value)
    if text is None or not _personal(obj_or_model, key):
        return text
    return "*" * max(len(text) - 4, 0) + text[-4:]


def summary_of(model: type[Any], values: Mapping[str, Any]) -> str:
    """The `create`/`delete` text of a row: its columns but the bookkeeping ones, `key=value` by "; "."""
    parts = []
    for key in _columns(model):
        text = _value(model, key, values.get(key))
        if text is not None:
            parts.append(f"{key}={text}")
    return "; ".join(parts)


def _summary(obj: Any) -> str:
    return summary_of(type(obj), {key: getattr(obj, key) for key in _columns(obj)})


def _common(session: Session, at: datetime) -> dict[str, Any]:
    """Who, when, through which channel and why: the fields every entry of one flush shares."""
    from app.audit.actor import current_actor

    actor = current_actor(session)
    if actor is None:
        raise MissingActor("a change to a firm's file was flushed without an actor (act_as)")
    return {
        "at": at,
        "actor_kind": actor.kind.value,
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "channel": actor.channel.value,
        "channel_ref": actor.channel_ref,
        "reason": session.info.get("reason"),
    }


def write_created(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """The `create` entries of rows inserted without the ORM (bulk writes), exactly as the listener writes
    them for flushed objects. Each row carries its `id` (and `firm_id` unless it is a firm)."""
    from app.audit.models import AuditEntry

    if not rows:
        return
    common = _common(session, datetime.now(UTC))
    session.connection().execute(
        insert(AuditEntry),
        [
            {
                **common,
                "firm_id": row["id"] if model.__tablename__ == "firms" else row.get("firm_id"),
                "entity": model.__tablename__,
                "entity_id": row["id"],
                "action": "create",
                "field": None,
                "old_value": None,
                "new_value": summary_of(model, row),
            }
            for row in rows
        ],
    )


@event.listens_for(Session, "before_flush")
def _refuse_audit_edits(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    from app.audit.models import AuditEntry

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditTrailIsReadOnly("审计记录不可修改或删除")


@event.listens_for(Session, "after_flush")
def _write_audit(session: Session, _ctx: UOWTransaction) -> None:
    from app.audit.models import AuditEntry

    rows: list[dict[str, Any]] = []
    now = datetime.now(UTC)

    def row(obj: Any, action: str, field: str | None, old: str | None, new: str | None) -> dict[str, Any]:
        return {
            "firm_id": _firm_id(obj),
            "entity": obj.__tablename__,
            "entity_id": obj.id,
            "action": action,
            "field": field,
            "old_value": old,
            "new_value": new,
        }

    for obj in session.new:
        if getattr(obj, "__audited__", False):
            rows.append(row(obj, "create", None, None, _summary(obj)))
    for obj in session.dirty:
        if not getattr(obj, "__audited__", False):
            continue
        state = inspect(obj)
        for key in _columns(obj):
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            old = _value(obj, key, hist.deleted[0]) if hist.deleted else None
            new = _value(obj, key, hist.added[0]) if hist.added else None
            if old != new:
                rows.append(row(obj, "update", key, old, new))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            rows.append(row(obj, "delete", None, _summary(obj), None))
    if not rows:
        return
    common = _common(session, now)
    session.connection().execute(insert(AuditEntry), [{**common, **r} for r in rows])
