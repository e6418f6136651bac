"""Yearly indicator rows (年度指标): one firm (by USCC), one year, from the source the officer chose
(企业填报 or 部门数据). Cells merge into that source's row of that year: an empty cell keeps the known value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.firms.models import Firm
from app.imports import values
from app.imports.context import RowErrors, Run
from app.imports.firm_rows import read_uscc
from app.indicators.models import YEAR_FIELDS, FirmYear
from app.indicators.service import incoherent

INT_FIELDS = {name for name, _, is_amount in YEAR_FIELDS if not is_amount}
AMOUNT_FIELDS = {name for name, _, is_amount in YEAR_FIELDS if is_amount}
LIMIT = Decimal("1e14")


def firms_by_uscc(run: Run, usccs: list[str]) -> dict[str, tuple[int, str | None]]:
    rows = run.session.execute(select(Firm.uscc, Firm.id, Firm.park_code).where(Firm.uscc.in_(usccs)))
    return {u: (i, p) for u, i, p in rows}


def firm_in_scope(run: Run, errors: RowErrors, found: tuple[int, str | None] | None) -> int | None:
    if found is None:
        errors.add("uscc", "未找到该统一社会信用代码的企业，请先导入企业名册")
        return None
    firm_id, park = found
    if park is not None and not run.principal.may_use_park(park):
        errors.add("uscc", f"该企业在{run.lookups.park_names.get(park, park)}，不在您负责的园区")
        return None
    return firm_id


def _values(run: Run, errors: RowErrors, raw: list[Any], cells: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in INT_FIELDS | AMOUNT_FIELDS:
        if name not in cells:
            continue
        label = run.column_of(name)[1] or name
        try:
            if name in INT_FIELDS:
                number: Any = values.integer(cells[name])
                if not 0 <= number <= 10_000_000:
                    raise ValueError("应在 0 至 10,000,000 之间")
            else:
                number = values.amount(cells[name], run.units.get(run.index[name], "万元"))
                if name != "net_profit" and number < 0:
                    raise ValueError("不能为负数")
                if abs(number) >= LIMIT:
                    raise ValueError("数值过大")
        except ValueError as exc:
            errors.add(name, f"{label}：{exc}")
            continue
        out[name] = number
    return out


def process(run: Run, chunk: list[tuple[int, list[Any]]]) -> None:
    session = run.session
    source = run.options["source"]
    department = run.options.get("source_department") or None
    parsed: list[tuple[RowErrors, str, int, dict[str, Any]]] = []
    for number, raw in chunk:
        run.rows += 1
        errors = RowErrors(run, number)
        cells = run.cells(raw)
        uscc = read_uscc(run, errors, cells)
        year: int | None = None
        if "year" not in cells:
            errors.add("year", "缺少年度")
        else:
            try:
                year = values.year(cells["year"])
                if not 1990 <= year <= run.today.year:
                    errors.add("year", f"年度应在 1990 至 {run.today.year} 之间")
                    year = None
            except ValueError as exc:
                errors.add("year", str(exc))
        if uscc and year:
            errors.first_of(("year", uscc, year), "year", f"{year} 年度的数据")
        found = _values(run, errors, raw, cells)
        if not found and not errors:
            errors.add("uscc", "该行没有任何指标数值")
        if errors:
            errors.reject()
        else:
            parsed.append((errors, uscc or "", year or 0, found))
    if not parsed:
        return
    firms = firms_by_uscc(run, list({u for _, u, _, _ in parsed}))
    ids = [f[0] for f in firms.values()]
    existing = {
        (y.firm_id, y.year): y
        for y in session.scalars(select(FirmYear).where(FirmYear.firm_id.in_(ids), FirmYear.source == source))
    }
    for errors, uscc, year, found in parsed:
        firm_id = firm_in_scope(run, errors, firms.get(uscc))
        if firm_id is None:
            errors.reject()
            continue
        row = existing.get((firm_id, year))
        merged = {n: getattr(row, n) if row else None for n in INT_FIELDS | AMOUNT_FIELDS} | found
        for part, whole, message in incoherent(merged):
            errors.add(part if part in found else whole, message)
        if errors:
            errors.reject()
            continue
        changed = {k: v for k, v in found.items() if row is None or getattr(row, k) != v}
        if row is not None and not changed and row.source_department == (department or row.source_department):
            run.unchanged += 1
            continue
        if row is None:
            run.new += 1
        else:
            run.updated += 1
        if run.commit:
            if row is None:
                row = FirmYear(
                    firm_id=firm_id, year=year, source=source, recorded_by_id=run.principal.user_id
                )
                session.add(row)
                existing[(firm_id, year)] = row
            if department:
                row.source_department = department
            for key, value in changed.items():
                setattr(row, key, value)
            run.touched_firms.add(firm_id)
    if run.commit:
        session.flush()
