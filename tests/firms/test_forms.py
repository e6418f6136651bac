"""The firm forms: create and edit (422 with the Chinese message beside the field and every value kept,
409 on a stale version, nothing half-saved), and the forms of the file page (facts, contacts, recognitions,
years)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.firms import uscc
from app.firms.models import Firm, FirmTag, Membership
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import FirmFactory, FirmYearFactory, MembershipFactory, RecognitionFactory

Login = Callable[[TestClient, User], dict[str, str]]
LAST_YEAR = today().year - 1
GOOD_USCC = uscc.build("91310106", "MA7FXR51")
# A correct GB 11714 character (17th) followed by a wrong GB 32100 check character (18th).
_PARTIAL = "91310106" + "MA7FXR52" + uscc.org_check_char("MA7FXR52")
BAD_CHECK_USCC = _PARTIAL + ("0" if uscc.stdnum_uscc.calc_check_digit(_PARTIAL) != "0" else "1")


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


@pytest.fixture
def signed_in(client: TestClient, login: Login, officer: User) -> TestClient:
    login(client, officer)
    return client


def form(**fields: str | list[str]) -> dict[str, str | list[str]]:
    return {"csrf_token": CSRF_TOKEN, **fields}


def field_error(html: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def input_value(html: str, name: str) -> str | None:
    found = re.search(rf'<input id="[^"]*" name="{re.escape(name)}" type="[^"]*" value="([^"]*)"', html)
    return found.group(1) if found else None


def selected(html: str, name: str) -> str | None:
    select_html = re.search(rf'<select id="[^"]*" name="{re.escape(name)}".*?</select>', html, re.S)
    if select_html is None:
        return None
    found = re.search(r'<option value="([^"]*)" selected>', select_html.group(0))
    return found.group(1) if found else None


# --- create ------------------------------------------------------------------------------------------------


def test_the_create_form_offers_the_officers_parks_and_the_known_tags(signed_in: TestClient) -> None:
    response = signed_in.get("/firms/new")

    assert response.status_code == 200 and "<html" in response.text
    assert selected(response.text, "park") == "jingan"
    assert '<label for="uscc">统一社会信用代码' in response.text
    assert 'name="tags" value="链主"' in response.text and 'name="tags" value="授信白名单"' in response.text
    park_select = re.search(r'<select id="park".*?</select>', response.text, re.S)
    assert park_select is not None and "杨浦园" not in park_select.group(0)


def test_choosing_a_park_narrows_the_area_choices_in_place(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    login(client, make_user(Role.admin))

    response = client.get(
        "/firms/new",
        params={"park": "yangpu"},
        headers={"HX-Request": "true", "HX-Target": "placement-fields"},
    )

    assert response.text.lstrip().startswith('<div id="placement-fields">') and "<html" not in response.text
    assert "未来谷" in response.text and "市北" not in response.text


def test_a_wrong_uscc_check_character_is_shown_beside_the_field_with_everything_typed_kept(
    signed_in: TestClient, db: Session
) -> None:
    response = signed_in.post(
        "/firms",
        data=form(
            name="上海沪北数智科技有限公司",
            uscc=BAD_CHECK_USCC,
            park="jingan",
            area="jingan.daning",
            address="上海市静安区共和新路 1 号",
            founded_on="2019-03-01",
            tags=["链主", "授信白名单"],
            reason="走访新发现",
        ),
    )

    assert response.status_code == 422
    assert "<html" in response.text
    assert field_error(response.text, "uscc") == "统一社会信用代码第 18 位校验码不正确（GB 32100-2015）"
    assert 'aria-invalid="true"' in response.text
    assert input_value(response.text, "name") == "上海沪北数智科技有限公司"
    assert input_value(response.text, "uscc") == BAD_CHECK_USCC
    assert input_value(response.text, "address") == "上海市静安区共和新路 1 号"
    assert input_value(response.text, "founded_on") == "2019-03-01"
    assert input_value(response.text, "reason") == "走访新发现"
    assert selected(response.text, "park") == "jingan" and selected(response.text, "area") == "jingan.daning"
    assert 'value="链主" checked' in response.text and 'value="授信白名单" checked' in response.text
    assert 'value="上市" checked' not in response.text
    assert db.scalar(select(Firm).where(Firm.name == "上海沪北数智科技有限公司")) is None


def test_blank_required_fields_say_required(signed_in: TestClient) -> None:
    response = signed_in.post("/firms", data=form(name="", uscc="", park=""))

    assert response.status_code == 422
    assert field_error(response.text, "name") == "必填"
    assert field_error(response.text, "uscc") == "必填"
    assert field_error(response.text, "park") == "必填"


def test_a_uscc_already_registered_is_shown_beside_the_field(signed_in: TestClient) -> None:
    existing = FirmFactory(name="已登记科技有限公司")

    response = signed_in.post(
        "/firms", data=form(name="重复登记科技有限公司", uscc=existing.uscc, park="jingan")
    )

    assert response.status_code == 422
    assert field_error(response.text, "uscc") == "该统一社会信用代码已登记（已登记科技有限公司）"


def test_an_area_of_another_park_is_refused_beside_the_area(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    login(client, make_user(Role.admin))

    response = client.post(
        "/firms",
        data=form(name="功能区错配有限公司", uscc=GOOD_USCC, park="jingan", area="yangpu.future_valley"),
    )

    assert response.status_code == 422
    assert field_error(response.text, "area") == "功能区不属于所选园区"
    assert db.scalar(select(Firm).where(Firm.uscc == GOOD_USCC)) is None


def test_an_officer_cannot_place_a_firm_in_a_park_they_do_not_serve(signed_in: TestClient) -> None:
    response = signed_in.post("/firms", data=form(name="越权建档有限公司", uscc=GOOD_USCC, park="yangpu"))

    assert response.status_code == 422
    assert field_error(response.text, "park") == "只能把企业归入您负责的园区"


def test_a_valid_form_creates_the_firm_and_lands_on_its_file(
    signed_in: TestClient, db: Session, officer: User
) -> None:
    response = signed_in.post(
        "/firms",
        data=form(
            name="上海沪北数智科技有限公司",
            uscc=GOOD_USCC.lower(),
            park="jingan",
            area="jingan.shibei",
            industry="digital.ai",
            founded_on="2019-03-01",
            joined_on="2020-01-01",
            tags=["瞪羚"],
        ),
        follow_redirects=False,
    )

    assert response.status_code == 303
    firm = db.scalars(select(Firm).where(Firm.uscc == GOOD_USCC)).one()
    assert response.headers["location"] == f"/firms/{firm.id}"
    assert firm.officer_id == officer.id
    membership = db.scalars(select(Membership).where(Membership.firm_id == firm.id)).one()
    assert (membership.park_code, membership.area_code, membership.valid_from) == (
        "jingan",
        "jingan.shibei",
        date(2020, 1, 1),
    )
    assert [t.tag for t in db.scalars(select(FirmTag).where(FirmTag.firm_id == firm.id))] == ["瞪羚"]
    page = signed_in.get(response.headers["location"]).text
    assert "上海沪北数智科技有限公司" in page and "市北" in page and "人工智能" in page


def test_a_leader_cannot_create_a_firm(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    headers = login(client, make_user(Role.leader))

    response = client.post(
        "/firms", data={"name": "领导建档有限公司", "uscc": GOOD_USCC, "park": "jingan"}, headers=headers
    )

    assert response.status_code == 403


# --- edit ------------------------------------------------------------------------------------------------


def edit_form(firm: Firm, **changes: str | list[str]) -> dict[str, str | list[str]]:
    """The edit form as the page fills it for a FirmFactory firm in park jingan, with changes."""
    data: dict[str, str | list[str]] = {
        "version": str(firm.version),
        "name": firm.name,
        "renamed_on": "",
        "uscc": firm.uscc,
        "founded_on": firm.founded_on.isoformat() if firm.founded_on else "",
        "district": "jingan",
        "address": firm.address or "",
        "status": "active",
        "status_since": "",
        "officer_id": "",
        "park": "jingan",
        "area": "",
        "carrier": "",
        "industry": "",
        "moved_on": "",
        "reason": "",
    }
    data.update(changes)
    return form(**data)


def test_the_edit_form_carries_the_version_and_the_current_values(signed_in: TestClient) -> None:
    firm = FirmFactory(name="编辑前科技有限公司", park__area_code="jingan.shibei")

    response = signed_in.get(f"/firms/{firm.id}/edit")

    assert f'<input type="hidden" name="version" value="{firm.version}">' in response.text
    assert input_value(response.text, "name") == "编辑前科技有限公司"
    assert selected(response.text, "park") == "jingan" and selected(response.text, "area") == "jingan.shibei"


def test_a_rename_keeps_the_former_name_on_the_file_and_in_the_search(signed_in: TestClient) -> None:
    firm = FirmFactory(name="上海甲乙网络科技有限公司")

    response = signed_in.post(
        f"/firms/{firm.id}",
        data=edit_form(
            firm,
            name="上海丙丁智能科技有限公司",
            renamed_on=(today() - timedelta(days=3)).isoformat(),
            reason="工商变更登记",
        ),
        follow_redirects=False,
    )

    assert response.status_code == 303 and response.headers["location"] == f"/firms/{firm.id}"
    page = signed_in.get(f"/firms/{firm.id}").text
    summary = page[page.index('id="summary"') : page.index('id="memberships"')]
    assert "上海丙丁智能科技有限公司" in summary and "上海甲乙网络科技有限公司" in summary
    history = page[page.index('id="history"') :]
    assert re.search(
        r'history-old">上海甲乙网络科技有限公司<.*history-new">上海丙丁智能科技有限公司<', history, re.S
    )
    assert "工商变更登记" in history
    found = signed_in.get("/firms", params={"q": "甲乙网络"}).text
    assert "上海丙丁智能科技有限公司" in found


def test_a_stale_version_shows_the_form_again_with_409_and_changes_nothing(
    signed_in: TestClient, db: Session
) -> None:
    firm = FirmFactory(name="原名科技有限公司")
    read_version = firm.version
    first = signed_in.post(
        f"/firms/{firm.id}", data=edit_form(firm, address="甲路 1 号"), follow_redirects=False
    )
    assert first.status_code == 303

    response = signed_in.post(
        f"/firms/{firm.id}",
        data=edit_form(firm, version=str(read_version), name="他人改名科技有限公司", address="乙路 2 号"),
    )

    assert response.status_code == 409
    assert "该企业档案已被他人修改" in response.text
    assert input_value(response.text, "name") == "他人改名科技有限公司"
    assert input_value(response.text, "address") == "乙路 2 号"
    db.expire_all()
    stored = db.get(Firm, firm.id)
    assert stored is not None and stored.name == "原名科技有限公司" and stored.address == "甲路 1 号"


def test_a_refused_edit_leaves_nothing_half_saved(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    firm = FirmFactory(name="半途科技有限公司")
    login(client, make_user(Role.admin))

    # The rename is applied before the area is found not to belong to the park: both must be undone.
    response = client.post(
        f"/firms/{firm.id}", data=edit_form(firm, name="改名后科技有限公司", area="yangpu.future_valley")
    )

    assert response.status_code == 422
    assert field_error(response.text, "area") == "功能区不属于所选园区"
    assert input_value(response.text, "name") == "改名后科技有限公司"
    db.expire_all()
    stored = db.get(Firm, firm.id)
    assert stored is not None and stored.name == "半途科技有限公司"
    assert "改名后" not in client.get(f"/firms/{firm.id}").text


def test_emptying_the_name_is_refused(signed_in: TestClient) -> None:
    firm = FirmFactory()

    response = signed_in.post(f"/firms/{firm.id}", data=edit_form(firm, name=""))

    assert response.status_code == 422
    assert field_error(response.text, "name") == "必填"


def test_a_move_to_another_area_closes_the_old_membership(signed_in: TestClient) -> None:
    firm = FirmFactory(park=False)
    MembershipFactory(firm=firm, park_code="jingan", area_code="jingan.shibei", valid_from=date(2020, 1, 1))
    moved_on = today() - timedelta(days=30)

    response = signed_in.post(
        f"/firms/{firm.id}",
        data=edit_form(firm, area="jingan.daning", moved_on=moved_on.isoformat()),
        follow_redirects=False,
    )

    assert response.status_code == 303
    page = signed_in.get(f"/firms/{firm.id}").text
    memberships = page[page.index('id="memberships"') : page.index('id="contacts"')]
    assert (moved_on - timedelta(days=1)).isoformat() in memberships
    assert memberships.index("大宁") < memberships.index("市北")  # newest first


# --- forms of the file page ---------------------------------------------------------------------------


def test_a_fact_with_a_wrong_value_comes_back_beside_the_value(signed_in: TestClient) -> None:
    firm = FirmFactory()

    response = signed_in.post(
        f"/firms/{firm.id}/facts",
        data=form(key="ip.class1", value="两件", source="officer_verified"),
        headers={"HX-Request": "true", "HX-Target": "facts"},
    )

    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="facts"')
    assert field_error(response.text, "value") == "应为整数"
    assert 'value="两件"' in response.text and '<details class="inline-form" open>' in response.text


def test_a_fact_recorded_in_place_shows_up_with_its_source(signed_in: TestClient) -> None:
    firm = FirmFactory()

    response = signed_in.post(
        f"/firms/{firm.id}/facts",
        data=form(
            key="ip.class1",
            value="6",
            source="department",
            source_department="市知识产权局",
            valid_from="2025-01-01",
        ),
        headers={"HX-Request": "true", "HX-Target": "facts"},
    )

    assert response.status_code == 200
    row = response.text[response.text.index("Ⅰ类知识产权（件）") :]
    row = row[: row.index("</tr>")]
    assert ">6<" in row and "部门数据" in row and "2025-01-01" in row
    assert 'hx-swap-oob="true"' in response.text and "企业事实" in response.text


def test_a_contact_with_a_bad_phone_is_refused_and_a_good_one_added(signed_in: TestClient) -> None:
    firm = FirmFactory()

    bad = signed_in.post(f"/firms/{firm.id}/contacts", data=form(name="李四", phone="打电话"))
    good = signed_in.post(
        f"/firms/{firm.id}/contacts",
        data=form(name="李四", phone="13900001111", is_primary="1"),
        follow_redirects=False,
    )

    assert bad.status_code == 422
    assert field_error(bad.text, "phone") == "格式不正确"
    assert 'value="打电话"' in bad.text
    assert good.status_code == 303 and good.headers["location"] == f"/firms/{firm.id}#contacts"
    assert "139****1111" in signed_in.get(f"/firms/{firm.id}").text


def test_a_recognition_added_in_place_lifts_the_tiers_held_in_the_summary(signed_in: TestClient) -> None:
    firm = FirmFactory()
    issued = today() - timedelta(days=10)

    response = signed_in.post(
        f"/firms/{firm.id}/recognitions",
        data=form(
            tier="srdi_sme",
            kind="first",
            level="municipal",
            certificate_no="ZJTX-001",
            issued_on=issued.isoformat(),
        ),
        headers={"HX-Request": "true", "HX-Target": "recognitions"},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="recognitions"')
    summary = response.text[response.text.index('<section id="summary"') :]
    assert 'hx-swap-oob="true"' in summary[:200]
    assert "专精特新中小企业" in summary and "3 · 专精特新中小企业" in summary


def test_a_revocation_needs_a_reason(signed_in: TestClient) -> None:
    firm = FirmFactory()
    rec = RecognitionFactory(firm=firm)

    response = signed_in.post(
        f"/firms/{firm.id}/recognitions/{rec.id}/revoke",
        data=form(revoked_on=today().isoformat(), revoke_reason=""),
    )

    assert response.status_code == 422
    assert field_error(response.text, "revoke_reason") == "必填"


def test_a_new_year_that_already_exists_for_that_source_is_refused(signed_in: TestClient) -> None:
    firm = FirmFactory()
    FirmYearFactory(firm=firm)

    response = signed_in.post(
        f"/firms/{firm.id}/years",
        data=form(is_new="1", year=str(LAST_YEAR), source="firm_reported", revenue="1"),
        headers={"HX-Request": "true", "HX-Target": "years"},
    )

    assert response.status_code == 422
    assert "已有“企业填报”的数据" in (field_error(response.text, "year") or "")
    assert 'value="1"' in response.text


def test_a_year_whose_parts_exceed_the_whole_is_refused_beside_the_part(signed_in: TestClient) -> None:
    firm = FirmFactory()

    response = signed_in.post(
        f"/firms/{firm.id}/years",
        data=form(
            is_new="1", year=str(LAST_YEAR), source="officer_verified", employees="10", tech_staff="11"
        ),
    )

    assert response.status_code == 422
    assert field_error(response.text, "tech_staff") == "科技人员不能多于职工总数"
    assert "<html" in response.text and 'id="year-form"' in response.text
