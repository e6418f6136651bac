"""A two-character search (航空, 环境): on PostgreSQL it goes through the index of character pairs (kept by a
trigger as names change); on both engines it finds exactly the firms whose name, former name or USCC holds
the two characters."""

from __future__ import annotations

from datetime import date
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


def test_latin_pairs_and_firms_written_by_plain_sql_are_found_too(
    client: TestClient, headers: dict[str, str], db: Any, query_counter: Any
) -> None:
    """Firms inserted or renamed by SQL (an import, a migration) are found by their pairs like any other; a
    pair of Latin letters (kept out of the pairs index) is still found, by the scan."""
    from sqlalchemy import delete, insert, select, update

    from app.firms.models import Firm, Membership

    FirmFactory(name="上海AI航空科技有限公司")
    rows = [
        {
            "name": name,
            "uscc": f"91310106MA{n:08d}",
            "status": "active",
            "search_text": name.lower(),
            "park_code": "jingan",
        }
        for n, name in enumerate(["上海星海环境科技有限公司", "上海北辰环境服务有限公司"])
    ]
    db.execute(insert(Firm), rows)
    ids = [db.scalars(select(Firm.id).where(Firm.name == r["name"])).one() for r in rows]
    db.execute(
        insert(Membership),
        [{"firm_id": i, "park_code": "jingan", "valid_from": date(2020, 1, 1)} for i in ids],
    )
    with query_counter() as statements:
        assert found(client, headers, "环境") == ["上海北辰环境服务有限公司", "上海星海环境科技有限公司"]
    assert any("search_pairs" in s for s in statements)
    with query_counter() as statements:
        assert found(client, headers, "环境科") == ["上海星海环境科技有限公司"]
    if db.get_bind().dialect.name == "sqlite":  # PostgreSQL's trigram index serves the LIKE itself
        assert any("firm_search_fts" in s for s in statements)

    db.execute(update(Firm).where(Firm.id == ids[0]).values(search_text="上海星海光电科技有限公司"))
    assert found(client, headers, "环境") == ["上海北辰环境服务有限公司"]
    assert found(client, headers, "光电") == ["上海星海环境科技有限公司"]  # the name column was not changed
    assert found(client, headers, "ai") == ["上海AI航空科技有限公司"]
    assert found(client, headers, "环境科") == []
    assert found(client, headers, "星海光电") == ["上海星海环境科技有限公司"]

    db.execute(delete(Firm).where(Firm.id == ids[1]))
    assert found(client, headers, "环境") == []
    assert found(client, headers, "北辰环境") == []


def test_quotes_and_wildcards_in_a_term_are_plain_characters(
    client: TestClient, headers: dict[str, str]
) -> None:
    FirmFactory(name='上海"优选"100%科技有限公司')
    FirmFactory(name="上海优选科技有限公司")
    assert found(client, headers, '"优选"') == ['上海"优选"100%科技有限公司']
    assert found(client, headers, "100%") == ['上海"优选"100%科技有限公司']
    assert found(client, headers, "选科技") == ["上海优选科技有限公司"]
    assert found(client, headers, '"') == ['上海"优选"100%科技有限公司']
