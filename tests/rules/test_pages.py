"""The rules pages over HTTP: the firm file's 梯度评估 section (page or fragment, scoped like the file,
dated) and the public 企业自测 (anonymous, validated as typed, page or fragment, stores nothing)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.firms.models import Firm
from app.indicators.models import FirmYear
from app.rules import ratelimit
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import FactObservationFactory, FirmFactory, FirmYearFactory, RecognitionFactory

Login = Callable[[TestClient, User], dict[str, str]]
ROOT = Path(__file__).resolve().parents[2]
CASES: list[dict[str, Any]] = json.loads(
    (ROOT / "docs" / "domain" / "cases" / "public.json").read_text("utf-8")
)
HTMX_SECTION = {"HX-Request": "true", "HX-Target": "eligibility"}
HTMX_RESULT = {"HX-Request": "true", "HX-Target": "self-check-result"}
LISTS = ("recognitions", "awards", "incidents")


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> None:
    """The self-check shares the public allowance with the API: start every test with it unused."""
    ratelimit.reset()


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


@pytest.fixture
def signed_in(client: TestClient, login: Login, officer: User) -> TestClient:
    login(client, officer)
    return client


def panel(html: str, tier: str) -> str:
    """The decision panel (<details>) of one tier."""
    found = re.search(rf'<details class="decision[^"]*" id="decision-{tier}".*?</details>', html, re.S)
    assert found, f"no decision panel for {tier}"
    return found.group(0)


def status_of(html: str, tier: str) -> str:
    """The status label shown in a tier's panel header (符合, 待人工评审, 数据不足, 不符合)."""
    found = re.search(
        r'class="badge badge-\w+ decision-status" data-status="\w+">([^<]+)<', panel(html, tier)
    )
    assert found
    return found.group(1)


def overview(html: str, part: str) -> str:
    """One line of the overview beside the ladder: certified, held or qualifying."""
    found = re.search(rf'<div id="decision-{part}"><dt>[^<]*</dt><dd>(.*?)</dd></div>', html, re.S)
    assert found, f"no overview line {part}"
    return found.group(1)


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def as_form(request: dict[str, Any]) -> dict[str, str]:
    """A contract request as the self-check form posts it: fields named by contract path, lists as rows."""
    firm = request["firm"]
    form: dict[str, str] = {"as_of": request["as_of"]}

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    for key, value in firm.items():
        if key in LISTS:
            form[f"{key}.given"] = "" if value is None else "listed" if value else "none"
            for i, row in enumerate(value or []):
                form.update({f"{key}.{i}.{k}": text(v) for k, v in row.items() if k != "certificate_no"})
        elif key == "years":
            for year, row in value.items():
                form.update({f"years.{year}.{k}": text(v) for k, v in row.items()})
        elif isinstance(value, dict):
            form.update({f"{key}.{k}": text(v) for k, v in value.items()})
        elif key not in ("name", "uscc"):
            form[key] = text(value)
    for tier, mode in (request.get("assess_as") or {}).items():
        form[f"assess_as.{tier}"] = mode
    return form


def case_form(case_id: str) -> dict[str, str]:
    return as_form(copy.deepcopy(next(c for c in CASES if c["id"] == case_id))["request"])


# --- the firm file's 梯度评估 -------------------------------------------------------------------------------


