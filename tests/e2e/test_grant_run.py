"""A 免申即享 batch in real Chromium: start a run, approve two firms, reject one with a reason, record
the firms' confirmation and the payment, publish, and download the 公示 list as Excel."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from app.firms import uscc
from app.web.formatting import today

pytestmark = pytest.mark.e2e

POLICY = "zj_hnte_first"  # seeded: 张江专项 新认定高新技术企业资助, 15 万元, every park


def _token(page: Any) -> str:
    response = page.request.post("/api/v1/auth/token", form={"username": "admin", "password": "ladder-demo"})
    assert response.ok, response.text()
    return str(response.json()["access_token"])


def _firm_with_a_first_hnte(page: Any, token: str, name: str) -> None:
    """Through the JSON API, as an outside system would: a firm first recognised as 高企 today."""
    headers = {"Authorization": f"Bearer {token}"}
    code = uscc.build("91310106", f"{random.randint(10_000_000, 99_999_999):08d}")
    firm = page.request.post(
        "/api/v1/firms", data={"name": name, "uscc": code, "park": "jingan"}, headers=headers
    )
    assert firm.status == 201, firm.text()
    firm_id = firm.json()["id"]
    recognition = page.request.post(
        f"/api/v1/firms/{firm_id}/recognitions",
        data={
            "tier": "hnte",
            "kind": "first",
            "issued_on": today().isoformat(),
            "certificate_no": f"GR{today().year}3100{random.randint(1000, 9999)}",
        },
        headers=headers,
    )
    assert recognition.status == 201, recognition.text()


def test_an_officer_runs_a_batch_decides_and_exports_the_publicity_list(page: Any) -> None:
    suffix = random.randint(100, 999)
    names = [f"上海兑现{tag}{suffix}科技有限公司" for tag in ("甲", "乙", "丙")]
    token = _token(page)
    for name in names:
        _firm_with_a_first_hnte(page, token, name)

    page.goto("/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("ladder-demo")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="政策服务").click()
    page.get_by_role("navigation", name="政策服务").get_by_role("link", name="免申即享").click()
    expect(page.get_by_role("heading", name="免申即享兑现批次")).to_be_visible()
    page.get_by_label("政策条目").select_option(POLICY)
    page.get_by_role("textbox", name="兑现批次").fill(f"{today().year}-{suffix % 9 + 1}")
    page.get_by_role("button", name="发起兑现批次").click()

    candidates = page.locator("table.candidates")
    for name in names:
        expect(candidates.get_by_role("link", name=name)).to_be_visible()
    page.get_by_label(f"选择 {names[0]}").check()
    page.get_by_label(f"选择 {names[1]}").check()
    page.get_by_role("button", name="通过所选").click()
    expect(page.locator("p.notice[role=status]")).to_contain_text("已通过 2 家企业")

    # Rejecting without a reason is refused in place; with one it lands.
    page.get_by_label(f"选择 {names[2]}").check()
    page.get_by_role("button", name="驳回所选").click()
    expect(page.get_by_role("alert")).to_contain_text("驳回须填写理由")
    page.get_by_label(f"选择 {names[2]}").check()
    page.get_by_label("驳回理由").fill("经核实该企业已注销")
    page.get_by_role("button", name="驳回所选").click()
    expect(page.locator("p.notice[role=status]")).to_contain_text("已驳回 1 家企业")
    expect(candidates.locator("tr", has_text=names[2])).to_contain_text("经核实该企业已注销")

    grants = page.locator("#grants-h").locator("xpath=ancestor::section")
    for name in names[:2]:
        row = grants.locator("tr", has_text=name)
        row.get_by_role("textbox").fill("电话确认")
        row.get_by_role("button", name="登记企业确认").click()
        expect(grants.locator("tr", has_text=name)).to_contain_text("企业已确认")
        row = grants.locator("tr", has_text=name)
        row.get_by_role("textbox").fill(f"PZ-{suffix}")
        row.get_by_role("button", name="登记拨付").click()
        expect(grants.locator("tr", has_text=name)).to_contain_text("已拨付")
    page.get_by_role("button", name="公示已拨付名单").click()
    expect(page.locator("p.notice[role=status]")).to_contain_text("已公示")

    with page.expect_download() as info:
        page.get_by_role("link", name="导出公示名单（Excel）").click()
    download = info.value
    assert download.suggested_filename.endswith("公示名单.xlsx")
    with open(download.path(), "rb") as fh:
        rows = list(load_workbook(io.BytesIO(fh.read())).active.iter_rows(values_only=True))
    listed = [r[1] for r in rows[3:-1]]
    assert names[0] in listed and names[1] in listed and names[2] not in listed
    assert rows[-1][0] == "合计"
