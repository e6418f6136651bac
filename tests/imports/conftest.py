"""Import tests: messy files built here with writers other than the project's exporter (openpyxl by hand,
xlsxwriter, the csv module in GBK), huey in its documented immediate mode, jobs on the test's transaction."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.firms import uscc as uscc_mod
from app.imports import jobs
from app.jobs import huey


def make_uscc(n: int) -> str:
    return uscc_mod.build("91310106", f"{70000000 + n:08d}")


def xlsx_openpyxl(rows: list[list[Any]], merges: list[str] = ()) -> bytes:  # type: ignore[assignment]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_xlsxwriter(rows: list[list[Any]], merges: list[tuple[str, str]] = ()) -> bytes:  # type: ignore[assignment]
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("名册")
    for cells, text in merges:
        ws.merge_range(cells, text)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None and not (merges and r == 0):
                ws.write(r, c, value)
    wb.close()
    return out.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


@pytest.fixture(autouse=True)
def _jobs_in_test_transaction(db: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Jobs run at once (huey immediate mode) and on the test's session (their commits release savepoints)."""

    @contextmanager
    def _session() -> Iterator[Session]:
        saved = dict(db.info)
        try:
            yield db
        finally:
            db.info.clear()
            db.info.update(saved)

    monkeypatch.setattr(jobs, "open_session", _session)
    was = huey.immediate
    huey.immediate = True
    try:
        yield
    finally:
        huey.immediate = was


@pytest.fixture
def upload(client: Any) -> Callable[..., Any]:
    """`upload(headers, data, kind="firms", dry_run=True, name="x.xlsx")` → the API response."""

    def _upload(
        headers: dict[str, str],
        data: bytes,
        kind: str = "firms",
        dry_run: bool = True,
        name: str = "roster.xlsx",
        **form: str,
    ) -> Any:
        return client.post(
            "/api/v1/imports",
            headers=headers,
            files={"file": (name, data, "application/octet-stream")},
            data={"kind": kind, "dry_run": "true" if dry_run else "false", **form},
        )

    return _upload
