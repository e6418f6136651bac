"""到期提醒 over HTTP (page or fragment, the 生成重新认定待办 action, permissions) and the 梯度台账
section of the firm file with its 查询某日持有的梯度 form."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.casework.models import Task, TaskOrigin
from app.recognitions.models import Recognition, RecognitionKind
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import FirmFactory, RecognitionFactory

Login = Callable[[TestClient, User], dict[str, str]]
URL = "/recognitions/expiring"
ACTION = "/recognitions/expiring/tasks"
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "expiry-table"}


def expiring_in(days: int, **kwargs: Any) -> Recognition:
    expires = today() + timedelta(days=days)
    kwargs.setdefault("issued_on", expires - timedelta(days=3 * 365 - 1))
    return RecognitionFactory(expires_on=expires, **kwargs)


def reminder_tasks(db: Session) -> list[Task]:
    return list(db.scalars(select(Task).where(Task.origin == TaskOrigin.expiry_reminder).order_by(Task.id)))


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


# --- the list -----------------------------------------------------------------------------------------------


def test_the_list_is_a_full_page_with_each_certificate_under_its_window(
    client: TestClient, login: Login, officer: User
) -> None:
    firm = FirmFactory(name="上海市北数智科技有限公司", officer_id=officer.id)
    soon = expiring_in(20, firm=firm, certificate_no="GR202331000020")
    expiring_in(80, firm=FirmFactory(name="上海大宁数字源科技有限公司", officer_id=officer.id))
    expiring_in(170, firm=FirmFactory(name="上海苏河湾智能有限公司"))
    expiring_in(200, firm=FirmFactory(name="上海半年以后科技有限公司"))
    login(client, officer)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.template.name == "recognitions/expiring.html"  # type: ignore[attr-defined]
    html = response.text
    assert html.startswith("<!doctype html>")
    assert '<a href="/recognitions/expiring" class="active" aria-current="page">到期提醒</a>' in html
    windows = re.findall(r'<tbody id="expiry-window-(\d)">(.*?)</tbody>', html, re.S)
    by_window = {
        m: re.findall(r'class="firm-name" href="/firms/\d+">([^<]+)</a>', body) for m, body in windows
    }
    assert by_window == {
        "1": ["上海市北数智科技有限公司"],
        "3": ["上海大宁数字源科技有限公司"],
        "6": ["上海苏河湾智能有限公司"],
    }
    assert "≤1个月到期 · 1 张" in html and "≤3个月到期" in html and "≤6个月到期" in html
    row = re.search(rf'<tr id="expiring-{soon.id}">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = row.group(1)
    assert f'href="/firms/{firm.id}"' in cells
    assert "高新技术企业" in cells and "GR202331000020" in cells
    assert soon.expires_on.isoformat() in cells and "20 天" in cells
    assert "王专员" in cells and "未生成" in cells
    assert "HX-Request" in response.headers["vary"]


def test_htmx_asking_for_the_table_gets_only_that_block_for_the_chosen_window(
    client: TestClient, login: Login, officer: User
) -> None:
    expiring_in(20, firm=FirmFactory(name="一个月内到期有限公司"))
    expiring_in(80, firm=FirmFactory(name="三个月内到期有限公司"))
    login(client, officer)

    response = client.get(URL, params={"months": "1"}, headers=HTMX_TABLE)

    html = response.text.strip()
    assert response.status_code == 200
    assert html.startswith('<div id="expiry-table">') and "<html" not in html
    assert "一个月内到期有限公司" in html and "三个月内到期有限公司" not in html
    assert re.search(r'class="active" aria-current="page">1个月内<', html)


def test_an_unknown_window_falls_back_to_six_months(client: TestClient, login: Login, officer: User) -> None:
    login(client, officer)

    html = client.get(URL, params={"months": "12"}).text

    assert re.search(r'class="active" aria-current="page">6个月内<', html)


def test_an_officer_does_not_see_another_parks_certificates(
    client: TestClient, login: Login, officer: User
) -> None:
    expiring_in(20, firm=FirmFactory(name="杨浦园的企业有限公司", park="yangpu"))
    login(client, officer)

    html = client.get(URL).text

    assert "杨浦园的企业有限公司" not in html
    assert "6 个月内没有需要重新认定的证书" in html


def test_a_firm_user_cannot_open_the_list(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    login(client, make_user(Role.firm, firm=FirmFactory()))

    assert client.get(URL).status_code == 403


# --- 生成重新认定待办 ----------------------------------------------------------------------------------


def test_the_plain_form_creates_the_tasks_then_redirects_to_the_list_with_a_notice(
    client: TestClient, login: Login, officer: User, db: Session
) -> None:
    rec = expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    expiring_in(80, firm=FirmFactory(officer_id=None))
    login(client, officer)

    response = client.post(ACTION, data={"csrf_token": CSRF_TOKEN, "months": "6"}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/recognitions/expiring?months=6&created=2"
    tasks = reminder_tasks(db)
    assert [t.origin_ref for t in tasks][0] == f"recognition:{rec.id}"
    assert {t.assignee_id for t in tasks} == {officer.id}
    page = client.get(response.headers["location"]).text
    assert "已生成 2 条重新认定待办" in page
    assert page.count(">待办</span>") == 2  # each row now shows its task's status
    # The change is in the audit trail as the officer's.
    audited = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "tasks", AuditEntry.action == "create")
    )
    assert {a.actor_id for a in audited} == {officer.id}


def test_htmx_gets_the_table_back_and_a_second_run_creates_nothing(
    client: TestClient, login: Login, officer: User, db: Session
) -> None:
    expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    headers = login(client, officer)

    first = client.post(ACTION, data={"months": "6"}, headers={**headers, **HTMX_TABLE})
    second = client.post(ACTION, data={"months": "6"}, headers={**headers, **HTMX_TABLE})

    assert first.status_code == 200
    assert first.text.strip().startswith('<div id="expiry-table">')
    assert "已生成 1 条重新认定待办" in first.text
    assert "没有需要新生成的待办" in second.text
    assert "生成重新认定待办</button>" not in second.text  # nothing left to create
    assert len(reminder_tasks(db)) == 1


def test_one_row_can_get_its_task_alone(client: TestClient, login: Login, officer: User, db: Session) -> None:
    wanted = expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    expiring_in(30, firm=FirmFactory(officer_id=officer.id))
    login(client, officer)

    response = client.post(
        ACTION,
        data={"csrf_token": CSRF_TOKEN, "months": "6", "recognition_id": str(wanted.id)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert [t.origin_ref for t in reminder_tasks(db)] == [f"recognition:{wanted.id}"]


def test_another_parks_officer_gets_404_for_the_row_and_creates_nothing_in_bulk(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    hidden = expiring_in(20, firm=FirmFactory(park="jingan"))
    yangpu_officer = make_user(Role.officer, parks=["yangpu"])
    login(client, yangpu_officer)

    one = client.post(ACTION, data={"csrf_token": CSRF_TOKEN, "recognition_id": str(hidden.id)})
    bulk = client.post(ACTION, data={"csrf_token": CSRF_TOKEN}, follow_redirects=False)

    assert one.status_code == 404
    assert bulk.status_code == 303 and bulk.headers["location"].endswith("created=0")
    assert reminder_tasks(db) == []


def test_a_leader_sees_the_list_without_the_action_and_may_not_post_it(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    expiring_in(20, firm=FirmFactory(name="领导可见的企业有限公司"))
    login(client, make_user(Role.leader))

    page = client.get(URL)
    post = client.post(ACTION, data={"csrf_token": CSRF_TOKEN})

    assert page.status_code == 200 and "领导可见的企业有限公司" in page.text
    assert "生成重新认定待办</button>" not in page.text and "生成待办</button>" not in page.text
    assert post.status_code == 403
    assert reminder_tasks(db) == []


def test_the_action_needs_the_csrf_token(
    client: TestClient, login: Login, officer: User, db: Session
) -> None:
    expiring_in(20, firm=FirmFactory(officer_id=officer.id))
    login(client, officer)

    response = client.post(ACTION, data={"months": "6"})

    assert response.status_code == 403
    assert reminder_tasks(db) == []


# --- 梯度台账 on the firm file --------------------------------------------------------------------------


@pytest.fixture
def ledger_firm() -> Any:
    firm = FirmFactory(name="上海台账测试科技有限公司")
    RecognitionFactory(
        firm=firm,
        tier="hnte",
        kind=RecognitionKind.first,
        certificate_no="GR201931000001",
        issued_on=date(2019, 6, 1),
        expires_on=date(2022, 5, 31),
    )
    RecognitionFactory(
        firm=firm,
        tier="hnte",
        kind=RecognitionKind.renewal,
        certificate_no="GR202231000002",
        issued_on=date(2022, 5, 20),
        expires_on=date(2025, 5, 19),
    )
    RecognitionFactory(
        firm=firm,
        tier="srdi_sme",
        certificate_no=None,
        issued_on=date(2023, 1, 1),
        expires_on=date(2025, 12, 31),
        revoked_on=date(2024, 3, 15),
        revoke_reason="发生重大安全事故",
    )
    return firm


def ledger_rows(html: str) -> list[str]:
    section = re.search(r'<section id="ledger".*?</section>', html, re.S)
    assert section is not None
    rows = re.findall(r"<tr>(.*?)</tr>", section.group(0), re.S)[1:]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]


def test_the_file_shows_each_tiers_periods_with_their_events(
    client: TestClient, login: Login, officer: User, ledger_firm: Any
) -> None:
    login(client, officer)

    html = client.get(f"/firms/{ledger_firm.id}").text

    assert '<a href="#ledger">梯度台账</a>' in html
    assert ledger_rows(html) == [
        "专精特新中小企业 2023-01-01 2024-03-14 已撤销 2023-01-01 首次认定 2024-03-15 撤销：发生重大安全事故",
        "高新技术企业 2019-06-01 2025-05-19 已到期 2019-06-01 首次认定 GR201931000001 "
        "2022-05-20 重新认定 GR202231000002 2025-05-19 到期",
    ]
    assert f'action="/firms/{ledger_firm.id}/ledger#ledger"' in html


@pytest.mark.parametrize(
    ("day", "answer"),
    [
        ("2022-05-31", "高新技术企业"),
        ("2024-03-14", "专精特新中小企业 高新技术企业"),
        ("2024-03-15", "高新技术企业"),
        ("2025-05-20", "无有效认定"),
    ],
)
def test_the_date_form_answers_which_tiers_were_held_as_a_fragment_for_htmx(
    client: TestClient, login: Login, officer: User, ledger_firm: Any, day: str, answer: str
) -> None:
    login(client, officer)

    response = client.get(
        f"/firms/{ledger_firm.id}/ledger",
        params={"on": day},
        headers={"HX-Request": "true", "HX-Target": "ledger"},
    )

    html = response.text.strip()
    assert response.status_code == 200
    assert html.startswith('<section id="ledger"') and "<html" not in html
    found = re.search(r'<div class="panel-body" role="status" id="ledger-answer">(.*?)</div>', html, re.S)
    assert found is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()
    assert text == f"{day} 持有的梯度： {answer}"
    assert f'value="{day}"' in html


def test_without_javascript_the_date_form_returns_the_whole_file(
    client: TestClient, login: Login, officer: User, ledger_firm: Any
) -> None:
    login(client, officer)

    response = client.get(f"/firms/{ledger_firm.id}/ledger", params={"on": "2024-03-14"})

    assert response.status_code == 200
    assert "<html" in response.text and 'id="recognitions"' in response.text
    assert "2024-03-14</strong> 持有的梯度" in response.text


def test_a_mistyped_date_comes_back_422_with_the_message(
    client: TestClient, login: Login, officer: User, ledger_firm: Any
) -> None:
    login(client, officer)

    response = client.get(
        f"/firms/{ledger_firm.id}/ledger",
        params={"on": "2024-02-30"},
        headers={"HX-Request": "true", "HX-Target": "ledger"},
    )

    assert response.status_code == 422
    assert "日期不存在，请检查年月日" in response.text and 'value="2024-02-30"' in response.text


def test_another_parks_officer_cannot_read_the_ledger(
    client: TestClient, login: Login, make_user: Callable[..., User], ledger_firm: Any
) -> None:
    login(client, make_user(Role.officer, parks=["yangpu"]))

    assert client.get(f"/firms/{ledger_firm.id}/ledger", params={"on": "2024-03-14"}).status_code == 404


def test_recording_a_recognition_refreshes_the_ledger_out_of_band(
    client: TestClient, login: Login, officer: User
) -> None:
    firm = FirmFactory()
    headers = login(client, officer)

    response = client.post(
        f"/firms/{firm.id}/recognitions",
        data={"tier": "hnte", "kind": "first", "issued_on": "2024-12-10"},
        headers={**headers, "HX-Request": "true", "HX-Target": "recognitions"},
    )

    assert response.status_code == 200
    assert (
        '<section id="ledger" class="panel" aria-labelledby="ledger-title" hx-swap-oob="true">'
        in response.text
    )
    assert "2024-12-10 首次认定" in re.sub(r"<[^>]+>", " ", response.text).replace("  ", " ")
