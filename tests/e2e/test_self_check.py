"""企业自测 in real Chromium, signed out: a visitor types a few facts, mistypes a number, sees the message
beside it, corrects it and gets the decision panel in place (htmx), with the real numbers, no page load."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from app.web.formatting import today

pytestmark = pytest.mark.e2e
STATUS = re.compile("^(符合|待人工评审|数据不足|不符合)$")


def test_an_anonymous_visitor_checks_a_firm_and_sees_the_decision_panel(page: Any) -> None:
    page.goto("/login")
    page.get_by_role("link", name="企业自测（无需登录）").click()
    expect(page.get_by_role("heading", name="企业自测", level=1)).to_be_visible()
    url = page.url
    last = today().year - 1

    page.get_by_label("成立日期").fill((today() - timedelta(days=365 * 5)).isoformat())
    page.get_by_label("中小企业（划型）").select_option(label="是")
    page.get_by_label("列入经营异常名录").select_option(label="否")
    page.get_by_label(f"{last} 年职工总数（人）").fill("42")
    page.get_by_label(f"{last} 年科技人员（人）").fill("18")
    page.get_by_label(f"{last} 年营业收入（万元）").fill("1800")
    page.get_by_label(f"{last} 年资产总额（万元）").fill("2600")
    rd = page.get_by_label(f"{last} 年研发费用（万元）")
    rd.fill("二百六十")
    page.get_by_role("button", name="开始评估").click()

    # The message beside the field, what was typed kept, no page load.
    expect(page.locator(f'[id="years.{last}.rd_expense-error"]')).to_have_text("应为数字")
    expect(page.get_by_label(f"{last} 年营业收入（万元）")).to_have_value("1800")
    expect(rd).to_have_value("二百六十")

    rd.fill("260")
    page.get_by_role("button", name="开始评估").click()

    result = page.locator("#self-check-result")
    expect(result.get_by_role("heading", name="评估结果")).to_be_visible()
    tech = result.locator("#decision-tech_sme")
    expect(tech.locator(".decision-tier")).to_have_text("科技型中小企业")
    expect(tech.locator(".decision-summary .decision-status")).to_have_text(STATUS)
    tech.locator(".decision-summary").click()
    expect(tech).to_contain_text(f"{last} 年营业收入 1,800 万元")
    expect(tech).to_contain_text("国科发政〔2017〕115号")
    expect(page.locator(f'[id="years.{last}.rd_expense-error"]')).to_have_count(0)
    expect(result.locator(".ladder-rung")).to_have_count(5)
    assert page.url == url
