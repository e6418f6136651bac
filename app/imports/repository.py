"""Every query on imports: runs, their rejected rows, saved mappings."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.imports.models import ImportKind, ImportMapping, ImportRejection, ImportRun


def scoped_runs(principal: Principal):  # type: ignore[no-untyped-def]
    """Admins see every import; an officer sees the ones they uploaded."""
    stmt = select(ImportRun)
    if principal.park_codes is not None:
        stmt = stmt.where(ImportRun.created_by_id == principal.user_id)
    return stmt


def get_in_scope(session: Session, principal: Principal, import_id: int) -> ImportRun | None:
    return session.scalars(scoped_runs(principal).where(ImportRun.id == import_id)).first()


def recent(session: Session, principal: Principal, limit: int = 20) -> list[ImportRun]:
    return list(session.scalars(scoped_runs(principal).order_by(ImportRun.id.desc()).limit(limit)))


def saved_mapping(session: Session, user_id: int, kind: ImportKind, signature: str) -> ImportMapping | None:
    return session.scalars(
        select(ImportMapping).where(
            ImportMapping.user_id == user_id,
            ImportMapping.kind == kind,
            ImportMapping.header_signature == signature,
        )
    ).first()


def rejections(session: Session, import_id: int, limit: int | None = None) -> list[ImportRejection]:
    stmt = (
        select(ImportRejection)
        .where(ImportRejection.import_id == import_id)
        .order_by(ImportRejection.row, ImportRejection.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def rejection_count(session: Session, import_id: int) -> int:
    return int(session.scalar(select(func.count()).where(ImportRejection.import_id == import_id)) or 0)


def clear_rejections(session: Session, import_id: int) -> None:
    session.execute(delete(ImportRejection).where(ImportRejection.import_id == import_id))
