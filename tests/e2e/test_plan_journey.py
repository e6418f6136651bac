"""一企一策 in real Chromium: an officer opens a firm's file, starts its plan from the file's 服务包与一企一策
section, adds an item already past its due date, and finds it flagged overdue on 我的待办."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from app.web.formatting import today

pytestmark = pytest.mark.e2e


def sign_in(page: Any, username: str, password: str = "ladder-demo") -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="企业档案", exact=True)).to_be_visible()


def test_an_officer_adds_a_plan_item_and_sees_it_overdue_on_my_tasks(page: Any) -> None:
    sign_in(page, "officer_jingan")

    link = page.locator("#firm-table a.firm-name").first
    name = link.inner_text().strip()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    # The section is loaded into the file by htmx; its link opens the new-plan form with the firm filled in.
    section = page.locator("#firm-packages")
    section.get_by_role("link", name="新建一企一策").click()
    expect(page.get_by_role("heading", name="新建一企一策方案")).to_be_visible()
    expect(page.get_by_text(f"已选：{name}")).to_be_visible()
    page.get_by_label("培育目标").fill("2026 年申报专精特新中小企业")
    page.get_by_label("工作专班").fill("区科委牵头，区财政局、园区配合")
    page.get_by_role("button", name="创建方案").click()

    expect(page).to_have_url(re.compile(r"/plans/\d+$"))
    expect(page.get_by_text("区科委牵头，区财政局、园区配合")).to_be_visible()

    # An empty item first: the messages appear beside the fields, in place.
    page.get_by_role("button", name="添加事项").click()
    form = page.locator("#item-form")
    expect(form.locator("#content-error")).to_have_text("请填写事项内容")

    content = f"协调银行落实贷款贴息（{name}）"
    page.get_by_label("类别").select_option("贷款贴息")
    page.get_by_label("内容").fill(content)
    page.get_by_label("责任部门").fill("区财政局")
    page.get_by_label("完成时限").fill((today() - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="添加事项").click()

    row = page.locator("#plan-items tbody tr", has_text=content)
    expect(row).to_contain_text("已逾期 2 天")
    expect(row).to_contain_text("区财政局")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的待办").click()
    expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    task = page.locator("#task-table tbody tr", has_text=content)
    expect(task).to_have_class(re.compile("is-overdue"))
    expect(task).to_contain_text("已逾期 2 天")
    expect(task).to_contain_text("一企一策事项")
