"""The firm pages over HTTP: the list (page or fragment, search, filters, pages, bounded queries) and the
file page (conflicts and sources, masked contacts, read-only leaders, year edits in place, evidence)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import PersonalDataAccess
from app.auth.models import Role, User
from app.firms.search import search_text_for
from app.indicators.models import Source
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import (
    ContactFactory,
    FactObservationFactory,
    FirmFactory,
    FirmNameFactory,
    FirmYearFactory,
    MembershipFactory,
    RecognitionFactory,
)

Login = Callable[[TestClient, User], dict[str, str]]
LAST_YEAR = today().year - 1
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "firm-table"}


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


@pytest.fixture
def signed_in(client: TestClient, login: Login, officer: User) -> TestClient:
    """The client signed in as an officer of park jingan."""
    login(client, officer)
    return client


def firm_names(html: str) -> list[str]:
    """The firm names linked in the list table, in order."""
    return re.findall(r'class="firm-name" href="/firms/\d+">([^<]+)</a>', html)


def field_error(html: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


# --- the list: page or fragment -------------------------------------------------------------------------


def test_the_list_is_a_full_page_and_only_its_table_for_htmx(signed_in: TestClient) -> None:
    FirmFactory(name="上海市北数智科技有限公司")

    page = signed_in.get("/firms")
    fragment = signed_in.get("/firms", headers=HTMX_TABLE)

    assert page.status_code == 200
    assert page.template.name == "firms/list.html"  # type: ignore[attr-defined]
    assert "<html" in page.text and 'id="firm-table"' in page.text and 'id="firm-filters"' in page.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="firm-filters"' not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="firm-table">')
    assert "上海市北数智科技有限公司" in fragment.text
    for response in (page, fragment):
        assert response.headers["vary"] == "HX-Request, HX-Target"


def test_a_boosted_or_history_restore_request_gets_the_full_page(signed_in: TestClient) -> None:
    boosted = signed_in.get("/firms", headers={**HTMX_TABLE, "HX-Boosted": "true"})
    restore = signed_in.get("/firms", headers={**HTMX_TABLE, "HX-History-Restore-Request": "true"})

    assert "<html" in boosted.text and "<html" in restore.text


def test_the_active_search_pushes_a_clean_shareable_url(signed_in: TestClient) -> None:
    response = signed_in.get(
        "/firms?q=%E5%B8%82%E5%8C%97&park=&area=&tier=&sort=name&dir=asc", headers=HTMX_TABLE
    )

    assert response.headers["hx-push-url"] == "/firms?q=%E5%B8%82%E5%8C%97"


def test_the_search_box_matches_a_former_name(signed_in: TestClient, db: Session) -> None:
    renamed = FirmFactory(name="上海丙丁智能科技有限公司")
    renamed.search_text = search_text_for(renamed.name, ["上海甲乙网络科技有限公司"], renamed.uscc)
    FirmNameFactory(firm=renamed, name="上海甲乙网络科技有限公司")
    db.flush()
    FirmFactory(name="上海戊己软件有限公司")

    response = signed_in.get("/firms", params={"q": "甲乙网络"}, headers=HTMX_TABLE)

    assert firm_names(response.text) == ["上海丙丁智能科技有限公司"]
    assert "共 1 家企业" in response.text


def test_the_search_box_matches_a_uscc_in_any_case(signed_in: TestClient) -> None:
    wanted = FirmFactory(name="按代码查找科技有限公司")
    FirmFactory(name="另一家科技有限公司")

    response = signed_in.get("/firms", params={"q": wanted.uscc[-8:].lower()})

    assert firm_names(response.text) == ["按代码查找科技有限公司"]


def test_the_park_filter_and_the_park_options_follow_the_officers_parks(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    FirmFactory(name="静安一号科技有限公司", park="jingan")
    FirmFactory(name="杨浦一号科技有限公司", park="yangpu")
    FirmFactory(name="虹口一号科技有限公司", park="hongkou")

    login(client, make_user(Role.officer, parks=["jingan", "yangpu"]))
    everything = client.get("/firms")
    yangpu_only = client.get("/firms", params={"park": "yangpu"})

    assert sorted(firm_names(everything.text)) == ["杨浦一号科技有限公司", "静安一号科技有限公司"]
    assert firm_names(yangpu_only.text) == ["杨浦一号科技有限公司"]
    park_select = re.search(r'<select id="filter-park".*?</select>', everything.text, re.S)
    assert park_select is not None
    assert "静安园" in park_select.group(0) and "杨浦园" in park_select.group(0)
    assert "虹口园" not in park_select.group(0)


def test_the_tier_filter_keeps_firms_holding_the_tier_today(signed_in: TestClient) -> None:
    holder = FirmFactory(name="高企持有科技有限公司")
    RecognitionFactory(firm=holder, tier="hnte")
    lapsed = FirmFactory(name="高企过期科技有限公司")
    RecognitionFactory(firm=lapsed, tier="hnte", expired=True)
    FirmFactory(name="未认定科技有限公司")

    response = signed_in.get("/firms", params={"tier": "hnte"})

    assert firm_names(response.text) == ["高企持有科技有限公司"]
    row = response.text[response.text.index("高企持有科技有限公司") :]
    assert "高新技术企业" in row[:2000] and "2 · 高新技术企业" in row[:2000]


def test_pages_hold_25_firms_and_the_total_counts_them_all(signed_in: TestClient) -> None:
    for i in range(30):
        FirmFactory(name=f"分页测试{i:02d}号科技有限公司")

    first = signed_in.get("/firms", params={"q": "分页测试"})
    second = signed_in.get("/firms", params={"q": "分页测试", "page": 2}, headers=HTMX_TABLE)

    assert len(firm_names(first.text)) == 25
    assert "共 30 家企业" in first.text
    assert firm_names(second.text) == [f"分页测试{i:02d}号科技有限公司" for i in range(25, 30)]
    assert (
        'href="/firms?q=%E5%88%86%E9%A1%B5%E6%B5%8B%E8%AF%95&amp;sort=name&amp;dir=asc&amp;page=1"'
        in second.text
    )


def test_sorting_by_a_column_flips_with_a_second_click(signed_in: TestClient) -> None:
    FirmFactory(name="排序甲科技有限公司", founded_on=date(2010, 1, 1))
    FirmFactory(name="排序乙科技有限公司", founded_on=date(2020, 1, 1))

    oldest = signed_in.get("/firms", params={"q": "排序", "sort": "founded_on", "dir": "asc"})
    newest = signed_in.get("/firms", params={"q": "排序", "sort": "founded_on", "dir": "desc"})

    assert firm_names(oldest.text) == ["排序甲科技有限公司", "排序乙科技有限公司"]
    assert firm_names(newest.text) == ["排序乙科技有限公司", "排序甲科技有限公司"]
    assert 'aria-sort="ascending"' in oldest.text and 'aria-sort="descending"' in newest.text


def test_the_list_runs_the_same_number_of_queries_for_5_or_25_firms(
    signed_in: TestClient, query_counter: Callable[[], Any], officer: User
) -> None:
    def make_firms(count: int) -> None:
        for _ in range(count):
            firm = FirmFactory(officer_id=officer.id, park__area_code="jingan.shibei")
            RecognitionFactory(firm=firm, tier="hnte")
            RecognitionFactory(firm=firm, tier="tech_sme")

    make_firms(5)
    signed_in.get("/firms")  # warm-up: the first request of a test may load what later ones cache
    with query_counter() as few:
        assert len(firm_names(signed_in.get("/firms").text)) == 5
    make_firms(20)
    with query_counter() as many:
        assert len(firm_names(signed_in.get("/firms").text)) == 25

    assert len(many) == len(few)
    assert len(few) <= 20


# --- the file page ---------------------------------------------------------------------------------------


def test_an_officer_asking_for_a_firm_outside_their_parks_gets_the_404_page(signed_in: TestClient) -> None:
    elsewhere = FirmFactory(park="yangpu")

    response = signed_in.get(f"/firms/{elsewhere.id}")

    assert response.status_code == 404
    assert "<html" in response.text and "不在您负责的园区" in response.text


def test_the_file_shows_every_section_with_source_labels_and_conflicts(signed_in: TestClient) -> None:
    firm = FirmFactory(name="冲突展示科技有限公司")
    FirmYearFactory(firm=firm, rd_expense=Decimal("260"))
    FirmYearFactory(
        firm=firm,
        source=Source.department,
        source_department="区税务局",
        rd_expense=Decimal("300"),
        employees=None,
        tech_staff=None,
        rd_staff=None,
        revenue=None,
        main_revenue=None,
        hightech_revenue=None,
        total_income=None,
        rd_expense_domestic=None,
        cost_total=None,
        total_assets=None,
        total_liabilities=None,
        net_profit=None,
        equity_financing=None,
    )
    FactObservationFactory(firm=firm, key="ip.class1", value=5)
    FactObservationFactory(
        firm=firm, key="ip.class1", value=4, source=Source.department, source_department="市知识产权局"
    )

    response = signed_in.get(f"/firms/{firm.id}")

    html = response.text
    assert response.status_code == 200
    assert response.template.name == "firms/detail.html"  # type: ignore[attr-defined]
    for title in (
        "基本信息",
        "园区归属历史",
        "联系人",
        "年度指标",
        "企业事实",
        "事故与获奖",
        "认定记录",
        "待办",
        "变更记录",
    ):
        assert f">{title}</h2>" in html
    years = html[html.index('id="years"') : html.index('id="facts"')]
    rd_row = years[years.index("研发费用（万元）") :]
    rd_row = rd_row[: rd_row.index("</tr>")]
    assert "300" in rd_row and "部门数据" in rd_row and "来源不一致" in rd_row
    assert "企业填报：260" in rd_row and "部门数据：300" in rd_row
    facts = html[html.index('id="facts"') : html.index('id="incidents-awards"')]
    ip_row = facts[facts.index("Ⅰ类知识产权（件）") :]
    ip_row = ip_row[: ip_row.index("</tr>")]
    assert ">4<" in ip_row and "部门数据" in ip_row and "市知识产权局" in ip_row and "来源不一致" in ip_row
    assert "企业填报" in ip_row


def test_recognitions_expiring_soon_are_amber_and_expired_ones_marked(signed_in: TestClient) -> None:
    firm = FirmFactory()
    RecognitionFactory(firm=firm, tier="hnte", expiring_soon=True, certificate_no="GR-SOON")
    RecognitionFactory(firm=firm, tier="srdi_sme", expired=True, certificate_no="SRDI-OLD")
    RecognitionFactory(firm=firm, tier="tech_sme", revoked=True, certificate_no="TECH-REVOKED")

    html = signed_in.get(f"/firms/{firm.id}").text

    def row_of(certificate: str) -> str:
        start = html.rindex("<tr", 0, html.index(certificate))
        return html[start : html.index("</tr>", start)]

    assert 'class="rec-expiring"' in row_of("GR-SOON") and "即将到期（30 天）" in row_of("GR-SOON")
    assert 'class="rec-expired"' in row_of("SRDI-OLD") and "已过期" in row_of("SRDI-OLD")
    assert 'class="rec-revoked"' in row_of("TECH-REVOKED") and "弄虚作假，撤销认定" in row_of("TECH-REVOKED")


def test_contacts_are_masked_until_revealed_and_the_reveal_is_logged(
    signed_in: TestClient, db: Session, officer: User
) -> None:
    firm = FirmFactory()
    ContactFactory(firm=firm, phone="13812345678", id_number="310101199001011234")

    page = signed_in.get(f"/firms/{firm.id}")
    revealed = signed_in.get(
        f"/firms/{firm.id}/contacts",
        params={"reveal": "1"},
        headers={"HX-Request": "true", "HX-Target": "contacts"},
    )

    assert "138****5678" in page.text and "13812345678" not in page.text
    assert "3101**********1234" in page.text
    assert "显示完整信息" in page.text
    assert revealed.status_code == 200 and "<html" not in revealed.text
    assert revealed.text.lstrip().startswith('<section id="contacts"')
    assert "13812345678" in revealed.text and "310101199001011234" in revealed.text
    logged = db.scalars(select(PersonalDataAccess).where(PersonalDataAccess.firm_id == firm.id)).all()
    assert [(row.user_id, row.action) for row in logged] == [(officer.id, "view")]


def test_the_reveal_link_also_works_without_javascript(signed_in: TestClient) -> None:
    firm = FirmFactory()
    ContactFactory(firm=firm, phone="13812345678")

    response = signed_in.get(f"/firms/{firm.id}/contacts?reveal=1")

    assert "<html" in response.text and "13812345678" in response.text and 'id="years"' in response.text


def test_a_leader_reads_the_file_without_any_edit_form_and_sees_contacts_masked(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    firm = FirmFactory(park="yangpu")
    ContactFactory(firm=firm, phone="13812345678")
    FirmYearFactory(firm=firm)
    login(client, make_user(Role.leader))

    page = client.get(f"/firms/{firm.id}")
    reveal = client.get(f"/firms/{firm.id}/contacts", params={"reveal": "1"})

    assert page.status_code == 200
    assert "编辑档案" not in page.text and "hx-post" not in page.text and "新增年度" not in page.text
    assert f'method="post" action="/firms/{firm.id}' not in page.text
    assert "显示完整信息" not in page.text
    assert "13812345678" not in reveal.text and "138****5678" in reveal.text
    assert db.scalars(select(PersonalDataAccess).where(PersonalDataAccess.firm_id == firm.id)).all() == []


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("", {"name": "领导改名有限公司", "version": "1"}),
        ("/years", {"year": str(LAST_YEAR), "source": "officer_verified", "revenue": "1"}),
        ("/facts", {"key": "is_sme", "value": "是"}),
        ("/recognitions", {"tier": "hnte", "issued_on": "2025-01-01"}),
        ("/contacts", {"name": "张三"}),
    ],
    ids=["profile", "year", "fact", "recognition", "contact"],
)
def test_a_leaders_post_is_403_and_changes_nothing(
    client: TestClient, login: Login, make_user: Callable[..., User], path: str, data: dict[str, str]
) -> None:
    firm = FirmFactory(name="只读企业有限公司")
    headers = login(client, make_user(Role.leader))

    response = client.post(f"/firms/{firm.id}{path}", data=data, headers=headers, follow_redirects=False)

    assert response.status_code == 403
    assert "只能查看" in response.text
    assert "只读企业有限公司" in client.get(f"/firms/{firm.id}").text


def test_a_leader_cannot_open_the_edit_or_year_forms(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory()
    login(client, make_user(Role.leader))

    assert client.get(f"/firms/{firm.id}/edit").status_code == 403
    assert client.get(f"/firms/{firm.id}/years/{LAST_YEAR}/edit").status_code == 403
    assert client.get("/firms/new").status_code == 403


# --- the add forms, loaded when opened ---------------------------------------------------------------------

# form name → (its slot on the page, the field it opens with, where it posts)
ADD_FORMS = {
    "contact_new": ("contact-new-form", "contact-new-name", "/contacts"),
    "fact": ("fact-form", "fact-key", "/facts"),
    "incident": ("incident-form", "incident-kind", "/incidents"),
    "award": ("award-form", "award-level", "/awards"),
    "recognition": ("recognition-form", "rec-tier", "/recognitions"),
    "evidence": ("evidence-form", "evidence-file", "/evidence"),
}


def test_the_file_carries_each_add_form_closed_with_a_link_that_opens_it(signed_in: TestClient) -> None:
    firm = FirmFactory()

    page = signed_in.get(f"/firms/{firm.id}").text

    for name, (slot, field_id, _posts) in ADD_FORMS.items():
        url = f"/firms/{firm.id}/forms/{name}"
        assert f'<div id="{slot}">' in page
        assert f'hx-get="{url}" hx-trigger="toggle once" hx-target="#{slot}"' in page
        assert f'<a href="{url}#{slot}">打开表单</a>' in page
        assert f'id="{field_id}"' not in page


@pytest.mark.parametrize("name", list(ADD_FORMS))
def test_an_add_form_asked_for_by_htmx_comes_alone_and_open(signed_in: TestClient, name: str) -> None:
    firm = FirmFactory()
    slot, field_id, posts = ADD_FORMS[name]

    response = signed_in.get(
        f"/firms/{firm.id}/forms/{name}", headers={"HX-Request": "true", "HX-Target": slot}
    )

    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.lstrip().startswith(f'<div id="{slot}">')
    assert '<details class="inline-form" open>' in response.text and f'id="{field_id}"' in response.text
    assert f'hx-post="/firms/{firm.id}{posts}"' in response.text
    assert f'name="csrf_token" value="{CSRF_TOKEN}"' in response.text


def test_without_javascript_an_add_form_link_opens_the_whole_file_with_that_form_open(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory(name="无脚本企业有限公司")

    response = signed_in.get(f"/firms/{firm.id}/forms/fact")
    page = response.text

    assert response.status_code == 200
    assert "<html" in page and "无脚本企业有限公司" in page and 'id="history"' in page
    assert 'id="fact-key"' in page and f'method="post" action="/firms/{firm.id}/facts"' in page
    assert 'id="rec-tier"' not in page  # the other forms stay closed


def test_the_evidence_form_offers_the_firms_recognitions(signed_in: TestClient) -> None:
    firm = FirmFactory()
    rec = RecognitionFactory(firm=firm, tier="hnte", certificate_no="GR2024-77")

    fragment = signed_in.get(
        f"/firms/{firm.id}/forms/evidence", headers={"HX-Request": "true", "HX-Target": "evidence-form"}
    ).text

    assert f'<option value="{rec.id}">高新技术企业 GR2024-77' in fragment


def test_a_leader_may_not_open_an_add_form_and_another_parks_officer_finds_no_firm(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory(park="yangpu")

    login(client, make_user(Role.leader))
    as_leader = client.get(f"/firms/{firm.id}/forms/fact")
    login(client, make_user(Role.officer, parks=["jingan"]))
    as_other_officer = client.get(f"/firms/{firm.id}/forms/fact")

    assert as_leader.status_code == 403
    assert as_other_officer.status_code == 404


# --- editing a year in place -------------------------------------------------------------------------------


def year_form_data(**changes: str) -> dict[str, str]:
    """The year form as FirmYearFactory's values would fill it, with changes."""
    data = {
        "csrf_token": CSRF_TOKEN,
        "year": str(LAST_YEAR),
        "source": "firm_reported",
        "source_department": "",
        "employees": "42",
        "tech_staff": "18",
        "rd_staff": "12",
        "revenue": "1800",
        "main_revenue": "1710",
        "hightech_revenue": "1674",
        "total_income": "1800",
        "rd_expense": "260",
        "rd_expense_domestic": "260",
        "cost_total": "1500",
        "total_assets": "2600",
        "total_liabilities": "1040",
        "net_profit": "210",
        "equity_financing": "0",
        "reason": "",
    }
    data.update(changes)
    return data


