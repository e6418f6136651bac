"""JSON API of imports: POST /api/v1/imports (multipart `file`, `kind`, `dry_run`) and …/{id}/commit.

Small files are answered at once with the counts and every rejected row; large ones (above
LADDER_IMPORT_INLINE_KB) are queued: 202 with the job's URL, which answers the same shape once done.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from app.auth.dependencies import StaffPrincipal
from app.config import settings
from app.db import SessionDep
from app.errors import Conflict, NotFound
from app.imports import jobs, repository, service
from app.imports.models import ImportRun, ImportStatus
from app.storage import get_storage
from app.web.formatting import today

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


def read_upload(file: UploadFile) -> bytes:
    """At most the import limit (+1 byte, so that a larger file is refused, not truncated)."""
    return file.file.read(settings.max_import_mb * 1024 * 1024 + 1)


def _queued(request: Request, background: BackgroundTasks, run: ImportRun, commit: bool) -> Response:
    run.status = ImportStatus.queued
    # Queued after the request's transaction commits, so the job finds the run as this request left it.
    background.add_task(jobs.enqueue, run.id, commit)
    url = str(request.app.url_path_for("imports_api:status", import_id=str(run.id)))
    return JSONResponse(
        {"id": run.id, "status": ImportStatus.queued.value, "job": url},
        status_code=202,
        headers={"Location": url},
    )


def _answer(session: SessionDep, run: ImportRun) -> Response:
    if run.status == ImportStatus.failed:
        return JSONResponse({"id": run.id, "status": run.status.value, "detail": run.error}, status_code=422)
    return JSONResponse(service.result(session, run))


@router.post("", name="imports_api:create", status_code=200)
def create(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form()],
    dry_run: Annotated[bool, Form()] = True,
    unit: Annotated[str, Form()] = "auto",
    source: Annotated[str | None, Form()] = None,
    source_department: Annotated[str | None, Form()] = None,
) -> Response:
    """Upload a roster, yearly indicators or recognitions; headers are mapped automatically (or by the
    mapping you saved for these headers). dry_run=true (default) writes nothing."""
    service.ensure_can_import(principal)
    run = service.upload(
        session, principal, get_storage(), kind=kind, filename=file.filename or "", data=read_upload(file)
    )
    service.configure(
        session,
        principal,
        run,
        columns={int(k): v for k, v in run.settings["columns"].items()},
        unit=unit,
        source=source or run.settings.get("source"),
        source_department=source_department or run.settings.get("source_department"),
    )
    if service.is_large(run):
        return _queued(request, background, run, not dry_run)
    run = service.execute(session, principal, get_storage(), run, commit=not dry_run, today=today())
    return _answer(session, run)


def _load(session: SessionDep, principal: StaffPrincipal, import_id: int) -> ImportRun:
    run = repository.get_in_scope(session, principal, import_id)
    if run is None:
        raise NotFound("未找到该导入")
    return run


@router.get("/{import_id}", name="imports_api:status")
def status(session: SessionDep, principal: StaffPrincipal, import_id: int) -> Response:
    """The job: status and progress while it runs; then the counts and rejected rows."""
    run = _load(session, principal, import_id)
    body: dict[str, Any] = {"id": run.id, "kind": run.kind, "status": run.status}
    if run.status in (ImportStatus.queued, ImportStatus.running):
        body["progress"] = jobs.progress_of(run.id)
    elif run.status in (ImportStatus.analysed, ImportStatus.committed):
        body |= service.result(session, run)
    elif run.status == ImportStatus.failed:
        body["detail"] = run.error
    return JSONResponse(body)


@router.post("/{import_id}/commit", name="imports_api:commit")
def commit(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    background: BackgroundTasks,
    import_id: int,
) -> Response:
    """Write every accepted row of a dry-run import, or none of them."""
    service.ensure_can_import(principal)
    run = _load(session, principal, import_id)
    if run.status == ImportStatus.committed:
        raise Conflict("该文件已导入，不能重复提交")
    if run.status != ImportStatus.analysed:
        raise Conflict("请先试导入（dry_run），确认结果后再提交")
    if service.is_large(run):
        return _queued(request, background, run, True)
    run = service.execute(session, principal, get_storage(), run, commit=True, today=today())
    return _answer(session, run)
