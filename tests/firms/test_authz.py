"""Authorisation matrix: role × park × endpoint, every cell. An officer sees only their parks' firms
(others are 404, as if absent), a leader reads everything and edits nothing, a firm user reads only itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.models import Role
from app.firms import uscc
from tests.factories import FirmFactory

PARK_OF = {"own": "jingan", "other": "yangpu"}


@dataclass
class World:
    client: TestClient
    firms: dict[str, Any]
    headers: dict[str, str]


@pytest.fixture
def world(client: TestClient, make_user: Any, bearer: Any) -> Any:
    firms = {"own": FirmFactory(park="jingan"), "other": FirmFactory(park="yangpu")}
    # Only the user a test acts as is created: password hashing is deliberately slow.
    users = {
        "admin": lambda: make_user(Role.admin),
        "officer": lambda: make_user(Role.officer, parks=["jingan"]),
        "leader": lambda: make_user(Role.leader),
        "firm": lambda: make_user(Role.firm, firm=firms["own"]),
    }

    def for_role(role: str) -> World:
        headers = bearer(users[role]()) if role != "anonymous" else {}
        return World(client=client, firms=firms, headers=headers)

    return for_role


def _call(w: World, endpoint: str, which: str) -> int:
    firm = w.firms[which]
    base = f"/api/v1/firms/{firm.id}"
    last_year = date.today().year - 1
    if endpoint == "get":
        return w.client.get(base, headers=w.headers).status_code
    if endpoint == "patch":
        return w.client.patch(
            base, json={"version": firm.version, "address": "新地址 1 号"}, headers=w.headers
        ).status_code
    if endpoint == "put_year":
        return w.client.put(
            f"{base}/years/{last_year}",
            json={"revenue": 1200, "source": "officer_verified"},
            headers=w.headers,
        ).status_code
    if endpoint == "recognition":
        return w.client.post(
            f"{base}/recognitions", json={"tier": "tech_sme", "issued_on": "2026-05-01"}, headers=w.headers
        ).status_code
    if endpoint == "fact":
        return w.client.post(
            f"{base}/facts", json={"key": "ip.class1", "value": 3}, headers=w.headers
        ).status_code
    if endpoint == "history":
        return w.client.get(f"{base}/history", headers=w.headers).status_code
    if endpoint == "create":
        code = uscc.build(
            "91310110" if which == "other" else "91310106", "MA7AUTH" + ("1" if which == "own" else "2")
        )
        return w.client.post(
            "/api/v1/firms",
            json={"name": "矩阵测试科技有限公司", "uscc": code, "park": PARK_OF[which]},
            headers=w.headers,
        ).status_code
    raise AssertionError(endpoint)


READ = {"get", "history"}
WRITE = {"patch": 200, "put_year": 200, "recognition": 201, "fact": 201, "create": 201}


def expected(role: str, endpoint: str, which: str) -> int:
    if role == "anonymous":
        return 401
    if role == "admin":
        return 200 if endpoint in READ else WRITE[endpoint]
    if role == "leader":
        return 200 if endpoint in READ else 403
    if role == "officer":
        if endpoint == "create":
            return 201 if which == "own" else 422  # may only register firms in parks they serve
        if which == "other":
            return 404
        return 200 if endpoint in READ else WRITE[endpoint]
    if role == "firm":
        if endpoint == "create":
            return 403
        if which == "other":
            return 404
        return 200 if endpoint in READ else 403
    raise AssertionError(role)


CELLS = [
    (role, endpoint, which)
    for role in ("anonymous", "admin", "officer", "leader", "firm")
    for endpoint in ("get", "history", "patch", "put_year", "recognition", "fact", "create")
    for which in ("own", "other")
]


@pytest.mark.parametrize(("role", "endpoint", "which"), CELLS, ids=["-".join(c) for c in CELLS])
def test_authorisation_matrix(world: Any, role: str, endpoint: str, which: str) -> None:
    assert _call(world(role), endpoint, which) == expected(role, endpoint, which)


@pytest.mark.parametrize(
    ("role", "visible"),
    [("admin", {"own", "other"}), ("leader", {"own", "other"}), ("officer", {"own"}), ("firm", {"own"})],
)
def test_list_shows_only_firms_in_scope(world: Any, role: str, visible: set[str]) -> None:
    w = world(role)
    body = w.client.get("/api/v1/firms", params={"limit": 500}, headers=w.headers).json()
    ids = {item["id"] for item in body["items"]}
    for which, firm in w.firms.items():
        assert (firm.id in ids) == (which in visible), which


def test_list_without_credentials_is_401(world: Any) -> None:
    w = world("anonymous")
    response = w.client.get("/api/v1/firms")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_session_cookie_works_like_a_bearer_token(client: TestClient, make_user: Any, login: Any) -> None:
    firm = FirmFactory(park="jingan")
    headers = login(client, make_user(Role.officer, parks=["jingan"]))
    assert client.get(f"/api/v1/firms/{firm.id}").status_code == 200
    # A cookie-authenticated write needs the CSRF header …
    assert (
        client.post(f"/api/v1/firms/{firm.id}/facts", json={"key": "is_sme", "value": True}).status_code
        == 403
    )
    # … and succeeds with it.
    ok = client.post(f"/api/v1/firms/{firm.id}/facts", json={"key": "is_sme", "value": True}, headers=headers)
    assert ok.status_code == 201
