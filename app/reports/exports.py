"""The monthly report as an Excel workbook (one formatted sheet per view, Chinese headers, a 合计 row on each)
and as CSV (the 明细 rows of the JSON contract)."""

from __future__ import annotations

import csv
import io
from typing import Any

from app.reports.models import View
from app.reports.report import DIMS, Report, Table
from app.reports.service import KEY_LABELS, MEASURE_LABELS, MEASURES
from app.tiers.codes import TIER_LABELS, Tier
from app.web.formatting import fmt_datetime

DETAIL_HEADERS = ["园区", "功能区", "行业", "梯度", "企业数"]


def _detail(report: Report) -> tuple[list[list[Any]], int]:
    names = report.names
    rows = [
        [
            names["park"].get(r["park"], r["park"]),
            names["area"].get(r["area"], r["area"]) if r["area"] else "未划定功能区",
            names["industry"].get(r["industry"], r["industry"]) if r["industry"] else "未填行业",
            TIER_LABELS[Tier(r["tier"])],
            r["count"],
        ]
        for r in report.json_rows()
    ]
    return rows, sum(r[-1] for r in rows)


def csv_bytes(report: Report) -> bytes:
    """UTF-8 with BOM, so that Excel opens the Chinese headers correctly."""
    rows, total = _detail(report)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(DETAIL_HEADERS)
    writer.writerows(rows)
    writer.writerow(["合计", "", "", "", total])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _table_rows(table: Table) -> tuple[list[str], list[list[Any]], list[Any]]:
    headers = [DIMS[table.dim]]
    for _, label in table.keys:
        headers += [label, "环比", "同比"]
    if table.has_row_total:
        headers += ["合计", "环比", "同比"]

    def values(line: Any) -> list[Any]:
        out: list[Any] = [line.label]
        for cell in [*line.cells, *([line.total] if table.has_row_total else [])]:
            out += [cell.value, cell.mom, cell.yoy]
        return out

    return headers, [values(line) for line in table.lines], values(table.total)


def xlsx_bytes(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E8F0FB")
    status = (
        f"已关账（{fmt_datetime(report.closed.closed_at)}，{report.closed.closed_by}）"
        if report.closed
        else "未关账（按当前台账实时计算）"
    )
    subtitle = (
        f"统计日：{report.day.isoformat()}；{status}；"
        f"环比较 {report.prev_month}，同比较 {report.year_ago_month}"
    )

    def sheet(
        title: str, headers: list[str], rows: list[list[Any]], total: list[Any] | None, *, first: bool = False
    ) -> None:
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        ws.append([f"{report.label}月度梯度报表 · {title}"])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([subtitle])
        ws.append(headers)
        for cell in ws[3]:
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        for row in rows:
            ws.append(row)
        if total is not None:
            ws.append(total)
            for cell in ws[ws.max_row]:
                cell.font = bold
        ws.column_dimensions["A"].width = 26
        for col in range(2, len(headers) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 16 if col <= 4 else 11
        for row in ws.iter_rows(min_row=4, min_col=2):
            for cell in row:
                if isinstance(cell.value, int):
                    cell.number_format = "#,##0;-#,##0;0"
        ws.freeze_panes = "B4"

    detail, total = _detail(report)
    sheet("明细", DETAIL_HEADERS, detail, ["合计", "", "", "", total], first=True)
    for view in (View.counts, View.ladder):
        for dim in DIMS:
            table = report.table(view, dim)
            headers, rows, total_row = _table_rows(table)
            name = ("梯度" if view is View.counts else "阶梯") + "·" + DIMS[dim]
            sheet(name, headers, rows, total_row)
    flow_rows = [[f.park_label, f.tier_label, *(f.values[m] for m in MEASURES)] for f in report.flows]
    flow_total = ["合计", "", *(sum(f.values[m] for f in report.flows) for m in MEASURES)]
    sheet("流量", ["园区", "梯度", *(MEASURE_LABELS[m] for m in MEASURES)], flow_rows, flow_total)
    target_rows = [
        [
            t.park_label,
            t.target.label,
            float(t.target.value),
            t.target.unit,
            t.target.by_year,
            t.current if t.current is not None else t.why_not,
            f"{t.percent}%" if t.percent is not None else "",
            t.target.source,
        ]
        for t in report.targets
    ]
    sheet(
        "目标进度",
        ["园区", "目标", "目标值", "单位", "年份", "当前", "完成率", "来源文件"],
        target_rows,
        None,
    )
    lapse_rows = [
        [line.park_label, line.tier_label, line.within[3], line.within[6]] for line in report.lapses
    ]
    lapse_total = [
        "合计",
        "",
        sum(x.within[3] for x in report.lapses),
        sum(x.within[6] for x in report.lapses),
    ]
    sheet("到期预测", ["园区", "梯度", "3个月内到期", "6个月内到期"], lapse_rows, lapse_total)
    restated = [
        [
            report.names["park"].get(r.park_code, r.park_code),
            KEY_LABELS[View(r.view)].get(r.key, r.key),
            r.old_value,
            r.new_value,
            r.reason,
            r.by_label,
            fmt_datetime(r.at),
        ]
        for r in report.restatements
    ]
    sheet("更正记录", ["园区", "梯度", "原值", "更正值", "理由", "更正人", "更正时间"], restated, None)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
