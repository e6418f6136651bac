"""The shared layout, sign-in page and error pages that every domain's pages rely on."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from app.auth.models import Role, User
from app.web.templating import env

Login = Callable[[TestClient, User], dict[str, str]]


def test_the_layout_carries_nav_user_sign_out_csrf_header_and_scripts(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    login(client, make_user(Role.admin, display_name="李管理"))

    html = client.get("/tasks").text

    assert "Ladder 企业梯度培育服务平台" in html
    assert '<a href="/tasks" class="active" aria-current="page">我的待办</a>' in html
    assert f'href="{client.app.url_path_for("firms:list")}"' in html  # type: ignore[attr-defined]
    assert "李管理" in html and "管理员" in html
    assert re.search(
        r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token"', html
    )
    assert """hx-headers='{"X-CSRF-Token": \"""" in html
    assert '<script src="/static/htmx-2.0.11.min.js" defer></script>' in html
    assert '<script src="/static/app.js" defer></script>' in html
    assert '<div id="toasts" class="toasts" aria-live="polite"></div>' in html
    assert "<script>" not in html  # the CSP allows no inline script


def test_the_sign_in_page_has_no_nav_and_keeps_next(client: TestClient) -> None:
    response = client.get("/login?next=/tasks")

    html = response.text
    assert response.status_code == 200
    assert 'class="mainnav"' not in html and "退出登录" not in html
    assert '<input type="hidden" name="next" value="/tasks">' in html
    assert 'name="csrf_token"' in html
    assert ">用户名<" in html and ">密码<" in html and ">登录</button>" in html


def test_a_wrong_password_shows_the_message_and_keeps_the_username(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.officer, username="wang_jingan")
    client.get("/login")
    token = client.cookies.get("ladder_csrf")

    response = client.post(
        "/login",
        data={"username": "wang_jingan", "password": "wrong-password", "csrf_token": token, "next": "/tasks"},
    )

    assert response.status_code == 401
    assert '<div class="form-errors" role="alert">用户名或密码不正确</div>' in response.text
    assert 'value="wang_jingan"' in response.text
    assert 'name="password" type="password" required' in response.text  # the password is never echoed


def test_missing_fields_are_marked_beside_each_field(client: TestClient) -> None:
    client.get("/login")
    token = client.cookies.get("ladder_csrf")

    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})

    assert response.status_code == 422
    assert '<p class="field-error" id="username-error">请输入用户名</p>' in response.text
    assert '<p class="field-error" id="password-error">请输入密码</p>' in response.text


def test_an_unknown_page_is_a_chinese_error_page_linking_back_to_the_firm_list(client: TestClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.template.name == "errors/error.html"  # type: ignore[attr-defined]
    assert "页面不存在" in response.text and "返回企业档案" in response.text


def test_the_toast_is_an_out_of_band_alert() -> None:
    html = env.get_template("errors/_toast.html").render(message="数据已被他人修改，请刷新后重试", status=409)

    assert 'hx-swap-oob="beforeend:#toasts"' in html
    assert 'role="alert"' in html and "数据已被他人修改，请刷新后重试" in html


def test_form_macros_render_errors_beside_fields_and_keep_values() -> None:
    template = env.from_string(
        '{% import "components/forms.html" as forms %}'
        '{{ forms.field("uscc", "统一社会信用代码", "9131", {"uscc": "统一社会信用代码应为 18 位"},'
        " required=True) }}"
        '{{ forms.select("park", "园区", [("jingan", "静安园"), ("yangpu", "杨浦园")], "yangpu", {}) }}'
        '{{ forms.textarea("note", "备注", "<b>原样</b>", {}) }}'
    )

    html = template.render()

    assert 'aria-invalid="true"' in html and 'aria-describedby="uscc-error"' in html
    assert '<p class="field-error" id="uscc-error">统一社会信用代码应为 18 位</p>' in html
    assert 'value="9131" required' in html
    assert '<option value="yangpu" selected>杨浦园</option>' in html
    assert "&lt;b&gt;原样&lt;/b&gt;</textarea>" in html


def test_pagination_and_sort_headers_link_with_and_without_htmx() -> None:
    template = env.from_string(
        '{% import "components/ui.html" as ui %}'
        '{{ ui.pagination(3, 9, 220, "/firms?q=科技", target="firm-table") }}'
        "{{ ui.pagination(1, 2, 30, page_url) }}"
        '{{ ui.sort_header("企业名称", "name", "name", "asc", "?q=a", "firm-table") }}'
    )

    html = template.render(page_url=lambda n: f"/tasks?page={n}")

    assert 'href="/firms?q=科技&amp;page=2"' in html and 'hx-target="#firm-table"' in html
    assert '<span class="current" aria-current="page">3</span>' in html
    assert 'href="/tasks?page=2"' in html
    assert 'aria-sort="ascending"' in html and 'href="?q=a&amp;sort=name&amp;dir=desc"' in html
