"""Imports: upload a file, confirm how its columns map, dry-run it, then commit it — all or nothing.

A run reads the stored file as a stream, a chunk of rows at a time (`context.CHUNK`), so a 100k-row roster
needs no more memory than a small one. The dry run and the commit are the same pass; the commit writes as the
import itself (channel 导入, channel_ref = the import's id) inside one savepoint: a failure anywhere leaves
nothing of it behind. Services flush, never commit: the request or the job owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind, act_as
from app.audit.models import Channel
from app.auth.principal import Principal
from app.config import settings
from app.db import utcnow
from app.errors import Conflict, NotPermitted, RuleViolation
from app.imports import firm_rows, recognition_rows, repository, year_rows
from app.imports.context import CHUNK, Lookups, Run
from app.imports.fields import FIELDS, fields_of, guess, header_key
from app.imports.models import ImportKind, ImportRejection, ImportRun, ImportStatus
from app.imports.reader import UnreadableFile, column_letter, open_table
from app.indicators.models import Source
from app.storage import Storage

PROCESSORS: dict[ImportKind, Callable[[Run, list[tuple[int, list[Any]]]], None]] = {
    ImportKind.firms: firm_rows.process,
    ImportKind.years: year_rows.process,
    ImportKind.recognitions: recognition_rows.process,
}
UNITS = ("auto", "万元", "元")
# Yearly indicators come from the officer's file as 企业填报 (the firm's own figures) or 部门数据 (a
# department's statistics); 专员核实 is kept for what an officer checked one by one in the file page.
IMPORT_SOURCES = (Source.firm_reported, Source.department)

Progress = Callable[[int, int | None], None]


class ImportFailed(Exception):
    pass


def ensure_can_import(principal: Principal) -> None:
    if not principal.can_edit_firms:
        raise NotPermitted("您的角色只能查看，不能导入数据")


def import_actor(principal: Principal, run: ImportRun) -> Actor:
    """Every change of a run is the import's: the officer who ran it, channel 导入, channel_ref = its id."""
    return Actor(
        kind=ActorKind.import_,
        label=principal.label,
        user_id=principal.user_id,
        channel=Channel.import_,
        channel_ref=str(run.id),
    )


def _suffix(data: bytes) -> str:
    return ".xlsx" if data.startswith(b"PK\x03\x04") else ".csv"


def upload(
    session: Session, principal: Principal, storage: Storage, *, kind: str, filename: str, data: bytes
) -> ImportRun:
    """Keep the file, find its header row and propose a mapping (the officer's saved one when the headers
    are the same as last time)."""
    ensure_can_import(principal)
    try:
        import_kind = ImportKind(kind)
    except ValueError:
        raise RuleViolation("请选择导入的内容：企业名册、年度指标或认定记录", field="kind") from None
    if not data:
        raise RuleViolation("请选择要上传的文件", field="file")
    if len(data) > settings.max_import_mb * 1024 * 1024:
        raise RuleViolation(f"文件不能超过 {settings.max_import_mb} MB", field="file")
    try:
        table = open_table(data, import_kind)
    except UnreadableFile as exc:
        raise RuleViolation(str(exc), field="file") from None
    headers = table.headers
    saved = repository.saved_mapping(session, principal.user_id, import_kind, table.signature)
    if saved is not None:
        columns = {int(k): v for k, v in saved.mapping.get("columns", {}).items()}
        options = {k: v for k, v in saved.mapping.items() if k != "columns"}
    else:
        columns, options = {}, {}
        for i, header in enumerate(headers):
            name = guess(import_kind, header)
            if name and name not in columns.values():
                columns[i] = name
    key = storage.save(data, suffix=_suffix(data))
    run = ImportRun(
        kind=import_kind,
        status=ImportStatus.uploaded,
        filename=PurePath(filename or "upload").name[-255:],
        storage_key=key,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_by_id=principal.user_id,
        header_signature=table.signature,
        settings={
            **table.info,
            "header_row": table.header_row,
            "headers": headers,
            "columns": {str(i): f for i, f in columns.items()},
            "unit": options.get("unit", "auto"),
            "source": options.get("source", Source.firm_reported.value),
            "source_department": options.get("source_department", ""),
            "mapping_saved": saved is not None,
        },
    )
    session.add(run)
    session.flush()
    return run


@dataclass
class ColumnChoice:
    index: int
    letter: str
    header: str
    field: str
    unit: str | None


