"""An officer brings a roster in, in real Chromium: uploads an .xlsx whose headers the importer does not know,
fixes the mapping, dry-runs it, reads the rejected row, commits, and finds the firm in the list."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from app.firms import uscc

pytestmark = pytest.mark.e2e


def _roster(name: str, code: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["静安园 企业名册（专员自填）"])
    ws.merge_cells("A1:C1")
    ws.append(["单位", "代码", "所属园区"])
    ws.append([name, code, "静安园"])
    ws.append([None, None, None])
    ws.append(["上海错误代码科技有限公司", "91310106XXXXXXXXXX", "静安园"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_officer_uploads_fixes_the_mapping_dry_runs_and_commits(page: Any) -> None:
    name = f"上海导入旅程{random.randint(1000, 9999)}科技有限公司"
    code = uscc.build("91310106", f"{random.randint(10_000_000, 99_999_999):08d}")
    page.goto("/login")
    page.get_by_label("用户名").fill("officer_jingan")
    page.get_by_label("密码").fill("ladder-demo")
    page.get_by_role("button", name="登录").click()

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="导入导出").click()
    page.get_by_label("导入内容").select_option("firms")
    page.get_by_label("文件（.xlsx 或 .csv，UTF-8 或 GBK）").set_input_files(
        {"name": "名册.xlsx", "mimeType": "application/octet-stream", "buffer": _roster(name, code)}
    )
    page.get_by_role("button", name="上传并识别表头").click()
    expect(page.get_by_role("heading", name="列的对应关系")).to_be_visible()

    # 单位 and 代码 are not headers the importer knows: the officer maps them.
    page.get_by_label("A 列（单位）对应到").select_option("name")
    page.get_by_label("B 列（代码）对应到").select_option("uscc")
    page.get_by_role("button", name="试导入（不写入）").click()

    status = page.locator("#import-status")
    expect(status).to_contain_text("试导入结果（尚未写入）")
    expect(status).to_contain_text("新增 1")
    rejected = page.get_by_role("table", name="被拒绝的行")
    expect(rejected).to_contain_text("5")
    expect(rejected).to_contain_text("统一社会信用代码")

    page.get_by_role("button", name="确认导入（写入 1 行）").click()
    expect(page.locator("#import-status")).to_contain_text("已导入")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="企业档案").click()
    page.get_by_label("搜索企业").fill(name)
    expect(page.get_by_role("link", name=name)).to_be_visible()
