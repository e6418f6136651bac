"""一企一策: a plan per firm, items that follow up through tasks on the owner's 我的待办 (overdue flagged
there), status kept in step, notes, the printable plan, and who may see and change what."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry, Channel
from app.auth.dependencies import principal_for
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.errors import NotPermitted
from app.policies import plans
from app.policies.models import PlanItem, PlanItemStatus, PlanNote, PlanStatus, SupportPlan
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import FirmFactory
from tests.policies.factories_plans import PlanItemFactory, SupportPlanFactory

Login = Callable[[TestClient, User], dict[str, str]]


def form(**fields: str) -> dict[str, str]:
    return {"csrf_token": CSRF_TOKEN, **fields}


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


def item_data(**overrides: object) -> plans.PlanItemIn:
    values: dict[str, object] = {
        "category": "贷款贴息",
        "content": "协调银行落实 500 万元贷款贴息",
        "department": "区财政局",
        "due_on": (today() + timedelta(days=20)).isoformat(),
    }
    values.update(overrides)
    return plans.PlanItemIn.model_validate(values)


def principal_of(user: User) -> Principal:
    return principal_for(user, Channel.web)


# --- service ------------------------------------------------------------------------------------------------


def test_an_item_creates_a_task_for_the_plan_owner_due_on_the_items_date(db: Session, officer: User) -> None:
    plan = SupportPlanFactory(owner=officer)

    item = plans.add_item(db, principal_of(officer), plan, item_data())

    task = db.get(Task, item.task_id)
    assert task is not None
    assert task.assignee_id == officer.id
    assert task.origin == TaskOrigin.plan_item and task.origin_ref == f"plan_item:{item.id}"
    assert task.firm_id == plan.firm_id and task.due_on == item.due_on
    assert task.status == TaskStatus.open
    assert "贷款贴息" in task.title and "区财政局" in task.title


def test_the_items_status_moves_its_task_done_and_back_open(db: Session, officer: User) -> None:
    plan = SupportPlanFactory(owner=officer)
    who = principal_of(officer)
    item = plans.add_item(db, who, plan, item_data())
    task = db.get(Task, item.task_id)
    assert task is not None

    plans.set_item_status(db, who, item, PlanItemStatus.done)
    assert task.status == TaskStatus.done and task.closed_at is not None

    plans.set_item_status(db, who, item, PlanItemStatus.open)
    assert task.status == TaskStatus.open and task.closed_at is None

    plans.set_item_status(db, who, item, PlanItemStatus.cancelled)
    assert task.status == TaskStatus.cancelled


def test_an_item_created_already_in_progress_has_its_task_in_progress(db: Session, officer: User) -> None:
    plan = SupportPlanFactory(owner=officer)

    item = plans.add_item(db, principal_of(officer), plan, item_data(status="in_progress"))

    task = db.get(Task, item.task_id)
    assert task is not None and task.status == TaskStatus.in_progress


def test_a_closed_plan_takes_no_new_items(db: Session, officer: User) -> None:
    plan = SupportPlanFactory(owner=officer, status=PlanStatus.closed)

    with pytest.raises(Exception, match="方案已结束"):
        plans.add_item(db, principal_of(officer), plan, item_data())


def test_leaders_cannot_add_items(db: Session, make_user: Callable[..., User]) -> None:
    plan = SupportPlanFactory()

    with pytest.raises(NotPermitted):
        plans.add_item(db, principal_of(make_user(Role.leader)), plan, item_data())


def test_the_list_counts_open_and_overdue_items_per_plan(db: Session, officer: User) -> None:
    plan = SupportPlanFactory(owner=officer)
    PlanItemFactory(plan=plan, due_on=today() - timedelta(days=3))
    PlanItemFactory(plan=plan, due_on=today() - timedelta(days=3), status=PlanItemStatus.done)
    PlanItemFactory(plan=plan, due_on=today() + timedelta(days=3), status=PlanItemStatus.in_progress)
    PlanItemFactory(plan=plan, due_on=today(), status=PlanItemStatus.open)

    rows, total, _, _ = plans.list_plans(db, principal_of(officer), status=None, today=today())

    [row] = [r for r in rows if r.plan.id == plan.id]
    assert total == 1
    assert (row.items, row.open_items, row.overdue) == (4, 3, 1)


# --- pages --------------------------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/plans", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/login?next=/plans"


def test_the_plan_list_shows_my_parks_plans_with_overdue_counts(
    client: TestClient, login: Login, officer: User
) -> None:
    mine = SupportPlanFactory(
        owner=officer, firm=FirmFactory(name="上海市北数据科技有限公司"), title="数据方案"
    )
    PlanItemFactory(plan=mine, due_on=today() - timedelta(days=5))
    SupportPlanFactory(firm=FirmFactory(name="上海杨浦未来谷有限公司", park="yangpu"), title="杨浦方案")
    login(client, officer)

    response = client.get("/plans")

    assert response.status_code == 200
    assert response.template.name == "policies/plans.html"  # type: ignore[attr-defined]
    html = response.text
    assert "数据方案" in html and "上海市北数据科技有限公司" in html and "逾期 1 项" in html
    assert "杨浦方案" not in html
    assert 'aria-current="page">一企一策</a>' in html


def test_htmx_asking_for_the_plan_table_gets_only_that_block(
    client: TestClient, login: Login, officer: User
) -> None:
    SupportPlanFactory(owner=officer, title="已结束的方案", status=PlanStatus.closed)
    login(client, officer)

    fragment = client.get("/plans?status=closed", headers={"HX-Request": "true", "HX-Target": "plan-table"})
    active = client.get("/plans").text

    assert fragment.text.strip().startswith('<div id="plan-table">') and "<html" not in fragment.text
    assert "已结束的方案" in fragment.text
    assert "已结束的方案" not in active


def test_creating_a_plan_from_the_firms_file_leads_to_the_plan_page(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    firm = FirmFactory(name="上海大宁创芯科技有限公司")
    login(client, officer)

    new = client.get(f"/plans/new?firm_id={firm.id}")
    created = client.post(
        "/plans",
        data=form(
            firm=firm.uscc, title="创芯小巨人培育方案", goal="2026 年申报小巨人", task_force="区科委牵头"
        ),
        follow_redirects=False,
    )

    assert (
        new.status_code == 200
        and f'value="{firm.uscc}"' in new.text
        and "已选：上海大宁创芯科技有限公司" in new.text
    )
    assert created.status_code == 303
    plan = db.scalars(select(SupportPlan).where(SupportPlan.firm_id == firm.id)).one()
    assert created.headers["location"] == f"/plans/{plan.id}"
    assert plan.owner_id == officer.id and plan.task_force == "区科委牵头"
    page = client.get(created.headers["location"]).text
    assert "创芯小巨人培育方案" in page and firm.uscc in page and "区科委牵头" in page


def test_an_invalid_plan_form_comes_back_422_with_chinese_errors_and_the_typed_values(
    client: TestClient, login: Login, officer: User
) -> None:
    outside = FirmFactory(park="yangpu")
    login(client, officer)

    response = client.post("/plans", data=form(firm=outside.uscc, title="  ", goal="我写的目标"))
    fragment = client.post(
        "/plans",
        data=form(firm="", title="方案"),
        headers={"HX-Request": "true", "HX-Target": "plan-form"},
    )

    assert response.status_code == 422
    assert field_error(response.text, "firm") == "未找到该企业，或该企业不在您负责的园区"
    assert field_error(response.text, "title") == "请填写方案名称"
    assert "我写的目标" in response.text and f'value="{outside.uscc}"' in response.text
    assert fragment.status_code == 422
    assert fragment.text.strip().startswith('<section id="plan-form"')
    assert field_error(fragment.text, "firm") == "请填写企业（统一社会信用代码或企业全称）"
    assert 'value="方案"' in fragment.text


def test_adding_an_item_puts_it_on_the_owners_list_and_overdue_items_are_flagged_there(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    plan = SupportPlanFactory(owner=officer)
    login(client, officer)
    late = today() - timedelta(days=4)

    response = client.post(
        f"/plans/{plan.id}/items",
        data=form(
            category="人才支持", content="协助申报人才公寓", department="区人社局", due_on=late.isoformat()
        ),
        follow_redirects=False,
    )

    assert response.status_code == 303 and response.headers["location"] == f"/plans/{plan.id}#plan-items"
    item = db.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id)).one()
    task = db.get(Task, item.task_id)
    assert task is not None and task.assignee_id == officer.id
    detail = client.get(f"/plans/{plan.id}").text
    assert "协助申报人才公寓" in detail and "已逾期 4 天" in detail
    tasks = client.get("/tasks").text
    found = re.search(rf'<tr id="task-{task.id}" class="([^"]*)">(.*?)</tr>', tasks, re.S)
    assert found is not None and "is-overdue" in found.group(1)
    row = found.group(2)
    assert "协助申报人才公寓" in row and "已逾期 4 天" in row and "一企一策事项" in row


def test_an_invalid_item_comes_back_422_with_chinese_errors_beside_each_field(
    client: TestClient, login: Login, officer: User
) -> None:
    plan = SupportPlanFactory(owner=officer)
    login(client, officer)

    response = client.post(
        f"/plans/{plan.id}/items",
        data=form(category="随便", content="", department="", due_on="2026-13-40"),
        headers={"HX-Request": "true", "HX-Target": "item-form"},
    )

    assert response.status_code == 422
    html = response.text.strip()
    assert html.startswith('<section id="item-form"')
    assert field_error(html, "category") == "请选择事项类别"
    assert field_error(html, "content") == "请填写事项内容"
    assert field_error(html, "department") == "请填写责任部门"
    assert field_error(html, "due_on") == "日期格式应为 YYYY-MM-DD"
    assert 'value="2026-13-40"' in html


def test_changing_an_items_status_in_place_closes_its_task_and_is_audited(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    plan = SupportPlanFactory(owner=officer)
    item = plans.add_item(db, principal_of(officer), plan, item_data())
    headers = login(client, officer)

    response = client.post(
        f"/plans/{plan.id}/items/{item.id}/status",
        data=form(status="done"),
        headers={**headers, "HX-Request": "true", "HX-Target": "plan-items"},
    )

    assert response.status_code == 200
    assert response.text.strip().startswith('<div id="plan-items"') and "已完成" in response.text
    db.refresh(item)
    task = db.get(Task, item.task_id)
    assert item.status == PlanItemStatus.done and task is not None and task.status == TaskStatus.done
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "plan_items", AuditEntry.entity_id == item.id, AuditEntry.field == "status"
        )
    ).one()
    assert entry.old_value in ("open", "未开始") and entry.new_value in ("done", "已完成")
    assert entry.actor_id == officer.id


def test_a_follow_up_note_is_added_in_place_or_with_a_plain_post(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    plan = SupportPlanFactory(owner=officer)
    item = PlanItemFactory(plan=plan)
    headers = login(client, officer)

    htmx = client.post(
        f"/plans/{plan.id}/items/{item.id}/notes",
        data=form(text="已与区财政局对接贴息材料"),
        headers={**headers, "HX-Request": "true", "HX-Target": "plan-items"},
    )
    plain = client.post(
        f"/plans/{plan.id}/items/{item.id}/notes", data=form(text="银行已受理"), follow_redirects=False
    )
    empty = client.post(f"/plans/{plan.id}/items/{item.id}/notes", data=form(text="  "))

    assert htmx.status_code == 200 and "已与区财政局对接贴息材料" in htmx.text and "王专员" in htmx.text
    assert plain.status_code == 303 and plain.headers["location"] == f"/plans/{plan.id}#plan-items"
    assert empty.status_code == 422 and "请填写跟进情况" in empty.text
    notes = db.scalars(select(PlanNote).where(PlanNote.item_id == item.id)).all()
    assert [n.text for n in notes] == ["已与区财政局对接贴息材料", "银行已受理"]


def test_the_print_page_lays_out_the_plan_with_signature_lines(
    client: TestClient, login: Login, officer: User
) -> None:
    firm = FirmFactory(name="上海印刷测试科技有限公司")
    plan = SupportPlanFactory(
        owner=officer, firm=firm, goal="三年内成为小巨人", task_force="区科委牵头，园区配合"
    )
    PlanItemFactory(plan=plan, category="减费降本", content="落实房租补贴", department="园区")
    login(client, officer)

    response = client.get(f"/plans/{plan.id}/print")

    assert response.status_code == 200
    assert response.template.name == "policies/plans_print.html"  # type: ignore[attr-defined]
    html = response.text
    for text in (
        "上海印刷测试科技有限公司",
        firm.uscc,
        "三年内成为小巨人",
        "区科委牵头，园区配合",
        "落实房租补贴",
    ):
        assert text in html
    assert "减费降本" in html and "园区" in html and "未开始" in html
    assert "企业负责人（签字）" in html and "data-print" in html


def test_an_officer_outside_the_park_gets_404_for_every_plan_page(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    plan = SupportPlanFactory(firm=FirmFactory(park="yangpu"))
    item = PlanItemFactory(plan=plan)
    login(client, make_user(Role.officer, parks=["jingan"]))

    assert client.get(f"/plans/{plan.id}").status_code == 404
    assert client.get(f"/plans/{plan.id}/print").status_code == 404
    assert client.get(f"/plans/new?firm_id={plan.firm_id}").status_code == 404
    assert (
        client.post(f"/plans/{plan.id}/items/{item.id}/status", data=form(status="done")).status_code == 404
    )


def test_leaders_read_plans_but_every_change_is_refused(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    plan = SupportPlanFactory(title="领导可看的方案")
    item = PlanItemFactory(plan=plan)
    login(client, make_user(Role.leader))

    detail = client.get(f"/plans/{plan.id}")
    writes = [
        client.post(f"/plans/{plan.id}/items", data=form(category="其他", content="x", department="园区")),
        client.post(f"/plans/{plan.id}/items/{item.id}/status", data=form(status="done")),
        client.post(f"/plans/{plan.id}/items/{item.id}/notes", data=form(text="x")),
        client.post("/plans", data=form(firm="x", title="x")),
        client.get("/plans/new"),
    ]

    assert detail.status_code == 200 and "领导可看的方案" in detail.text
    assert "添加事项" not in detail.text and "更新状态" not in detail.text
    assert [r.status_code for r in writes] == [403] * 5
    assert "领导账号仅可查看一企一策" in writes[0].text


def test_a_firm_user_never_sees_plans(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    plan = SupportPlanFactory()
    login(client, make_user(Role.firm, firm=FirmFactory()))

    assert client.get("/plans").status_code == 403
    assert client.get(f"/plans/{plan.id}").status_code == 403


def test_a_plan_can_be_closed_and_reopened(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    plan = SupportPlanFactory(owner=officer)
    login(client, officer)

    closed = client.post(f"/plans/{plan.id}/status", data=form(status="closed"), follow_redirects=False)
    db.refresh(plan)
    page = client.get(f"/plans/{plan.id}").text

    assert closed.status_code == 303 and plan.status == PlanStatus.closed
    assert "重新启用" in page and "添加事项" not in page
