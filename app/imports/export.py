"""Exports: a filtered firm list, the 授信白名单 (bank credit whitelist) and one firm's file, as .xlsx or .csv.

The list and whitelist carry the headers the importer recognises, so an exported roster imports back
unchanged. Personal data (contacts' phones, ID numbers) is masked unless the caller asks to reveal it and their
role may (PIPL, as on the firm file); every export that carries contacts is logged per firm.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.firms import file as firm_file
from app.firms import references, repository
from app.firms.models import FIRM_STATUS_LABELS, Contact, Firm
from app.firms.service import log_personal_data_access
from app.indicators.facts import effective_year
from app.indicators.models import SOURCE_LABELS, YEAR_FIELDS, FirmYear, Source
from app.recognitions.models import RECOGNITION_KIND_LABELS, RECOGNITION_LEVEL_LABELS
from app.tiers.codes import LADDER_LEVEL_LABELS, TIER_LABELS, Tier, ladder_level
from app.web.formatting import mask_id_number, mask_phone

PAGE = 2000
WHITELIST_TAG = "授信白名单"
LIST_HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "园区",
    "功能区",
    "行业",
    "成立日期",
    "持有梯度",
    "梯度层级",
    "服务专员",
    "经营状态",
    "标签",
]
WHITELIST_HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "园区",
    "行业",
    "持有梯度",
    "年度",
    "营业收入（万元）",
    "研发费用（万元）",
    "联系人",
    "联系电话",
]


@dataclass
class Sheet:
    title: str
    headers: list[str]
    rows: Iterable[list[Any]]


def _tiers(codes: list[str]) -> str:
    return "、".join(TIER_LABELS.get(Tier(c), c) for c in sorted(codes))


def _rows(
    session: Session, principal: Principal, filters: repository.FirmFilters, today: date
) -> Iterator[list[repository.FirmRow]]:
    """Every firm the list shows for these filters (the officer's park scope included), a page at a time."""
    offset = 0
    while True:
        rows, total = repository.list_firms(
            session, principal, filters, today=today, sort="name", limit=PAGE, offset=offset
        )
        if rows:
            yield rows
        offset += PAGE
        if offset >= total or not rows:
            return


def firm_list(session: Session, principal: Principal, filters: repository.FirmFilters, today: date) -> Sheet:
    names = references.load(session).names

    def rows() -> Iterator[list[Any]]:
        for page in _rows(session, principal, filters, today):
            for row in page:
                f, m = row.firm, row.membership
                level = ladder_level(set(row.tiers_held))
                yield [
                    f.name,
                    f.uscc,
                    names["park"].get(m.park_code, m.park_code) if m else "",
                    names["area"].get(m.area_code, m.area_code) if m and m.area_code else "",
                    names["industry"].get(m.industry_code, m.industry_code) if m and m.industry_code else "",
                    f.founded_on,
                    _tiers(row.tiers_held),
                    LADDER_LEVEL_LABELS.get(level, ""),
                    row.officer.display_name if row.officer else "",
                    FIRM_STATUS_LABELS.get(f.status, f.status),
                    "、".join(row.tags),
                ]

    return Sheet("企业名单", LIST_HEADERS, rows())


def whitelist(
    session: Session, principal: Principal, filters: repository.FirmFilters, today: date, *, reveal: bool
) -> Sheet:
    """Firms tagged 授信白名单 (within the filters and scope): latest year's revenue and R&D, primary contact."""
    filters = repository.FirmFilters(**{**filters.__dict__, "tag": WHITELIST_TAG})
    names = references.load(session).names
    show = reveal and principal.can_see_personal_data
    fields = [n for n, _, _ in YEAR_FIELDS]

    def rows() -> Iterator[list[Any]]:
        for page in _rows(session, principal, filters, today):
            ids = [r.firm.id for r in page]
            years: dict[int, dict[int, list[FirmYear]]] = {}
            for y in session.scalars(select(FirmYear).where(FirmYear.firm_id.in_(ids))):
                years.setdefault(y.firm_id, {}).setdefault(y.year, []).append(y)
            contacts: dict[int, Contact] = {}
            for c in session.scalars(
                select(Contact)
                .where(Contact.firm_id.in_(ids))
                .order_by(Contact.is_primary.desc(), Contact.id)
            ):
                contacts.setdefault(c.firm_id, c)
            for row in page:
                f, m = row.firm, row.membership
                latest = max(years.get(f.id, {}), default=None)
                eff = effective_year(years[f.id][latest], fields) if latest is not None else {}
                contact = contacts.get(f.id)
                if contact is not None:
                    log_personal_data_access(
                        session,
                        principal,
                        f.id,
                        "export",
                        "授信白名单导出：联系人电话" + ("（完整）" if show else "（已脱敏）"),
                    )
                yield [
                    f.name,
                    f.uscc,
                    names["park"].get(m.park_code, m.park_code) if m else "",
                    names["industry"].get(m.industry_code, m.industry_code) if m and m.industry_code else "",
                    _tiers(row.tiers_held),
                    latest,
                    eff["revenue"].value if eff else None,
                    eff["rd_expense"].value if eff else None,
                    contact.name if contact else "",
                    (contact.phone if show else mask_phone(contact.phone)) if contact else "",
                ]

    return Sheet("授信白名单", WHITELIST_HEADERS, rows())


def firm_sheets(
    session: Session, principal: Principal, firm: Firm, today: date, *, reveal: bool
) -> list[Sheet]:
    """One firm's file: identity, placements, yearly indicators, recognitions, contacts (masked unless
    revealed by a role that may; logged)."""
    built = firm_file.build(session, principal, firm, today=today, reveal_personal=reveal, with_history=False)
    names = built.names
    m = built.membership
    show = not built.contacts_masked
    if built.contacts:
        log_personal_data_access(
            session,
            principal,
            firm.id,
            "export",
            "企业档案导出：联系人" + ("（完整）" if show else "（已脱敏）"),
        )
    basics = [
        ["企业名称", firm.name],
        ["统一社会信用代码", firm.uscc],
        ["曾用名", "、".join(built.former_names)],
        ["园区", names["park"].get(m.park_code, m.park_code) if m else ""],
        ["功能区", names["area"].get(m.area_code, m.area_code) if m and m.area_code else ""],
        ["行业", names["industry"].get(m.industry_code, m.industry_code) if m and m.industry_code else ""],
        ["成立日期", firm.founded_on],
        ["注册地", names["district"].get(firm.district_code or "", firm.district_code or "")],
        ["地址", firm.address or ""],
        ["经营状态", FIRM_STATUS_LABELS.get(firm.status, firm.status)],
        ["持有梯度", _tiers(built.tiers_held)],
        ["标签", "、".join(built.tags)],
        ["导出日期", today],
    ]
    memberships = [
        [
            names["park"].get(x.park_code, x.park_code),
            names["area"].get(x.area_code or "", x.area_code or ""),
            names["industry"].get(x.industry_code or "", x.industry_code or ""),
            x.valid_from,
            x.valid_to,
        ]
        for x in built.memberships
    ]
    years = [
        [y.year, SOURCE_LABELS.get(Source(r.source), r.source), *[getattr(r, n) for n, _, _ in YEAR_FIELDS]]
        for y in built.years
        for r in y.rows
    ]
    recs = [
        [
            TIER_LABELS.get(Tier(v.recognition.tier), v.recognition.tier),
            RECOGNITION_KIND_LABELS.get(v.recognition.kind, v.recognition.kind),
            RECOGNITION_LEVEL_LABELS.get(v.recognition.level, "") if v.recognition.level else "",
            v.recognition.certificate_no or "",
            v.recognition.issued_on,
            v.recognition.expires_on,
            v.recognition.revoked_on,
            "有效" if v.held else "无效",
        ]
        for v in built.recognitions
    ]
    contacts = [
        [
            c.name,
            c.title or "",
            (c.phone if show else mask_phone(c.phone)) or "",
            (c.id_number if show else mask_id_number(c.id_number)) or "",
            c.email or "",
            "是" if c.is_primary else "",
        ]
        for c in built.contacts
    ]
    return [
        Sheet("基本信息", ["项目", "内容"], basics),
        Sheet("园区归属", ["园区", "功能区", "行业", "起", "止"], memberships),
        Sheet("年度指标", ["年度", "来源", *[label for _, label, _ in YEAR_FIELDS]], years),
        Sheet(
            "认定记录",
            ["梯度", "认定方式", "级别", "证书编号", "认定日期", "有效期至", "撤销日期", "今日"],
            recs,
        ),
        Sheet("联系人", ["姓名", "职务", "电话", "身份证号", "邮箱", "主要联系人"], contacts),
    ]


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value == value.quantize(Decimal("0.01")) else str(value)
    return value


def to_xlsx(sheets: list[Sheet]) -> bytes:
    """A workbook written row by row (openpyxl write-only): memory follows the output, not the objects."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        bold = Font(bold=True)
        header = []
        for text in sheet.headers:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(ws, value=_cell(value))
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(value, str) and value.isdigit() and len(value) > 11:
                    cell.number_format = "@"
                cells.append(cell)
            ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_csv(sheets: list[Sheet]) -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8). Several sheets follow one another, each under its title."""
    out = io.StringIO()
    writer = csv.writer(out)
    for n, sheet in enumerate(sheets):
        if len(sheets) > 1:
            if n:
                writer.writerow([])
            writer.writerow([f"【{sheet.title}】"])
        writer.writerow(sheet.headers)
        for row in sheet.rows:
            writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
