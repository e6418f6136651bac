"""Pages of 导入导出: upload a file, correct the column mapping, dry run, commit; progress of a large file
polled by htmx (the status block of the same page; without JavaScript, a refresh link)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.auth.dependencies import StaffPrincipal
from app.db import SessionDep
from app.errors import Conflict, NotFound, RuleViolation
from app.firms.models import KNOWN_TAGS
from app.imports import jobs, repository, service
from app.imports.api import read_upload
from app.imports.fields import FIELDS
from app.imports.models import IMPORT_KIND_LABELS, IMPORT_STATUS_LABELS, ImportKind, ImportRun, ImportStatus
from app.indicators.models import SOURCE_LABELS
from app.storage import get_storage
from app.web.formatting import today
from app.web.templating import redirect_after_post, render

router = APIRouter(prefix="/imports", include_in_schema=False)

SHOWN_REJECTIONS = 500
KIND_OPTIONS = [(k.value, v) for k, v in IMPORT_KIND_LABELS.items()]
UNIT_OPTIONS = [("auto", "按表头判断（未注明时为万元）"), ("万元", "万元"), ("元", "元（换算为万元）")]
SOURCE_OPTIONS = [(s.value, SOURCE_LABELS[s]) for s in service.IMPORT_SOURCES]


def _index_ctx(session: SessionDep, principal: StaffPrincipal, **extra: Any) -> dict[str, Any]:
    return {
        "runs": repository.recent(session, principal),
        "kind_options": KIND_OPTIONS,
        "kind_labels": IMPORT_KIND_LABELS,
        "status_labels": IMPORT_STATUS_LABELS,
        "can_import": principal.can_edit_firms,
        "whitelist_tag": "授信白名单" if "授信白名单" in KNOWN_TAGS else None,
        "errors": {},
        "values": {},
        **extra,
    }


@router.get("", name="imports:index")
def index(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """Upload a roster, yearly indicators or recognitions; recent imports; exports."""
    return render(request, "imports/index.html", _index_ctx(session, principal))


@router.post("", name="imports:upload")
def upload(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    kind: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Keep the file and go to its mapping step."""
    service.ensure_can_import(principal)
    try:
        with session.begin_nested():
            run = service.upload(
                session,
                principal,
                get_storage(),
                kind=kind,
                filename=(file.filename if file else "") or "",
                data=read_upload(file) if file else b"",
            )
    except RuleViolation as exc:
        ctx = _index_ctx(session, principal, errors={exc.field or "file": exc.message}, values={"kind": kind})
        return render(request, "imports/index.html", ctx, status_code=422)
    return redirect_after_post(
        request, str(request.app.url_path_for("imports:detail", import_id=str(run.id)))
    )


def _load(session: SessionDep, principal: StaffPrincipal, import_id: int) -> ImportRun:
    run = repository.get_in_scope(session, principal, import_id)
    if run is None:
        raise NotFound("未找到该导入")
    return run


def _detail_ctx(session: SessionDep, run: ImportRun, **extra: Any) -> dict[str, Any]:
    busy = run.status in (ImportStatus.queued, ImportStatus.running)
    progress = jobs.progress_of(run.id) if busy else None
    percent = None
    if progress and progress.get("total"):
        percent = min(100, int(100 * progress["done"] / max(progress["total"], 1)))
    field_options = [("", "（不导入）")] + [
        (f.name, f.label + ("（必填）" if f.required else "")) for f in FIELDS[run.kind]
    ]
    return {
        "run": run,
        "kind_label": IMPORT_KIND_LABELS[run.kind],
        "status_label": IMPORT_STATUS_LABELS[run.status],
        "columns": service.columns_of(run),
        "field_options": field_options,
        "unit_options": UNIT_OPTIONS,
        "source_options": SOURCE_OPTIONS,
        "is_years": run.kind is ImportKind.years,
        "busy": busy,
        "progress": progress,
        "percent": percent,
        "rejections": repository.rejections(session, run.id, limit=SHOWN_REJECTIONS)
        if run.status in (ImportStatus.analysed, ImportStatus.committed)
        else [],
        "shown_limit": SHOWN_REJECTIONS,
        "can_map": run.status in (ImportStatus.uploaded, ImportStatus.analysed, ImportStatus.failed),
        "can_commit": run.status == ImportStatus.analysed,
        "errors": {},
        "submitted": {},
        **extra,
    }


@router.get("/{import_id}", name="imports:detail")
def detail(request: Request, session: SessionDep, principal: StaffPrincipal, import_id: int) -> Response:
    """The mapping step, the dry-run result and the commit; the status block alone while a job runs."""
    run = _load(session, principal, import_id)
    return render(request, "imports/detail.html", _detail_ctx(session, run), block="import_status")


def _start(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    background: BackgroundTasks,
    run: ImportRun,
    commit: bool,
) -> Response:
    if service.is_large(run):
        run.status = ImportStatus.queued
        background.add_task(jobs.enqueue, run.id, commit)
    else:
        service.execute(session, principal, get_storage(), run, commit=commit, today=today())
    return redirect_after_post(
        request, str(request.app.url_path_for("imports:detail", import_id=str(run.id)))
    )


@router.post("/{import_id}/analyse", name="imports:analyse")
async def analyse(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    background: BackgroundTasks,
    import_id: int,
) -> Response:
    """Save the mapping (and remember it when asked), then dry-run the file."""
    form = await request.form()
    return _analyse(request, session, principal, background, import_id, {k: str(v) for k, v in form.items()})


def _analyse(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    background: BackgroundTasks,
    import_id: int,
    form: dict[str, str],
) -> Response:
    service.ensure_can_import(principal)
    run = _load(session, principal, import_id)
    columns = {int(k[4:]): v for k, v in form.items() if k.startswith("col_") and k[4:].isdigit()}
    try:
        with session.begin_nested():
            service.configure(
                session,
                principal,
                run,
                columns=columns,
                unit=form.get("unit", "auto"),
                source=form.get("source"),
                source_department=form.get("source_department"),
                remember=form.get("remember") == "1",
            )
    except (RuleViolation, Conflict) as exc:
        field = getattr(exc, "field", None) or "columns"
        ctx = _detail_ctx(session, run, errors={field: exc.message}, submitted=form)
        return render(request, "imports/detail.html", ctx, status_code=422)
    return _start(request, session, principal, background, run, commit=False)


@router.post("/{import_id}/commit", name="imports:commit")
def commit(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    background: BackgroundTasks,
    import_id: int,
) -> Response:
    """Write every accepted row, or none."""
    service.ensure_can_import(principal)
    run = _load(session, principal, import_id)
    if run.status != ImportStatus.analysed:
        raise Conflict(
            "请先试导入，确认结果后再提交" if run.status != ImportStatus.committed else "该文件已导入"
        )
    return _start(request, session, principal, background, run, commit=True)