def columns_of(run: ImportRun) -> list[ColumnChoice]:
    columns = run.settings.get("columns", {})
    return [
        ColumnChoice(i, column_letter(i), h, columns.get(str(i), ""), header_key(h)[1])
        for i, h in enumerate(run.settings.get("headers", []))
    ]


def configure(
    session: Session,
    principal: Principal,
    run: ImportRun,
    *,
    columns: dict[int, str],
    unit: str = "auto",
    source: str | None = None,
    source_department: str | None = None,
    remember: bool = False,
) -> None:
    """Set the column → field mapping (checked: each field once, the required ones present) and the units;
    with `remember`, keep it for the officer's next file with the same headers."""
    ensure_can_import(principal)
    if run.status in (ImportStatus.committed, ImportStatus.queued, ImportStatus.running):
        raise Conflict("该导入已在处理或已完成，不能再修改对应关系")
    known = fields_of(run.kind)
    headers = run.settings.get("headers", [])
    chosen: dict[int, str] = {}
    used: dict[str, list[str]] = {}
    for i, name in columns.items():
        if not name:
            continue
        if name not in known or not 0 <= i < len(headers):
            raise RuleViolation("对应关系中有无效的列", field="columns")
        chosen[i] = name
        used.setdefault(name, []).append(column_letter(i))
    twice = [f"“{known[n].label}”（{'、'.join(c)} 列）" for n, c in used.items() if len(c) > 1]
    if twice:
        raise RuleViolation("每一项只能对应一列：" + "；".join(twice), field="columns")
    missing = [f.label for f in FIELDS[run.kind] if f.required and f.name not in used]
    if missing:
        raise RuleViolation(
            "缺少必需的列：" + "、".join(missing) + "。请为它们选择文件中对应的列", field="columns"
        )
    if unit not in UNITS:
        raise RuleViolation("金额单位无效", field="unit")
    options: dict[str, Any] = {"unit": unit}
    if run.kind is ImportKind.years:
        if source not in {s.value for s in IMPORT_SOURCES}:
            raise RuleViolation("请选择数据来源：企业填报或部门数据", field="source")
        department = (source_department or "").strip()
        if source == Source.department and not department:
            raise RuleViolation("部门数据须注明来源部门", field="source_department")
        if len(department) > 64:
            raise RuleViolation("来源部门不能超过 64 个字", field="source_department")
        options |= {"source": source, "source_department": department}
    run.settings = {**run.settings, **options, "columns": {str(i): f for i, f in chosen.items()}}
    if remember:
        saved = repository.saved_mapping(session, principal.user_id, run.kind, run.header_signature)
        mapping = {**options, "columns": run.settings["columns"]}
        if saved is None:
            from app.imports.models import ImportMapping

            session.add(
                ImportMapping(
                    user_id=principal.user_id,
                    kind=run.kind,
                    header_signature=run.header_signature,
                    mapping=mapping,
                )
            )
        else:
            saved.mapping = mapping
    session.flush()


def is_large(run: ImportRun) -> bool:
    """Files above LADDER_IMPORT_INLINE_KB run as a background job; smaller ones answer at once."""
    return run.size_bytes > settings.import_inline_kb * 1024


def _units(run: ImportRun) -> dict[int, str]:
    chosen = run.settings.get("unit", "auto")
    known = fields_of(run.kind)
    out = {}
    for i, name in ((int(k), v) for k, v in run.settings.get("columns", {}).items()):
        if known[name].amount:
            stated = header_key(run.settings["headers"][i])[1]
            out[i] = stated if stated in ("元", "万元") else ("万元" if chosen == "auto" else chosen)
    return out


def _rows_hint(run: ImportRun, data: bytes) -> int | None:
    if run.settings.get("format") == "xlsx":
        hint = run.settings.get("rows_hint")
        return max(int(hint) - int(run.settings.get("header_row", 1)), 0) if hint else None
    return max(data.count(b"\n") - int(run.settings.get("header_row", 1)) + 1, 0)


def _flush_rejections(session: Session, run: Run) -> None:
    if run.rejections:
        session.execute(
            insert(ImportRejection),
            [
                {
                    "import_id": run.import_id,
                    "row": r.row,
                    "column": r.column or "-",
                    "header": (r.header or "")[:128] or None,
                    "message": r.message[:256],
                }
                for r in run.rejections
            ],
        )
        run.rejections.clear()


