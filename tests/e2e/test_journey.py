"""An officer's day in the firm file, in real Chromium: sign in, find a firm with the active search, open its
file, correct last year's 研发费用 in place, and see the change (old → new) in 变更记录."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from app.web.formatting import fmt_amount, today

pytestmark = pytest.mark.e2e


def plain(amount: Decimal) -> str:
    """An amount as the change history writes it: 2453.79, 2500 (no exponent, no trailing zeros)."""
    return format(amount.normalize(), "f")


def sign_in(page: Any, username: str, password: str = "ladder-demo") -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="企业档案", exact=True)).to_be_visible()


def test_an_officer_finds_a_firm_and_corrects_an_indicator_in_place(page: Any) -> None:
    sign_in(page, "officer_jingan")

    # Active search: part of a firm's name, no button pressed; only the table is replaced, the URL follows.
    table = page.locator("#firm-table")
    name = table.locator("a.firm-name").first.inner_text().strip()
    part = name.removeprefix("上海")[:4]
    page.get_by_role("searchbox", name="搜索企业").fill(part)
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(table.get_by_text(re.compile(r"共 \d+ 家企业"))).to_be_visible()
    expect(table.get_by_role("link", name=name, exact=True)).to_be_visible()
    table.get_by_role("link", name=name, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    years = page.locator("#years")
    last_year = today().year - 1
    edit_link = years.get_by_role("link", name=f"编辑 {last_year} 年度指标")
    if edit_link.count():
        edit_link.click()
    else:
        years.get_by_role("link", name="新增年度").click()
        page.get_by_label("年度", exact=True).fill(str(last_year))

    # The form opens in place: the page is not reloaded (the URL stays the file's).
    url_before = page.url
    rd_expense = page.get_by_label("研发费用（万元）", exact=True)
    expect(rd_expense).to_be_visible()
    old = rd_expense.input_value()
    new = plain(Decimal(old or "0") + Decimal("111.5"))
    rd_expense.fill(new)
    page.get_by_label("修改原因").fill("按专项审计报告更正研发费用")
    page.get_by_role("button", name="保存年度指标").click()

    history = page.locator("#history")
    line = history.locator("tbody tr", has_text="研发费用").first
    expect(line).to_contain_text("按专项审计报告更正研发费用")
    expect(line).to_contain_text(new)
    if old:
        expect(line.locator(".history-old")).to_have_text(plain(Decimal(old)))
    expect(line.locator(".history-new")).to_have_text(new)
    assert page.url == url_before
    # The years table shows the new amount (万元, thousands separated) and the form has closed.
    expect(page.locator("#year-form form")).to_have_count(0)
    expect(years.get_by_role("row", name=re.compile("^研发费用"))).to_contain_text(fmt_amount(Decimal(new)))


def test_an_add_form_loads_when_opened_and_records_a_fact(page: Any) -> None:
    """The file's add forms are not on the page until asked for: opening one fetches it in place."""
    sign_in(page, "officer_jingan")
    page.locator("#firm-table a.firm-name").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    url_before = page.url

    facts = page.locator("#facts")
    key = facts.get_by_role("combobox", name="事实", exact=True)
    expect(key).to_have_count(0)
    facts.get_by_text("记录企业事实", exact=True).click()
    expect(key).to_be_visible()
    key.select_option("ip.class1")
    facts.get_by_label("取值", exact=True).fill("7")
    facts.get_by_label("原因", exact=True).fill("核对知识产权证书")
    facts.get_by_role("button", name="保存企业事实").click()

    row = page.locator("#facts").get_by_role("row", name=re.compile("^Ⅰ类知识产权"))
    expect(row).to_contain_text("7")
    expect(row).to_contain_text("专员核实")
    expect(page.locator("#history tbody tr", has_text="核对知识产权证书").first).to_be_visible()
    assert page.url == url_before
