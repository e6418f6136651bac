"""Signing in and out through the real form: CSRF cookie, session cookie, throttling, argon2 hashes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.web.csrf import CSRF_COOKIE, SESSION_COOKIE

PASSWORD = "correct horse battery staple"


def _login_form(client: TestClient) -> str:
    """Opens the sign-in page as a browser would and returns the CSRF token it was given."""
    response = client.get("/login")
    assert response.status_code == 200
    token = client.cookies.get(CSRF_COOKIE)
    assert token, "GET /login must set the CSRF cookie"
    assert token in response.text, "the form must carry the CSRF token"
    return token


def _post_login(
    client: TestClient, username: str, password: str, token: str, next: str = "/"
) -> httpx.Response:
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )


def _signed_in(client: TestClient) -> bool:
    # A signed-in browser is sent on from the sign-in page instead of being shown the form.
    return client.get("/login", follow_redirects=False).status_code == 303


def test_the_sign_in_page_sets_a_csrf_cookie_and_shows_the_form(client: TestClient) -> None:
    response = client.get("/login")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert client.cookies.get(CSRF_COOKIE)
    assert 'name="username"' in response.text and 'name="password"' in response.text


def test_an_officer_signs_in_with_the_right_password_and_gets_a_session_cookie(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.officer, username="zhang_wei", password=PASSWORD)
    token = _login_form(client)

    response = _post_login(client, "zhang_wei", PASSWORD, token, next="/firms")

    assert response.status_code == 303
    assert response.headers["location"] == "/firms"
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert _signed_in(client)


def test_an_outside_next_address_is_not_followed_after_sign_in(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.admin, username="admin_next", password=PASSWORD)
    token = _login_form(client)

    response = _post_login(client, "admin_next", PASSWORD, token, next="//evil.example.com/")

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_wrong_password_shows_the_form_again_with_a_chinese_message_and_the_username_kept(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.officer, username="li_na", password=PASSWORD)
    token = _login_form(client)

    response = _post_login(client, "li_na", "not-the-password", token)

    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text
    assert 'value="li_na"' in response.text
    assert SESSION_COOKIE not in client.cookies
    assert not _signed_in(client)


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    token = _login_form(client)

    response = _post_login(client, "nobody_here", "whatever-password", token)

    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text


def test_after_five_failures_even_the_right_password_is_refused_for_a_while(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.officer, username="wang_fang", password=PASSWORD)
    token = _login_form(client)
    for _ in range(5):
        assert _post_login(client, "wang_fang", "wrong-password", token).status_code == 401

    response = _post_login(client, "wang_fang", PASSWORD, token)

    assert response.status_code == 429
    assert "登录失败次数过多" in response.text
    assert not _signed_in(client)


def test_signing_out_ends_the_session(client: TestClient, make_user: Callable[..., User]) -> None:
    make_user(Role.leader, username="leader_out", password=PASSWORD)
    token = _login_form(client)
    assert _post_login(client, "leader_out", PASSWORD, token).status_code == 303
    session_token = client.cookies.get(SESSION_COOKIE)

    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert not _signed_in(client)
    # The old cookie, replayed, no longer signs anyone in: the session was revoked, not just forgotten.
    client.cookies.set(SESSION_COOKIE, session_token)
    assert not _signed_in(client)


def test_passwords_are_stored_as_argon2id_hashes(db: Session, make_user: Callable[..., User]) -> None:
    user = make_user(Role.officer, username="hash_check", password=PASSWORD)
    db.expire_all()

    stored = db.get(User, user.id)

    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
