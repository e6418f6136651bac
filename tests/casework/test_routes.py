"""我的待办 over HTTP: page or fragment, the create form (422, values kept), status changes, permissions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import FirmFactory, TaskFactory

Login = Callable[[TestClient, User], dict[str, str]]
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "task-table"}


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


def form(**fields: str) -> dict[str, str]:
    return {"csrf_token": CSRF_TOKEN, **fields}


# --- the page and its fragment -----------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_the_sign_in_page(client: TestClient) -> None:
    response = client.get("/tasks", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/tasks"


def test_my_tasks_is_a_full_page_listing_my_open_tasks_with_firm_links(
    client: TestClient, login: Login, officer: User
) -> None:
    firm = FirmFactory(name="上海大宁数字源科技有限公司")
    task = TaskFactory(
        assignee=officer, firm=firm, title="提醒企业准备高企复核材料", due_on=today() + timedelta(days=30)
    )
    TaskFactory(assignee=officer, firm=firm, title="已经办完的事", status=TaskStatus.done)
    login(client, officer)

    response = client.get("/tasks")

    assert response.status_code == 200
    assert response.template.name == "casework/my_tasks.html"  # type: ignore[attr-defined]
    html = response.text
    assert html.startswith("<!doctype html>")
    assert "我的待办" in html and "王专员" in html and "企业服务专员" in html
    assert f'id="task-{task.id}"' in html
    assert "提醒企业准备高企复核材料" in html
    assert "已经办完的事" not in html
    assert f'href="{client.app.url_path_for("firms:detail", firm_id=firm.id)}"' in html  # type: ignore[attr-defined]
    assert (today() + timedelta(days=30)).isoformat() in html
    assert "HX-Request" in response.headers["vary"] and "HX-Target" in response.headers["vary"]


def test_htmx_asking_for_the_task_table_gets_only_that_block(
    client: TestClient, login: Login, officer: User
) -> None:
    TaskFactory(assignee=officer, title="走访企业了解诉求")
    login(client, officer)

    response = client.get("/tasks", headers=HTMX_TABLE)

    assert response.status_code == 200
    html = response.text.strip()
    assert "<html" not in html and "新建待办" not in html
    assert html.startswith('<div id="task-table">')
    assert "走访企业了解诉求" in html
    assert response.headers["vary"] == "HX-Request, HX-Target"


def test_a_boosted_or_untargeted_htmx_request_gets_the_full_page(
    client: TestClient, login: Login, officer: User
) -> None:
    login(client, officer)

    boosted = client.get("/tasks", headers={**HTMX_TABLE, "HX-Boosted": "true"})
    other_target = client.get("/tasks", headers={"HX-Request": "true", "HX-Target": "main"})

    assert "<html" in boosted.text
    assert "<html" in other_target.text


def test_overdue_tasks_are_highlighted_with_the_days_overdue(
    client: TestClient, login: Login, officer: User
) -> None:
    task = TaskFactory(assignee=officer, due_on=today() - timedelta(days=2))
    login(client, officer)

    html = client.get("/tasks").text

    row = re.search(rf'<tr id="task-{task.id}"[^>]*>', html)
    assert row is not None and "is-overdue" in row.group(0)
    assert "已逾期 2 天" in html


def test_the_closed_tab_lists_finished_tasks(client: TestClient, login: Login, officer: User) -> None:
    TaskFactory(assignee=officer, title="还没办的")
    TaskFactory(assignee=officer, title="已办结的事", status=TaskStatus.done)
    login(client, officer)

    html = client.get("/tasks?tab=closed", headers=HTMX_TABLE).text

    assert "已办结的事" in html and "还没办的" not in html
    assert re.search(r'class="active" aria-current="page">已办结<', html)


def test_an_officer_does_not_see_another_parks_firm_tasks(
    client: TestClient, login: Login, officer: User, make_user: Callable[..., User]
) -> None:
    yangpu_officer = make_user(Role.officer, parks=["yangpu"])
    hidden = TaskFactory(assignee=yangpu_officer, firm=FirmFactory(park="yangpu"), title="杨浦园企业的待办")
    headers = login(client, officer)

    listed = client.get("/tasks")
    changed = client.post(
        f"/tasks/{hidden.id}/status", data=form(status="done"), headers=headers, follow_redirects=False
    )

    assert "杨浦园企业的待办" not in listed.text
    assert changed.status_code == 404
    assert hidden.status == TaskStatus.open


def test_a_firm_user_cannot_open_the_back_office_task_list(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    login(client, make_user(Role.firm, firm=FirmFactory()))

    response = client.get("/tasks")

    assert response.status_code == 403
    assert response.template.name == "errors/error.html"  # type: ignore[attr-defined]


# --- creating a task ---------------------------------------------------------------------------------------


def test_creating_a_task_redirects_to_my_tasks_and_assigns_it_to_me(
    client: TestClient, db: Session, login: Login, officer: User
) -> None:
    firm = FirmFactory(park="jingan")
    login(client, officer)

    response = client.post(
        "/tasks",
        data=form(
            title="走访企业了解融资需求", due_on="2031-06-30", firm=firm.uscc, notes="与财务总监约时间"
        ),
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/tasks"
    task = db.scalars(select(Task).where(Task.title == "走访企业了解融资需求")).one()
    assert (task.assignee_id, task.firm_id, task.origin, task.status) == (
        officer.id,
        firm.id,
        TaskOrigin.manual,
        TaskStatus.open,
    )
    assert task.due_on is not None and task.due_on.isoformat() == "2031-06-30"
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "tasks", AuditEntry.entity_id == task.id)
    ).one()
    assert entry.firm_id == firm.id and entry.actor_id == officer.id and entry.channel == "web"


def test_creating_a_task_with_htmx_answers_with_hx_location(
    client: TestClient, login: Login, officer: User
) -> None:
    headers = login(client, officer)

    response = client.post(
        "/tasks",
        data={"title": "电话回访"},
        headers={**headers, "HX-Request": "true", "HX-Target": "task-form"},
    )

    assert response.status_code == 204
    assert response.headers["hx-location"] == "/tasks"


def test_a_task_without_a_title_is_refused_with_the_error_beside_the_field_and_values_kept(
    client: TestClient, db: Session, login: Login, officer: User
) -> None:
    login(client, officer)

    response = client.post("/tasks", data=form(title="  ", due_on="2031-06-30", notes="先记下来"))

    assert response.status_code == 422
    assert response.template.name == "casework/my_tasks.html"  # type: ignore[attr-defined]
    html = response.text
    assert '<p class="field-error" id="title-error">请填写事项</p>' in html
    assert 'aria-describedby="title-error"' in html and 'aria-invalid="true"' in html
    assert 'value="2031-06-30"' in html
    assert ">先记下来</textarea>" in html
    assert db.scalars(select(Task).where(Task.assignee_id == officer.id)).first() is None


def test_an_invalid_form_posted_by_htmx_gets_only_the_form_block_back(
    client: TestClient, login: Login, officer: User
) -> None:
    headers = login(client, officer)

    response = client.post(
        "/tasks",
        data={"title": "走访", "due_on": "2031-02-30"},
        headers={**headers, "HX-Request": "true", "HX-Target": "task-form"},
    )

    assert response.status_code == 422
    html = response.text.strip()
    assert html.startswith('<section id="task-form"') and "<html" not in html
    assert "日期不存在，请检查年月日" in html
    assert 'value="走访"' in html and 'value="2031-02-30"' in html


def test_a_firm_outside_my_parks_is_refused_beside_the_firm_field(
    client: TestClient, login: Login, officer: User
) -> None:
    elsewhere = FirmFactory(park="hongkou")
    login(client, officer)

    response = client.post("/tasks", data=form(title="走访", firm=elsewhere.uscc))

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="firm-error">未找到该企业，或该企业不在您负责的园区</p>' in response.text
    )
    assert f'value="{elsewhere.uscc}"' in response.text


def test_the_create_form_is_prefilled_from_a_firms_file(
    client: TestClient, login: Login, officer: User
) -> None:
    login(client, officer)

    html = client.get("/tasks?firm=91310106MA1FL0000X").text

    assert 'name="firm" type="text" value="91310106MA1FL0000X"' in html


# --- changing status ---------------------------------------------------------------------------------------


def test_a_plain_form_changes_the_status_and_redirects_back_to_the_tab(
    client: TestClient, login: Login, officer: User
) -> None:
    task = TaskFactory(assignee=officer)
    login(client, officer)

    response = client.post(
        f"/tasks/{task.id}/status",
        data=form(status="done", notes="已协助企业提交材料", tab="in_progress"),
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/tasks?tab=in_progress"
    assert task.status == TaskStatus.done and task.closed_at is not None
    assert task.notes == "已协助企业提交材料"


def test_htmx_targeting_a_row_gets_only_that_row_back(
    client: TestClient, login: Login, officer: User
) -> None:
    task = TaskFactory(assignee=officer, firm=FirmFactory(name="上海聚能湾孵化科技有限公司"))
    headers = login(client, officer)

    response = client.post(
        f"/tasks/{task.id}/status",
        data={"status": "in_progress"},
        headers={**headers, "HX-Request": "true", "HX-Target": f"task-{task.id}"},
    )

    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith(f'<tr id="task-{task.id}"') and html.endswith("</tr>")
    assert "办理中" in html and "上海聚能湾孵化科技有限公司" in html
    assert task.status == TaskStatus.in_progress


def test_htmx_targeting_the_table_gets_the_table_without_the_finished_task(
    client: TestClient, login: Login, officer: User
) -> None:
    task = TaskFactory(assignee=officer, title="马上办结的事")
    headers = login(client, officer)

    response = client.post(
        f"/tasks/{task.id}/status", data={"status": "done"}, headers={**headers, **HTMX_TABLE}
    )

    assert response.status_code == 200
    assert response.text.strip().startswith('<div id="task-table">')
    assert "马上办结的事" not in response.text


def test_an_unknown_status_is_refused_with_a_chinese_message(
    client: TestClient, login: Login, officer: User
) -> None:
    task = TaskFactory(assignee=officer)
    headers = login(client, officer)

    response = client.post(
        f"/tasks/{task.id}/status",
        data={"status": "archived"},
        headers={**headers, "HX-Request": "true", "HX-Target": f"task-{task.id}"},
    )

    assert response.status_code == 422
    assert response.headers["hx-reswap"] == "none"
    assert "请选择有效的办理状态" in response.text and 'role="alert"' in response.text
    assert task.status == TaskStatus.open


def test_a_post_without_the_csrf_token_changes_nothing(
    client: TestClient, login: Login, officer: User
) -> None:
    task = TaskFactory(assignee=officer)
    login(client, officer)

    response = client.post(f"/tasks/{task.id}/status", data={"status": "done"}, follow_redirects=False)

    assert response.status_code == 403
    assert task.status == TaskStatus.open


# --- leaders read only ------------------------------------------------------------------------------------


def test_a_leader_sees_the_page_without_the_create_form_or_row_actions(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    leader = make_user(Role.leader)
    TaskFactory(assignee=leader)
    login(client, leader)

    html = client.get("/tasks").text

    assert "新建待办" not in html and "开始办理" not in html
    assert "领导" in html


def test_a_leader_cannot_create_or_change_tasks(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    task = TaskFactory()
    headers = login(client, make_user(Role.leader))

    created = client.post("/tasks", data=form(title="领导交办"), follow_redirects=False)
    changed = client.post(
        f"/tasks/{task.id}/status",
        data={"status": "done"},
        headers={**headers, "HX-Request": "true", "HX-Target": f"task-{task.id}"},
    )

    assert created.status_code == 403
    assert "领导账号仅可查看待办" in created.text
    assert changed.status_code == 403
    assert changed.headers["hx-reswap"] == "none"
    assert 'hx-swap-oob="beforeend:#toasts"' in changed.text
    assert task.status == TaskStatus.open
