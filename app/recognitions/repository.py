"""Queries on recognitions across firms. Who may see which firm is decided by
`app.firms.repository.scoped()`, and only there."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Exists, exists, or_, select
from sqlalchemy.orm import Session, aliased

from app.auth.models import User
from app.auth.principal import Principal
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.firms.models import Firm, FirmStatus
from app.firms.repository import held_on, scoped
from app.recognitions.models import Recognition


@dataclass(frozen=True)
class ExpiringRecognition:
    recognition: Recognition
    firm_name: str
    officer_id: int | None
    officer_name: str | None


def _superseded() -> Exists:
    """A later, unrevoked recognition of the same tier for the same firm that runs past this one's expiry
    (the renewal has already been issued)."""
    later = aliased(Recognition)
    return exists().where(
        later.firm_id == Recognition.firm_id,
        later.tier == Recognition.tier,
        later.id != Recognition.id,
        later.issued_on > Recognition.issued_on,
        later.revoked_on.is_(None),
        or_(later.expires_on.is_(None), later.expires_on > Recognition.expires_on),
    )


def expiring(
    session: Session,
    principal: Principal | None,
    *,
    today: date,
    until: date,
    tiers: Collection[str],
    recognition_ids: Collection[int] | None = None,
) -> list[ExpiringRecognition]:
    """Recognitions held today and expiring on or before `until`, on active firms the principal may see
    (every firm when `principal` is None: a job), neither revoked nor superseded. One query."""
    stmt = (
        select(Recognition, Firm.name, Firm.officer_id, User.display_name)
        .join(Firm, Firm.id == Recognition.firm_id)
        .outerjoin(User, User.id == Firm.officer_id)
        .where(
            held_on(today),
            Recognition.revoked_on.is_(None),
            Recognition.expires_on <= until,
            Recognition.tier.in_(sorted(tiers)),
            Firm.status == FirmStatus.active,
            ~_superseded(),
        )
        .order_by(Recognition.expires_on, Firm.name, Recognition.id)
    )
    if recognition_ids is not None:
        stmt = stmt.where(Recognition.id.in_(sorted(recognition_ids)))
    if principal is not None:
        stmt = scoped(stmt, principal)  # type: ignore[arg-type]  # scoped() is typed for one column
    return [
        ExpiringRecognition(recognition=rec, firm_name=name, officer_id=officer_id, officer_name=officer_name)
        for rec, name, officer_id, officer_name in session.execute(stmt)
    ]


def reminder_tasks(session: Session, origin_refs: Collection[str]) -> dict[str, tuple[int, TaskStatus]]:
    """The latest expiry-reminder task (id, status) of each origin_ref that has one. One query."""
    if not origin_refs:
        return {}
    rows = session.execute(
        select(Task.origin_ref, Task.id, Task.status)
        .where(Task.origin == TaskOrigin.expiry_reminder, Task.origin_ref.in_(sorted(origin_refs)))
        .order_by(Task.id)
    )
    return {str(ref): (int(task_id), TaskStatus(status)) for ref, task_id, status in rows}
