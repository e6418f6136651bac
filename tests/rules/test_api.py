"""POST /api/v1/eligibility: the public contract (docs/domain/eligibility-api.md) through HTTP."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from limits import parse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.config import Settings, settings
from app.db import Base
from app.firms import uscc
from app.indicators.facts import parse_fact_value
from app.indicators.models import Source
from app.rules import ratelimit, schemas
from app.rules.facts import AWARD_LEVELS, INCIDENT_GRADES, RD_INSTITUTION_ORDER
from app.rules.loader import DISTRICTS, INCIDENT_KINDS, TIERS
from app.web.csrf import SESSION_COOKIE
from tests.factories import FactObservationFactory, FirmFactory, FirmYearFactory

URL = "/api/v1/eligibility"
CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "cases" / "public.json").read_text("utf-8"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def case(case_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(c for c in CASES if c["id"] == case_id))


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> Iterator[None]:
    """Every test starts with every client's allowance unused (the counters are per process)."""
    ratelimit.reset()
    yield
    ratelimit.reset()


# --- the public cases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("public_case", CASES, ids=[f"{c['id']}: {c['why']}" for c in CASES])
def test_each_public_case_gets_the_expected_statuses_and_holds(
    client: TestClient, public_case: dict[str, Any]
) -> None:
    response = client.post(URL, json=public_case["request"])

    assert response.status_code == 200, response.text
    tiers = response.json()["tiers"]
    for tier, allowed in public_case["expect"].items():
        assert tiers[tier]["status"] in allowed, (tier, tiers[tier]["status"], tiers[tier]["gaps"])
    for tier, held in public_case["holds"].items():
        assert tiers[tier]["holds"] is held, tier


def test_the_contract_example_request_is_accepted(client: TestClient) -> None:
    response = client.post(URL, json=schemas.EXAMPLE_REQUEST)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tiers"]["hnte"]["holds"] is True  # certificate 2024-12-10 … 2027-12-09
    assert body["tiers"]["little_giant"]["assess_as"] == "review"
    assert body["tiers"]["tech_sme"]["assess_as"] == "new"


# --- the response's shape -----------------------------------------------------------------------------------


def test_the_response_has_every_tier_with_every_contract_field_and_json_types(client: TestClient) -> None:
    response = client.post(URL, json=case("A")["request"])

    body = response.json()
    assert body["as_of"] == "2026-09-15"
    # Issue 4 fills the policies; until then the list is present and empty.
    assert body["policies"] == []
    assert set(body["tiers"]) == set(TIERS)
    for code, tier in body["tiers"].items():
        assert {"status", "holds", "ruleset", "score", "criteria", "gaps"} <= set(tier), code
        assert tier["status"] in ("eligible", "needs_review", "insufficient_data", "ineligible")
        assert isinstance(tier["holds"], bool)
        assert tier["ruleset"] is None or isinstance(tier["ruleset"], str)
        # Scores (and any amount) are JSON numbers, never strings.
        assert tier["score"] is None or (
            isinstance(tier["score"], int | float) and not isinstance(tier["score"], bool)
        )
        assert all(isinstance(g, str) for g in tier["gaps"])
        assert tier["criteria"], code
        for criterion in tier["criteria"]:
            assert set(criterion) == {"id", "label", "outcome", "detail", "citation"}
            assert criterion["outcome"] in ("pass", "fail", "unknown", "manual", "not_applicable")
    assert isinstance(body["tiers"]["tech_sme"]["score"], int | float)


def test_gaps_say_in_numbers_what_is_missing(client: TestClient) -> None:
    request = case("I")["request"]  # 科技人员 9.5%

    tech_sme = client.post(URL, json=request).json()["tiers"]["tech_sme"]

    assert tech_sme["status"] == "ineligible"
    assert tech_sme["gaps"] and any(re.search(r"\d", g) for g in tech_sme["gaps"])


def test_an_empty_firm_is_unknown_everywhere_not_ineligible(client: TestClient) -> None:
    body = client.post(URL, json={"as_of": "2026-09-15", "firm": {}}).json()

    assert set(body["tiers"]) == set(TIERS)
    statuses = {t["status"] for t in body["tiers"].values()}
    assert "eligible" not in statuses
    assert body["tiers"]["tech_sme"]["status"] == "insufficient_data"


