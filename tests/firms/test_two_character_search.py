"""A two-character search (航空, 环境): on PostgreSQL it goes through the index of character pairs (kept by a
trigger as names change); on both engines it finds exactly the firms whose name, former name or USCC holds
the two characters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.models import Role
from tests.factories import FirmFactory


@pytest.fixture
def headers(make_user: Any, bearer: Any) -> dict[str, str]:
    return bearer(make_user(Role.officer, parks=["jingan"]))  # type: ignore[no-any-return]


def found(client: TestClient, headers: dict[str, str], q: str) -> list[str]:
    body = client.get("/api/v1/firms", params={"q": q}, headers=headers).json()
    assert body["total"] == len(body["items"])
    return sorted(item["name"] for item in body["items"])


def test_two_characters_find_the_firms_that_hold_them_and_follow_a_rename(
    client: TestClient, headers: dict[str, str]
) -> None:
    sky = FirmFactory(name="上海云翼航空科技有限公司")
    FirmFactory(name="上海蓝海环境工程有限公司")
    FirmFactory(name="上海航运物流有限公司")  # 航 and 空 apart: not a match
    assert found(client, headers, "航空") == ["上海云翼航空科技有限公司"]
    assert found(client, headers, "环境") == ["上海蓝海环境工程有限公司"]
    assert found(client, headers, "空科") == ["上海云翼航空科技有限公司"]

    client.patch(
        f"/api/v1/firms/{sky.id}",
        json={"version": sky.version, "name": "上海云翼星际科技有限公司"},
        headers=headers,
    ).raise_for_status()
    assert found(client, headers, "星际") == ["上海云翼星际科技有限公司"]
    # The former name stays searchable, as for longer terms.
    assert found(client, headers, "航空") == ["上海云翼星际科技有限公司"]


def test_a_two_character_search_stays_inside_the_officers_parks(
    client: TestClient, headers: dict[str, str]
) -> None:
    FirmFactory(name="上海静安航空服务有限公司")
    FirmFactory(name="上海杨浦航空服务有限公司", park="yangpu")
    assert found(client, headers, "航空") == ["上海静安航空服务有限公司"]
