"""The firm registry's JSON API: the contract other systems rely on."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry, PersonalDataAccess
from app.auth.models import Role
from app.firms import uscc
from app.firms.models import Firm
from app.web.formatting import today
from tests.factories import ContactFactory, FirmFactory, MembershipFactory, RecognitionFactory

LAST_YEAR = today().year - 1


@pytest.fixture
def officer_headers(make_user: Any, bearer: Any) -> dict[str, str]:
    return bearer(make_user(Role.officer, parks=["jingan"]))  # type: ignore[no-any-return]


def test_name_uscc_and_park_are_enough_to_register_a_firm(
    client: TestClient, officer_headers: dict[str, str]
) -> None:
    code = uscc.build("91310106", "MA7AP101")
    response = client.post(
        "/api/v1/firms",
        json={"name": "沪北数智科技有限公司", "uscc": code.lower(), "park": "jingan"},
        headers=officer_headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["uscc"] == code  # stored upper case
    assert body["park"] == "jingan"
    assert body["tiers_held"] == [] and body["ladder_level"] == 0
    listed = client.get("/api/v1/firms", params={"q": code}, headers=officer_headers).json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert set(item) >= {
        "id",
        "name",
        "uscc",
        "park",
        "area",
        "industry",
        "tiers_held",
        "ladder_level",
        "version",
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91310115MA1H7ABC81", "第 18 位校验码不正确"),
        # A correct 18th character over a wrong organisation-code check character (17th).
        ("91310106MA1H7ABC1" + uscc.stdnum_uscc.calc_check_digit("91310106MA1H7ABC1"), "第 17 位"),
        ("9131010", "应为 18 位"),
    ],
    ids=["wrong GB 32100 check", "wrong GB 11714 check", "too short"],
)
def test_an_invalid_uscc_is_a_422_on_the_uscc_field(
    client: TestClient, officer_headers: dict[str, str], code: str, message: str
) -> None:
    response = client.post(
        "/api/v1/firms",
        json={"name": "校验测试有限公司", "uscc": code, "park": "jingan"},
        headers=officer_headers,
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"][-1] == "uscc"
    assert message in detail[0]["msg"]


def test_a_uscc_already_registered_is_refused(client: TestClient, officer_headers: dict[str, str]) -> None:
    firm = FirmFactory()
    response = client.post(
        "/api/v1/firms",
        json={"name": "重复登记有限公司", "uscc": firm.uscc, "park": "jingan"},
        headers=officer_headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "uscc"
    assert "已登记" in response.json()["detail"][0]["msg"]


def test_missing_fields_get_chinese_messages(client: TestClient, officer_headers: dict[str, str]) -> None:
    response = client.post("/api/v1/firms", json={"name": "缺字段"}, headers=officer_headers)
    assert response.status_code == 422
    by_field = {d["loc"][-1]: d["msg"] for d in response.json()["detail"]}
    assert by_field["uscc"] == "必填" and by_field["park"] == "必填"


def test_a_stale_version_is_409_and_changes_nothing(
    client: TestClient, officer_headers: dict[str, str], db: Session
) -> None:
    firm = FirmFactory(name="旧名科技有限公司")
    read = client.get(f"/api/v1/firms/{firm.id}", headers=officer_headers).json()
    first = client.patch(
        f"/api/v1/firms/{firm.id}",
        json={"version": read["version"], "address": "甲路 1 号"},
        headers=officer_headers,
    )
    assert first.status_code == 200
    assert first.json()["version"] == read["version"] + 1
    stale = client.patch(
        f"/api/v1/firms/{firm.id}",
        json={"version": read["version"], "name": "新名科技有限公司"},
        headers=officer_headers,
    )
    assert stale.status_code == 409
    after = client.get(f"/api/v1/firms/{firm.id}", headers=officer_headers).json()
    assert after["name"] == "旧名科技有限公司"
    assert after["address"] == "甲路 1 号"


def test_a_rename_keeps_the_former_name_searchable(
    client: TestClient, officer_headers: dict[str, str]
) -> None:
    firm = FirmFactory(name="上海甲乙网络科技有限公司")
    client.patch(
        f"/api/v1/firms/{firm.id}",
        json={"version": firm.version, "name": "上海丙丁智能科技有限公司"},
        headers=officer_headers,
    ).raise_for_status()
    body = client.get(f"/api/v1/firms/{firm.id}", headers=officer_headers).json()
    assert body["former_names"] == ["上海甲乙网络科技有限公司"]
    found = client.get("/api/v1/firms", params={"q": "甲乙网络"}, headers=officer_headers).json()
    assert [i["id"] for i in found["items"]] == [firm.id]


def test_a_move_between_parks_keeps_the_history(client: TestClient, make_user: Any, bearer: Any) -> None:
    headers = bearer(make_user(Role.admin))
    firm = FirmFactory(park=False)
    MembershipFactory(firm=firm, park_code="jingan", valid_from=date(2020, 1, 1))
    moved_on = today() - timedelta(days=30)
    client.patch(
        f"/api/v1/firms/{firm.id}",
        json={"version": firm.version, "park": "yangpu", "moved_on": moved_on.isoformat()},
        headers=headers,
    ).raise_for_status()
    now = client.get(f"/api/v1/firms/{firm.id}", headers=headers).json()
    assert now["park"] == "yangpu"
    assert [(m["park"], m["valid_to"]) for m in now["memberships"]] == [
        ("yangpu", None),
        ("jingan", (moved_on - timedelta(days=1)).isoformat()),
    ]
    before = client.get(f"/api/v1/firms/{firm.id}", params={"as_of": "2024-06-30"}, headers=headers).json()
    assert before["park"] == "jingan"


def test_years_take_amounts_as_json_numbers_and_check_coherence(
    client: TestClient, officer_headers: dict[str, str]
) -> None:
    firm = FirmFactory()
    ok = client.put(
        f"/api/v1/firms/{firm.id}/years/{LAST_YEAR}",
        json={"employees": 42, "tech_staff": 18, "revenue": 1800.5, "rd_expense": 260},
        headers=officer_headers,
    )
    assert ok.status_code == 200
    year = next(y for y in ok.json()["years"] if y["year"] == LAST_YEAR)
    assert year["values"]["revenue"] == 1800.5 and year["values"]["employees"] == 42
    assert year["source"] == "officer_verified"

    negative = client.put(
        f"/api/v1/firms/{firm.id}/years/{LAST_YEAR}", json={"revenue": -1}, headers=officer_headers
    )
    assert negative.status_code == 422
    assert negative.json()["detail"][0]["loc"][-1] == "revenue"
    assert negative.json()["detail"][0]["msg"] == "不能小于 0"

    too_many = client.put(
        f"/api/v1/firms/{firm.id}/years/{LAST_YEAR}",
        json={"employees": 10, "tech_staff": 11},
        headers=officer_headers,
    )
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"][-1] == "tech_staff"
    assert "科技人员" in too_many.json()["detail"][0]["msg"]

    future = client.put(
        f"/api/v1/firms/{firm.id}/years/{today().year + 1}", json={"revenue": 1}, headers=officer_headers
    )
    assert future.status_code == 422 and future.json()["detail"][0]["loc"][-1] == "year"


def test_the_effective_fact_follows_source_precedence_and_shows_the_conflict(
    client: TestClient, officer_headers: dict[str, str]
) -> None:
    firm = FirmFactory()
    url = f"/api/v1/firms/{firm.id}/facts"
    client.post(
        url, json={"key": "ip.class1", "value": 5, "source": "firm_reported"}, headers=officer_headers
    )
    body = client.post(
        url,
        json={"key": "ip.class1", "value": 4, "source": "department", "source_department": "市知识产权局"},
        headers=officer_headers,
    ).json()
    effective = {f["key"]: f for f in body["effective_facts"]}
    assert effective["ip.class1"]["value"] == 4 and effective["ip.class1"]["source"] == "department"
    assert effective["ip.class1"]["conflict"] is True
    bad = client.post(url, json={"key": "ip.class1", "value": "两件"}, headers=officer_headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "value"
    unknown = client.post(url, json={"key": "no.such", "value": 1}, headers=officer_headers)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"][-1] == "key"


def test_a_recognition_gets_its_default_expiry_and_lifts_the_ladder_level(
    client: TestClient, officer_headers: dict[str, str]
) -> None:
    firm = FirmFactory()
    issued = today() - timedelta(days=100)
    body = client.post(
        f"/api/v1/firms/{firm.id}/recognitions",
        json={"tier": "hnte", "issued_on": issued.isoformat(), "certificate_no": "GR202631000123"},
        headers=officer_headers,
    ).json()
    rec = body["recognitions"][0]
    assert rec["expires_on"] == (issued.replace(year=issued.year + 3) - timedelta(days=1)).isoformat()
    assert rec["held"] is True
    assert body["tiers_held"] == ["hnte"] and body["ladder_level"] == 2
    listed = client.get("/api/v1/firms", params={"tier": "hnte"}, headers=officer_headers).json()
    assert [i["id"] for i in listed["items"]] == [firm.id]


def test_expired_recognitions_are_not_held(client: TestClient, officer_headers: dict[str, str]) -> None:
    firm = FirmFactory()
    RecognitionFactory(firm=firm, tier="srdi_sme", expired=True)
    body = client.get(f"/api/v1/firms/{firm.id}", headers=officer_headers).json()
    assert body["tiers_held"] == [] and body["recognitions"][0]["held"] is False
    assert (
        client.get("/api/v1/firms", params={"tier": "srdi_sme"}, headers=officer_headers).json()["total"] == 0
    )


def test_limit_is_capped_at_500(client: TestClient, officer_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/firms", params={"limit": 501}, headers=officer_headers).status_code == 422
    assert client.get("/api/v1/firms", params={"limit": 500}, headers=officer_headers).status_code == 200


def test_pagination_reports_the_total(client: TestClient, officer_headers: dict[str, str]) -> None:
    for i in range(7):
        FirmFactory(name=f"分页测试{i}号科技有限公司")
    first = client.get("/api/v1/firms", params={"q": "分页测试", "limit": 5}, headers=officer_headers).json()
    second = client.get(
        "/api/v1/firms", params={"q": "分页测试", "limit": 5, "offset": 5}, headers=officer_headers
    ).json()
    assert first["total"] == second["total"] == 7
    assert len(first["items"]) == 5 and len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_every_change_is_audited_with_actor_channel_and_reason(
    client: TestClient, make_user: Any, bearer: Any, db: Session
) -> None:
    officer = make_user(Role.officer, parks=["jingan"], display_name="李专员")
    headers = bearer(officer)
    firm = FirmFactory(address="旧地址")
    client.patch(
        f"/api/v1/firms/{firm.id}",
        json={"version": firm.version, "address": "新地址", "reason": "企业搬迁"},
        headers=headers,
    ).raise_for_status()
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.firm_id == firm.id, AuditEntry.field == "address")
    ).one()
    assert (entry.old_value, entry.new_value) == ("旧地址", "新地址")
    assert entry.actor_id == officer.id and "李专员" in entry.actor_label
    assert entry.channel == "api" and entry.reason == "企业搬迁"
    history = client.get(f"/api/v1/firms/{firm.id}/history", headers=headers).json()
    line = next(x for x in history["items"] if x["field"] == "地址")
    assert (line["old"], line["new"], line["channel"]) == ("旧地址", "新地址", "接口")


def test_the_audit_trail_cannot_be_edited(db: Session) -> None:
    firm = FirmFactory()
    firm.address = "改一改"
    db.flush()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.firm_id == firm.id)).first()
    assert entry is not None
    entry.new_value = "篡改"
    with pytest.raises(Exception, match="审计记录不可修改"):
        db.flush()


@pytest.mark.parametrize(("role", "sees_full"), [("officer", True), ("admin", True), ("leader", False)])
def test_personal_data_is_masked_unless_revealed_by_a_permitted_role_and_the_view_is_logged(
    client: TestClient, make_user: Any, bearer: Any, db: Session, role: str, sees_full: bool
) -> None:
    firm = FirmFactory()
    ContactFactory(firm=firm, phone="13812345678", id_number="310101199001011234")
    user = make_user(Role(role), parks=["jingan"] if role == "officer" else [])
    headers = bearer(user)
    masked = client.get(f"/api/v1/firms/{firm.id}", headers=headers).json()["contacts"][0]
    assert masked["phone"] == "138****5678" and masked["id_number"] == "3101**********1234"
    assert db.scalars(select(PersonalDataAccess).where(PersonalDataAccess.firm_id == firm.id)).all() == []
    revealed = client.get(
        f"/api/v1/firms/{firm.id}", params={"reveal_personal": "true"}, headers=headers
    ).json()["contacts"][0]
    logged = db.scalars(select(PersonalDataAccess).where(PersonalDataAccess.firm_id == firm.id)).all()
    if sees_full:
        assert revealed["phone"] == "13812345678" and revealed["masked"] is False
        assert [(x.user_id, x.action) for x in logged] == [(user.id, "view")]
    else:
        assert revealed["phone"] == "138****5678" and logged == []


def test_personal_data_never_enters_the_audit_trail_in_clear(db: Session) -> None:
    firm = FirmFactory()
    ContactFactory(firm=firm, phone="13812345678", id_number="310101199001011234")
    db.flush()
    texts = " ".join(
        e.new_value or "" for e in db.scalars(select(AuditEntry).where(AuditEntry.entity == "contacts"))
    )
    assert "13812345678" not in texts and "310101199001011234" not in texts
    assert "5678" in texts


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_firm_file_holds_every_contract_fact(
    client: TestClient, officer_headers: dict[str, str], db: Session
) -> None:
    from app.indicators.facts import FACT_DEFS

    firm = FirmFactory()
    samples = {"bool": True, "date": "2021-05-10", "int": 2, "decimal": "14.5", "choice": "provincial"}
    for defn in FACT_DEFS:
        r = client.post(
            f"/api/v1/firms/{firm.id}/facts",
            json={"key": defn.key, "value": samples[defn.kind]},
            headers=officer_headers,
        )
        assert r.status_code == 201, (defn.key, r.json())
    body = client.get(f"/api/v1/firms/{firm.id}", headers=officer_headers).json()
    assert {f["key"] for f in body["effective_facts"]} == {d.key for d in FACT_DEFS}
    assert db.get(Firm, firm.id) is not None


def test_the_database_itself_refuses_to_alter_the_audit_trail(db: Session) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    FirmFactory()
    db.flush()
    with pytest.raises(DBAPIError, match="read-only"), db.begin_nested():
        db.execute(text("UPDATE audit_entries SET new_value = 'x'"))
    with pytest.raises(DBAPIError, match="read-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_entries"))


def test_the_history_reads_in_chinese_labels_not_codes(
    client: TestClient, officer_headers: dict[str, str]
) -> None:
    firm = FirmFactory()
    client.post(
        f"/api/v1/firms/{firm.id}/recognitions",
        json={"tier": "hnte", "issued_on": "2025-12-01"},
        headers=officer_headers,
    ).raise_for_status()
    client.post(
        f"/api/v1/firms/{firm.id}/facts",
        json={"key": "rd_institution", "value": "municipal", "source": "firm_reported"},
        headers=officer_headers,
    ).raise_for_status()
    items = client.get(f"/api/v1/firms/{firm.id}/history", headers=officer_headers).json()["items"]
    recognition = next(x for x in items if x["entity"] == "认定")
    assert "梯度：高新技术企业" in recognition["new"] and "hnte" not in recognition["new"]
    fact = next(x for x in items if x["entity"] == "企业事实")
    assert "研发机构级别" in fact["new"] and "取值：市级" in fact["new"] and "来源：企业填报" in fact["new"]


def test_after_a_move_the_firm_belongs_to_the_new_parks_officers(
    client: TestClient, make_user: Any, bearer: Any
) -> None:
    firm = FirmFactory(park="jingan")
    jingan, yangpu = (
        bearer(make_user(Role.officer, parks=["jingan"])),
        bearer(make_user(Role.officer, parks=["yangpu"])),
    )
    assert client.get(f"/api/v1/firms/{firm.id}", headers=yangpu).status_code == 404
    admin = bearer(make_user(Role.admin))
    client.patch(
        f"/api/v1/firms/{firm.id}", json={"version": firm.version, "park": "yangpu"}, headers=admin
    ).raise_for_status()
    assert client.get(f"/api/v1/firms/{firm.id}", headers=jingan).status_code == 404
    assert client.get(f"/api/v1/firms/{firm.id}", headers=yangpu).json()["park"] == "yangpu"
    listed = client.get("/api/v1/firms", params={"park": "yangpu"}, headers=admin).json()
    assert firm.id in {i["id"] for i in listed["items"]}


def test_a_move_cannot_be_dated_in_the_future(client: TestClient, make_user: Any, bearer: Any) -> None:
    firm = FirmFactory(park="jingan")
    response = client.patch(
        f"/api/v1/firms/{firm.id}",
        json={
            "version": firm.version,
            "park": "yangpu",
            "moved_on": (today() + timedelta(days=3)).isoformat(),
        },
        headers=bearer(make_user(Role.admin)),
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "moved_on"
