"""The report over HTTP: JSON contract, closing and restating a month, exports, page vs fragment, scope."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.reference.models import PlanTarget
from app.reports.models import ReportFigure, ReportMonth
from app.tiers.codes import Tier
from app.web.formatting import today
from tests.factories import FirmFactory, RecognitionFactory
from tests.reports import ledger

MONTH = ledger.MONTH
API = "/api/v1/reports"


def _counts(body: dict) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for r in body["rows"]:
        out[(r["park"], r["tier"])] = out.get((r["park"], r["tier"]), 0) + r["count"]
    return out


def test_the_json_contract_gives_month_end_rows_by_park_area_and_industry(
    db: Session, client, make_user, bearer
) -> None:
    ledger.build()
    leader = make_user("leader")
    response = client.get(f"{API}/tier-counts", params={"month": MONTH}, headers=bearer(leader))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"month", "closed", "rows", "restatements"}
    assert (body["month"], body["closed"], body["restatements"]) == (MONTH, False, [])
    assert set(body["rows"][0]) == {"park", "area", "industry", "tier", "count"}
    assert {
        "park": "jingan",
        "area": "jingan.shibei",
        "industry": "digital.ai",
        "tier": "tech_sme",
        "count": 1,
    } in body["rows"]
    assert _counts(body)[("jingan", "hnte")] == 5
    assert _counts(body)[("yangpu", "hnte")] == 1
    bad = client.get(f"{API}/tier-counts", params={"month": "2026-13"}, headers=bearer(leader))
    assert bad.status_code == 422


def test_closing_freezes_the_month_and_a_later_correction_is_an_explicit_restatement(
    db: Session, client, make_user, bearer
) -> None:
    ledger.build()
    admin = make_user("admin", display_name="李管理")
    auth = bearer(admin)
    closed = client.post(f"{API}/months/{MONTH}/close", headers=auth)
    assert closed.status_code == 200, closed.text
    assert closed.json()["newly_closed"] is True
    assert db.get(ReportMonth, MONTH) is not None
    assert db.scalar(select(ReportFigure).where(ReportFigure.month == MONTH).limit(1)) is not None

    # A recognition of 8 October entered late: the closed month keeps its frozen figure.
    late = FirmFactory(name="补录科技有限公司", park="jingan", park__valid_from=ledger.SINCE)
    RecognitionFactory(firm=late, tier=Tier.hnte, issued_on=date(2026, 10, 8), expires_on=date(2029, 10, 7))
    body = client.get(f"{API}/tier-counts", params={"month": MONTH}, headers=auth).json()
    assert body["closed"] is True
    assert _counts(body)[("jingan", "hnte")] == 5
    assert body["restatements"] == []

    refused = client.post(f"{API}/months/{MONTH}/close", headers=auth)
    assert refused.status_code == 422
    assert "更正理由" in refused.text
    restated = client.post(
        f"{API}/months/{MONTH}/close", json={"reason": "补录 10 月 8 日高企认定"}, headers=auth
    )
    assert restated.status_code == 200
    assert {(d["view"], d["park"], d["key"], d["old"], d["new"]) for d in restated.json()["restated"]} == {
        ("counts", "jingan", "hnte", 5, 6),
        ("ladder", "jingan", "2", 5, 6),
    }
    body = client.get(f"{API}/tier-counts", params={"month": MONTH}, headers=auth).json()
    assert _counts(body)[("jingan", "hnte")] == 5  # the frozen figure stays
    [r] = body["restatements"]
    assert (r["park"], r["tier"], r["old"], r["new"], r["reason"]) == (
        "jingan",
        "hnte",
        5,
        6,
        "补录 10 月 8 日高企认定",
    )
    assert "李管理" in r["by"] and r["at"].startswith("20")
    again = client.post(f"{API}/months/{MONTH}/close", headers=auth)
    assert again.status_code == 200 and again.json()["restated"] == []

    page = client.get("/reports", params={"month": MONTH}, headers=auth)
    assert "更正记录" in page.text and "补录 10 月 8 日高企认定" in page.text and "更正为 6" in page.text


def test_only_admins_close_and_only_ended_months(db: Session, client, make_user, bearer) -> None:
    officer = make_user("officer", parks=["jingan"])
    leader = make_user("leader")
    admin = make_user("admin")
    assert client.post(f"{API}/months/{MONTH}/close", headers=bearer(officer)).status_code == 403
    assert client.post(f"{API}/months/{MONTH}/close", headers=bearer(leader)).status_code == 403
    this_month = today().strftime("%Y-%m")
    running = client.post(f"{API}/months/{this_month}/close", headers=bearer(admin))
    assert running.status_code == 422 and "尚未结束" in running.text


def test_the_close_form_redirects_303_and_the_page_says_closed(db: Session, client, make_user, login) -> None:
    ledger.build()
    headers = login(client, make_user("admin"))
    page = client.get("/reports", params={"month": MONTH})
    assert "关账（冻结" in page.text
    response = client.post(f"/reports/months/{MONTH}/close", headers=headers, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/reports?month={MONTH}")
    page = client.get(response.headers["location"])
    assert "已关账" in page.text and "关账（冻结" not in page.text
    htmx = client.post(f"/reports/months/{MONTH}/close", headers={**headers, "HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Location"].startswith("/reports?month=")


def test_the_xlsx_opens_with_the_same_numbers_as_the_json(
    db: Session, client, make_user, login, bearer
) -> None:
    ledger.build()
    leader = make_user("leader")
    body = client.get(f"{API}/tier-counts", params={"month": MONTH}, headers=bearer(leader)).json()
    login(client, leader)
    response = client.get("/reports/tier-counts.xlsx", params={"month": MONTH})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    assert {
        "明细",
        "梯度·园区",
        "阶梯·园区",
        "梯度·功能区",
        "梯度·行业",
        "梯度·服务专员",
        "流量",
        "目标进度",
        "到期预测",
    } <= set(wb.sheetnames)
    detail = list(wb["明细"].iter_rows(min_row=3, values_only=True))
    assert detail[0] == ("园区", "功能区", "行业", "梯度", "企业数")
    assert detail[-1][0] == "合计" and detail[-1][4] == sum(r["count"] for r in body["rows"])
    assert [r[4] for r in detail[1:-1]] == [r["count"] for r in body["rows"]]
    parks = list(wb["梯度·园区"].iter_rows(min_row=3, values_only=True))
    header = list(parks[0])
    jingan = next(r for r in parks if r[0] == "静安园")
    hnte = header.index("高新技术企业")
    assert (jingan[hnte], jingan[hnte + 1], jingan[hnte + 2]) == (5, -1, -1)  # count, 环比, 同比
    assert parks[-1][0] == "合计" and parks[-1][hnte] == sum(
        n for (p, t), n in _counts(body).items() if t == "hnte"
    )
    flows = list(wb["流量"].iter_rows(min_row=3, values_only=True))
    assert flows[-1][0] == "合计"
    assert ("静安园", "高新技术企业", 6, 1, 1, 1, 1, 0, 1, 5) in flows

    csv_response = client.get("/reports/tier-counts.csv", params={"month": MONTH})
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0] == ["园区", "功能区", "行业", "梯度", "企业数"]
    assert rows[-1][0] == "合计" and int(rows[-1][4]) == detail[-1][4]


def test_page_or_fragment(db: Session, client, make_user, login) -> None:
    ledger.build()
    login(client, make_user("leader"))
    page = client.get("/reports", params={"month": MONTH})
    assert page.status_code == 200
    assert "<html" in page.text and 'id="report-body"' in page.text and "月度报表" in page.text
    assert "梯度培育金字塔" in page.text and "<svg" in page.text and "<progress" in page.text
    assert 'style="' not in page.text and "<script>" not in page.text
    assert page.headers["vary"] == "HX-Request, HX-Target"
    for target in ("report-body", "breakdown", "drill-list"):
        fragment = client.get(
            "/reports",
            params={"month": MONTH, "by": "industry", "view": "counts", "key": "hnte", "park": "jingan"},
            headers={"HX-Request": "true", "HX-Target": target},
        )
        assert fragment.status_code == 200
        assert "<html" not in fragment.text and f'id="{target}"' in fragment.text
    drill = client.get(
        "/reports",
        params={"month": MONTH, "view": "flows", "key": "hnte", "park": "jingan", "measure": "revoked"},
        headers={"HX-Request": "true", "HX-Target": "drill-list"},
    )
    assert "庚科技有限公司" in drill.text and "乙科技有限公司" not in drill.text
    # Without JavaScript the same link is a full page with the list in place.
    plain = client.get("/reports", params={"month": MONTH, "view": "ladder", "key": "4", "park": "hongkou"})
    assert "<html" in plain.text and "辛科技有限公司" in plain.text
    lapsing = client.get(
        "/reports",
        params={"month": MONTH, "view": "counts", "key": "tech_sme", "park": "jingan", "measure": "lapse3"},
        headers={"HX-Request": "true", "HX-Target": "drill-list"},
    )
    assert (
        "3个月内到期" in lapsing.text
        and "丁科技有限公司" in lapsing.text
        and "甲科技有限公司" not in lapsing.text
    )


def test_leaders_see_every_park_and_officers_only_theirs(
    db: Session, client, make_user, login, bearer
) -> None:
    ledger.build()
    officer = make_user("officer", parks=["yangpu"])
    auth = bearer(officer)
    body = client.get(f"{API}/tier-counts", params={"month": MONTH}, headers=auth).json()
    assert {r["park"] for r in body["rows"]} == {"yangpu"}
    assert (
        client.get(f"{API}/tier-counts", params={"month": MONTH, "park": "jingan"}, headers=auth).status_code
        == 404
    )
    leader_body = client.get(
        f"{API}/tier-counts", params={"month": MONTH}, headers=bearer(make_user("leader"))
    ).json()
    assert {r["park"] for r in leader_body["rows"]} == {"jingan", "yangpu", "hongkou"}
    login(client, officer)
    page = client.get("/reports", params={"month": MONTH})
    assert (
        "杨浦园" in page.text
        and "静安园" not in page.text.split('id="report-body"')[1].split("规划目标进度")[0]
    )
    hidden = client.get(
        "/reports", params={"month": MONTH, "view": "counts", "key": "hnte", "park": "jingan"}
    )
    assert hidden.status_code == 404
    firm_user = make_user("firm", firm=ledger_firm(db))
    login(client, firm_user)
    assert client.get("/reports", params={"month": MONTH}).status_code == 403


def ledger_firm(db: Session):
    from app.firms.models import Firm

    return db.scalars(select(Firm).limit(1)).one()


def test_admins_edit_a_target_with_its_source_and_the_change_is_audited(
    db: Session, client, make_user, login
) -> None:
    ledger.build()
    target = db.scalars(select(PlanTarget).where(PlanTarget.code == "jingan.hnte.2025.sci_tech_plan")).one()
    officer = make_user("officer", parks=["jingan"])
    headers = login(client, officer)
    page = client.get("/reports/targets")
    assert page.status_code == 200 and "jingan-sci-tech-innovation-plan-2023-2025" in page.text
    assert "修改“" not in page.text
    form = {
        "label": target.label,
        "value": "900",
        "by_year": "2026",
        "source": "",
        "note": target.note,
        "reason": "",
    }
    assert client.post(f"/reports/targets/{target.id}", data=form, headers=headers).status_code == 403

    headers = login(client, make_user("admin", display_name="张管理"))
    refused = client.post(f"/reports/targets/{target.id}", data=form, headers=headers)
    assert (
        refused.status_code == 422
        and "须填写目标的来源文件" in refused.text
        and 'value="900"' in refused.text
    )
    form |= {"source": "静安区科技创新规划（2026年修订）", "reason": "规划中期调整"}
    done = client.post(f"/reports/targets/{target.id}", data=form, headers=headers, follow_redirects=False)
    assert done.status_code == 303
    db.refresh(target)
    assert (int(target.value), target.by_year, target.source) == (
        900,
        2026,
        "静安区科技创新规划（2026年修订）",
    )
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "plan_targets", AuditEntry.entity_id == target.id)
    ).all()
    assert {(e.field, e.old_value, e.new_value) for e in entries} == {
        ("value", "800", "900"),
        ("by_year", "2025", "2026"),
        ("source", "jingan-sci-tech-innovation-plan-2023-2025", "静安区科技创新规划（2026年修订）"),
    }
    assert all("张管理" in e.actor_label and e.reason == "规划中期调整" for e in entries)
    page = client.get("/reports/targets")
    assert "规划中期调整" in page.text and "修改记录" in page.text
    report = client.get("/reports", params={"month": MONTH})
    assert "5 / 900" in report.text


def test_the_page_runs_a_bounded_number_of_queries_whatever_the_number_of_firms(
    db: Session, client, make_user, login, query_counter
) -> None:
    login(client, make_user("leader"))
    ledger.build()
    with query_counter() as few:
        assert client.get("/reports", params={"month": MONTH}).status_code == 200
    for n in range(30):
        firm = FirmFactory(name=f"加量科技{n:02d}", park="yangpu", park__valid_from=ledger.SINCE)
        RecognitionFactory(
            firm=firm, tier=Tier.hnte, issued_on=date(2026, 1, 1), expires_on=date(2028, 12, 31)
        )
    with query_counter() as many:
        body = client.get("/reports", params={"month": MONTH, "by": "officer"}).text
    assert len(many) == len(few) <= 20
    assert "未指定服务专员" in body


def test_restating_over_the_web_needs_a_reason_and_keeps_the_frozen_figure(
    db: Session, client, make_user, login
) -> None:
    ledger.build()
    headers = login(client, make_user("admin", display_name="周管理"))
    closed = client.post(f"/reports/months/{MONTH}/close", headers=headers, follow_redirects=False)
    assert closed.status_code == 303
    late = FirmFactory(name="补录二科技有限公司", park="hongkou", park__valid_from=ledger.SINCE)
    RecognitionFactory(
        firm=late, tier=Tier.srdi_sme, issued_on=date(2026, 10, 3), expires_on=date(2029, 10, 2)
    )
    page = client.get("/reports", params={"month": MONTH})
    assert "待更正差异" in page.text and "记录更正" in page.text
    refused = client.post(f"/reports/months/{MONTH}/close", data={"reason": "  "}, headers=headers)
    assert refused.status_code == 422 and "请填写更正理由" in refused.text
    done = client.post(
        f"/reports/months/{MONTH}/close",
        data={"reason": "补录虹口园专精特新"},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303 and "notice=" in done.headers["location"]
    page = client.get(done.headers["location"])
    assert (
        "已记录 2 项更正" in page.text and "待更正差异" not in page.text and "补录虹口园专精特新" in page.text
    )
