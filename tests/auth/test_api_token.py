"""The OAuth2 password flow for API clients: form fields in, a bearer token out."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from app.auth.models import Role, User

PASSWORD = "api-client-password"


def test_the_right_password_gets_a_bearer_token_that_identifies_the_user(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.officer, username="api_officer", password=PASSWORD)

    response = client.post("/api/v1/auth/token", data={"username": "api_officer", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) >= 32
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/login", headers=headers, follow_redirects=False).status_code == 303


def test_a_wrong_password_gets_401_and_no_token(client: TestClient, make_user: Callable[..., User]) -> None:
    make_user(Role.officer, username="api_wrong", password=PASSWORD)

    response = client.post("/api/v1/auth/token", data={"username": "api_wrong", "password": "nope-nope"})

    assert response.status_code == 401
    assert "access_token" not in response.json()
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_bearer_token_from_the_harness_is_accepted(
    client: TestClient, make_user: Callable[..., User], bearer: Callable[[User], dict[str, str]]
) -> None:
    headers = bearer(make_user(Role.leader))

    assert client.get("/login", headers=headers, follow_redirects=False).status_code == 303
    assert client.get("/login", headers={"Authorization": "Bearer not-a-token"}).status_code == 200
