"""Firm roster rows: checked by the firm registry's rules, upserted by USCC.

New firms are built as `firms.service.create_firm` builds them (name history, status period, open membership
from today, the importing officer as 服务专员) but written a chunk at a time; a known firm changes through
`firms.service.update_firm` itself (rename kept as a former name, a move closes the old membership). Only
non-empty cells count: an empty cell never erases what the file already knows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from app.audit import listener as audit_listener
from app.auth.models import Role
from app.db import utcnow
from app.errors import RuleViolation
from app.firms import service as firms_service
from app.firms.models import Firm, FirmName, FirmStatus, FirmStatusPeriod, Membership
from app.firms.schemas import FirmUpdate
from app.firms.search import search_text_for
from app.firms.uscc import InvalidUSCC
from app.firms.uscc import validate as validate_uscc
from app.imports import values
from app.imports.context import RowErrors, Run


def read_uscc(run: Run, errors: RowErrors, cells: dict[str, Any]) -> str | None:
    raw = values.text(cells.get("uscc"))
    if not raw:
        errors.add("uscc", "缺少统一社会信用代码")
        return None
    try:
        return validate_uscc(raw)
    except InvalidUSCC as exc:
        errors.add("uscc", f"{exc}（“{raw}”）")
        return None


def _parse(run: Run, errors: RowErrors, cells: dict[str, Any], uscc: str) -> dict[str, Any]:
    """The row's known values in the registry's terms (codes, dates); problems go to `errors`."""
    out: dict[str, Any] = {"uscc": uscc}
    name = values.text(cells.get("name"))
    if not name:
        errors.add("name", "缺少企业名称")
    elif not 2 <= len(name) <= 128:
        errors.add("name", "企业名称应为 2 至 128 个字")
    else:
        out["name"] = name
    raw_park = values.text(cells.get("park"))
    park = run.lookups.park(raw_park) if raw_park else None
    if not raw_park:
        errors.add("park", "缺少园区")
    elif park is None:
        errors.add("park", f"园区“{raw_park}”不存在（应为 {run.lookups.park_list}）")
    elif not run.principal.may_use_park(park):
        errors.add("park", f"只能把企业归入您负责的园区（{run.lookups.park_names.get(park, park)}不在其中）")
    else:
        out["park"] = park
    if "area" in cells and park:
        raw = values.text(cells["area"])
        area = run.lookups.area(park, raw)
        if area is None:
            errors.add("area", f"功能区“{raw}”不属于{run.lookups.park_names.get(park, park)}")
        else:
            out["area"] = area
    if "industry" in cells:
        raw = values.text(cells["industry"])
        industry = run.lookups.industry(raw)
        if industry is None:
            errors.add("industry", f"行业“{raw}”不存在")
        else:
            out["industry"] = industry
    if "founded_on" in cells:
        try:
            founded = values.day(cells["founded_on"])
        except ValueError as exc:
            errors.add("founded_on", f"成立日期{exc}")
        else:
            if founded > run.today:
                errors.add("founded_on", "成立日期不能晚于今天")
            else:
                out["founded_on"] = founded
    if "district" in cells:
        raw = values.text(cells["district"])
        district = run.lookups.district(raw)
        if district is None:
            errors.add("district", f"注册地“{raw}”不存在（应为上海市的区，如 静安区）")
        else:
            out["district"] = district
    if "address" in cells:
        address = values.text(cells["address"])
        if len(address) > 256:
            errors.add("address", "地址不能超过 256 个字")
        else:
            out["address"] = address
    return out


_SIMPLE = {"name": "name", "founded_on": "founded_on", "district": "district_code", "address": "address"}
_PLACE = {"park": "park_code", "area": "area_code", "industry": "industry_code"}


def _changes(firm: Firm, row: dict[str, Any]) -> dict[str, Any]:
    changes = {k: row[k] for k, attr in _SIMPLE.items() if k in row and row[k] != getattr(firm, attr)}
    changes |= {k: row[k] for k, attr in _PLACE.items() if k in row and row[k] != getattr(firm, attr)}
    return changes


def process(run: Run, chunk: list[tuple[int, list[Any]]]) -> None:
    """Check a chunk of rows, count them, and (when committing) write them."""
    session = run.session
    parsed: list[tuple[RowErrors, dict[str, Any]]] = []
    for number, raw in chunk:
        run.rows += 1
        errors = RowErrors(run, number)
        cells = run.cells(raw)
        uscc = read_uscc(run, errors, cells)
        if uscc is not None:
            errors.first_of(("firm", uscc), "uscc", "统一社会信用代码")
        row = _parse(run, errors, cells, uscc or "")
        if errors:
            errors.reject()
        else:
            parsed.append((errors, row))
    if not parsed:
        return
    known = {
        f.uscc: f for f in session.scalars(select(Firm).where(Firm.uscc.in_([r["uscc"] for _, r in parsed])))
    }
    fresh: list[dict[str, Any]] = []
    for errors, row in parsed:
        firm = known.get(row["uscc"])
        if firm is None:
            fresh.append(row)
            run.new += 1
            continue
        if firm.park_code is not None and not run.principal.may_use_park(firm.park_code):
            park = run.lookups.park_names.get(firm.park_code, firm.park_code)
            errors.add("uscc", f"该企业已登记在{park}，不在您负责的园区，不能修改")
            errors.reject()
            continue
        changes = _changes(firm, row)
        if not changes:
            run.unchanged += 1
            continue
        if run.commit:
            try:
                with session.begin_nested():
                    firms_service.update_firm(
                        session,
                        run.principal,
                        firm,
                        FirmUpdate(version=firm.version, **changes, reason=run.reason),
                        today=run.today,
                    )
            except RuleViolation as exc:
                errors.add(exc.field or "uscc", exc.message)
                errors.reject()
                continue
            run.touched_firms.add(firm.id)
        elif set(changes) & set(_PLACE):
            current = firms_service.repository.current_membership(session, firm.id)
            if current is not None and current.valid_from >= run.today:
                errors.add("park", "该企业今天已变更过园区归属，请明天再导入")
                errors.reject()
                continue
        run.updated += 1
    if run.commit and fresh:
        _create(run, fresh)


def _create(run: Run, rows: list[dict[str, Any]]) -> None:
    """New firms as create_firm makes them, a chunk at a time: multi-row INSERTs (the ORM would insert one row
    at a time on SQLite, which cannot order RETURNING), and the `create` audit rows the listener would write
    for them (the same summary text, the import as actor) in one statement."""
    connection = run.session.connection()
    officer_id = run.principal.user_id if run.principal.role is Role.officer else None
    now = utcnow()
    firms = [
        {
            "name": row["name"],
            "uscc": row["uscc"],
            "founded_on": row.get("founded_on"),
            "district_code": row.get("district"),
            "address": row.get("address"),
            "status": FirmStatus.active.value,
            "status_since": row.get("founded_on"),
            "officer_id": officer_id,
            # What firms.service.place() copies from the open membership.
            "park_code": row["park"],
            "area_code": row.get("area"),
            "industry_code": row.get("industry"),
            "search_text": search_text_for(row["name"], [], row["uscc"]),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    table = Firm.__table__
    inserted = connection.execute(insert(table).returning(table.c.uscc, table.c.id), firms)
    ids = {uscc: new_id for uscc, new_id in inserted}
    for firm in firms:
        firm["id"] = ids[firm["uscc"]]
        firm["firm_id"] = firm["id"]
        run.touched_firms.add(firm["id"])
    made: list[tuple[type[Any], list[dict[str, Any]]]] = [(Firm, firms)]
    for model, build in (
        (FirmName, lambda f: {"name": f["name"], "valid_from": f["founded_on"], "valid_to": None}),
        (
            FirmStatusPeriod,
            lambda f: {"status": FirmStatus.active.value, "valid_from": f["founded_on"], "valid_to": None},
        ),
        (
            Membership,
            lambda f: {
                "park_code": f["park_code"],
                "area_code": f["area_code"],
                "carrier_code": None,
                "industry_code": f["industry_code"],
                "valid_from": run.today,
                "valid_to": None,
            },
        ),
    ):
        children = [{"firm_id": f["id"], **build(f)} for f in firms]
        child_table = model.__table__
        by_firm = {c["firm_id"]: c for c in children}
        stmt = insert(child_table).returning(child_table.c.firm_id, child_table.c.id)
        for firm_id, new_id in connection.execute(stmt, children):
            by_firm[firm_id]["id"] = new_id
        made.append((model, children))
    for model, rows in made:
        audit_listener.write_created(run.session, model, rows)
