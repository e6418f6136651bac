"""潜力企业蓄水池 over HTTP: the page (full or the table for htmx), its two lists and tier selector, the
重新评估全部企业 button, and /api/v1/prospects — always within the caller's parks."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.db import utcnow
from app.firms.models import Firm, FirmStatus
from app.rules.models import EvaluationRun, TierDecisionRow
from app.web.formatting import today
from tests.factories import FirmFactory, FirmYearFactory

Login = Callable[[TestClient, User], dict[str, str]]
Bearer = Callable[[User], dict[str, str]]
URL = "/prospects"
API = "/api/v1/prospects"
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "prospect-table"}


def _decide(
    db: Session,
    run: EvaluationRun,
    firm: Firm,
    tier: str,
    status: str,
    *,
    fails: int = 0,
    unknowns: int = 0,
    holds: bool = False,
    score: Decimal | None = None,
) -> None:
    db.add(
        TierDecisionRow(
            firm_id=firm.id,
            tier=tier,
            status=status,
            holds=holds,
            score=score,
            fails=fails,
            unknowns=unknowns,
            distance=Decimal(fails) + Decimal(unknowns) / 2,
            ruleset="hnte/国科发火〔2016〕32号",
            as_of=run.as_of,
            run_id=run.id,
        )
    )


@pytest.fixture
def pool(db: Session) -> dict[str, Firm]:
    """A finished run and its decisions on 高企 for firms in 静安 (jingan) and 杨浦 (yangpu)."""
    run = EvaluationRun(
        as_of=today(),
        started_at=utcnow() - timedelta(seconds=7),
        finished_at=utcnow(),
        firms=6,
        reason="测试",
        actor="管理员（admin）",
    )
    db.add(run)
    db.flush()
    firms = {
        "ready": FirmFactory(name="上海静安合格科技有限公司"),
        "review": FirmFactory(name="上海静安待评科技有限公司"),
        "yangpu": FirmFactory(name="上海杨浦合格科技有限公司", park="yangpu"),
        "holder": FirmFactory(name="上海静安已认定科技有限公司"),
        "near": FirmFactory(name="上海静安缺数据科技有限公司"),
        "far": FirmFactory(name="上海静安差得远科技有限公司"),
        "closed": FirmFactory(name="上海静安已注销科技有限公司", status=FirmStatus.deregistered),
    }
    _decide(db, run, firms["ready"], "hnte", "eligible")
    _decide(db, run, firms["review"], "hnte", "needs_review")
    _decide(db, run, firms["yangpu"], "hnte", "eligible")
    _decide(db, run, firms["holder"], "hnte", "eligible", holds=True)
    _decide(db, run, firms["near"], "hnte", "insufficient_data", unknowns=1)
    _decide(db, run, firms["far"], "hnte", "ineligible", fails=2, unknowns=1)
    _decide(db, run, firms["closed"], "hnte", "eligible")
    _decide(db, run, firms["ready"], "tech_sme", "eligible", score=Decimal(74))
    db.flush()
    return firms


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="静安专员")


def names(html: str) -> list[str]:
    return re.findall(r'class="firm-name" href="/firms/\d+">([^<]+)</a>', html)


# --- the page -----------------------------------------------------------------------------------------------


def test_an_officer_sees_the_firms_of_their_parks_that_qualify_but_do_not_hold_the_tier(
    client: TestClient, login: Login, officer: User, pool: dict[str, Firm]
) -> None:
    login(client, officer)

    response = client.get(URL, params={"tier": "hnte"})

    assert response.status_code == 200
    assert response.template.name == "rules/prospects.html"  # type: ignore[attr-defined]
    html = response.text
    assert html.startswith("<!doctype html>")
    assert '<a href="/prospects" class="active" aria-current="page">潜力企业</a>' in html
    # Eligible before needs review; never a yangpu firm, a holder or a closed firm.
    assert names(html) == ["上海静安合格科技有限公司", "上海静安待评科技有限公司"]
    assert "上海杨浦合格科技有限公司" not in html
    assert f'href="/firms/{pool["ready"].id}"' in html
    assert "符合" in html and "待人工评审" in html
    assert f"最近评估：{today().isoformat()}" in html and "用时 7.0 秒" in html
    assert "重新评估全部企业" in html
    assert "共 2 家企业" in html


def test_a_leader_sees_every_park_but_cannot_re_evaluate(
    client: TestClient, login: Login, make_user: Callable[..., User], pool: dict[str, Firm]
) -> None:
    login(client, make_user(Role.leader))

    html = client.get(URL, params={"tier": "hnte"}).text

    assert set(names(html)) == {
        "上海静安合格科技有限公司",
        "上海静安待评科技有限公司",
        "上海杨浦合格科技有限公司",
    }
    assert "重新评估全部企业" not in html


def test_the_closest_list_ranks_by_distance_with_the_number_of_gaps(
    client: TestClient, login: Login, officer: User, pool: dict[str, Firm]
) -> None:
    login(client, officer)

    html = client.get(URL, params={"tier": "hnte", "view": "closest"}).text

    assert names(html) == ["上海静安缺数据科技有限公司", "上海静安差得远科技有限公司"]
    far = re.search(rf'<tr id="prospect-{pool["far"].id}">(.*?)</tr>', html, re.S)
    assert far is not None
    assert "不符合" in far.group(1) and ">3</td>" in far.group(1) and "2.5" in far.group(1)


def test_the_tier_selector_shows_another_tier_with_its_score(
    client: TestClient, login: Login, officer: User, pool: dict[str, Firm]
) -> None:
    login(client, officer)

    html = client.get(URL, params={"tier": "tech_sme"}).text

    assert names(html) == ["上海静安合格科技有限公司"]
    assert '<option value="tech_sme" selected>科技型中小企业</option>' in html
    assert ">74</td>" in html


def test_htmx_gets_only_the_table_and_an_unknown_tier_falls_back_to_hnte(
    client: TestClient, login: Login, officer: User, pool: dict[str, Firm]
) -> None:
    login(client, officer)

    response = client.get(URL, params={"tier": "nonsense"}, headers=HTMX_TABLE)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="prospect-table">')
    assert "<html" not in response.text
    assert response.headers["Vary"] == "HX-Request, HX-Target"
    assert names(response.text) == ["上海静安合格科技有限公司", "上海静安待评科技有限公司"]


def test_the_page_says_when_no_run_has_happened_yet(client: TestClient, login: Login, officer: User) -> None:
    login(client, officer)

    html = client.get(URL).text

    assert "尚未进行批量评估" in html and "没有符合条件的企业" in html


def test_firm_users_and_strangers_are_kept_out(
    client: TestClient, login: Login, make_user: Callable[..., User], pool: dict[str, Firm]
) -> None:
    response = client.get(URL, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    login(client, make_user(Role.firm, firm=pool["ready"]))
    assert client.get(URL).status_code == 403


# --- the button ---------------------------------------------------------------------------------------------


def test_re_evaluating_runs_the_batch_and_shows_how_long_it_took(
    client: TestClient, db: Session, login: Login, officer: User
) -> None:
    firm = FirmFactory(name="上海静安新评科技有限公司")
    FirmYearFactory(firm=firm)
    headers = login(client, officer)

    response = client.post(
        f"{URL}/evaluate",
        data={"tier": "tech_sme", "view": "closest"},
        headers=headers,
        follow_redirects=False,
    )

    assert response.status_code == 303
    run = db.scalars(select(EvaluationRun).order_by(EvaluationRun.id.desc())).first()
    assert (
        run is not None
        and run.finished_at is not None
        and run.actor == officer.display_name + f"（{officer.username}）"
    )
    assert response.headers["location"] == f"{URL}?tier=tech_sme&view=closest&ran={run.id}"
    assert (
        db.scalar(select(func.count()).select_from(TierDecisionRow).where(TierDecisionRow.firm_id == firm.id))
        == 8
    )
    html = client.get(response.headers["location"]).text
    assert f"已重新评估 {run.firms:,} 家存续企业的全部梯度，用时" in html
    assert "上海静安新评科技有限公司" in html


def test_re_evaluating_from_htmx_swaps_the_table(client: TestClient, login: Login, officer: User) -> None:
    FirmFactory(name="上海静安表格科技有限公司")
    headers = login(client, officer)

    response = client.post(
        f"{URL}/evaluate", data={"tier": "hnte", "view": "closest"}, headers={**headers, **HTMX_TABLE}
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="prospect-table">')
    assert "已重新评估" in response.text and "上海静安表格科技有限公司" in response.text


def test_leaders_may_not_re_evaluate_and_a_post_without_the_csrf_token_is_refused(
    client: TestClient, db: Session, login: Login, make_user: Callable[..., User], officer: User
) -> None:
    headers = login(client, make_user(Role.leader))
    assert client.post(f"{URL}/evaluate", data={"tier": "hnte"}, headers=headers).status_code == 403
    login(client, officer)
    assert client.post(f"{URL}/evaluate", data={"tier": "hnte"}).status_code == 403
    assert db.scalar(select(func.count()).select_from(EvaluationRun)) == 0


# --- the API ------------------------------------------------------------------------------------------------


def test_the_api_needs_credentials(client: TestClient, pool: dict[str, Firm]) -> None:
    response = client.get(API, params={"tier": "hnte"})

    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录"}


def test_the_api_lists_the_pool_in_the_officers_parks_only(
    client: TestClient, bearer: Bearer, officer: User, pool: dict[str, Firm]
) -> None:
    response = client.get(API, params={"tier": "hnte", "limit": 1}, headers=bearer(officer))

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["as_of"] == today().isoformat()
    ready = pool["ready"]
    assert body["items"] == [
        {
            "firm_id": ready.id,
            "name": ready.name,
            "uscc": ready.uscc,
            "park": "jingan",
            "tier": "hnte",
            "status": "eligible",
            "score": None,
            "distance": 0.0,
        }
    ]
    second = client.get(API, params={"tier": "hnte", "limit": 1, "offset": 1}, headers=bearer(officer)).json()
    assert [i["name"] for i in second["items"]] == ["上海静安待评科技有限公司"]
    closest = client.get(API, params={"tier": "hnte", "view": "closest"}, headers=bearer(officer)).json()
    assert [(i["name"], i["distance"]) for i in closest["items"]] == [
        ("上海静安缺数据科技有限公司", 0.5),
        ("上海静安差得远科技有限公司", 2.5),
    ]


def test_an_officer_of_jingan_never_sees_a_yangpu_firm(
    client: TestClient, bearer: Bearer, officer: User, make_user: Callable[..., User], pool: dict[str, Firm]
) -> None:
    mine = client.get(API, params={"tier": "hnte", "limit": 500}, headers=bearer(officer)).json()
    everyone = client.get(
        API, params={"tier": "hnte", "limit": 500}, headers=bearer(make_user(Role.admin))
    ).json()

    assert "上海杨浦合格科技有限公司" not in {i["name"] for i in mine["items"]}
    assert {i["park"] for i in mine["items"]} == {"jingan"}
    assert "上海杨浦合格科技有限公司" in {i["name"] for i in everyone["items"]}
    assert everyone["total"] == 3


def test_the_api_refuses_an_unknown_tier_and_firm_users(
    client: TestClient, bearer: Bearer, officer: User, make_user: Callable[..., User], pool: dict[str, Firm]
) -> None:
    assert client.get(API, params={"tier": "nonsense"}, headers=bearer(officer)).status_code == 422
    firm_user = make_user(Role.firm, firm=pool["ready"])
    assert client.get(API, params={"tier": "hnte"}, headers=bearer(firm_user)).status_code == 403
