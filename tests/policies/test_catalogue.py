"""The policy catalogue: who reads and edits it, the edit form's Chinese errors, the what-if preview
before saving, 申报 pushes, and policy matching in the eligibility contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.indicators.models import Source
from app.policies.models import Policy, PolicyExclusion, PolicyPush, PushStatus
from app.recognitions.models import RecognitionKind
from app.web.formatting import today
from tests.factories import FactObservationFactory, FirmFactory, FirmYearFactory, RecognitionFactory
from tests.policies.factories import PolicyFactory

Login = Callable[[TestClient, User], dict[str, str]]
Bearer = Callable[[User], dict[str, str]]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.admin)


def form_of(policy: Policy, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": policy.name,
        "issuer": policy.issuer,
        "level": policy.level,
        "districts": list(policy.districts),
        "document_no": policy.document_no,
        "effective_from": policy.effective_from.isoformat(),
        "mode": policy.mode,
        "amount_kind": policy.amount_kind,
        "amount_fixed": str(policy.amount_fixed or ""),
        "event_tier": policy.event_tier or "",
        "event_kinds": list(policy.event_kinds),
        "criteria": "",
        "version": str(policy.version),
    }
    data.update(changes)
    return data


def test_the_policies_api_lists_the_catalogue_for_staff_only(
    client: TestClient, bearer: Bearer, make_user: Callable[..., User]
) -> None:
    PolicyFactory(
        code="jingan_hnte_first_x", name="静安区高企首次认定奖励", document_no="静科委规〔2025〕1号"
    )
    officer = make_user(Role.officer, parks=["hongkou"])

    items = client.get("/api/v1/policies", headers=bearer(officer)).json()

    item = next(i for i in items if i["code"] == "jingan_hnte_first_x")
    assert {
        k: item[k] for k in ("code", "name", "mode", "document_no", "effective_from", "effective_to")
    } == {
        "code": "jingan_hnte_first_x",
        "name": "静安区高企首次认定奖励",
        "mode": "auto_grant",
        "document_no": "静科委规〔2025〕1号",
        "effective_from": "2024-01-01",
        "effective_to": None,
    }
    assert client.get("/api/v1/policies").status_code == 401


def test_officers_read_the_catalogue_but_only_admins_edit_it(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    policy = PolicyFactory(name="静安区测试条目")
    officer = make_user(Role.officer, parks=["jingan"])
    headers = login(client, officer)

    assert "静安区测试条目" in client.get("/policies").text
    assert client.get(f"/policies/{policy.code}").status_code == 200
    assert client.get(f"/policies/{policy.code}/edit").status_code == 403
    assert (
        client.post(f"/policies/{policy.code}/edit", data=form_of(policy), headers=headers).status_code == 403
    )


def test_an_invalid_edit_keeps_what_was_typed_and_says_what_is_wrong_beside_each_field(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    policy = PolicyFactory(name="原名称")
    headers = login(client, admin)

    response = client.post(
        f"/policies/{policy.code}/edit",
        data=form_of(
            policy,
            name="新名称",
            amount_fixed="二十",
            effective_from="2026/01/01",
            criteria="- {id: x, label: 条件, citation: 出处, test: {is: [{fact: no_such_fact}, true]}}",
        ),
        headers=headers,
    )

    assert response.status_code == 422
    assert "请输入数字（万元）" in response.text
    assert "日期格式应为 YYYY-MM-DD" in response.text
    assert 'value="新名称"' in response.text
    db.refresh(policy)
    assert policy.name == "原名称"

    vocab = client.post(
        f"/policies/{policy.code}/edit",
        data=form_of(
            policy,
            criteria="- {id: x, label: 条件, citation: 出处, test: {is: [{fact: no_such_fact}, true]}}",
        ),
        headers=headers,
    )
    assert vocab.status_code == 422 and "未知事实 no_such_fact" in vocab.text


def test_the_what_if_names_the_firms_that_would_gain_or_lose_the_item_before_anything_is_saved(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    policy = PolicyFactory(name="静安区测试奖励", amount_fixed=Decimal("20"))
    keeps = FirmFactory(name="上海保留科技有限公司")
    RecognitionFactory(firm=keeps, tier="hnte", kind=RecognitionKind.first, issued_on=today())
    FirmYearFactory(firm=keeps, year=today().year - 1, employees=120, source=Source.department)
    loses = FirmFactory(name="上海将失去科技有限公司")
    RecognitionFactory(firm=loses, tier="hnte", kind=RecognitionKind.first, issued_on=today())
    FirmYearFactory(firm=loses, year=today().year - 1, employees=30, source=Source.department)
    gains = FirmFactory(name="上海将新增科技有限公司")
    RecognitionFactory(firm=gains, tier="hnte", kind=RecognitionKind.renewal, issued_on=today())
    FirmYearFactory(firm=gains, year=today().year - 1, employees=300, source=Source.department)
    headers = login(client, admin)
    draft = form_of(
        policy,
        amount_fixed="25",
        event_kinds=["first", "renewal"],
        criteria=(
            "- {id: staff, label: 上年职工不少于 50 人, citation: 测试文号,"
            " test: {cmp: [{year: employees}, '>=', 50]}}"
        ),
    )

    preview = client.post(
        f"/policies/{policy.code}/what-if",
        data=draft,
        headers={**headers, "HX-Request": "true", "HX-Target": "policy-impact"},
    )

    assert preview.status_code == 200
    assert "<html" not in preview.text
    text = preview.text
    gained = text.split("将新增享受")[1].split("</ul>")[0]
    lost = text.split("将失去资格")[1].split("</ul>")[0]
    changed = text.split("金额变化（")[1].split("</ul>")[0]
    assert "上海将新增科技有限公司" in gained
    assert "上海将失去科技有限公司" in lost
    assert "上海保留科技有限公司" in changed and "20 → 25" in changed
    assert "40 → <strong>50</strong>" in text
    db.refresh(policy)
    assert policy.amount_fixed == Decimal("20") and policy.criteria == []  # nothing saved

    saved = client.post(f"/policies/{policy.code}/edit", data=draft, headers=headers, follow_redirects=False)
    assert saved.status_code == 303
    db.refresh(policy)
    assert policy.amount_fixed == Decimal("25") and policy.event_kinds == ["first", "renewal"]
    change = db.scalar(
        select(AuditEntry).where(AuditEntry.entity == "policies", AuditEntry.field == "amount_fixed")
    )
    assert change is not None and (change.old_value, change.new_value) == ("20", "25")


def test_an_admin_creates_a_policy_item(client: TestClient, login: Login, admin: User, db: Session) -> None:
    headers = login(client, admin)
    data = {
        "code": "hongkou_test_item",
        "name": "虹口区测试条目",
        "issuer": "虹口区科委",
        "level": "district",
        "districts": ["hongkou"],
        "document_no": "虹科规〔2026〕1号",
        "effective_from": "2026-01-01",
        "mode": "auto_grant",
        "amount_kind": "fixed",
        "amount_fixed": "10",
        "event_tier": "srdi_sme",
        "event_kinds": ["first"],
        "budget_year": str(today().year),
        "budget_total": "150",
    }

    missing_district = client.post("/policies/new", data={**data, "districts": []}, headers=headers)
    created = client.post("/policies/new", data=data, headers=headers, follow_redirects=False)

    assert missing_district.status_code == 422 and "区级条目须选择适用的区" in missing_district.text
    assert created.status_code == 303 and created.headers["location"] == "/policies/hongkou_test_item"
    page = client.get("/policies/hongkou_test_item").text
    assert "虹口区测试条目" in page and "150" in page


def test_an_apply_item_is_pushed_to_matching_firms_with_their_gaps_and_officers_see_who_applied(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    policy = PolicyFactory(
        apply=True,
        name="科技型中小企业技术创新资金",
        districts=[],
        apply_deadline=today() + timedelta(days=30),
        criteria=[
            {
                "id": "holds_tech_sme",
                "label": "已入库科技型中小企业",
                "citation": "指南",
                "test": {"is": [{"held": "tech_sme"}, True]},
            },
            {
                "id": "rd",
                "label": "上年研发费用不少于 100 万元",
                "citation": "指南",
                "test": {
                    "cmp": [{"year": "rd_expense"}, ">=", 100],
                    "gap": {"label": "上年研发费用", "unit": "万元"},
                },
            },
        ],
    )
    ready = FirmFactory(name="上海符合申报科技有限公司")
    RecognitionFactory(
        firm=ready, tier="tech_sme", kind=RecognitionKind.first, issued_on=today() - timedelta(days=30)
    )
    FirmYearFactory(firm=ready, year=today().year - 1, rd_expense=Decimal("150"), source=Source.department)
    missing = FirmFactory(name="上海缺资料科技有限公司")
    RecognitionFactory(
        firm=missing, tier="tech_sme", kind=RecognitionKind.first, issued_on=today() - timedelta(days=30)
    )
    FirmFactory(name="上海不符合科技有限公司")  # holds no 科技型: not pushed
    FirmFactory(name="上海杨浦申报科技有限公司", park="yangpu")  # outside the officer's parks
    officer = make_user(Role.officer, parks=["jingan"])
    headers = login(client, officer)

    page = client.get(f"/policies/{policy.code}/pushes")
    assert "上海符合申报科技有限公司" in page.text and "上海缺资料科技有限公司" in page.text
    assert "上海不符合科技有限公司" not in page.text and "上海杨浦申报科技有限公司" not in page.text
    assert f"需补充：{today().year - 1} 年研发费用" in page.text.split("上海缺资料科技有限公司")[1]

    client.post(f"/policies/{policy.code}/pushes", headers=headers)
    pushes = {p.firm_id: p for p in db.scalars(select(PolicyPush).where(PolicyPush.policy_id == policy.id))}
    assert set(pushes) == {ready.id, missing.id}
    assert pushes[ready.id].match_status == "eligible" and pushes[ready.id].gaps == []
    assert pushes[missing.id].match_status == "insufficient_data" and pushes[missing.id].gaps
    assert pushes[ready.id].deadline == policy.apply_deadline
    again = client.post(f"/policies/{policy.code}/pushes", headers=headers, follow_redirects=False)
    assert "没有需要新推送的企业" in client.get(again.headers["location"]).text

    client.post(f"/policy-pushes/{pushes[ready.id].id}", data={"status": "applied"}, headers=headers)
    db.refresh(pushes[ready.id])
    assert pushes[ready.id].status == PushStatus.applied and pushes[ready.id].applied_on == today()


def test_the_eligibility_contract_lists_the_items_a_firm_matches_in_its_district(
    client: TestClient, db: Session
) -> None:
    PolicyFactory(code="jingan_first_hnte_c", name="静安区高企首次认定奖励")
    PolicyFactory(code="hongkou_first_hnte_c", districts=["hongkou"], name="虹口区高企首次认定奖励")
    PolicyFactory(
        code="loan_c",
        apply=True,
        districts=[],
        name="高企贷",
        criteria=[
            {
                "id": "hnte",
                "label": "持有高企",
                "citation": "指南",
                "test": {"is": [{"held": "hnte"}, True]},
            },
            {
                "id": "abn",
                "label": "无异常",
                "citation": "指南",
                "test": {"is": [{"fact": "lists.abnormal"}, False]},
            },
        ],
    )
    as_of = date(2026, 9, 15)
    body = {
        "as_of": as_of.isoformat(),
        "firm": {
            "name": "沪芯微测科技有限公司",
            "district": "jingan",
            "park": "jingan",
            "founded_on": "2021-05-10",
            "recognitions": [
                {"tier": "hnte", "kind": "first", "issued_on": "2026-03-10", "expires_on": "2029-03-09"}
            ],
        },
    }

    response = client.post("/api/v1/eligibility", json=body)

    assert response.status_code == 200
    policies = {p["code"]: p for p in response.json()["policies"]}
    assert policies["jingan_first_hnte_c"] == {
        "code": "jingan_first_hnte_c",
        "name": "静安区高企首次认定奖励",
        "mode": "auto_grant",
        "status": "eligible",
    }
    assert policies["loan_c"]["mode"] == "apply" and policies["loan_c"]["status"] == "insufficient_data"
    assert "hongkou_first_hnte_c" not in policies


def test_a_stored_firm_is_matched_from_its_file(
    client: TestClient, bearer: Bearer, make_user: Callable[..., User]
) -> None:
    PolicyFactory(code="stored_first_c")
    firm = FirmFactory(name="上海已登记科技有限公司")
    RecognitionFactory(firm=firm, tier="hnte", kind=RecognitionKind.first, issued_on=today())
    FactObservationFactory(firm=firm, key="lists.dishonest", value=False, source=Source.department)
    officer = make_user(Role.officer, parks=["jingan"])

    response = client.post(
        "/api/v1/eligibility",
        json={"as_of": today().isoformat(), "firm_id": firm.id},
        headers=bearer(officer),
    )

    assert response.status_code == 200
    assert [p["code"] for p in response.json()["policies"] if p["code"] == "stored_first_c"] == [
        "stored_first_c"
    ]


def test_the_firm_file_loads_its_policy_section_with_matches_and_grants(
    client: TestClient, bearer: Bearer, login: Login, make_user: Callable[..., User]
) -> None:
    policy = PolicyFactory(name="静安区文件页测试奖励")
    firm = FirmFactory(name="上海文件页科技有限公司")
    RecognitionFactory(firm=firm, tier="hnte", kind=RecognitionKind.first, issued_on=today())
    officer = make_user(Role.officer, parks=["jingan"])
    run = client.post(
        "/api/v1/grant-runs",
        json={"policy_code": policy.code, "period": str(today().year)},
        headers=bearer(officer),
    ).json()
    client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=bearer(officer),
    )
    login(client, officer)

    file_page = client.get(f"/firms/{firm.id}")
    fragment = client.get(
        f"/firms/{firm.id}/policies", headers={"HX-Request": "true", "HX-Target": "firm-policies"}
    )
    outsider = make_user(Role.officer, parks=["hongkou"])
    login(client, outsider)
    hidden = client.get(f"/firms/{firm.id}/policies")

    assert f'hx-get="/firms/{firm.id}/policies"' in file_page.text
    assert fragment.status_code == 200 and "<html" not in fragment.text
    granted = fragment.text.split("兑现记录")[1]
    assert "静安区文件页测试奖励" in granted and "待企业确认" in granted
    assert hidden.status_code == 404


def test_the_public_self_check_shows_the_policies_the_typed_facts_match(client: TestClient) -> None:
    PolicyFactory(name="静安区自测页测试奖励")
    form = {
        "as_of": today().isoformat(),
        "name": "自测企业",
        "district": "jingan",
        "park": "jingan",
        "recognitions.given": "listed",
        "recognitions.0.tier": "hnte",
        "recognitions.0.kind": "first",
        "recognitions.0.issued_on": today().isoformat(),
    }

    response = client.post("/self-check", data=form)

    assert response.status_code == 200, response.text[:500]
    section = response.text.split("可享受的政策")[1]
    assert "静安区自测页测试奖励" in section and "符合条件" in section


def test_an_admin_sets_which_items_cannot_be_combined_and_a_stale_edit_is_refused(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    policy = PolicyFactory(name="静安区首次认定奖励（兼得测试）")
    other = PolicyFactory(code="moved_in_award_t", name="静安区带证迁入奖励（兼得测试）")
    headers = login(client, admin)

    saved = client.post(
        f"/policies/{policy.code}/edit",
        data=form_of(policy, excludes=[other.code], name="静安区首次认定奖励（已改名）"),
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    pairs = db.scalars(select(PolicyExclusion)).all()
    assert {(p.policy_id, p.other_id) for p in pairs} == {(policy.id, other.id)}
    assert "静安区首次认定奖励（已改名）" in client.get(f"/policies/{other.code}").text  # shown on both items

    stale = client.post(
        f"/policies/{policy.code}/edit", data=form_of(policy, version="1", name="过期的修改"), headers=headers
    )
    assert stale.status_code == 422 and "已被他人修改" in stale.text
    db.refresh(policy)
    assert policy.name == "静安区首次认定奖励（已改名）"

    cleared = client.post(
        f"/policies/{policy.code}/edit",
        data=form_of(policy, version=str(policy.version)),
        headers=headers,
        follow_redirects=False,
    )
    assert cleared.status_code == 303
    assert db.scalars(select(PolicyExclusion)).all() == []
