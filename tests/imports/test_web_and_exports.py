"""The import pages (upload → mapping corrected and saved → dry run → commit, 303 after each POST) and the
exports (filters and park scope kept, personal data masked and logged, an export imports back unchanged)."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from app.audit.models import PersonalDataAccess
from app.auth.models import Role
from app.firms.models import Firm, FirmTag
from app.imports.models import ImportMapping
from tests.factories import ContactFactory, FirmFactory
from tests.imports.conftest import make_uscc, xlsx_openpyxl

ODD_HEAD = ["单位", "代码", "所属园区"]


def _post_file(client, headers, data, kind="firms"):
    return client.post(
        "/imports",
        headers=headers,
        files={"file": ("名册.xlsx", data, "application/octet-stream")},
        data={"kind": kind},
        follow_redirects=False,
    )


def test_an_officer_corrects_the_mapping_saves_it_dry_runs_and_commits(db, client, make_user, login):
    officer = make_user(Role.officer, parks=["jingan"])
    headers = login(client, officer)
    data = xlsx_openpyxl([ODD_HEAD, ["上海映射科技有限公司", make_uscc(61), "静安园"]])
    response = _post_file(client, headers, data)
    assert response.status_code == 303
    detail = response.headers["location"]
    page = client.get(detail)
    assert page.status_code == 200 and "列的对应关系" in page.text
    # 单位 and 代码 are not known headers: the officer maps them (park was recognised).
    missing = client.post(
        detail + "/analyse", headers=headers, data={"col_2": "park"}, follow_redirects=False
    )
    assert missing.status_code == 422 and "缺少必需的列" in missing.text
    form = {"col_0": "name", "col_1": "uscc", "col_2": "park", "unit": "auto", "remember": "1"}
    analysed = client.post(detail + "/analyse", headers=headers, data=form, follow_redirects=False)
    assert analysed.status_code == 303
    page = client.get(detail)
    assert "试导入结果" in page.text and "确认导入" in page.text
    assert db.scalars(select(Firm).where(Firm.uscc == make_uscc(61))).first() is None
    committed = client.post(detail + "/commit", headers=headers, follow_redirects=False)
    assert committed.status_code == 303
    assert db.scalars(select(Firm).where(Firm.uscc == make_uscc(61))).one().name == "上海映射科技有限公司"
    assert db.scalars(select(ImportMapping).where(ImportMapping.user_id == officer.id)).one()
    # The next file with the same headers comes with the saved mapping.
    again = _post_file(
        client, headers, xlsx_openpyxl([ODD_HEAD, ["上海另一科技有限公司", make_uscc(62), "静安园"]])
    )
    page = client.get(again.headers["location"])
    assert "已套用您上次为同样表头保存的对应关系" in page.text
    assert '<option value="uscc" selected>' in page.text


def test_the_status_block_alone_answers_htmx_polling(client, make_user, login):
    officer = make_user(Role.officer, parks=["jingan"])
    headers = login(client, officer)
    data = xlsx_openpyxl(
        [["企业名称", "信用代码", "园区"], ["上海轮询科技有限公司", make_uscc(63), "静安园"]]
    )
    detail = _post_file(client, headers, data).headers["location"]
    block = client.get(detail, headers={"HX-Request": "true", "HX-Target": "import-status"})
    assert block.text.lstrip().startswith('<section class="panel" id="import-status"')
    assert "<html" not in block.text


def test_leaders_see_no_import_link_and_cannot_upload(client, make_user, login):
    leader = make_user(Role.leader)
    headers = login(client, leader)
    assert "导入导出" not in client.get("/firms").text
    data = xlsx_openpyxl(
        [["企业名称", "信用代码", "园区"], ["上海领导科技有限公司", make_uscc(64), "静安园"]]
    )
    assert _post_file(client, headers, data).status_code == 403


def test_a_filtered_export_keeps_the_officers_scope_and_imports_back_unchanged(
    db, client, make_user, login, bearer
):
    officer = make_user(Role.officer, parks=["jingan"])
    mine = FirmFactory(name="上海导出甲科技有限公司")
    FirmFactory(name="上海导出乙科技有限公司", park="yangpu")
    login(client, officer)
    response = client.get("/exports/firms", params={"format": "xlsx", "q": "导出"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("企业名称", "统一社会信用代码", "园区")
    assert [r[1] for r in rows[1:]] == [mine.uscc]
    back = client.post(
        "/api/v1/imports",
        headers=bearer(officer),
        files={"file": ("export.xlsx", response.content, "application/octet-stream")},
        data={"kind": "firms", "dry_run": "true"},
    ).json()
    assert (back["unchanged"], back["new"], back["updated"], back["rejected"]) == (1, 0, 0, [])
    csv_text = client.get("/exports/firms", params={"format": "csv", "q": "导出"}).content.decode("utf-8-sig")
    assert mine.uscc in csv_text and "上海导出乙" not in csv_text


def test_the_whitelist_masks_phones_and_logs_each_export(db, client, make_user, login):
    officer = make_user(Role.officer, parks=["jingan"])
    listed = FirmFactory()
    db.add(FirmTag(firm_id=listed.id, tag="授信白名单"))
    db.flush()
    ContactFactory(firm=listed, name="王经理", phone="13812345678", is_primary=True)
    FirmFactory()  # not on the whitelist
    login(client, officer)
    response = client.get("/exports/whitelist", params={"format": "csv"})
    text = response.content.decode("utf-8-sig")
    assert listed.uscc in text and "138****5678" in text and "13812345678" not in text
    assert text.count("\n") == 2
    log = db.scalars(select(PersonalDataAccess).where(PersonalDataAccess.firm_id == listed.id)).one()
    assert log.action == "export" and "已脱敏" in log.detail


def test_a_firm_file_export_has_its_sheets_and_masked_contacts(db, client, make_user, login):
    leader = make_user(Role.leader)
    firm = FirmFactory()
    ContactFactory(firm=firm, name="李会计", phone="13900001111", id_number="310101199001011234")
    login(client, leader)
    response = client.get(f"/exports/firms/{firm.id}", params={"format": "xlsx", "reveal": "1"})
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["基本信息", "园区归属", "年度指标", "认定记录", "联系人"]
    contacts = list(book["联系人"].iter_rows(values_only=True))
    assert contacts[1][2] == "139****1111"  # leaders never see full phones, even when asking
    assert db.scalars(select(PersonalDataAccess).where(PersonalDataAccess.firm_id == firm.id)).one()


def test_the_firm_list_offers_exports_that_carry_its_filters(client, make_user, login):
    officer = make_user(Role.officer, parks=["jingan"])
    login(client, officer)
    page = client.get("/firms", params={"park": "jingan", "q": "科技"})
    assert "/exports/firms?q=%E7%A7%91%E6%8A%80&amp;park=jingan&amp;format=xlsx" in page.text
    fragment = client.get(
        "/firms", params={"tag": "授信白名单"}, headers={"HX-Request": "true", "HX-Target": "firm-table"}
    )
    assert "/exports/whitelist?tag=" in fragment.text
