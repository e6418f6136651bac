"""规则参数 (district settings) and 规则库 (catalogue) over HTTP, and what the engine makes of an appended
value: from its effective date and not before, only in its district; who may read and who may append; the
form's refusals in Chinese with every typed value kept; page vs fragment; the audit trail; append-only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.rules import service
from app.rules.admin import RuleSettingsAreAppendOnly, setting_views
from app.rules.engine import evaluate
from app.rules.facts import Facts, RecognitionFact
from app.rules.loader import DISTRICTS, TIERS, rulebook
from app.rules.models import RuleSetting
from app.tiers.codes import TIER_LABELS, Tier
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN

Login = Callable[[TestClient, User], dict[str, str]]
URL = "/admin/rule-settings"
GROWTH = "gazelle.min_revenue_growth_pct"
HTMX_BODY = {"HX-Request": "true", "HX-Target": "settings-body"}


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.admin, display_name="李管理员")


def form(**fields: str) -> dict[str, str]:
    values = {
        "csrf_token": CSRF_TOKEN,
        "name": GROWTH,
        "district": "",
        "effective_from": "2026-06-01",
        "value": "30",
        "note": "区经信委 2026 年瞪羚企业认定细则",
    }
    values.update(fields)
    return values


def settings_of(db: Session, name: str = GROWTH) -> list[RuleSetting]:
    return list(db.scalars(select(RuleSetting).where(RuleSetting.name == name).order_by(RuleSetting.id)))


def gazelle_facts(district: str | None = "jingan") -> Facts:
    """A young 高企 whose revenue grows 25 % a year (800 → 1,000 → 1,250 万元): a gazelle at a 20 % bar,
    not at 30 %."""
    return Facts(
        scalars={"founded_on": date(2020, 3, 1)},
        years={
            2023: {"revenue": Decimal(800)},
            2024: {"revenue": Decimal(1000)},
            2025: {"revenue": Decimal(1250)},
        },
        recognitions=[RecognitionFact("hnte", date(2024, 12, 1), date(2027, 11, 30))],
        district=district,
    )


def gazelle_status(db: Session, on: date, district: str | None = "jingan") -> str:
    decision = evaluate(gazelle_facts(district), on, rulebook(), service.param_table(db), tiers=("gazelle",))
    return decision["gazelle"].status


def growth_outcome(db: Session, on: date, district: str | None = "jingan") -> str:
    decision = evaluate(gazelle_facts(district), on, rulebook(), service.param_table(db), tiers=("gazelle",))
    return next(c.outcome.value for c in decision["gazelle"].criteria if c.id == "growth")


# --- the engine uses an appended value from its date, and only where it applies ---------------------------


@pytest.mark.parametrize(
    ("case", "on", "expected"),
    [
        (
            "the day before the new 30 % bar takes effect, the file's 20 % still applies",
            date(2026, 5, 31),
            "pass",
        ),
        ("on the effective date the 30 % bar applies and 25 % growth falls short", date(2026, 6, 1), "fail"),
        ("after the effective date the 30 % bar still applies", date(2026, 12, 31), "fail"),
        ("a year before, the file's value applies", date(2025, 6, 1), "pass"),
    ],
)
def test_an_admins_dated_value_applies_from_its_effective_date_and_not_before(
    client: TestClient, login: Login, admin: User, db: Session, case: str, on: date, expected: str
) -> None:
    login(client, admin)
    assert growth_outcome(db, on) == "pass", "before the change every date uses the file's 20 %"

    response = client.post(URL, data=form(effective_from="2026-06-01", value="30"), follow_redirects=False)

    assert response.status_code == 303, case
    assert growth_outcome(db, on) == expected, case
    assert gazelle_status(db, on) == ("eligible" if expected == "pass" else "ineligible"), case


def test_param_table_reflects_a_new_value_at_once_with_a_single_query(
    client: TestClient, login: Login, admin: User, db: Session, query_counter: Callable[..., object]
) -> None:
    login(client, admin)
    client.post(URL, data=form(effective_from="2026-06-01", value="27.5"), follow_redirects=False)

    with query_counter() as queries:  # type: ignore[attr-defined]
        table = service.param_table(db)

    assert len(queries) == 1
    assert table.value(GROWTH, date(2026, 6, 1)) == Decimal("27.5")
    assert table.value(GROWTH, date(2026, 5, 31)) == Decimal(20)


@pytest.mark.parametrize(
    ("case", "district", "expected"),
    [
        ("a firm of the district the value was set for meets the stricter bar", "yangpu", "fail"),
        ("a firm of another district keeps the all-district value", "jingan", "pass"),
        ("a firm whose district is unknown keeps the all-district value", None, "pass"),
    ],
)
def test_a_district_value_applies_only_to_firms_of_that_district(
    client: TestClient, login: Login, admin: User, db: Session, case: str, district: str | None, expected: str
) -> None:
    login(client, admin)

    response = client.post(URL, data=form(district="yangpu", value="30"), follow_redirects=False)

    assert response.status_code == 303
    assert settings_of(db)[-1].district_code == "yangpu"
    assert growth_outcome(db, date(2026, 6, 1), district) == expected, case
    assert growth_outcome(db, date(2026, 5, 31), district) == "pass", case


def test_a_later_all_district_value_supersedes_an_earlier_district_value(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)
    client.post(URL, data=form(district="yangpu", effective_from="2026-06-01", value="30"))
    client.post(URL, data=form(district="", effective_from="2026-09-01", value="15"))

    assert growth_outcome(db, date(2026, 8, 31), "yangpu") == "fail"
    assert growth_outcome(db, date(2026, 9, 1), "yangpu") == "pass"


# --- who may read, who may append ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.officer, Role.leader])
def test_officers_and_leaders_read_the_settings_but_get_no_form(
    client: TestClient, login: Login, make_user: Callable[..., User], role: Role
) -> None:
    login(client, make_user(role))

    response = client.get(URL)

    assert response.status_code == 200
    assert "瞪羚 上年营业收入增长率下限" in response.text
    assert 'id="setting-form"' not in response.text
    assert f'action="{URL}"' not in response.text
    # The nav offers the catalogue to all staff, the settings page only to admins.
    assert 'href="/rules"' in response.text and f'href="{URL}"' not in response.text


@pytest.mark.parametrize("role", [Role.officer, Role.leader])
def test_officers_and_leaders_cannot_append_a_value(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session, role: Role
) -> None:
    login(client, make_user(role))

    response = client.post(URL, data=form())

    assert response.status_code == 403
    assert settings_of(db) == []


def test_firm_users_may_not_see_the_settings_or_the_catalogue(
    client: TestClient, login: Login, make_user: Callable[..., User], db: Session
) -> None:
    from tests.factories import FirmFactory

    login(client, make_user(Role.firm, firm=FirmFactory()))

    assert client.get(URL).status_code == 403
    assert client.get("/rules").status_code == 403
    assert client.post(URL, data=form()).status_code == 403
    assert settings_of(db) == []


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, db: Session) -> None:
    page = client.get(URL, follow_redirects=False)
    post = client.post(URL, data=form(), follow_redirects=False)
    htmx_post = client.post(URL, data=form(), headers={"HX-Request": "true"}, follow_redirects=False)
    catalogue = client.get("/rules", follow_redirects=False)

    assert page.status_code == 303 and page.headers["location"] == f"/login?next={URL}"
    assert post.status_code == 303 and post.headers["location"].startswith("/login")
    assert htmx_post.status_code == 204 and htmx_post.headers["hx-redirect"].startswith("/login")
    assert catalogue.status_code == 303 and catalogue.headers["location"] == "/login?next=/rules"
    assert settings_of(db) == []


def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)
    fields = form()
    del fields["csrf_token"]

    response = client.post(URL, data=fields)

    assert response.status_code == 403
    assert settings_of(db) == []


# --- the page and its fragment ------------------------------------------------------------------------------


def test_the_page_lists_every_district_setting_with_its_labels_and_nothing_else(
    client: TestClient, login: Login, admin: User
) -> None:
    login(client, admin)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.template.name == "rules/settings.html"  # type: ignore[attr-defined]
    html = response.text
    assert html.startswith("<!doctype html>")
    assert re.search(r'class="active" aria-current="page">规则参数<', html)
    for d in rulebook().params.values():
        title = re.escape(str(escape(d.label)))
        section = re.search(
            rf'<section class="panel setting" id="param-[^"]*"[^>]*>\s*<div class="panel-header">\s*'
            rf'<h2 id="[^"]*">{title}</h2>(.*?)</section>',
            html,
            re.S,
        )
        if not d.district_setting:
            assert section is None, f"{d.name} is a cited threshold and must not be listed"
            continue
        assert section is not None, d.name
        body = section.group(1)
        assert "区级设置" in body
        assert ("待核实" in body) == d.unconfirmed, d.name
        assert str(escape(d.citation)) in body and d.name in body
        if d.note:
            assert str(escape(d.note)) in body
    assert "HX-Request" in response.headers["vary"]


def test_htmx_asking_for_the_settings_body_gets_only_that_block(
    client: TestClient, login: Login, admin: User
) -> None:
    login(client, admin)

    fragment = client.get(URL, headers=HTMX_BODY)
    boosted = client.get(URL, headers={**HTMX_BODY, "HX-Boosted": "true"})

    assert fragment.status_code == 200
    assert fragment.text.strip().startswith('<div id="settings-body"')
    assert "<html" not in fragment.text and "瞪羚 上年营业收入增长率下限" in fragment.text
    assert "<html" in boosted.text


def test_the_history_shows_file_values_and_admins_values_with_who_when_why_and_state(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)
    past = today() - timedelta(days=30)
    future = today() + timedelta(days=30)
    client.post(
        URL, data=form(effective_from=past.isoformat(), value="25", note="区政府常务会议纪要 第 12 期")
    )
    client.post(
        URL, data=form(effective_from=future.isoformat(), value="35", district="hongkou", note="虹口区细则")
    )

    html = client.get(URL).text

    section = html[html.index('id="param-gazelle-min-revenue-growth-pct"') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]
    assert text[0].startswith("2019-01-01 全部区 20 % 参数文件（默认值）") and text[0].endswith("已被替代")
    assert (
        text[1].startswith(f"{past.isoformat()} 全部区 25 % 李管理员")
        and "区政府常务会议纪要 第 12 期" in text[1]
    )
    assert text[1].endswith("现行") and "录入" in text[1]
    assert text[2].startswith(f"{future.isoformat()} 虹口区 35 % 李管理员") and text[2].endswith("待生效")
    # 今日取值 is what the engine uses today, for all districts and each district.
    table = service.param_table(db)
    for view in setting_views(db, today()):
        for f in view.in_force:
            assert f.value_text.startswith(
                format(table.value(view.d.name, today(), f.district).normalize(), ",f")
            )


def test_the_page_runs_the_same_number_of_queries_however_many_values_exist(
    client: TestClient, login: Login, admin: User, query_counter: Callable[..., object]
) -> None:
    login(client, admin)
    client.post(URL, data=form(effective_from="2026-06-01"))
    with query_counter() as few:  # type: ignore[attr-defined]
        client.get(URL)
    for day in range(2, 8):
        client.post(URL, data=form(effective_from=f"2026-06-0{day}", district="yangpu"))
    with query_counter() as many:  # type: ignore[attr-defined]
        client.get(URL)

    assert len(many) == len(few)


def test_a_plain_post_redirects_to_the_page_which_confirms_the_new_value(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)

    response = client.post(URL, data=form(value="5,500", name="gazelle.min_revenue"), follow_redirects=False)

    setting = settings_of(db, "gazelle.min_revenue")[0]
    assert response.status_code == 303
    assert response.headers["location"] == f"{URL}?added={setting.id}"
    assert setting.value == Decimal(5500) and setting.created_by_id == admin.id
    page = client.get(response.headers["location"]).text
    assert (
        "已追加：瞪羚 上年营业收入（达到即可替代增长率条件），全部区，自 2026-06-01 起为 5,500 万元" in page
    )


def test_htmx_gets_the_refreshed_block_or_a_location(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)

    block = client.post(URL, data=form(effective_from="2026-06-01"), headers=HTMX_BODY)
    untargeted = client.post(URL, data=form(effective_from="2026-07-01"), headers={"HX-Request": "true"})

    assert block.status_code == 200
    html = block.text.strip()
    assert html.startswith('<div id="settings-body"') and "<html" not in html
    assert "已追加：瞪羚 上年营业收入增长率下限" in html and "2026-06-01" in html
    # A fresh form that keeps the parameter chosen.
    assert re.search(rf'<option value="{re.escape(GROWTH)}" selected>', html)
    assert 'name="note" rows="3" required' in html and "区经信委" not in html.split('id="setting-form"')[1]
    assert untargeted.status_code == 204
    assert untargeted.headers["hx-location"] == f"{URL}?added={settings_of(db)[-1].id}"


# --- refusals ----------------------------------------------------------------------------------------------


def test_a_cited_national_threshold_cannot_be_changed_here(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)

    response = client.post(URL, data=form(name="tech_sme.max_revenue", value="30000"), headers=HTMX_BODY)

    assert response.status_code == 422
    assert "不是区级设置，不能在此修改" in response.text
    assert re.search(r'<p class="field-error" id="name-error">[^<]*不是区级设置', response.text)
    assert settings_of(db, "tech_sme.max_revenue") == []
    assert service.param_table(db).value("tech_sme.max_revenue", date(2026, 6, 1)) == Decimal(20000)


def test_an_unknown_parameter_is_refused(client: TestClient, login: Login, admin: User, db: Session) -> None:
    login(client, admin)

    response = client.post(URL, data=form(name="gazelle.max_revenue"))

    assert response.status_code == 422
    assert "未知参数 gazelle.max_revenue" in response.text
    assert db.scalars(select(RuleSetting)).all() == []


@pytest.mark.parametrize(
    ("case", "first", "second", "refused"),
    [
        ("the same parameter, district and date twice", {"district": "jingan"}, {"district": "jingan"}, True),
        ("the same date for all districts twice", {}, {}, True),
        ("the same date for another district", {"district": "jingan"}, {"district": "yangpu"}, False),
        ("the same district on another date", {}, {"effective_from": "2026-06-02"}, False),
    ],
)
def test_a_duplicate_dated_value_is_refused_in_chinese(
    client: TestClient,
    login: Login,
    admin: User,
    db: Session,
    case: str,
    first: dict[str, str],
    second: dict[str, str],
    refused: bool,
) -> None:
    login(client, admin)
    assert client.post(URL, data=form(**first), follow_redirects=False).status_code == 303

    response = client.post(URL, data=form(value="40", **second), follow_redirects=False)

    if refused:
        assert response.status_code == 422, case
        assert re.search(r'id="effective_from-error">[^<]*在 2026-06-01 已有[^<]*不可修改', response.text), (
            case
        )
        assert [s.value for s in settings_of(db)] == [Decimal(30)], "the first value stays as it was"
    else:
        assert response.status_code == 303, case
        assert len(settings_of(db)) == 2


def test_a_value_on_the_date_of_the_files_value_is_a_duplicate(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)

    response = client.post(URL, data=form(effective_from="2019-01-01"))
    district = client.post(
        URL, data=form(effective_from="2019-01-01", district="hongkou"), follow_redirects=False
    )

    assert response.status_code == 422 and "在 2019-01-01 已有全部区的取值" in response.text
    assert district.status_code == 303


@pytest.mark.parametrize(
    ("case", "fields", "errors"),
    [
        (
            "everything blank",
            {"name": "", "effective_from": "", "value": "", "note": ""},
            {"name": "必填", "effective_from": "必填", "value": "必填", "note": "必填"},
        ),
        ("a negative value", {"value": "-5"}, {"value": "不能小于 0"}),
        ("a value that is not a number", {"value": "二十"}, {"value": "应为数字"}),
        ("a value with too many decimals", {"value": "1.23456"}, {"value": "最多 4 位小数"}),
        (
            "an impossible date",
            {"effective_from": "2026-02-30"},
            {"effective_from": "日期格式应为 YYYY-MM-DD"},
        ),
        (
            "an unknown district",
            {"district": "pudong"},
            {"district": "适用区应为全部区、静安区、杨浦区或虹口区"},
        ),
        ("a note of whitespace", {"note": "   "}, {"note": "必填"}),
    ],
)
def test_an_invalid_form_comes_back_with_errors_beside_fields_and_typed_values(
    client: TestClient,
    login: Login,
    admin: User,
    db: Session,
    case: str,
    fields: dict[str, str],
    errors: dict[str, str],
) -> None:
    login(client, admin)
    posted = form(**fields)

    page = client.post(URL, data=posted)
    fragment = client.post(URL, data=posted, headers=HTMX_BODY)

    assert page.status_code == 422 and fragment.status_code == 422, case
    assert "<html" in page.text and fragment.text.strip().startswith('<div id="settings-body"'), case
    for field, message in errors.items():
        assert re.search(
            rf'<p class="field-error" id="{field}-error">{re.escape(message)}</p>', fragment.text
        ), (
            case,
            field,
        )
    for field in ("effective_from", "value"):
        if posted[field].strip():
            assert f'value="{escape(posted[field])}"' in fragment.text, (case, field)
    if posted["note"].strip():
        assert f">{escape(posted['note'])}</textarea>" in fragment.text, case
    if posted["name"]:
        assert re.search(rf'<option value="{re.escape(posted["name"])}" selected>', fragment.text), case
    assert db.scalars(select(RuleSetting)).all() == []


# --- the record: audit trail and append-only -------------------------------------------------------------


def test_an_appended_value_lands_in_the_audit_trail_with_the_admin_and_the_reason(
    client: TestClient, login: Login, admin: User, db: Session
) -> None:
    login(client, admin)

    client.post(URL, data=form(district="jingan", note="静安区经委 2026 第 3 号通知"))

    setting = settings_of(db)[0]
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "rule_settings", AuditEntry.entity_id == setting.id)
    ).one()
    assert entry.action == "create" and entry.firm_id is None
    assert entry.actor_id == admin.id and "李管理员" in entry.actor_label
    assert entry.reason == "静安区经委 2026 第 3 号通知"
    assert f"name={GROWTH}" in (entry.new_value or "") and "district_code=jingan" in (entry.new_value or "")
    assert "value=30" in (entry.new_value or "") and "effective_from=2026-06-01" in (entry.new_value or "")


def test_a_stored_value_can_be_neither_changed_nor_deleted(db: Session) -> None:
    setting = RuleSetting(name=GROWTH, effective_from=date(2026, 6, 1), value=Decimal(30), note="测试")
    db.add(setting)
    db.flush()

    setting.value = Decimal(40)
    with pytest.raises(RuleSettingsAreAppendOnly):
        db.flush()
    db.rollback()

    kept = RuleSetting(name=GROWTH, effective_from=date(2026, 7, 1), value=Decimal(30), note="测试")
    db.add(kept)
    db.flush()
    db.delete(kept)
    with pytest.raises(RuleSettingsAreAppendOnly):
        db.flush()


# --- 规则库 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.officer, Role.leader, Role.admin])
def test_the_catalogue_lists_every_tier_version_criterion_and_citation(
    client: TestClient, login: Login, make_user: Callable[..., User], role: Role
) -> None:
    login(client, make_user(role))

    response = client.get("/rules")

    assert response.status_code == 200
    assert response.template.name == "rules/catalogue.html"  # type: ignore[attr-defined]
    html = response.text
    assert re.search(r'class="active" aria-current="page">规则库<', html)
    book = rulebook()
    for tier in TIERS:
        assert f'id="tier-{tier}"' in html and str(escape(TIER_LABELS[Tier(tier)])) in html
    for rs in book.sets:
        assert str(escape(rs.label)) in html and str(escape(rs.document)) in html
        assert rs.effective_from.isoformat() in html
        if rs.effective_to:
            assert rs.effective_to.isoformat() in html
        if rs.source_url:
            assert f'href="{escape(rs.source_url)}"' in html
        for c in rs.criteria:
            assert str(escape(c.label)) in html and str(escape(c.citation)) in html
        for name in rs.params_used:
            assert name in html
    assert "复核" in html and "新申请" in html


@pytest.mark.parametrize(
    ("case", "on", "version"),
    [
        ("the last day of the 2022 standard", "2026-03-31", "专精特新“小巨人”企业认定标准（2022）"),
        ("the first day of the 2026 standard", "2026-04-01", "专精特新“小巨人”企业认定标准（2026）"),
    ],
)
def test_the_catalogue_shows_which_version_applies_on_a_date(
    client: TestClient, login: Login, make_user: Callable[..., User], case: str, on: str, version: str
) -> None:
    login(client, make_user(Role.officer))

    html = client.get(f"/rules?on={on}", headers={"HX-Request": "true", "HX-Target": "catalogue-body"}).text

    assert html.strip().startswith('<div id="catalogue-body"'), case
    tier = html[html.index('id="tier-little_giant"') :]
    applies = re.sub(r"<[^>]+>", "", tier[: tier.index("</p>")])
    assert f"新申请 → {escape(version)}" in applies, case


def test_the_catalogue_shows_an_admins_dated_value_beside_the_files(
    client: TestClient, login: Login, admin: User
) -> None:
    login(client, admin)
    client.post(URL, data=form(district="yangpu", value="30"))

    html = client.get("/rules").text

    gazelle = html[html.index('id="tier-gazelle"') :]
    assert "2019-01-01 起</span> 20 %" in gazelle
    assert "2026-06-01 起</span> 30 %" in gazelle and "（杨浦区，管理员设置）" in gazelle
    assert f'href="{URL}#param-gazelle-min-revenue-growth-pct"' in gazelle


def test_a_bad_date_in_the_catalogue_falls_back_to_today_with_a_message(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    login(client, make_user(Role.leader))

    response = client.get("/rules?on=2026-02-30")

    assert response.status_code == 200
    assert "日期格式应为 YYYY-MM-DD，已按今天显示" in response.text
    assert f'value="{today().isoformat()}"' in response.text


def test_districts_used_in_rules_have_names(db: Session) -> None:
    from app.rules.admin import district_names

    assert district_names(db) == {"jingan": "静安区", "yangpu": "杨浦区", "hongkou": "虹口区"}
    assert tuple(district_names(db)) == DISTRICTS
