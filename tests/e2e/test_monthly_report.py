"""月度报表 in real Chromium: a leader opens the report, switches month, drills into a number and exports the
workbook, whose figures are those of the JSON API."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from app.reports import months
from app.web.formatting import today

pytestmark = pytest.mark.e2e


def _api_total(page: Any, month: str) -> int:
    token = page.request.post("/api/v1/auth/token", form={"username": "leader", "password": "ladder-demo"})
    assert token.ok, token.text()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = page.request.get(f"/api/v1/reports/tier-counts?month={month}", headers=headers)
    assert body.ok, body.text()
    return sum(r["count"] for r in body.json()["rows"])


def test_a_leader_opens_the_report_switches_month_and_exports_it(page: Any) -> None:
    last = months.default_month(today())
    before = months.shift(last, -1)

    page.goto("/login")
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill("ladder-demo")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="月度报表").click()
    expect(page.get_by_role("heading", name="月度报表", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=f"{months.label(last)}梯度培育月报")).to_be_visible()
    expect(page.get_by_role("img", name="梯度培育金字塔（每家企业计一次）")).to_be_visible()

    # Switching month swaps the report in place (htmx) and the address follows.
    page.get_by_label("月份").select_option(before)
    expect(page.get_by_role("heading", name=f"{months.label(before)}梯度培育月报")).to_be_visible()
    expect(page).to_have_url(re.compile(f"month={before}"))

    # A number of the flows drills down to the named firms.
    flows = page.locator("table.flows")
    first = flows.locator("tbody a").first
    if first.count():
        first.click()
        expect(page.get_by_role("heading", name="企业名单：", exact=False)).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel").click()
    download = info.value
    assert download.suggested_filename == f"{before}月度梯度报表.xlsx"
    wb = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert {"明细", "梯度·园区", "阶梯·园区", "流量", "目标进度", "到期预测"} <= set(wb.sheetnames)
    detail = list(wb["明细"].iter_rows(min_row=4, values_only=True))
    assert detail[-1][0] == "合计"
    assert detail[-1][4] == _api_total(page, before)