def test_a_negative_net_profit_is_a_loss_not_an_error(client: TestClient) -> None:
    request = case("A")["request"]
    request["firm"]["years"]["2025"]["net_profit"] = -120.5

    assert client.post(URL, json=request).status_code == 200


def test_the_contract_vocabularies_match_the_rules_module() -> None:
    assert get_args(schemas.TierCode) == TIERS
    assert get_args(schemas.RegionCode) == DISTRICTS
    assert get_args(schemas.IncidentKindCode) == INCIDENT_KINDS
    assert set(get_args(schemas.IncidentGradeCode)) == set(INCIDENT_GRADES)
    assert set(get_args(schemas.AwardLevelCode)) == set(AWARD_LEVELS)
    assert set(get_args(schemas.RdInstitutionCode)) == set(RD_INSTITUTION_ORDER)


# --- malformed requests: 422 on the field, in Chinese -------------------------------------------------------


def _set(request: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = request
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


GOOD_USCC = uscc.build("91310106", "MA1H7ABC")
BAD_USCC = GOOD_USCC[:-1] + ("0" if GOOD_USCC[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("path", "value", "loc_tail", "message"),
    [
        ("as_of", "2026-02-30", ["as_of"], "日期格式"),
        ("as_of", None, ["as_of"], "日期格式"),
        ("as_of", "9999-12-31", ["as_of"], "不能大于 2999-12-31"),
        ("firm.founded_on", "9999-12-31", ["founded_on"], "不能大于"),
        ("firm.years.2025.revenue", -1, ["years", "2025", "revenue"], "不能小于 0"),
        ("firm.years.2025.rd_expense", "很多", ["rd_expense"], "应为数字"),
        ("firm.years.2025.employees", 42.5, ["employees"], "应为整数"),
        ("firm.years.2025.tech_staff", -3, ["tech_staff"], "不能小于 0"),
        ("firm.rd_institution", "county", ["rd_institution"], "取值无效"),
        ("firm.district", "pudong", ["district"], "取值无效"),
        ("firm.park", "zhangjiang", ["park"], "取值无效"),
        ("firm.tech_sme_rd_measure", "both", ["tech_sme_rd_measure"], "取值无效"),
        ("firm.market", {"domestic_share_pct": 140}, ["market", "domestic_share_pct"], "不能大于 100"),
        ("firm.ip.class1_self_developed", 3, ["ip", "class1_self_developed"], "不能大于Ⅰ类知识产权总数"),
        ("firm.is_sme", "maybe", ["is_sme"], "是或否"),
        ("firm.founded_on", "2021/05/10", ["founded_on"], "日期格式"),
        ("firm.uscc", BAD_USCC, ["uscc"], "校验码"),
        ("firm.uscc", "9131010", ["uscc"], "18 位"),
        ("firm.revenu", 100, ["revenu"], "不允许的字段"),
        ("assess_as", {"gold_medal": "review"}, ["assess_as"], "未知的梯度代码"),
        ("assess_as", {"little_giant": "renew"}, ["assess_as", "little_giant"], "取值无效"),
        ("firm.years", {"25": {"revenue": 1}}, ["years"], "四位数字"),
        (
            "firm.incidents",
            [{"kind": "fire", "grade": "major", "occurred_on": "2025-01-01"}],
            ["incidents", 0, "kind"],
            "取值无效",
        ),
        (
            "firm.incidents",
            [{"kind": "safety", "grade": "huge", "occurred_on": "2025-01-01"}],
            ["incidents", 0, "grade"],
            "取值无效",
        ),
        ("firm.incidents", [{"kind": "safety", "grade": "major"}], ["incidents", 0, "occurred_on"], "必填"),
        (
            "firm.recognitions",
            [{"tier": "hnte", "kind": "bought", "issued_on": "2024-12-10"}],
            ["recognitions", 0, "kind"],
            "取值无效",
        ),
        (
            "firm.recognitions",
            [{"tier": "platinum", "issued_on": "2024-12-10"}],
            ["recognitions", 0, "tier"],
            "取值无效",
        ),
        (
            "firm.recognitions",
            [{"tier": "hnte", "issued_on": "2024-12-10", "expires_on": "2024-01-01"}],
            ["recognitions", 0, "expires_on"],
            "不能早于发证日期",
        ),
        (
            "firm.awards",
            [{"level": "galactic", "awarded_on": "2024-01-08"}],
            ["awards", 0, "level"],
            "取值无效",
        ),
        (
            "firm.awards",
            [{"level": "national", "awarded_on": "2024-01-08", "rank": 0}],
            ["rank"],
            "不能小于 1",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_malformed_field_is_a_422_on_that_field_in_chinese(
    client: TestClient, path: str, value: Any, loc_tail: list[Any], message: str
) -> None:
    request = case("A")["request"]
    _set(request, path, value)

    response = client.post(URL, json=request)

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    error = detail[0]
    assert error["loc"][0] == "body"
    assert error["loc"][-len(loc_tail) :] == loc_tail
    assert message in error["msg"]
    assert all(CJK.search(e["msg"]) for e in detail)
    assert {"loc", "msg", "type"} <= set(error)


def test_a_missing_as_of_is_required(client: TestClient) -> None:
    response = client.post(URL, json={"firm": {}})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "as_of"], "msg": "必填", "type": "missing", "input": {"firm": {}}}
    ]


def test_a_body_that_is_not_json_is_a_422_in_chinese(client: TestClient) -> None:
    response = client.post(URL, content=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert CJK.search(response.json()["detail"][0]["msg"])


# --- public, read-only --------------------------------------------------------------------------------------


def test_it_works_without_cookies_login_or_csrf_token(client: TestClient) -> None:
    assert not client.cookies
    response = client.post(URL, json=case("A")["request"], headers={"Content-Type": "application/json"})

    assert response.status_code == 200
    assert SESSION_COOKIE not in response.cookies


def _row_counts(db: Session) -> dict[str, int]:
    return {t.name: db.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def test_checking_eligibility_stores_nothing(
    client: TestClient, db: Session, make_user: Callable[..., User], bearer: Callable[[User], dict[str, str]]
) -> None:
    firm = FirmFactory()
    FirmYearFactory(firm=firm, year=2025)
    headers = bearer(make_user(Role.officer, parks=["jingan"]))
    db.commit()
    before = _row_counts(db)

    assert client.post(URL, json=case("A")["request"]).status_code == 200
    assert client.post(URL, json={"as_of": "2026-13-01"}).status_code == 422
    assert (
        client.post(URL, json={"as_of": "2026-09-15", "firm_id": firm.id}, headers=headers).status_code == 200
    )
    assert client.post(URL, json={"as_of": "2026-09-15", "firm_id": firm.id}).status_code == 401

    db.expire_all()
    assert _row_counts(db) == before


def test_the_endpoint_is_documented_with_the_contract_example(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    operation = spec["paths"][URL]["post"]
    assert "security" not in operation
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples["contract"]["value"]["as_of"] == "2026-09-15"
    ok = operation["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/EligibilityResponse")
    assert {"422", "429"} <= set(operation["responses"])
    year = spec["components"]["schemas"]["YearFacts"]["properties"]["revenue"]
    assert {"type": "number", "minimum": 0}.items() <= next(
        s for s in year.get("anyOf", [year]) if s.get("type") == "number"
    ).items()


# --- a stored firm ------------------------------------------------------------------------------------------

# Case A's scalar facts, as the registry stores them (dated observations).
STORED_FACTS_ON = date(2021, 5, 10)


def _store_case_a(park: str = "jingan") -> Any:
    firm_json = case("A")["request"]["firm"]
    firm = FirmFactory(founded_on=date.fromisoformat(firm_json["founded_on"]), district_code=park, park=park)
    for year, row in firm_json["years"].items():
        FirmYearFactory(firm=firm, year=int(year), source=Source.firm_reported, **row)
    flat: dict[str, Any] = {}
    for key, value in firm_json.items():
        if isinstance(value, dict) and key != "years":
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        elif not isinstance(value, list | dict) and key != "founded_on":
            flat[key] = value
    for key, value in flat.items():
        if value is not None:
            FactObservationFactory(
                firm=firm, key=key, value=parse_fact_value(key, value), valid_from=STORED_FACTS_ON
            )
    return firm


def test_a_stored_firm_is_judged_on_its_stored_facts(
    client: TestClient, make_user: Callable[..., User], bearer: Callable[[User], dict[str, str]]
) -> None:
    firm = _store_case_a()
    headers = bearer(make_user(Role.officer, parks=["jingan"]))
    same_facts = case("A")["request"]
    same_facts["firm"].update({"district": "jingan", "park": "jingan"})

    stored = client.post(URL, json={"as_of": "2026-09-15", "firm_id": firm.id}, headers=headers)
    described = client.post(URL, json=same_facts)

    assert stored.status_code == 200, stored.text
    assert stored.json()["firm_id"] == firm.id
    assert stored.json()["tiers"] == described.json()["tiers"]
    assert stored.json()["tiers"]["tech_sme"]["status"] == "eligible"


def test_a_signed_in_browser_sends_its_csrf_token_like_any_other_post(
    client: TestClient, make_user: Callable[..., User], login: Callable[[TestClient, User], dict[str, str]]
) -> None:
    firm = _store_case_a()
    headers = login(client, make_user(Role.officer, parks=["jingan"]))
    request = {"as_of": "2026-09-15", "firm_id": firm.id}

    assert client.post(URL, json=request, headers=headers).status_code == 200
    assert client.post(URL, json=request).status_code == 403


def test_a_stored_firm_without_data_is_insufficient_not_eligible(
    client: TestClient, make_user: Callable[..., User], bearer: Callable[[User], dict[str, str]]
) -> None:
    firm = FirmFactory()
    headers = bearer(make_user(Role.admin))

    body = client.post(URL, json={"as_of": "2026-09-15", "firm_id": firm.id}, headers=headers).json()

    assert body["tiers"]["tech_sme"]["status"] == "insufficient_data"


def test_a_stored_firm_in_another_park_does_not_exist_for_the_officer(
    client: TestClient, make_user: Callable[..., User], bearer: Callable[[User], dict[str, str]]
) -> None:
    firm = _store_case_a(park="jingan")
    headers = bearer(make_user(Role.officer, parks=["yangpu"]))

    response = client.post(URL, json={"as_of": "2026-09-15", "firm_id": firm.id}, headers=headers)

    assert response.status_code == 404
    assert "tiers" not in response.json()


def test_a_stored_firm_needs_a_signed_in_user(client: TestClient) -> None:
    firm = _store_case_a()

    response = client.post(URL, json={"as_of": "2026-09-15", "firm_id": firm.id})

    assert response.status_code == 401
    assert "登录" in response.json()["detail"]


def test_a_stored_firm_cannot_be_mixed_with_described_facts(
    client: TestClient, make_user: Callable[..., User], bearer: Callable[[User], dict[str, str]]
) -> None:
    firm = _store_case_a()
    headers = bearer(make_user(Role.admin))
    request = case("A")["request"] | {"firm_id": firm.id}

    response = client.post(URL, json=request, headers=headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "firm"]


# --- rate limit ---------------------------------------------------------------------------------------------


def test_the_default_allowance_is_at_least_120_a_minute() -> None:
    item = parse(Settings.model_fields["eligibility_rate_limit"].default)

    assert item.amount * 60 / item.get_expiry() >= 120


def test_beyond_the_allowance_a_client_gets_429_with_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "eligibility_rate_limit", "3/minute")
    ratelimit.reset()
    request = {"as_of": "2026-09-15", "firm": {}}

    statuses = [client.post(URL, json=request).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = client.post(URL, json=request)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "请求过于频繁" in refused.json()["detail"]
    # Another client still has its own allowance.
    other = TestClient(client.app, base_url="https://testserver", client=("203.0.113.7", 50000))
    assert other.post(URL, json=request).status_code == 200


def test_malformed_requests_count_towards_the_allowance(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "eligibility_rate_limit", "2/minute")
    ratelimit.reset()

    statuses = [client.post(URL, json={"as_of": "nope"}).status_code for _ in range(3)]

    assert statuses == [422, 422, 429]


def test_the_amounts_keep_their_exact_value() -> None:
    request = schemas.EligibilityRequest.model_validate_json(
        '{"as_of": "2026-09-15", "firm": {"years": {"2025": {"revenue": 4999.99, "net_profit": -0.01}}}}'
    )

    year = request.firm.years["2025"]  # type: ignore[index]
    assert year.revenue == Decimal("4999.99") and year.net_profit == Decimal("-0.01")
