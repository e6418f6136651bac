"""Imports of messy officer files: header detection, units, normalisation, rejections with Excel row numbers,
all-or-nothing commit, re-import, audit, scope and roles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.firms.models import Firm
from app.imports import firm_rows
from app.indicators.models import FirmYear
from app.recognitions.models import Recognition
from tests.factories import FirmFactory
from tests.imports.conftest import csv_bytes, make_uscc, xlsx_openpyxl, xlsx_xlsxwriter

HEAD = ["企业名称", "统一社会信用代码", "所属园区", "功能区", "行业", "成立日期", "注册地"]


def _firm(db, uscc):
    return db.scalars(select(Firm).where(Firm.uscc == uscc)).first()


def test_a_messy_workbook_is_read_past_its_title_rows_and_blank_rows_with_excel_row_numbers(
    db, make_user, bearer, upload
):
    officer = make_user(Role.officer, parks=["jingan"])
    rows = [
        ["静安园 2025 年企业名册"],
        ["填报单位：静安园管委会"],
        HEAD,
        ["上海甲科技有限公司", make_uscc(1), "静安园", "市北", "人工智能", "2019/3/5", "静安区"],
        [None] * 7,
        ["上海乙科技有限公司", make_uscc(2)[:-1] + "0", "静安园", None, None, None, None],
        ["上海丙科技有限公司", make_uscc(3), "浦东园", None, None, None, None],
        ["上海丁科技有限公司", make_uscc(1), "静安园", None, None, None, None],
        ["上海戊科技有限公司", make_uscc(5), "静安园", None, None, "去年", None],
    ]
    response = upload(bearer(officer), xlsx_openpyxl(rows, ["A1:G1", "A2:G2"]))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "rows", "new", "updated", "unchanged", "rejected"}
    assert (body["rows"], body["new"], body["updated"], body["unchanged"]) == (5, 1, 0, 0)
    by_row = {r["row"]: r for r in body["rejected"]}
    assert set(by_row) == {6, 7, 8, 9}
    assert by_row[6]["column"] == "B" and "校验码" in by_row[6]["message"]
    assert by_row[7]["column"] == "C" and "园区“浦东园”不存在" in by_row[7]["message"]
    assert by_row[8]["column"] == "B" and "与第 4 行重复，已保留第 4 行" in by_row[8]["message"]
    assert by_row[9]["column"] == "F" and "日期" in by_row[9]["message"]
    # A dry run writes nothing.
    assert _firm(db, make_uscc(1)) is None


def test_gbk_csv_with_full_width_digits_is_committed_and_reimporting_it_changes_nothing(
    db, make_user, bearer, upload
):
    officer = make_user(Role.officer, parks=["jingan"])
    full_width = make_uscc(11).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        ["单位名称", "信用代码", "园区", "行业", "成立时间"],
        ["上海全角科技有限公司", full_width, "静安", "大数据", "２０１８年５月６日"],
        ["上海半角科技有限公司", make_uscc(12), "静安园", None, None],
    ]
    data = csv_bytes(rows, "gbk")
    first = upload(bearer(officer), data, dry_run=False, name="名册.csv").json()
    assert (first["new"], first["rejected"]) == (2, [])
    firm = _firm(db, make_uscc(11))
    assert firm.name == "上海全角科技有限公司"
    assert firm.park_code == "jingan" and firm.industry_code == "digital.big_data"
    assert firm.founded_on.isoformat() == "2018-05-06"
    assert firm.officer_id == officer.id
    again = upload(bearer(officer), data, dry_run=False, name="名册.csv").json()
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_every_change_of_a_commit_is_audited_with_the_import_as_its_source(db, make_user, bearer, upload):
    officer = make_user(Role.officer, parks=["jingan"])
    data = xlsx_openpyxl([HEAD, ["上海审计科技有限公司", make_uscc(21), "静安园", None, None, None, None]])
    body = upload(bearer(officer), data, dry_run=False).json()
    firm = _firm(db, make_uscc(21))
    entries = db.scalars(select(AuditEntry).where(AuditEntry.firm_id == firm.id)).all()
    assert entries and {(e.channel, e.channel_ref, e.actor_kind, e.actor_id) for e in entries} == {
        ("import", str(body["id"]), "import", officer.id)
    }
    assert {e.entity for e in entries} >= {"firms", "memberships", "firm_names"}


def test_a_known_firm_is_updated_by_usccs_and_blank_cells_never_erase_known_values(
    db, make_user, bearer, upload
):
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory(address="上海市静安区老路1号", founded_on=None)
    data = xlsx_xlsxwriter(
        [
            ["企业名册（xlsxwriter）", None, None, None],
            ["公司名称", "社会信用代码", "园区", "注册地址", "成立日期"],
            [firm.name, firm.uscc, "静安园", None, "2015-07-01"],
        ],
        merges=[("A1:E1", "企业名册（xlsxwriter）")],
    )
    body = upload(bearer(officer), data, dry_run=False).json()
    assert (body["updated"], body["new"], body["rejected"]) == (1, 0, [])
    db.refresh(firm)
    assert firm.address == "上海市静安区老路1号"
    assert firm.founded_on.isoformat() == "2015-07-01"
    update = db.scalars(
        select(AuditEntry).where(AuditEntry.firm_id == firm.id, AuditEntry.field == "founded_on")
    ).one()
    assert update.channel == "import" and update.channel_ref == str(body["id"])


def test_a_failure_in_the_middle_of_a_commit_leaves_nothing(db, make_user, bearer, upload, monkeypatch):
    officer = make_user(Role.officer, parks=["jingan"])
    rows = [HEAD] + [
        [f"上海批量科技有限公司{i}", make_uscc(100 + i), "静安园"] + [None] * 4 for i in range(7)
    ]
    data = xlsx_openpyxl(rows)
    dry = upload(bearer(officer), data).json()
    assert dry["new"] == 7
    monkeypatch.setattr("app.imports.service.CHUNK", 3)
    real = firm_rows._create
    calls = []

    def failing(run, fresh):
        calls.append(len(fresh))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(run, fresh)

    monkeypatch.setattr(firm_rows, "_create", failing)
    response = upload(bearer(officer), data, dry_run=False)
    assert response.status_code == 422
    assert "未写入任何数据" in response.json()["detail"]
    assert calls[0] == 3  # the first chunk had been written before the failure
    usccs = [make_uscc(100 + i) for i in range(7)]
    assert db.scalar(select(func.count()).select_from(Firm).where(Firm.uscc.in_(usccs))) == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.channel == "import")) == 0


def test_an_officer_cannot_import_firms_into_parks_outside_their_scope(db, make_user, bearer, upload):
    officer = make_user(Role.officer, parks=["jingan"])
    elsewhere = FirmFactory(park="yangpu")
    data = xlsx_openpyxl(
        [
            HEAD,
            ["上海杨浦科技有限公司", make_uscc(31), "杨浦园", None, None, None, None],
            [elsewhere.name + "新", elsewhere.uscc, "静安园", None, None, None, None],
        ]
    )
    body = upload(bearer(officer), data, dry_run=False).json()
    assert body["new"] == 0
    messages = {r["row"]: r["message"] for r in body["rejected"]}
    assert "只能把企业归入您负责的园区" in messages[2]
    assert "不在您负责的园区" in messages[3]
    assert _firm(db, make_uscc(31)) is None
    db.refresh(elsewhere)
    assert elsewhere.park_code == "yangpu"


def test_leaders_cannot_import(make_user, bearer, upload):
    leader = make_user(Role.leader)
    data = xlsx_openpyxl([HEAD, ["上海领导科技有限公司", make_uscc(41), "静安园"] + [None] * 4])
    assert upload(bearer(leader), data).status_code == 403


def test_yearly_indicators_in_yuan_are_converted_to_wan_exactly_and_merge_into_the_chosen_source(
    db, make_user, bearer, upload
):
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory()
    rows = [
        ["2024 年度经济指标"],
        ["统一社会信用代码", "年度", "营业收入（元）", "研发费用(万元)", "职工人数"],
        [firm.uscc, "2024年", "12,345,678", "88.5", "１２０"],
        [firm.uscc, 2023, "1000000", None, "abc"],
    ]
    body = upload(
        bearer(officer),
        xlsx_openpyxl(rows, ["A1:E1"]),
        kind="years",
        dry_run=False,
        source="department",
        source_department="区统计局",
    ).json()
    assert body["new"] == 1
    assert body["rejected"] == [{"row": 4, "column": "E", "message": "职工人数：“abc”不是数字"}]
    year = db.scalars(select(FirmYear).where(FirmYear.firm_id == firm.id)).one()
    assert (year.year, year.source, year.source_department) == (2024, "department", "区统计局")
    assert year.revenue == Decimal("1234.57") and year.rd_expense == Decimal("88.5")
    assert year.employees == 120
    # The same row with an empty cell: nothing changes, the known value stays.
    again = [rows[1], [firm.uscc, "2024", "12345678", None, "120"]]
    body = upload(
        bearer(officer),
        xlsx_openpyxl(again),
        kind="years",
        dry_run=False,
        source="department",
        source_department="区统计局",
    ).json()
    assert (body["unchanged"], body["updated"]) == (1, 0)
    db.refresh(year)
    assert year.rd_expense == Decimal("88.5")


def test_recognitions_are_recorded_once_and_reimport_changes_nothing(db, make_user, bearer, upload):
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory()
    rows = [
        ["信用代码", "认定类型", "证书编号", "认定日期", "有效期至"],
        [firm.uscc, "高企", "GR202431000123", "2024-11-20", None],
        [firm.uscc, "独角兽企业", None, "2099-01-01", None],
        [firm.uscc, "未知称号", None, "2024-01-01", None],
    ]
    data = csv_bytes(rows)
    body = upload(bearer(officer), data, kind="recognitions", dry_run=False, name="认定.csv").json()
    assert body["new"] == 1
    assert {r["row"] for r in body["rejected"]} == {3, 4}
    rec = db.scalars(select(Recognition).where(Recognition.firm_id == firm.id)).one()
    assert (rec.tier, rec.certificate_no, rec.expires_on.isoformat()) == (
        "hnte",
        "GR202431000123",
        "2027-11-19",
    )
    again = upload(bearer(officer), data, kind="recognitions", dry_run=False, name="认定.csv").json()
    assert (again["new"], again["unchanged"]) == (0, 1)


def test_a_large_file_runs_as_a_job_and_answers_202_with_its_url(
    db, make_user, bearer, upload, client, monkeypatch
):
    monkeypatch.setattr("app.config.settings.import_inline_kb", 0)
    officer = make_user(Role.officer, parks=["jingan"])
    headers = bearer(officer)
    data = xlsx_openpyxl([HEAD, ["上海大文件科技有限公司", make_uscc(51), "静安园"] + [None] * 4])
    response = upload(headers, data)
    assert response.status_code == 202
    job = response.json()["job"]
    assert response.headers["location"] == job
    done = client.get(job, headers=headers).json()
    assert done["status"] == "analysed" and done["new"] == 1
    committed = client.post(f"/api/v1/imports/{done['id']}/commit", headers=headers)
    assert committed.status_code == 202
    assert client.get(job, headers=headers).json()["status"] == "committed"
    assert _firm(db, make_uscc(51)) is not None


def test_missing_required_columns_are_refused_in_chinese(make_user, bearer, upload):
    officer = make_user(Role.officer, parks=["jingan"])
    response = upload(bearer(officer), xlsx_openpyxl([["企业名称", "备注"], ["上海某某有限公司", "x"]]))
    assert response.status_code == 422
    assert "缺少必需的列" in str(response.json())


@pytest.mark.parametrize("unit, expected", [("元", Decimal("0.12")), ("万元", Decimal("1234"))])
def test_the_unit_chosen_applies_to_headers_that_state_none(db, make_user, bearer, upload, unit, expected):
    officer = make_user(Role.officer, parks=["jingan"])
    firm = FirmFactory()
    data = xlsx_openpyxl([["信用代码", "年度", "营业收入"], [firm.uscc, 2024, 1234]])
    body = upload(bearer(officer), data, kind="years", dry_run=False, unit=unit).json()
    assert body["new"] == 1
    assert db.scalars(select(FirmYear.revenue).where(FirmYear.firm_id == firm.id)).one() == expected
