"""Forms without the CSRF token are refused; bearer-token API calls need none."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from app.auth.models import Role, User
from app.web.csrf import SESSION_COOKIE


def test_the_sign_in_form_without_its_csrf_token_is_refused(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.officer, username="no_token", password="a-good-password")
    client.get("/login")

    response = client.post(
        "/login", data={"username": "no_token", "password": "a-good-password"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_signed_in_form_post_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
    make_user: Callable[..., User],
    login: Callable[[TestClient, User], dict[str, str]],
) -> None:
    login(client, make_user(Role.officer))

    response = client.post(
        "/logout", data={"csrf_token": "forged-token-forged-token-forged-token"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert client.get("/login", follow_redirects=False).status_code == 303  # still signed in


def test_a_signed_in_post_with_the_csrf_header_is_accepted(
    client: TestClient,
    make_user: Callable[..., User],
    login: Callable[[TestClient, User], dict[str, str]],
) -> None:
    headers = login(client, make_user(Role.officer))

    response = client.post("/logout", headers=headers, follow_redirects=False)

    assert response.status_code == 303
