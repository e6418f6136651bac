"""Rule versions by date and mode, recognitions held on a date, and year windows relative to as_of.

criteria.md §0 / §11.1: 专精特新 and 小巨人 switch from 63号 to 2号 on 2026-04-01
(effective_to 2026-03-31 inclusive); the 2026 小巨人 复核 still uses the 2022 standard (117号)
while new applications use 2号; from 2027-01-01 reviews use 2号.
eligibility-api.md: "last year" = the last full calendar year before as_of; holds iff
issued_on ≤ as_of ≤ expires_on and not revoked on or before as_of.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.rules.engine import evaluate
from app.rules.facts import facts_from_contract
from app.rules.loader import TIERS
from tests.rules.test_thresholds import BOOK, PARAMS, base_firm, decide, outcome

OLD_DAY = date(2026, 3, 31)
NEW_DAY = date(2026, 4, 1)

SRDI_2022 = "srdi_sme/工信部企业〔2022〕63号 附件2"
SRDI_2026 = "srdi_sme/工信部企业〔2026〕2号"
LG_2022 = "little_giant/工信部企业〔2022〕63号 附件3"
LG_2022_REVIEW = "little_giant/工信部企业〔2022〕63号 附件3（2026 年复核）"
LG_2026 = "little_giant/工信部企业〔2026〕2号 附件2"
LG_2026_REVIEW = "little_giant/工信部企业〔2026〕2号 附件2（复核）"


# --- 专精特新 ----------------------------------------


@pytest.mark.parametrize(
    ("as_of", "ruleset"),
    [
        pytest.param(date(2022, 8, 1), SRDI_2022, id="专精特新：2022-08-01 起适用 63号"),
        pytest.param(OLD_DAY, SRDI_2022, id="专精特新：2026-03-31 仍适用 63号（effective_to 含当日）"),
        pytest.param(NEW_DAY, SRDI_2026, id="专精特新：2026-04-01 起适用 2号"),
        pytest.param(date(2027, 6, 1), SRDI_2026, id="专精特新：2027 年仍适用 2号"),
    ],
)
def test_srdi_version_by_date(as_of: date, ruleset: str) -> None:
    assert decide("srdi_sme", as_of=as_of).ruleset == ruleset
    assert decide("srdi_sme", as_of=as_of, mode="review").ruleset == ruleset


def test_srdi_before_first_version_has_no_ruleset() -> None:
    d = decide("srdi_sme", as_of=date(2022, 7, 31))
    assert d.ruleset is None
    assert d.status == "insufficient_data"


def test_srdi_revenue_1200_passes_under_63_but_fails_under_2() -> None:
    changes = {"years.2025.revenue": 1200, "years.2025.main_revenue": 1100, "years.2025.rd_expense": 100}
    old = decide("srdi_sme", changes, as_of=OLD_DAY)
    assert outcome(old, "revenue") == "pass"
    assert old.status == "eligible"
    new = decide("srdi_sme", changes, as_of=NEW_DAY)
    assert outcome(new, "revenue") == "fail"
    assert new.status == "ineligible"
    assert any("上年营业收入还需增加 300 万元" in g for g in new.gaps)


def test_srdi_revenue_1000_edge_under_63() -> None:
    at = {"years.2025.revenue": 1000, "years.2025.main_revenue": 900, "years.2025.rd_expense": 100}
    assert outcome(decide("srdi_sme", at, as_of=OLD_DAY), "revenue") == "pass"
    below = {**at, "years.2025.revenue": 999}
    assert outcome(decide("srdi_sme", below, as_of=OLD_DAY), "revenue") == "fail"


def test_srdi_niche_two_years_enough_under_63_but_not_under_2() -> None:
    changes = {"niche_since": "2023-06-01"}  # 2.58 years at the end of 2025
    assert outcome(decide("srdi_sme", changes, as_of=OLD_DAY), "niche_years") == "pass"
    assert outcome(decide("srdi_sme", changes, as_of=NEW_DAY), "niche_years") == "fail"
    # exactly 2 years at the end of 2025 under 63号
    assert outcome(decide("srdi_sme", {"niche_since": "2024-01-01"}, as_of=OLD_DAY), "niche_years") == "pass"
    assert outcome(decide("srdi_sme", {"niche_since": "2024-01-02"}, as_of=OLD_DAY), "niche_years") == "fail"


def test_srdi_main_share_and_debt_are_hard_conditions_only_under_2() -> None:
    changes = {"years.2025.main_revenue": 2100, "years.2025.total_liabilities": 3400}  # 70%, 85%
    old = decide("srdi_sme", changes, as_of=OLD_DAY)
    assert old.status == "eligible"
    assert {c.id for c in old.criteria}.isdisjoint({"main_share", "debt_ratio"})
    new = decide("srdi_sme", changes, as_of=NEW_DAY)
    assert outcome(new, "main_share") == "fail"
    assert outcome(new, "debt_ratio") == "fail"


def test_srdi_rd_last_year_only_under_63_each_of_two_years_under_2() -> None:
    changes = {"years.2024.rd_expense": 50}  # the year before last below 100万
    assert decide("srdi_sme", changes, as_of=OLD_DAY).status == "eligible"
    new = decide("srdi_sme", changes, as_of=NEW_DAY)
    assert outcome(new, "rd_each_year") == "fail"
    assert "前年研发费用还需增加 50 万元" in new.gaps


def test_srdi_2022_score_or_direct_pass() -> None:
    assert outcome(decide("srdi_sme", {"scores.srdi_2022": 60}, as_of=OLD_DAY), "score_or_direct") == "pass"
    assert outcome(decide("srdi_sme", {"scores.srdi_2022": 59}, as_of=OLD_DAY), "score_or_direct") == "fail"
    # no self-evaluation score: a person must score it
    d = decide("srdi_sme", {"scores.srdi_2022": None}, as_of=OLD_DAY)
    assert outcome(d, "score_or_direct") == "manual"
    assert d.status == "needs_review"
    # direct pass: average R&D of the last 2 years ≥ 1,000万
    direct = {
        "scores.srdi_2022": 10,
        "years.2024.rd_expense": 1000,
        "years.2025.rd_expense": 1000,
        "years.2024.revenue": 20000,
        "years.2025.revenue": 20000,
    }
    assert outcome(decide("srdi_sme", direct, as_of=OLD_DAY), "score_or_direct") == "pass"
    direct["years.2024.rd_expense"] = 999
    assert outcome(decide("srdi_sme", direct, as_of=OLD_DAY), "score_or_direct") == "fail"


def test_srdi_2026_has_no_direct_pass_and_needs_platform_score() -> None:
    d = decide("srdi_sme", {"scores.srdi_platform": 40, "scores.srdi_2022": 95}, as_of=NEW_DAY)
    assert d.status == "ineligible"
    assert outcome(d, "platform_score") == "fail"


def test_srdi_parameters_are_dated() -> None:
    assert PARAMS.value("srdi_sme.min_revenue", OLD_DAY) == 1000
    assert PARAMS.value("srdi_sme.min_revenue", NEW_DAY) == 1500
    assert PARAMS.value("srdi_sme.min_niche_years", OLD_DAY) == 2
    assert PARAMS.value("srdi_sme.min_niche_years", NEW_DAY) == 3


# --- 小巨人 ----------------------------------------


@pytest.mark.parametrize(
    ("as_of", "mode", "ruleset"),
    [
        pytest.param(OLD_DAY, "new", LG_2022, id="小巨人：2026-03-31 新申请适用 63号"),
        pytest.param(OLD_DAY, "review", LG_2022, id="小巨人：2026-03-31 复核适用 63号"),
        pytest.param(NEW_DAY, "new", LG_2026, id="小巨人：2026-04-01 新申请适用 2号"),
        pytest.param(NEW_DAY, "review", LG_2022_REVIEW, id="小巨人：2026-04-01 复核仍用 2022 标准"),
        pytest.param(date(2026, 9, 15), "review", LG_2022_REVIEW, id="小巨人：2026-09-15 复核用 2022 标准"),
        pytest.param(
            date(2026, 12, 31), "review", LG_2022_REVIEW, id="小巨人：2026-12-31 复核仍用 2022 标准"
        ),
        pytest.param(date(2027, 1, 1), "review", LG_2026_REVIEW, id="小巨人：2027-01-01 起复核改用 2号"),
        pytest.param(date(2027, 1, 1), "new", LG_2026, id="小巨人：2027 年新申请适用 2号"),
    ],
)
def test_little_giant_version_by_date_and_mode(as_of: date, mode: str, ruleset: str) -> None:
    assert decide("little_giant", as_of=as_of, mode=mode).ruleset == ruleset


# Passes the 2022 standard but not 2号: 3 Ⅰ类 (2022: ≥ 2, 2号: ≥ 4), 主营 85% (2022: ≥ 70%, 2号: ≥ 90%).
OLD_STANDARD_FIRM = {
    "ip.class1": 3,
    "years.2025.main_revenue": 8500,
    "years.2024.main_revenue": 8000,
    "years.2023.main_revenue": 7500,
}


def test_little_giant_2026_review_uses_2022_thresholds_new_application_uses_2() -> None:
    review = decide("little_giant", OLD_STANDARD_FIRM, as_of=date(2026, 9, 15), mode="review")
    assert review.ruleset == LG_2022_REVIEW
    assert outcome(review, "innovation") == "pass"  # 3 ≥ 2 Ⅰ类
    assert outcome(review, "main_share") == "pass"  # 85% ≥ 70%
    assert review.status == "needs_review"  # only the qualitative 2022 items remain
    new = decide("little_giant", OLD_STANDARD_FIRM, as_of=date(2026, 9, 15), mode="new")
    assert new.ruleset == LG_2026
    assert outcome(new, "class1_ip") == "fail"
    assert outcome(new, "main_share") == "fail"
    assert new.status == "ineligible"


def test_little_giant_2026_review_still_needs_two_class1_ip() -> None:
    d = decide("little_giant", {"ip.class1": 1}, as_of=date(2026, 9, 15), mode="review")
    assert outcome(d, "innovation") == "fail"
    assert any("Ⅰ类知识产权还需 1 件" in g for g in d.gaps)


def test_little_giant_new_on_both_sides_of_the_switch() -> None:
    # 3 Ⅰ类 and 主营 85%: passes 63号 on 2026-03-31, fails 2号 on 2026-04-01
    assert outcome(decide("little_giant", OLD_STANDARD_FIRM, as_of=OLD_DAY), "innovation") == "pass"
    assert decide("little_giant", OLD_STANDARD_FIRM, as_of=OLD_DAY).status == "needs_review"
    assert decide("little_giant", OLD_STANDARD_FIRM, as_of=NEW_DAY).status == "ineligible"


def test_little_giant_revenue_floor_only_from_2026() -> None:
    # revenue 4,000 with the < 5,000万 path of 2022 (equity ≥ 8,000, R&D ≥ 3,000, R&D staff ≥ 50%)
    small = {
        "years.2023.revenue": 3000,
        "years.2024.revenue": 3500,
        "years.2025.revenue": 4000,
        "years.2023.main_revenue": 2800,
        "years.2024.main_revenue": 3300,
        "years.2025.main_revenue": 3800,
        "years.2024.rd_expense": 1500,
        "years.2025.rd_expense": 1500,
        "years.2024.equity_financing": 5000,
        "years.2025.equity_financing": 3000,
        "years.2025.rd_staff": 150,
    }
    old = decide("little_giant", small, as_of=OLD_DAY)
    assert {c.id for c in old.criteria if c.outcome.value == "fail"} == set()
    new = decide("little_giant", small, as_of=NEW_DAY)
    assert outcome(new, "revenue") == "fail"
    assert "上年营业收入还需增加 1,000 万元" in new.gaps


def test_little_giant_2026_review_rejects_fraud() -> None:
    fraud = {"incidents": [{"kind": "fraud", "grade": "general", "occurred_on": "2025-04-01"}]}
    d = decide("little_giant", fraud, as_of=date(2026, 9, 15), mode="review")
    assert outcome(d, "no_fraud") == "fail"
    assert d.status == "ineligible"


def _shift_years(firm: dict[str, Any], by: int) -> dict[str, Any]:
    firm["years"] = {str(int(y) + by): row for y, row in firm["years"].items()}
    return firm


def _decide_firm(firm: dict[str, Any], tier: str, as_of: date, mode: str = "new") -> Any:
    return evaluate(facts_from_contract(firm), as_of, BOOK, PARAMS, {tier: mode}, tiers=(tier,))[tier]


def test_little_giant_review_from_2027_uses_2_and_skips_growth() -> None:
    firm = _shift_years(base_firm("little_giant"), 1)  # data for 2024—2026
    for year in ("2024", "2025", "2026"):  # flat revenue: CAGR 0% < 5%
        firm["years"][year]["revenue"] = 10000
    review = _decide_firm(firm, "little_giant", date(2027, 1, 1), "review")
    assert review.ruleset == LG_2026_REVIEW
    assert outcome(review, "revenue_cagr") == "not_applicable"
    assert review.status == "eligible"
    new = _decide_firm(firm, "little_giant", date(2027, 1, 1), "new")
    assert outcome(new, "revenue_cagr") == "fail"
    assert new.status == "ineligible"


def test_little_giant_class1_parameters_do_not_leak_between_standards() -> None:
    assert PARAMS.value("little_giant.min_class1_ip_2022", date(2026, 9, 15)) == 2
    assert PARAMS.value("little_giant.min_class1_ip", date(2026, 9, 15)) == 4


# --- other tiers ----------------------------------------


@pytest.mark.parametrize(
    ("tier", "ruleset"),
    [
        ("tech_sme", "tech_sme/国科发政〔2017〕115号"),
        ("hnte", "hnte/国科发火〔2016〕32号"),
        ("innovative_sme", "innovative_sme/工信部企业〔2022〕63号 附件1"),
        ("srdi_sme", SRDI_2026),
        ("little_giant", LG_2026),
        ("hidden_champion", "hidden_champion/工信部政法〔2023〕138号"),
        ("unicorn", "unicorn/长城战略咨询（GEI）"),
        ("gazelle", "gazelle/区默认口径"),
    ],
)
def test_decision_names_its_ruleset(tier: str, ruleset: str) -> None:
    d = decide(tier)
    assert d.ruleset == ruleset
    assert d.to_contract()["ruleset"] == ruleset


def test_every_tier_has_a_decision() -> None:
    out = evaluate(facts_from_contract(base_firm("tech_sme")), date(2026, 9, 15), BOOK, PARAMS)
    assert set(out) == set(TIERS)


def test_base_tiers_keep_transitional_standards_after_the_switch() -> None:
    # 2号 第三十条: 115号 and 63号 附件1 stay in force until the merged standard is issued.
    for as_of in (OLD_DAY, NEW_DAY, date(2027, 9, 15)):
        assert decide("tech_sme", as_of=as_of).ruleset == "tech_sme/国科发政〔2017〕115号"
        assert decide("innovative_sme", as_of=as_of).ruleset == "innovative_sme/工信部企业〔2022〕63号 附件1"


def test_innovative_before_63_has_no_ruleset() -> None:
    assert decide("innovative_sme", as_of=date(2022, 7, 31)).ruleset is None
    assert decide("innovative_sme", as_of=date(2022, 8, 1)).ruleset is not None


# --- holds ----------------------------------------

REC = {"tier": "srdi_sme", "issued_on": "2025-03-01", "expires_on": "2028-02-29", "revoked_on": None}


@pytest.mark.parametrize(
    ("rec", "as_of", "held"),
    [
        pytest.param(REC, date(2025, 2, 28), False, id="认定：发证前一天不持有"),
        pytest.param(REC, date(2025, 3, 1), True, id="认定：发证当天起持有"),
        pytest.param(REC, date(2028, 2, 29), True, id="认定：到期当天仍持有（expires_on 含当日）"),
        pytest.param(REC, date(2028, 3, 1), False, id="认定：到期次日不再持有"),
        pytest.param(
            {**REC, "revoked_on": "2026-05-10"}, date(2026, 5, 9), True, id="认定：撤销前一天仍持有"
        ),
        pytest.param(
            {**REC, "revoked_on": "2026-05-10"}, date(2026, 5, 10), False, id="认定：撤销当天起不再持有"
        ),
        pytest.param(
            {**REC, "revoked_on": "2026-05-10"}, date(2026, 9, 15), False, id="认定：撤销之后不再持有"
        ),
        pytest.param({**REC, "tier": "hnte"}, date(2026, 9, 15), False, id="认定：其他梯度的证书不算本梯度"),
    ],
)
def test_holds_on_dates(rec: dict[str, Any], as_of: date, held: bool) -> None:
    d = decide("srdi_sme", {"recognitions": [rec]}, as_of=as_of)
    assert d.holds is held


def test_holds_false_when_recognitions_unknown() -> None:
    assert decide("srdi_sme", {"recognitions": None}).holds is False


def test_base_title_follows_the_validity_of_the_prerequisite() -> None:
    # 专精特新 2026 needs a valid 创新型 title on as_of: on expires_on yes, the day after no.
    title = [{"tier": "innovative_sme", "issued_on": "2023-09-16", "expires_on": "2026-09-15"}]
    assert (
        outcome(decide("srdi_sme", {"recognitions": title}, as_of=date(2026, 9, 15)), "base_title") == "pass"
    )
    assert (
        outcome(decide("srdi_sme", {"recognitions": title}, as_of=date(2026, 9, 16)), "base_title") == "fail"
    )


def test_hnte_direct_pass_for_tech_sme_ends_with_the_certificate() -> None:
    cert = {
        "years.2025.tech_staff": 5,  # the score path fails; only the direct pass can carry it
        "recognitions": [{"tier": "hnte", "issued_on": "2023-09-16", "expires_on": "2026-09-15"}],
    }
    assert decide("tech_sme", cert, as_of=date(2026, 9, 15)).status == "eligible"
    assert decide("tech_sme", cert, as_of=date(2026, 9, 16)).status == "ineligible"
    revoked = {**cert, "recognitions": [{**cert["recognitions"][0], "revoked_on": "2026-06-01"}]}
    assert decide("tech_sme", revoked, as_of=date(2026, 9, 15)).status == "ineligible"


# --- year windows ----------------------------------------


def _tech_two_years() -> dict[str, Any]:
    firm = base_firm("tech_sme")
    firm["years"]["2024"] = dict(firm["years"]["2025"], employees=600, tech_staff=240)
    return firm


def test_last_year_is_the_last_full_calendar_year_before_as_of() -> None:
    firm = _tech_two_years()  # 2024: 600 staff (too many), 2025: 100 staff
    on_new_years_eve = _decide_firm(firm, "tech_sme", date(2025, 12, 31))
    assert outcome(on_new_years_eve, "size_employees") == "fail"  # last year = 2024
    assert "2024 年职工总数 600人" in next(
        c.detail for c in on_new_years_eve.criteria if c.id == "size_employees"
    )
    on_new_years_day = _decide_firm(firm, "tech_sme", date(2026, 1, 1))
    assert outcome(on_new_years_day, "size_employees") == "pass"  # last year = 2025
    assert on_new_years_day.status == "eligible"


def test_missing_last_year_is_unknown_not_an_older_year() -> None:
    firm = _tech_two_years()
    d = _decide_firm(firm, "tech_sme", date(2027, 1, 1))  # last year = 2026: no data
    assert outcome(d, "size_employees") == "unknown"
    assert d.status == "insufficient_data"


def test_calendar_incident_window_moves_with_as_of() -> None:
    # 科技型: 当年及上一年. A 2024 accident counts on 2025-12-31 but not on 2026-01-01.
    firm = base_firm(
        "tech_sme", {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2024-06-01"}]}
    )
    firm["years"]["2024"] = firm["years"]["2025"]
    assert outcome(_decide_firm(firm, "tech_sme", date(2025, 12, 31)), "no_major_incident") == "fail"
    assert outcome(_decide_firm(firm, "tech_sme", date(2026, 1, 1)), "no_major_incident") == "pass"


def test_hnte_three_year_window_moves_with_as_of() -> None:
    firm = base_firm("hnte")
    firm["years"]["2022"] = {"revenue": 3000, "rd_expense": None, "rd_expense_domestic": None}
    firm["years"]["2024"].update(employees=100, tech_staff=20, hightech_revenue=3000, total_income=3500)
    d = _decide_firm(firm, "hnte", date(2026, 1, 1))  # 2023—2025: complete
    assert outcome(d, "rd_intensity") == "pass"
    assert "750/10,500" in next(c.detail for c in d.criteria if c.id == "rd_intensity")  # 2023—2025 sums
    d = _decide_firm(firm, "hnte", date(2025, 12, 31))  # 2022—2024: 2022 R&D missing
    assert outcome(d, "rd_intensity") == "unknown"
    assert "需补充：2022 年研发费用" in d.gaps


def test_hnte_young_firm_uses_its_actual_operating_years() -> None:
    firm = base_firm("hnte", {"founded_on": "2024-03-01"})
    del firm["years"]["2023"]
    d = _decide_firm(firm, "hnte", date(2026, 9, 15))
    assert outcome(d, "rd_intensity") == "pass"
    assert "550/7,500" in next(c.detail for c in d.criteria if c.id == "rd_intensity")  # 2024—2025 only


def test_cancelled_hnte_can_reapply_next_calendar_year() -> None:
    revoked = {
        "recognitions": [
            {
                "tier": "hnte",
                "issued_on": "2023-12-01",
                "expires_on": "2026-11-30",
                "revoked_on": "2026-03-01",
            }
        ]
    }
    assert outcome(decide("hnte", revoked, as_of=date(2026, 12, 31)), "no_cancellation_this_year") == "fail"
    assert outcome(decide("hnte", revoked, as_of=date(2027, 1, 1)), "no_cancellation_this_year") == "pass"