def test_the_eligibility_section_is_the_whole_file_page_and_only_the_section_for_htmx(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory(name="上海评估页面科技有限公司")

    page = signed_in.get(f"/firms/{firm.id}/eligibility")
    fragment = signed_in.get(f"/firms/{firm.id}/eligibility", headers=HTMX_SECTION)

    assert page.status_code == 200 and fragment.status_code == 200
    assert page.template.name == "firms/detail.html"  # type: ignore[attr-defined]
    assert "<html" in page.text and 'id="summary"' in page.text and 'id="eligibility"' in page.text
    assert "<html" not in fragment.text and 'id="summary"' not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="eligibility"')
    for response in (page, fragment):
        assert response.headers["vary"] == "HX-Request, HX-Target"
        # Today in Asia/Shanghai, every tier's panel, and the rule set each was judged by.
        assert f'data-as-of="{today().isoformat()}"' in response.text
        assert "科技型中小企业评价办法（2017）" in panel(response.text, "tech_sme")
        for tier in ("tech_sme", "hnte", "little_giant", "gazelle"):
            assert panel(response.text, tier)


def test_the_file_page_loads_the_section_with_htmx_and_offers_the_date_form_without_it(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory()

    html = signed_in.get(f"/firms/{firm.id}").text

    section = re.search(r'<section id="eligibility".*?</section>', html, re.S)
    assert section
    assert f'hx-get="/firms/{firm.id}/eligibility?as_of={today().isoformat()}"' in section.group(0)
    assert 'hx-trigger="load"' in section.group(0)
    assert (
        f'<form class="eligibility-form" method="get" action="/firms/{firm.id}/eligibility#eligibility"'
        in (section.group(0))
    )
    assert '<a href="#eligibility">梯度评估</a>' in html


def test_the_section_is_scoped_like_the_file(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    elsewhere = FirmFactory(park="yangpu")

    anonymous = client.get(f"/firms/{elsewhere.id}/eligibility", follow_redirects=False)
    login(client, make_user(Role.officer, parks=["jingan"]))
    other_park = client.get(f"/firms/{elsewhere.id}/eligibility")
    other_park_htmx = client.get(f"/firms/{elsewhere.id}/eligibility", headers=HTMX_SECTION)

    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert other_park.status_code == 404 and other_park_htmx.status_code == 404
    assert "decision-" not in other_park.text


def test_the_chosen_date_decides_which_tiers_the_firm_held(signed_in: TestClient) -> None:
    firm = FirmFactory()
    rec = RecognitionFactory(firm=firm, expired=True)  # 高新技术企业, ended a month ago
    during = rec.issued_on + timedelta(days=100)

    now = signed_in.get(f"/firms/{firm.id}/eligibility", headers=HTMX_SECTION).text
    then = signed_in.get(
        f"/firms/{firm.id}/eligibility", params={"as_of": during.isoformat()}, headers=HTMX_SECTION
    ).text

    assert "未入梯" in overview(now, "certified") and "评估日无有效认定" in overview(now, "held")
    assert 'badge-held">持有<' not in panel(now, "hnte")
    assert "2 · 高新技术企业" in overview(then, "certified")
    assert "高新技术企业" in overview(then, "held")
    assert 'badge-held">持有<' in panel(then, "hnte")
    assert f'data-as-of="{during.isoformat()}"' in then
    assert f'value="{during.isoformat()}"' in then


def test_the_ladder_shows_the_certified_tier_beside_the_tiers_the_firm_qualifies_for(
    signed_in: TestClient,
) -> None:
    firm = FirmFactory()
    RecognitionFactory(firm=firm)  # 高新技术企业, valid
    FirmYearFactory(firm=firm)
    for key, value in [
        ("is_sme", True),
        ("prohibited_products", False),
        ("lists.abnormal", False),
        ("lists.dishonest", False),
        ("ip.class1", 2),
    ]:
        FactObservationFactory(firm=firm, key=key, value=value)

    html = signed_in.get(f"/firms/{firm.id}/eligibility", headers=HTMX_SECTION).text

    assert "2 · 高新技术企业" in overview(html, "certified")
    assert status_of(html, "tech_sme") == "符合"
    assert "科技型中小企业" in overview(html, "qualifying")
    rung2 = re.search(r'<li class="ladder-rung is-certified" data-level="2">.*?</li>\s*</ul>', html, re.S)
    assert rung2 and "高新技术企业" in rung2.group(0) and "持有" in rung2.group(0)
    rung1 = re.search(r'<li class="ladder-rung" data-level="1">.*?</ul>', html, re.S)
    assert rung1 and 'chip-mark chip-mark-eligible">符合<' in rung1.group(0)
    assert 'class="ladder-beside"' in html and "瞪羚" in html


def test_a_tier_can_be_assessed_as_a_review(signed_in: TestClient) -> None:
    firm = FirmFactory()

    html = signed_in.get(
        f"/firms/{firm.id}/eligibility",
        params={"as_of": "2026-09-15", "assess_as.little_giant": "review"},
        headers=HTMX_SECTION,
    ).text

    assert "<dt>申请类型</dt><dd>复核</dd>" in panel(html, "little_giant")
    assert "<dt>申请类型</dt><dd>新申请</dd>" in panel(html, "srdi_sme")
    assert '<option value="review" selected>复核</option>' in html


def test_a_malformed_date_comes_back_with_the_message_beside_the_input(signed_in: TestClient) -> None:
    firm = FirmFactory()

    response = signed_in.get(
        f"/firms/{firm.id}/eligibility", params={"as_of": "2026-13-01"}, headers=HTMX_SECTION
    )

    assert response.status_code == 422
    assert field_error(response.text, "eligibility-as-of") == "日期不存在，请检查年月日"
    assert 'value="2026-13-01"' in response.text and "decision-tech_sme" not in response.text


# --- 企业自测 ---------------------------------------------------------------------------------------------


def test_an_anonymous_visitor_gets_the_self_check_form(client: TestClient) -> None:
    response = client.get("/self-check")

    assert response.status_code == 200
    assert response.template.name == "rules/self_check.html"  # type: ignore[attr-defined]
    html = response.text
    assert "<h1>企业自测</h1>" in html and 'class="topbar"' not in html
    assert f'name="as_of" type="date" value="{today().isoformat()}"' in html
    # Unknown is not false: every yes/no question starts at 未知.
    assert re.search(
        r'<select id="is_sme" name="is_sme"[^>]*>\s*<option value="" selected>未知</option>', html
    )
    # The three last full years, side by side.
    last = today().year - 1
    assert [int(y) for y in re.findall(r'<th scope="col">(\d{4}) 年</th>', html)] == [
        last - 2,
        last - 1,
        last,
    ]
    assert f'name="years.{last}.revenue"' in html and "营业收入（万元）" in html
    assert "data-print" in html and "本页不保存" in html
    assert "csrf_token" in html and response.cookies.get("ladder_csrf")


def test_the_sign_in_page_and_the_nav_link_to_the_self_check(
    signed_in: TestClient, client: TestClient
) -> None:
    assert 'href="/self-check"' in signed_in.get("/firms").text
    client.cookies.clear()
    assert 'href="/self-check"' in client.get("/login").text


def test_case_a_typed_into_the_form_is_eligible_for_tech_sme_and_needs_review_for_hnte(
    client: TestClient,
) -> None:
    response = client.post("/self-check", data=case_form("A"))

    assert response.status_code == 200, field_error(response.text, "as_of")
    html = response.text
    assert "<html" in html and 'id="self-check-form"' in html
    assert status_of(html, "tech_sme") == "符合"
    assert status_of(html, "hnte") == "待人工评审"
    assert status_of(html, "little_giant") == "不符合"
    assert 'data-as-of="2026-09-15"' in html
    # The real numbers, the citation and what is missing.
    tech = panel(html, "tech_sme")
    assert "42.9%" in tech and "国科发政〔2017〕115号 第六条（五）、第七条" in tech and "100 分" in tech
    giant = panel(html, "little_giant")
    assert "要达到该梯度，还需：" in giant and "上年营业收入还需增加 3,200 万元" in giant
    # What was typed is still in the form.
    assert 'name="years.2025.revenue" type="text" value="1800"' in html


def test_the_self_check_answers_htmx_with_the_result_only(client: TestClient) -> None:
    form = case_form("A")
    form["year_cols"] = "2023,2024,2025"

    response = client.post("/self-check", data=form, headers=HTMX_RESULT)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="self-check-result"')
    assert status_of(response.text, "tech_sme") == "符合"
    # The form was unchanged (same year columns, no errors to clear): it does not come back.
    assert 'id="self-check-form"' not in response.text


def test_a_bad_number_comes_back_beside_its_field_with_every_typed_value_kept(client: TestClient) -> None:
    form = case_form("A")
    form["years.2025.rd_expense"] = "二百六十"
    form["ip.class1"] = "1.5"

    page = client.post("/self-check", data=form)
    fragment = client.post("/self-check", data=form, headers=HTMX_RESULT)

    assert page.status_code == 422 and fragment.status_code == 422
    for response in (page, fragment):
        html = response.text
        assert field_error(html, "years.2025.rd_expense") == "应为数字"
        assert field_error(html, "ip.class1") == "应为整数"
        assert 'value="二百六十"' in html and 'name="ip.class1" type="text" value="1.5"' in html
        assert 'value="1800"' in html and 'value="2021-05-10"' in html
        assert re.search(r'<option value="true" selected>是</option>', html)
        assert "decision-tech_sme" not in html
        assert '<a href="#years.2025.rd_expense">2025 年研发费用（万元）</a>：应为数字' in html
    # htmx: the result region (the error list) plus the form out of band, with the errors beside the fields.
    assert fragment.text.lstrip().startswith('<div id="self-check-result"')
    assert '<form id="self-check-form"' in fragment.text and 'hx-swap-oob="true"' in fragment.text


def test_rows_and_their_lists_must_agree(client: TestClient) -> None:
    form = case_form("A")
    form.update({"awards.given": "none", "awards.0.level": "national", "awards.0.awarded_on": "2024-01-08"})
    form.update({"recognitions.0.expires_on": "2027-12-09"})

    html = client.post("/self-check", data=form).text

    assert field_error(html, "awards.given") == "选择了“无”，但下表填写了记录"
    assert field_error(html, "recognitions.0.tier") == "必填"
    assert field_error(html, "recognitions.0.issued_on") == "必填"


def test_a_recognition_typed_in_is_held_on_the_evaluation_date(client: TestClient) -> None:
    form = case_form("A")
    form.update(
        {
            "recognitions.given": "listed",
            "recognitions.0.tier": "hnte",
            "recognitions.0.kind": "first",
            "recognitions.0.issued_on": "2024-12-10",
            "recognitions.0.expires_on": "2027-12-09",
        }
    )

    html = client.post("/self-check", data=form).text

    assert "2 · 高新技术企业" in overview(html, "certified")
    assert 'badge-held">持有<' in panel(html, "hnte")


def test_the_self_check_stores_nothing(
    client: TestClient, db: Session, query_counter: Callable[[], Any]
) -> None:
    firms_before = db.scalar(select(func.count()).select_from(Firm))
    years_before = db.scalar(select(func.count()).select_from(FirmYear))

    with query_counter() as queries:
        response = client.post("/self-check", data=case_form("A"))

    assert response.status_code == 200
    writes = [q for q in queries if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert db.scalar(select(func.count()).select_from(Firm)) == firms_before
    assert db.scalar(select(func.count()).select_from(FirmYear)) == years_before


def test_a_signed_in_visitor_posts_the_self_check_with_the_csrf_token(signed_in: TestClient) -> None:
    form = case_form("A")

    refused = signed_in.post("/self-check", data=form)
    accepted = signed_in.post("/self-check", data={**form, "csrf_token": CSRF_TOKEN})

    assert refused.status_code == 403
    assert accepted.status_code == 200 and status_of(accepted.text, "tech_sme") == "符合"
    assert 'class="topbar"' in accepted.text


def test_unknown_is_not_false_in_the_self_check(client: TestClient) -> None:
    form = case_form("A")
    form["lists.abnormal"] = ""  # 未知

    html = client.post("/self-check", data=form).text

    assert status_of(html, "tech_sme") == "数据不足"
    tech = panel(html, "tech_sme")
    assert "列入经营异常名录未知" in tech and "需补充：列入经营异常名录" in tech


def test_the_year_columns_follow_the_evaluation_date(client: TestClient) -> None:
    form = {"as_of": date(2024, 3, 1).isoformat(), "year_cols": "2023,2024,2025"}

    html = client.post("/self-check", data=form, headers=HTMX_RESULT).text

    assert [int(y) for y in re.findall(r'<th scope="col">(\d{4}) 年</th>', html)] == [2021, 2022, 2023]
    assert 'hx-swap-oob="true"' in html


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("years.2025.revenue", "1e100", "数字过大，请检查单位（金额以万元计）"),
        ("years.2025.revenue", "-5", "不能小于 0"),
        ("years.2025.employees", "42.5", "应为整数"),
        ("market.domestic_share_pct", "140", "不能大于 100"),
        ("founded_on", "0001-01-01", "日期应在 1900-01-01 至 2100-12-31 之间"),
        ("as_of", "2026-02-30", "日期不存在，请检查年月日"),
    ],
)
def test_out_of_range_values_are_refused_beside_their_field(
    client: TestClient, name: str, typed: str, message: str
) -> None:
    form = case_form("A")
    form[name] = typed

    response = client.post("/self-check", data=form)

    assert response.status_code == 422
    assert field_error(response.text, name) == message
