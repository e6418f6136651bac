"""Background jobs of imports (huey): a large file's dry run or commit. The job owns its unit of work: it
opens its own session, acts as the import, commits once at the end (or rolls everything back and records the
failure). Progress goes to huey's key-value store, which the page polls."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.audit.models import Channel
from app.auth.dependencies import principal_for
from app.auth.models import User
from app.db import SessionLocal
from app.imports import service
from app.imports.models import ImportRun, ImportStatus
from app.jobs import huey
from app.storage import get_storage
from app.web.formatting import today

# The session a job opens and closes (tests point it at their own transaction).
open_session: Callable[[], AbstractContextManager[Session]] = SessionLocal


def progress_key(import_id: int) -> str:
    return f"import-progress:{import_id}"


def progress_of(import_id: int) -> dict[str, Any] | None:
    """{"done": rows read, "total": estimate or None, "phase": "analyse"|"commit"} while a job runs."""
    try:
        value = huey.get(progress_key(import_id), peek=True)
    except Exception:  # the queue being unreachable must not break the page
        return None
    return value if isinstance(value, dict) else None


def run_import(import_id: int, commit: bool) -> None:
    with open_session() as session:
        try:
            _run(session, import_id, commit)
        except Exception as exc:
            session.rollback()
            run = session.get(ImportRun, import_id)
            if run is not None:
                run.status = ImportStatus.failed
                run.error = f"处理失败，未写入任何数据（{type(exc).__name__}）"
                session.commit()
            raise
        finally:
            with contextlib.suppress(Exception):  # read and remove
                huey.get(progress_key(import_id))


def _run(session: Session, import_id: int, commit: bool) -> None:
    run = session.get(ImportRun, import_id)
    if run is None:
        return
    user = session.scalars(
        select(User).where(User.id == run.created_by_id).options(selectinload(User.parks))
    ).one()
    principal = principal_for(user, Channel.import_)
    run.status = ImportStatus.running
    session.commit()
    phase = "commit" if commit else "analyse"

    def progress(done: int, total: int | None) -> None:
        huey.put(progress_key(import_id), {"done": done, "total": total, "phase": phase})

    progress(0, None)
    service.execute(session, principal, get_storage(), run, commit=commit, today=today(), progress=progress)
    session.commit()


@huey.task()
def import_task(import_id: int, commit: bool) -> None:
    run_import(import_id, commit)


def enqueue(import_id: int, commit: bool) -> None:
    """Queue the job (call after the request's commit, e.g. as a response background task)."""
    import_task(import_id, commit)