def _expunge_new(session: Session, before: set[Any]) -> None:
    """Forget what this chunk loaded or made (already flushed): memory stays bounded over any file."""
    for key in list(session.identity_map.keys()):
        if key not in before:
            obj = session.identity_map.get(key)
            if obj is not None:
                session.expunge(obj)


def _pass(
    session: Session,
    principal: Principal,
    storage: Storage,
    run_row: ImportRun,
    *,
    commit: bool,
    today: date,
    progress: Progress | None,
) -> Run:
    data = storage.open(run_row.storage_key)
    try:
        table = open_table(data, run_row.kind)
    except UnreadableFile as exc:
        raise ImportFailed(str(exc)) from None
    total = _rows_hint(run_row, data)
    run = Run(
        session=session,
        principal=principal,
        kind=run_row.kind,
        import_id=run_row.id,
        today=today,
        commit=commit,
        columns={int(k): v for k, v in run_row.settings.get("columns", {}).items()},
        units=_units(run_row),
        headers=table.headers,
        options=run_row.settings,
        lookups=Lookups(session),
        reason=f"导入 #{run_row.id}（{run_row.filename}）",
    )
    process = PROCESSORS[run_row.kind]
    repository.clear_rejections(session, run_row.id)
    before = set(session.identity_map.keys())
    chunk: list[tuple[int, list[Any]]] = []

    def flush_chunk() -> None:
        process(run, chunk)
        chunk.clear()
        _flush_rejections(session, run)
        if commit:
            session.flush()
            _expunge_new(session, before)
        if progress is not None:
            progress(run.rows, total)

    for item in table.rows:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            flush_chunk()
    flush_chunk()
    if commit and run_row.kind is ImportKind.recognitions and run.touched_firms:
        from app.policies import flows as policy_flows

        for firm_id in sorted(run.touched_firms):
            policy_flows.recognition_recorded(session, firm_id, today=today)
    return run


def execute(
    session: Session,
    principal: Principal,
    storage: Storage,
    run_row: ImportRun,
    *,
    commit: bool,
    today: date,
    progress: Progress | None = None,
) -> ImportRun:
    """The dry run (commit=False: counts and rejected rows, nothing written) or the commit (every accepted row
    or, on any failure, none of them: the run is then marked failed with the reason)."""
    ensure_can_import(principal)
    if commit and run_row.status == ImportStatus.committed:
        raise Conflict("该文件已导入，不能重复提交")
    saved_info = dict(session.info)
    run_id = run_row.id
    try:
        with session.begin_nested():
            if commit:
                act_as(session, import_actor(principal, run_row), f"导入 #{run_row.id}（{run_row.filename}）")
            outcome = _pass(
                session, principal, storage, run_row, commit=commit, today=today, progress=progress
            )
            if commit:
                session.flush()
    except (ImportFailed, RuleViolation) as exc:
        return _failed(session, run_id, str(exc))
    except Exception as exc:  # a database error: nothing of the commit was kept
        if not commit:
            raise
        return _failed(session, run_id, f"导入失败，未写入任何数据（{type(exc).__name__}）")
    finally:
        session.info.clear()
        session.info.update(saved_info)
    run_row = session.get(ImportRun, run_id) or run_row
    for name in ("rows", "new", "updated", "unchanged", "rejected"):
        setattr(run_row, name, getattr(outcome, name))
    run_row.error = None
    if commit:
        run_row.status = ImportStatus.committed
        run_row.committed_at = utcnow()
    else:
        run_row.status = ImportStatus.analysed
        run_row.analysed_at = utcnow()
    session.flush()
    return run_row


def _failed(session: Session, run_id: int, message: str) -> ImportRun:
    run_row = session.get(ImportRun, run_id)
    assert run_row is not None
    run_row.status = ImportStatus.failed
    run_row.error = message[:2000]
    session.flush()
    return run_row


def result(session: Session, run_row: ImportRun) -> dict[str, Any]:
    """The JSON answer: counts and every rejected row (row as Excel shows it, column letter, reason)."""
    return {
        "id": run_row.id,
        "rows": run_row.rows,
        "new": run_row.new,
        "updated": run_row.updated,
        "unchanged": run_row.unchanged,
        "rejected": [
            {"row": r.row, "column": r.column, "message": r.message}
            for r in repository.rejections(session, run_row.id)
        ],
    }
