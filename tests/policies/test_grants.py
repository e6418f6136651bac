"""免申即享 grant runs end to end over HTTP: matching with evidence, decisions, refusals (budget, duplicate,
exclusion, reason), confirmation → payment → 公示 and its export; the JSON contracts of issue 4."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.indicators.models import Source
from app.policies.models import Grant, GrantStatus, PolicyExclusion
from app.recognitions.models import RecognitionKind
from app.web.formatting import today
from tests.factories import FactObservationFactory, FirmFactory, FirmYearFactory, RecognitionFactory
from tests.policies.factories import PolicyBudgetFactory, PolicyFactory

Login = Callable[[TestClient, User], dict[str, str]]
Bearer = Callable[[User], dict[str, str]]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.admin)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="静安专员")


def first_hnte(name: str, *, days_ago: int = 0, district: str = "jingan", park: str = "jingan", **kw: object):
    firm = FirmFactory(name=name, district_code=district, park=park)
    issued = today() - timedelta(days=days_ago)
    RecognitionFactory(firm=firm, tier="hnte", kind=RecognitionKind.first, issued_on=issued, **kw)
    return firm


def start(client: TestClient, headers: dict[str, str], code: str, period: str | None = None) -> dict:
    response = client.post(
        "/api/v1/grant-runs",
        json={"policy_code": code, "period": period or str(today().year)},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_run_lists_every_firm_first_recognised_in_the_period_with_its_evidence_and_amount(
    client: TestClient, bearer: Bearer, admin: User
) -> None:
    policy = PolicyFactory(code="jingan_hnte_first_t")
    fresh = first_hnte("上海市北数智科技有限公司")
    first_hnte("上海去年认定科技有限公司", days_ago=400)  # last year's event is not this period's
    renewed = FirmFactory(name="上海重新认定科技有限公司")
    RecognitionFactory(firm=renewed, tier="hnte", kind=RecognitionKind.renewal, issued_on=today())
    first_hnte(
        "上海虹口注册科技有限公司", district="hongkou", park="hongkou"
    )  # a 静安区 item never reaches it

    run = start(client, bearer(admin), policy.code)

    assert [c["firm_id"] for c in run["candidates"]] == [fresh.id]
    candidate = run["candidates"][0]
    assert candidate["uscc"] == fresh.uscc
    assert candidate["amount"] == 20
    assert candidate["event"].startswith("recognition:")
    assert "高新技术企业首次认定" in candidate["event_label"]
    trigger = candidate["evidence"]["criteria"][0]
    assert trigger["outcome"] == "pass" and "首次认定 1 次" in trigger["detail"]


def test_decisions_need_a_reason_to_reject_and_are_all_or_nothing(
    client: TestClient, bearer: Bearer, admin: User, db: Session
) -> None:
    policy = PolicyFactory()
    a, b = first_hnte("上海甲科技有限公司"), first_hnte("上海乙科技有限公司")
    headers = bearer(admin)
    run = start(client, headers, policy.code)

    refused = client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": a.id, "decision": "approve"}, {"firm_id": b.id, "decision": "reject"}],
        headers=headers,
    )

    assert refused.status_code == 422
    assert "驳回须填写理由" in refused.text
    assert (
        db.scalar(select(func.count()).select_from(Grant)) == 0
    )  # the approval in the same batch did not land

    ok = client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[
            {"firm_id": a.id, "decision": "approve"},
            {"firm_id": b.id, "decision": "reject", "reason": "企业已迁出本区"},
        ],
        headers=headers,
    )
    assert ok.status_code == 200
    by_firm = {c["firm_id"]: c for c in ok.json()["candidates"]}
    assert by_firm[a.id]["decision"] == "approve"
    assert by_firm[b.id]["decision"] == "reject" and by_firm[b.id]["reason"] == "企业已迁出本区"
    grants = client.get(
        f"/api/v1/grants?policy_code={policy.code}&period={today().year}", headers=headers
    ).json()
    assert [(g["firm_id"], g["status"], g["amount"]) for g in grants["items"]] == [
        (a.id, "pending_confirmation", 20)
    ]
    audited = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "grant_candidates", AuditEntry.field == "decision")
    ).all()
    assert {(e.old_value, e.new_value) for e in audited} == {("pending", "approve"), ("pending", "reject")}


def test_running_twice_never_pays_twice(client: TestClient, bearer: Bearer, admin: User) -> None:
    policy = PolicyFactory()
    firm = first_hnte("上海只兑一次科技有限公司")
    headers = bearer(admin)
    run = start(client, headers, policy.code)
    client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=headers,
    )

    again = start(client, headers, policy.code, f"{today().year}-2")

    assert again["candidates"] == []
    assert again["skipped"] == {"already_granted": 1}
    # Deciding the first run again is refused too.
    twice = client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=headers,
    )
    assert twice.status_code == 409


def test_an_approval_beyond_the_budget_is_refused_and_nothing_is_granted(
    client: TestClient, bearer: Bearer, admin: User, db: Session
) -> None:
    policy = PolicyFactory()
    PolicyBudgetFactory(policy_id=policy.id, year=today().year, total=Decimal("25"))
    a, b = first_hnte("上海预算一科技有限公司"), first_hnte("上海预算二科技有限公司")
    headers = bearer(admin)
    run = start(client, headers, policy.code)
    assert run["budget"] == {"year": today().year, "total": 25, "used": 0, "warning": None}

    response = client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": a.id, "decision": "approve"}, {"firm_id": b.id, "decision": "approve"}],
        headers=headers,
    )

    assert response.status_code == 422
    assert "预算不足" in response.text
    assert db.scalar(select(func.count()).select_from(Grant)) == 0
    one = client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": a.id, "decision": "approve"}],
        headers=headers,
    )
    assert one.json()["budget"]["used"] == 20
    assert one.json()["budget"]["warning"] == "预算已使用 70% 以上"


def test_two_items_that_exclude_each_other_never_both_pay_for_the_same_event(
    client: TestClient, bearer: Bearer, admin: User, db: Session
) -> None:
    first = PolicyFactory(code="pkg_first")
    other = PolicyFactory(code="pkg_other", amount_fixed=Decimal("15"))
    db.add(PolicyExclusion(policy_id=first.id, other_id=other.id))
    firm = first_hnte("上海不可兼得科技有限公司")
    headers = bearer(admin)
    run_a = start(client, headers, first.code)
    run_b = start(client, headers, other.code)  # listed before anything was paid

    client.post(
        f"/api/v1/grant-runs/{run_a['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=headers,
    )
    refused = client.post(
        f"/api/v1/grant-runs/{run_b['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=headers,
    )

    assert refused.status_code == 409
    assert "不可兼得" in refused.text
    assert start(client, headers, other.code)["skipped"] == {"excluded": 1}


def test_a_rate_amount_is_capped_and_an_unknown_base_keeps_the_firm_out(
    client: TestClient, bearer: Bearer, admin: User
) -> None:
    policy = PolicyFactory(
        event_tier="little_giant",
        amount_kind="rate",
        amount_fixed=None,
        amount_rate_pct=Decimal("10"),
        amount_base="rd_expense",
        amount_cap=Decimal("100"),
    )
    big = FirmFactory(name="上海研发大户科技有限公司")
    RecognitionFactory(firm=big, tier="little_giant", kind=RecognitionKind.first, issued_on=today())
    FirmYearFactory(firm=big, year=today().year - 1, rd_expense=Decimal("1500"), source=Source.department)
    small = FirmFactory(name="上海研发小户科技有限公司")
    RecognitionFactory(firm=small, tier="little_giant", kind=RecognitionKind.first, issued_on=today())
    FirmYearFactory(
        firm=small, year=today().year - 1, rd_expense=Decimal("420.5"), source=Source.firm_reported
    )
    unknown = FirmFactory(name="上海研发未知科技有限公司")
    RecognitionFactory(firm=unknown, tier="little_giant", kind=RecognitionKind.first, issued_on=today())

    run = start(client, bearer(admin), policy.code)

    by_firm = {c["firm_id"]: c for c in run["candidates"]}
    assert by_firm[big.id]["amount"] == 100
    assert "按上限 100 万元" in by_firm[big.id]["evidence"]["amount"]
    assert by_firm[small.id]["amount"] == 42.05
    assert by_firm[small.id]["risk_level"] == "medium"  # R&D only reported by the firm itself
    assert any("仅企业填报" in r for r in by_firm[small.id]["risks"])
    assert unknown.id not in by_firm
    assert run["skipped"] == {"insufficient_data": 1}


def test_conflicting_sources_make_a_high_risk_and_a_failed_credit_check_keeps_the_firm_out(
    client: TestClient, bearer: Bearer, admin: User
) -> None:
    policy = PolicyFactory(
        criteria=[
            {
                "id": "not_dishonest",
                "label": "未列入严重失信主体名单",
                "citation": "沪府办字〔2022〕4号",
                "test": {"is": [{"fact": "lists.dishonest"}, False]},
            }
        ]
    )
    clean = first_hnte("上海诚信科技有限公司")
    FactObservationFactory(firm=clean, key="lists.dishonest", value=False, source=Source.department)
    disputed = first_hnte("上海有争议科技有限公司")
    FactObservationFactory(firm=disputed, key="lists.dishonest", value=False, source=Source.department)
    FactObservationFactory(firm=disputed, key="lists.dishonest", value=True, source=Source.firm_reported)
    dishonest = first_hnte("上海失信科技有限公司")
    FactObservationFactory(firm=dishonest, key="lists.dishonest", value=True, source=Source.department)

    run = start(client, bearer(admin), policy.code)

    by_firm = {c["firm_id"]: c for c in run["candidates"]}
    assert set(by_firm) == {clean.id, disputed.id}
    assert by_firm[clean.id]["risk_level"] == "low"
    assert by_firm[disputed.id]["risk_level"] == "high"
    assert run["skipped"] == {"ineligible": 1}


def test_a_moved_in_event_is_the_day_the_firm_joined_with_a_valid_certificate(
    client: TestClient, bearer: Bearer, admin: User
) -> None:
    policy = PolicyFactory(event_kinds=["moved_in"])
    joined = today()
    mover = FirmFactory(name="上海带证迁入科技有限公司", park="jingan", park__valid_from=joined)
    RecognitionFactory(
        firm=mover, tier="hnte", kind=RecognitionKind.moved_in, issued_on=joined - timedelta(days=500)
    )
    old = FirmFactory(
        name="上海早年迁入科技有限公司", park="jingan", park__valid_from=joined - timedelta(days=800)
    )
    RecognitionFactory(
        firm=old, tier="hnte", kind=RecognitionKind.moved_in, issued_on=joined - timedelta(days=900)
    )

    run = start(client, bearer(admin), policy.code)

    assert [c["firm_id"] for c in run["candidates"]] == [mover.id]
    assert run["candidates"][0]["event_label"].startswith(joined.isoformat())


def test_the_firm_annual_cap_limits_what_one_firm_receives(
    client: TestClient, bearer: Bearer, admin: User
) -> None:
    policy = PolicyFactory(event_kinds=["first", "renewal"], firm_annual_cap=Decimal("30"))
    firm = FirmFactory(name="上海两次认定科技有限公司")
    RecognitionFactory(firm=firm, tier="hnte", kind=RecognitionKind.first, issued_on=today())
    headers = bearer(admin)
    run = start(client, headers, policy.code)
    client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=headers,
    )
    RecognitionFactory(
        firm=firm, tier="hnte", kind=RecognitionKind.renewal, issued_on=today(), certificate_no="GR2026X"
    )

    second = start(client, headers, policy.code)

    assert [(c["firm_id"], c["amount"]) for c in second["candidates"]] == [(firm.id, 10)]


def test_officers_run_and_decide_only_in_their_parks_and_leaders_only_read(
    client: TestClient, bearer: Bearer, admin: User, make_user: Callable[..., User]
) -> None:
    policy = PolicyFactory(districts=[])
    jingan = first_hnte("上海静安园科技有限公司")
    yangpu = first_hnte("上海杨浦园科技有限公司", park="yangpu", district="yangpu")
    officer_yangpu = make_user(Role.officer, parks=["yangpu"])
    leader = make_user(Role.leader)

    run = start(client, bearer(officer_yangpu), policy.code)
    assert [c["firm_id"] for c in run["candidates"]] == [yangpu.id]

    admin_run = start(client, bearer(admin), policy.code)
    assert {c["firm_id"] for c in admin_run["candidates"]} == {jingan.id, yangpu.id}
    seen = client.get(f"/api/v1/grant-runs/{admin_run['id']}", headers=bearer(officer_yangpu)).json()
    assert [c["firm_id"] for c in seen["candidates"]] == [yangpu.id]
    outside = client.post(
        f"/api/v1/grant-runs/{admin_run['id']}/decisions",
        json=[{"firm_id": jingan.id, "decision": "approve"}],
        headers=bearer(officer_yangpu),
    )
    assert outside.status_code == 404

    refused = client.post(
        "/api/v1/grant-runs",
        json={"policy_code": policy.code, "period": str(today().year)},
        headers=bearer(leader),
    )
    assert refused.status_code == 403
    assert client.get(f"/api/v1/grant-runs/{admin_run['id']}", headers=bearer(leader)).status_code == 200
    assert client.get("/api/v1/grants").status_code == 401


def test_bad_run_requests_get_chinese_messages_in_place(
    client: TestClient, bearer: Bearer, admin: User
) -> None:
    policy = PolicyFactory()
    apply_item = PolicyFactory(apply=True)
    headers = bearer(admin)

    bad_period = client.post(
        "/api/v1/grant-runs", json={"policy_code": policy.code, "period": "二〇二六年"}, headers=headers
    )
    future = client.post(
        "/api/v1/grant-runs",
        json={"policy_code": policy.code, "period": str(today().year + 1)},
        headers=headers,
    )
    not_auto = client.post(
        "/api/v1/grant-runs",
        json={"policy_code": apply_item.code, "period": str(today().year)},
        headers=headers,
    )
    unknown = client.post(
        "/api/v1/grant-runs", json={"policy_code": "nope", "period": "2026"}, headers=headers
    )

    assert bad_period.status_code == 422 and "兑现批次应为年度" in bad_period.text
    assert bad_period.json()["detail"][0]["loc"][-1] == "period"
    assert future.status_code == 422 and "尚未开始" in future.text
    assert not_auto.status_code == 422 and "免申即享" in not_auto.text
    assert unknown.status_code == 404


def test_grant_lifecycle_confirm_pay_publish_and_export_the_publicity_list(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    policy = PolicyFactory(name="静安区高企首次认定奖励")
    firm = first_hnte("上海公示科技有限公司")
    headers = login(client, admin)
    page = client.post(
        "/grant-runs",
        data={"policy_code": policy.code, "period": str(today().year)},
        headers=headers,
        follow_redirects=False,
    )
    assert page.status_code == 303
    run_url = page.headers["location"]
    run_id = int(run_url.rsplit("/", 1)[1])
    decided = client.post(
        f"{run_url}/decisions",
        data={"firm_id": str(firm.id), "decision": "approve"},
        headers=headers,
        follow_redirects=False,
    )
    assert decided.status_code == 303
    grant = db.scalar(select(Grant).where(Grant.firm_id == firm.id))
    assert grant is not None and grant.status == GrantStatus.pending_confirmation

    no_ref = client.post(
        f"/grants/{grant.id}/advance",
        data={"action": "confirm", "run_id": run_id, "note": "电话确认"},
        headers=headers,
    )
    assert no_ref.status_code in (200, 303)
    unpaid = client.post(
        f"/grants/{grant.id}/advance", data={"action": "pay", "run_id": run_id, "note": ""}, headers=headers
    )
    assert unpaid.status_code == 422 and "拨付凭证号" in unpaid.text
    client.post(
        f"/grants/{grant.id}/advance",
        data={"action": "pay", "run_id": run_id, "note": "PZ-2026-001"},
        headers=headers,
    )
    published = client.post(f"{run_url}/publish", headers=headers, follow_redirects=False)
    assert published.status_code == 303
    db.refresh(grant)
    assert (grant.status, grant.payment_ref, grant.published_on) == (
        GrantStatus.published,
        "PZ-2026-001",
        today(),
    )

    xlsx = client.get(f"/grants/publicity.xlsx?policy_code={policy.code}&period={today().year}")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[2][:3] == ["序号", "企业名称", "统一社会信用代码"]
    assert rows[3][1:3] == ["上海公示科技有限公司", firm.uscc] and rows[3][6] == 20
    assert rows[-1][0] == "合计" and rows[-1][6] == 20
    csv_text = client.get(
        f"/grants/publicity.csv?policy_code={policy.code}&period={today().year}"
    ).content.decode("utf-8-sig")
    assert "上海公示科技有限公司" in csv_text and "20.00" in csv_text

    history = db.scalars(
        select(AuditEntry).where(
            AuditEntry.firm_id == firm.id, AuditEntry.entity == "grants", AuditEntry.field == "status"
        )
    ).all()
    assert [(e.old_value, e.new_value) for e in history] == [
        ("pending_confirmation", "confirmed"),
        ("confirmed", "paid"),
        ("paid", "published"),
    ]


def test_withdrawing_a_grant_needs_a_reason_and_frees_the_event(
    client: TestClient, bearer: Bearer, login: Login, admin: User, db: Session
) -> None:
    policy = PolicyFactory()
    firm = first_hnte("上海撤回科技有限公司")
    run = start(client, bearer(admin), policy.code)
    client.post(
        f"/api/v1/grant-runs/{run['id']}/decisions",
        json=[{"firm_id": firm.id, "decision": "approve"}],
        headers=bearer(admin),
    )
    grant = db.scalar(select(Grant).where(Grant.firm_id == firm.id))
    headers = login(client, admin)

    no_reason = client.post(
        f"/grants/{grant.id}/advance", data={"action": "withdraw", "run_id": run["id"]}, headers=headers
    )
    assert no_reason.status_code == 422 and "撤回须填写理由" in no_reason.text
    client.post(
        f"/grants/{grant.id}/advance",
        data={"action": "withdraw", "run_id": run["id"], "note": "企业放弃"},
        headers=headers,
    )
    db.refresh(grant)
    assert grant.status == GrantStatus.withdrawn
    assert [c["firm_id"] for c in start(client, bearer(admin), policy.code)["candidates"]] == [firm.id]


def test_the_run_page_is_a_page_or_its_block_for_htmx(client: TestClient, login: Login, admin: User) -> None:
    policy = PolicyFactory(name="静安区页面测试奖励")
    first_hnte("上海页面科技有限公司")
    login(client, admin)
    run_id = (
        client.post(
            "/grant-runs",
            data={"policy_code": policy.code, "period": str(today().year)},
            headers={"X-CSRF-Token": client.cookies.get("ladder_csrf") or ""},
            follow_redirects=False,
        )
        .headers["location"]
        .rsplit("/", 1)[1]
    )

    page = client.get(f"/grant-runs/{run_id}")
    block = client.get(f"/grant-runs/{run_id}", headers={"HX-Request": "true", "HX-Target": "run-body"})

    assert page.status_code == 200 and "<html" in page.text and "上海页面科技有限公司" in page.text
    assert block.status_code == 200 and "<html" not in block.text and 'id="run-body"' in block.text
    assert "上海页面科技有限公司" in block.text


def test_the_green_lane_approves_every_pending_low_risk_candidate_and_leaves_the_risky_ones(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    policy = PolicyFactory(
        criteria=[
            {
                "id": "not_dishonest",
                "label": "未列入严重失信主体名单",
                "citation": "沪府办字〔2022〕4号",
                "test": {"is": [{"fact": "lists.dishonest"}, False]},
            }
        ]
    )
    low = [first_hnte(f"上海低风险{i}科技有限公司") for i in range(3)]
    for firm in low:
        FactObservationFactory(firm=firm, key="lists.dishonest", value=False, source=Source.department)
    risky = first_hnte("上海待核实科技有限公司")
    FactObservationFactory(firm=risky, key="lists.dishonest", value=False, source=Source.firm_reported)
    headers = login(client, admin)
    run_url = client.post(
        "/grant-runs",
        data={"policy_code": policy.code, "period": str(today().year)},
        headers=headers,
        follow_redirects=False,
    ).headers["location"]
    assert "绿色通道：通过全部 3 家低风险候选" in client.get(run_url).text

    client.post(f"{run_url}/decisions", data={"scope": "low_risk", "decision": "approve"}, headers=headers)

    granted = set(db.scalars(select(Grant.firm_id)))
    assert granted == {f.id for f in low}
    pending = client.get(f"{run_url}?show=pending", headers={"HX-Request": "true", "HX-Target": "run-body"})
    table = pending.text.split('class="data candidates"')[1].split("</table>")[0]
    assert "上海待核实科技有限公司" in table and "上海低风险0科技有限公司" not in table