def test_the_year_form_opens_in_place_with_that_sources_values(signed_in: TestClient) -> None:
    firm = FirmFactory()
    FirmYearFactory(firm=firm)

    fragment = signed_in.get(
        f"/firms/{firm.id}/years/{LAST_YEAR}/edit", headers={"HX-Request": "true", "HX-Target": "year-form"}
    )
    page = signed_in.get(f"/firms/{firm.id}/years/{LAST_YEAR}/edit")

    assert fragment.text.lstrip().startswith('<div id="year-form">') and "<html" not in fragment.text
    assert 'id="year-rd_expense"' in fragment.text and 'value="260"' in fragment.text
    assert '<label for="year-rd_expense">研发费用（万元）</label>' in fragment.text
    assert "<html" in page.text and 'id="year-rd_expense"' in page.text


def test_a_year_edited_in_place_returns_the_years_and_the_history_shows_old_and_new(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory()
    FirmYearFactory(firm=firm)

    response = signed_in.post(
        f"/firms/{firm.id}/years",
        data=year_form_data(rd_expense="300", reason="按审计报告更正"),
        headers={"HX-Request": "true", "HX-Target": "years"},
    )

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<section id="years"') and "<html" not in html
    assert 'id="history" class="panel" aria-labelledby="history-title" hx-swap-oob="true"' in html
    history = html[html.index('id="history"') :]
    line = history[history.index("研发费用") :]
    line = line[: line.index("</tr>")]
    assert re.search(r'history-old">260<.*history-new">300<', line)
    assert "按审计报告更正" in line
    assert "300" in html[: html.index('id="history"')]


def test_a_year_form_posted_without_javascript_redirects_to_the_file(signed_in: TestClient) -> None:
    firm = FirmFactory()
    FirmYearFactory(firm=firm)

    response = signed_in.post(
        f"/firms/{firm.id}/years", data=year_form_data(rd_expense="300"), follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/firms/{firm.id}#years"
    page = signed_in.get(response.headers["location"]).text
    assert re.search(r'history-old">260<.*history-new">300<', page, re.S)


def test_an_invalid_year_comes_back_in_place_with_the_errors_and_the_values_typed(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory()
    FirmYearFactory(firm=firm)

    response = signed_in.post(
        f"/firms/{firm.id}/years",
        data=year_form_data(rd_staff="50", revenue="1,900", net_profit="很多"),
        headers={"HX-Request": "true", "HX-Target": "years"},
    )

    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="years"')
    assert field_error(response.text, "net_profit") == "应为数字"
    assert (
        'value="很多"' in response.text and 'value="1,900"' in response.text and 'value="50"' in response.text
    )
    assert "hx-swap-oob" not in response.text


# --- evidence ---------------------------------------------------------------------------------------------


def test_an_exe_renamed_pdf_is_refused_beside_the_file_field(signed_in: TestClient, db: Session) -> None:
    firm = FirmFactory()

    response = signed_in.post(
        f"/firms/{firm.id}/evidence",
        data={"csrf_token": CSRF_TOKEN},
        files={
            "file": ("高企证书.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64, "application/pdf")
        },
    )

    assert response.status_code == 422
    assert field_error(response.text, "file") == "只能上传 PDF、PNG 或 JPEG 文件"
    assert "<html" in response.text and "高企证书.pdf" not in response.text


def test_a_pdf_is_stored_listed_and_downloaded_as_an_attachment(signed_in: TestClient) -> None:
    firm = FirmFactory()
    rec = RecognitionFactory(firm=firm, certificate_no="GR2025310001")
    pdf = b"%PDF-1.4\n% test\n"

    uploaded = signed_in.post(
        f"/firms/{firm.id}/evidence",
        data={"csrf_token": CSRF_TOKEN, "recognition_id": str(rec.id)},
        files={"file": ("高企证书.pdf", pdf, "application/pdf")},
        headers={"HX-Request": "true", "HX-Target": "recognitions"},
    )

    assert uploaded.status_code == 200
    link = re.search(r'href="(/firms/\d+/evidence/\d+)" download>高企证书.pdf<', uploaded.text)
    assert link is not None
    download = signed_in.get(link.group(1))
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")


# --- the file as it was -----------------------------------------------------------------------------------


def test_the_file_as_of_a_past_date_shows_where_the_firm_was_and_what_it_held(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory(park=False)
    MembershipFactory(firm=firm, park_code="yangpu", valid_from=date(2018, 1, 1), valid_to=date(2022, 12, 31))
    MembershipFactory(firm=firm, park_code="jingan", valid_from=date(2023, 1, 1))
    RecognitionFactory(firm=firm, tier="hnte", issued_on=date(2019, 6, 1), expires_on=date(2022, 5, 31))
    login(client, make_user(Role.admin))

    then = client.get(f"/firms/{firm.id}", params={"as_of": "2020-06-30"}).text
    now = client.get(f"/firms/{firm.id}").text

    assert "历史时点视图：2020-06-30" in then and "此视图只读" in then
    summary = then[then.index('id="summary"') : then.index('id="memberships"')]
    assert "杨浦园" in summary and "高新技术企业" in summary
    assert "编辑档案" not in then
    assert "历史时点视图" not in now
    now_summary = now[now.index('id="summary"') : now.index('id="memberships"')]
    assert "静安园" in now_summary and "无有效认定" in now_summary


def test_an_invalid_as_of_date_is_refused(signed_in: TestClient) -> None:
    firm = FirmFactory()

    assert signed_in.get(f"/firms/{firm.id}", params={"as_of": "2020-13-01"}).status_code == 422


def test_the_file_lists_the_open_tasks_with_a_link_to_my_tasks(signed_in: TestClient, officer: User) -> None:
    from tests.factories import TaskFactory

    firm = FirmFactory()
    TaskFactory(
        firm=firm, assignee=officer, title="提醒企业准备高企复核材料", due_on=today() + timedelta(days=9)
    )

    html = signed_in.get(f"/firms/{firm.id}").text

    tasks = html[html.index('id="tasks"') : html.index('id="history"')]
    assert "提醒企业准备高企复核材料" in tasks and "王专员" in tasks and 'href="/tasks"' in tasks


# --- a certificate's revoke form, loaded when its row's 撤销 is opened --------------------------------------


def test_each_certificate_carries_its_revoke_form_closed_with_a_link_that_opens_it(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory()
    recs = [RecognitionFactory(firm=firm, tier=tier) for tier in ("tech_sme", "hnte")]

    page = signed_in.get(f"/firms/{firm.id}").text

    for rec in recs:
        url, slot = f"/firms/{firm.id}/recognitions/{rec.id}/revoke", f"revoke-form-{rec.id}"
        assert f'<div id="{slot}">' in page
        assert f'hx-get="{url}" hx-trigger="toggle once" hx-target="#{slot}"' in page
        assert f'<a href="{url}#{slot}">打开表单</a>' in page
    assert 'name="revoke_reason"' not in page


def test_a_revoke_form_asked_for_by_htmx_comes_alone_and_open_and_revokes(signed_in: TestClient) -> None:
    firm = FirmFactory()
    rec = RecognitionFactory(firm=firm, tier="hnte", certificate_no="GR2024-88")
    slot = f"revoke-form-{rec.id}"

    fragment = signed_in.get(
        f"/firms/{firm.id}/recognitions/{rec.id}/revoke", headers={"HX-Request": "true", "HX-Target": slot}
    ).text

    assert "<html" not in fragment and fragment.lstrip().startswith(f'<div id="{slot}">')
    assert '<details class="row-action" open>' in fragment
    assert f'id="revoke-{rec.id}-reason"' in fragment
    assert f'hx-post="/firms/{firm.id}/recognitions/{rec.id}/revoke"' in fragment
    assert f'name="csrf_token" value="{CSRF_TOKEN}"' in fragment

    posted = signed_in.post(
        f"/firms/{firm.id}/recognitions/{rec.id}/revoke",
        data={"csrf_token": CSRF_TOKEN, "revoked_on": today().isoformat(), "revoke_reason": "材料不实"},
    )
    assert posted.status_code in (200, 303)
    page = signed_in.get(f"/firms/{firm.id}").text
    assert "材料不实" in page and f'id="{slot}"' not in page  # revoked: no revoke form any more


def test_without_javascript_a_revoke_link_opens_the_whole_file_with_that_form_open(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory(name="撤销无脚本企业有限公司")
    rec, other = RecognitionFactory(firm=firm, tier="hnte"), RecognitionFactory(firm=firm, tier="tech_sme")

    page = signed_in.get(f"/firms/{firm.id}/recognitions/{rec.id}/revoke").text

    assert "<html" in page and "撤销无脚本企业有限公司" in page
    assert f'id="revoke-{rec.id}-reason"' in page
    assert f'id="revoke-{other.id}-reason"' not in page


def test_a_revoke_form_is_only_for_editors_of_that_firms_certificates(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory(park="yangpu")
    rec = RecognitionFactory(firm=firm)
    elsewhere = RecognitionFactory(firm=FirmFactory(park="yangpu"))

    login(client, make_user(Role.leader))
    as_leader = client.get(f"/firms/{firm.id}/recognitions/{rec.id}/revoke")
    login(client, make_user(Role.officer, parks=["jingan"]))
    as_other_officer = client.get(f"/firms/{firm.id}/recognitions/{rec.id}/revoke")
    login(client, make_user(Role.officer, parks=["yangpu"]))
    not_this_firms = client.get(f"/firms/{firm.id}/recognitions/{elsewhere.id}/revoke")

    assert as_leader.status_code == 403
    assert as_other_officer.status_code == 404
    assert not_this_firms.status_code == 404
