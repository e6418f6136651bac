"""Every numeric threshold of every tier, below / at / above, one criterion at a time
(docs/domain/criteria.md).

Each tier starts from a complete firm that passes everything (`base_firm`); a case changes one
thing and checks the criterion's outcome and, where relevant, the tier's status. Chinese
conventions: 以上 / 以下 / 不低于 / 不超过 include the number (含本数); 高企 创新能力 must be
strictly above 70; a value on a 创新型 / 科技型 bin edge takes the higher bin.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.rules.engine import TierDecision, evaluate
from app.rules.facts import facts_from_contract
from app.rules.loader import ParamTable, load_rulebook

BOOK = load_rulebook()
PARAMS = ParamTable(BOOK.params)
AS_OF = date(2026, 9, 15)  # "last year" = 2025

YEAR_FIELDS = (
    "employees",
    "tech_staff",
    "rd_staff",
    "revenue",
    "main_revenue",
    "hightech_revenue",
    "total_income",
    "rd_expense",
    "rd_expense_domestic",
    "cost_total",
    "total_assets",
    "total_liabilities",
    "net_profit",
    "equity_financing",
)


def _year(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(YEAR_FIELDS)
    row.update(values)
    return row


def _common() -> dict[str, Any]:
    return {
        "founded_on": "2015-01-01",
        "is_sme": True,
        "hnte_field": True,
        "strategic_emerging": True,
        "key_industrial_field": True,
        "niche_since": "2015-01-01",
        "listed": False,
        "equity_backed": False,
        "valuation_usd_bn": None,
        "prohibited_products": False,
        "lists": {"abnormal": False, "dishonest": False},
        "incidents": [],
        "recognitions": [],
        "awards": [],
        "rd_institution": "none",
        "led_standard_within_5y": False,
        "market": {"domestic_share_pct": None, "domestic_rank": None, "global_rank": None},
        "ip": {"class1": 0, "class1_self_developed": 0, "class1_high_value": 0, "class2": 0},
        "scores": {"hnte_innovation": None, "srdi_platform": None, "srdi_2022": None},
        "years": {},
    }


def _tech_sme() -> dict[str, Any]:
    # 科技人员 40% → 20；研发/销售 8% → 50（研发/成本 10% → 10）；1 项Ⅰ类 → 30；合计 100。无直通条件。
    firm = _common()
    firm["ip"]["class1"] = 1
    firm["years"] = {
        "2025": _year(
            employees=100,
            tech_staff=40,
            revenue=5000,
            rd_expense=400,
            cost_total=4000,
            total_assets=6000,
            total_liabilities=3000,
        )
    }
    return firm


def _hnte() -> dict[str, Any]:
    # 近三年研发 750 / 销售 10,500 = 7.1%（≤5,000 万档 5%）；科技人员 20%；高新收入 75%；创新能力 80 分。
    firm = _common()
    firm["ip"].update(class1=2, class1_self_developed=2)
    firm["scores"]["hnte_innovation"] = 80
    firm["years"] = {
        "2023": _year(revenue=3000, rd_expense=200, rd_expense_domestic=200),
        "2024": _year(revenue=3500, rd_expense=250, rd_expense_domestic=250),
        "2025": _year(
            employees=100,
            tech_staff=20,
            revenue=4000,
            rd_expense=300,
            rd_expense_domestic=300,
            hightech_revenue=3000,
            total_income=4000,
        ),
    }
    return firm


def _innovative_sme() -> dict[str, Any]:
    # 创新能力 20 + 20，成长性 20 + 10，专业化 10 + 20 = 100；
    # 无直通条件（股权融资 0、无奖励、无研发机构、无高企）。
    firm = _common()
    firm["ip"].update(class1=1, class1_self_developed=1, class1_high_value=1)
    firm["years"] = {
        "2023": _year(equity_financing=0),
        "2024": _year(revenue=2500, main_revenue=2000, equity_financing=0),
        "2025": _year(
            employees=60,
            revenue=3000,
            main_revenue=2400,  # 增长 20%；占营业收入 80%
            rd_expense=180,  # 6%
            total_assets=5000,
            total_liabilities=2000,  # 40%
            equity_financing=0,
        ),
    }
    return firm


def _srdi_sme() -> dict[str, Any]:
    # 2号：持有有效创新型称号；营业收入 3,000；主营 90%；负债 50%；研发 2024 150（5.8%）/ 2025 200（6.7%）；
    # 1 项Ⅰ类；平台得分 70。市场地位需人工评审 → needs_review。2022 标准另需 srdi_2022 得分（65）。
    firm = _common()
    firm["ip"].update(class1=1, class1_self_developed=1)
    firm["scores"].update(srdi_platform=70, srdi_2022=65)
    firm["recognitions"] = [{"tier": "innovative_sme", "issued_on": "2025-01-01", "expires_on": "2027-12-31"}]
    firm["years"] = {
        "2023": _year(equity_financing=0),
        "2024": _year(
            revenue=2600,
            main_revenue=2400,
            rd_expense=150,
            total_assets=3800,
            total_liabilities=1800,
            equity_financing=0,
        ),
        "2025": _year(
            employees=80,
            revenue=3000,
            main_revenue=2700,
            rd_expense=200,
            total_assets=4000,
            total_liabilities=2000,
            equity_financing=0,
        ),
    }
    return firm


def _little_giant() -> dict[str, Any]:
    # 2号：营业收入 10,000；主营 95%；复合增长 11.8%；负债 50%；研发 700 + 800 = 1,500（7.8% / 8%）；5 项Ⅰ类；
    # 国内占有率 15%；重点领域；平台 70；持有有效专精特新称号；市级研发机构（2022 标准用）。
    firm = _common()
    firm["ip"].update(class1=5, class1_self_developed=5)
    firm["scores"]["srdi_platform"] = 70
    firm["rd_institution"] = "municipal"
    firm["market"].update(domestic_share_pct=15, domestic_rank=2)
    firm["recognitions"] = [{"tier": "srdi_sme", "issued_on": "2024-06-01", "expires_on": "2027-05-31"}]
    firm["years"] = {
        "2023": _year(revenue=8000, main_revenue=7600, rd_expense=500, equity_financing=0),
        "2024": _year(revenue=9000, main_revenue=8550, rd_expense=700, equity_financing=0),
        "2025": _year(
            employees=300,
            rd_staff=60,
            revenue=10000,
            main_revenue=9500,
            rd_expense=800,
            total_assets=12000,
            total_liabilities=6000,
            equity_financing=0,
        ),
    }
    return firm


def _hidden_champion() -> dict[str, Any]:
    firm = _common()
    firm["niche_since"] = "2010-01-01"
    firm["market"]["global_rank"] = 2
    firm["years"] = {str(y): _year(main_revenue=50000) for y in (2023, 2024, 2025)}
    return firm


def _unicorn() -> dict[str, Any]:
    firm = _common()
    firm.update(founded_on="2018-01-01", equity_backed=True, listed=False, valuation_usd_bn=1.5)
    return firm


def _gazelle() -> dict[str, Any]:
    firm = _common()
    firm["founded_on"] = "2018-01-01"
    firm["recognitions"] = [{"tier": "hnte", "issued_on": "2024-12-10", "expires_on": "2027-12-09"}]
    firm["years"] = {"2024": _year(revenue=3000), "2025": _year(revenue=3600)}  # 增长 20%
    return firm


BASES = {
    "tech_sme": _tech_sme,
    "hnte": _hnte,
    "innovative_sme": _innovative_sme,
    "srdi_sme": _srdi_sme,
    "little_giant": _little_giant,
    "hidden_champion": _hidden_champion,
    "unicorn": _unicorn,
    "gazelle": _gazelle,
}


def _set(firm: dict[str, Any], path: str, value: Any) -> None:
    node = firm
    keys = path.split(".")
    for key in keys[:-1]:
        if key not in node or node[key] is None:
            node[key] = _year() if node is firm.get("years") else {}
        node = node[key]
    node[keys[-1]] = value


def base_firm(tier: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The complete firm that passes `tier`, with dotted-path changes ("years.2025.revenue", "ip.class1")."""
    firm = copy.deepcopy(BASES[tier]())
    for path, value in (changes or {}).items():
        _set(firm, path, value)
    return firm


def decide(
    tier: str, changes: dict[str, Any] | None = None, as_of: date = AS_OF, mode: str = "new"
) -> TierDecision:
    facts = facts_from_contract(base_firm(tier, changes))
    return evaluate(facts, as_of, BOOK, PARAMS, {tier: mode}, tiers=(tier,))[tier]


def outcome(decision: TierDecision, criterion: str) -> str:
    return next(c for c in decision.criteria if c.id == criterion).outcome.value


def ago(days: int, as_of: date = AS_OF) -> str:
    return date.fromordinal(as_of.toordinal() - days).isoformat()


def hnte_years(revenues: tuple[float, float, float], rd_each: float) -> dict[str, Any]:
    """高企 2023—2025 revenue and equal yearly R&D (all domestic)."""
    out: dict[str, Any] = {}
    for year, revenue in zip((2023, 2024, 2025), revenues, strict=True):
        out[f"years.{year}.revenue"] = revenue
        out[f"years.{year}.rd_expense"] = rd_each
        out[f"years.{year}.rd_expense_domestic"] = rd_each
    return out


BASE_STATUS = {
    "tech_sme": "eligible",
    "hnte": "eligible",
    "innovative_sme": "eligible",
    "srdi_sme": "needs_review",  # 市场地位需人工评审
    "little_giant": "eligible",
    "hidden_champion": "needs_review",  # 技术水平需专家评审
    "unicorn": "eligible",
    "gazelle": "eligible",
}


@pytest.mark.parametrize("tier", list(BASES))
def test_base_firm_passes_its_tier(tier: str) -> None:
    d = decide(tier)
    assert d.status == BASE_STATUS[tier], [(c.id, c.outcome.value, c.detail) for c in d.criteria]
    assert not [c.id for c in d.criteria if c.outcome.value == "unknown"]
    # only the alternative path (direct pass) may fail: the base firms pass by the main path
    assert {c.id for c in d.criteria if c.outcome.value == "fail"} <= {"direct_pass"}


# (name, tier, changes, criterion, criterion outcome, tier status or None)
CASES: list[tuple[str, str, dict[str, Any], str, str, str | None]] = [
    # ------------------------------------------------------------------ 科技型中小企业 (115号)
    (
        "科技型：上年职工总数恰为 500 人仍符合规模条件",
        "tech_sme",
        {"years.2025.employees": 500, "years.2025.tech_staff": 200},
        "size_employees",
        "pass",
        "eligible",
    ),
    (
        "科技型：上年职工总数 501 人超出规模上限",
        "tech_sme",
        {"years.2025.employees": 501, "years.2025.tech_staff": 200},
        "size_employees",
        "fail",
        "ineligible",
    ),
    (
        "科技型：上年销售收入恰为 2 亿元仍符合规模条件",
        "tech_sme",
        {"years.2025.revenue": 20000, "years.2025.rd_expense": 1500},
        "size_revenue",
        "pass",
        "eligible",
    ),
    (
        "科技型：上年销售收入 20,001 万元超出规模上限",
        "tech_sme",
        {"years.2025.revenue": 20001, "years.2025.rd_expense": 1500},
        "size_revenue",
        "fail",
        "ineligible",
    ),
    (
        "科技型：上年资产总额恰为 2 亿元仍符合规模条件",
        "tech_sme",
        {"years.2025.total_assets": 20000},
        "size_assets",
        "pass",
        "eligible",
    ),
    (
        "科技型：上年资产总额 20,001 万元超出规模上限",
        "tech_sme",
        {"years.2025.total_assets": 20001},
        "size_assets",
        "fail",
        "ineligible",
    ),
    (
        "科技型：科技人员占比 9.9% 时科技人员得分为 0，即使总分 80 分也不符合",
        "tech_sme",
        {"years.2025.employees": 200, "years.2025.tech_staff": 19.8},
        "tech_staff_not_zero",
        "fail",
        "ineligible",
    ),
    (
        "科技型：科技人员占比恰为 10.0% 得 4 分，不再是致命零分",
        "tech_sme",
        {"years.2025.employees": 200, "years.2025.tech_staff": 20},
        "tech_staff_not_zero",
        "pass",
        "eligible",
    ),
    (
        "科技型：当年（2026 年）发生重大安全事故不符合基本条件",
        "tech_sme",
        {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2026-03-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "科技型：上一年 1 月 1 日发生的重大质量事故仍在“当年及上一年”之内",
        "tech_sme",
        {"incidents": [{"kind": "quality", "grade": "major", "occurred_on": "2025-01-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "科技型：前年 12 月 31 日的重大安全事故已在“当年及上一年”之外",
        "tech_sme",
        {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2024-12-31"}]},
        "no_major_incident",
        "pass",
        "eligible",
    ),
    (
        "科技型：较大（低于重大）安全事故不构成否决",
        "tech_sme",
        {"incidents": [{"kind": "safety", "grade": "larger", "occurred_on": "2026-03-01"}]},
        "no_major_incident",
        "pass",
        "eligible",
    ),
    (
        "科技型：特别重大环境事件同样否决",
        "tech_sme",
        {"incidents": [{"kind": "environment", "grade": "extraordinary", "occurred_on": "2025-06-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "科技型：近三年内有弄虚作假记录，3 年内不得参加评价",
        "tech_sme",
        {"incidents": [{"kind": "fraud", "grade": "general", "occurred_on": "2024-01-10"}]},
        "no_fraud_ban",
        "fail",
        "ineligible",
    ),
    (
        "科技型：弄虚作假已超过 3 年不再限制",
        "tech_sme",
        {"incidents": [{"kind": "fraud", "grade": "general", "occurred_on": "2023-09-14"}]},
        "no_fraud_ban",
        "pass",
        "eligible",
    ),
    (
        "科技型：列入经营异常名录不符合",
        "tech_sme",
        {"lists.abnormal": True},
        "not_abnormal",
        "fail",
        "ineligible",
    ),
    (
        "科技型：产品属于淘汰类不符合",
        "tech_sme",
        {"prohibited_products": True},
        "not_prohibited",
        "fail",
        "ineligible",
    ),
    # ------------------------------------------------------------------ 科技型 第八条 直接认定
    (
        "科技型：持有有效高企证书可直接认定，即使科技人员占比仅 5%",
        "tech_sme",
        {
            "years.2025.tech_staff": 5,
            "recognitions": [{"tier": "hnte", "issued_on": "2024-12-10", "expires_on": "2027-12-09"}],
        },
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "科技型：高企直接认定不突破职工 500 人的规模上限",
        "tech_sme",
        {
            "years.2025.employees": 501,
            "years.2025.tech_staff": 200,
            "recognitions": [{"tier": "hnte", "issued_on": "2024-12-10", "expires_on": "2027-12-09"}],
        },
        "direct_pass",
        "pass",
        "ineligible",
    ),
    (
        "科技型：高企直接认定不突破重大事故否决",
        "tech_sme",
        {
            "incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2026-02-01"}],
            "recognitions": [{"tier": "hnte", "issued_on": "2024-12-10", "expires_on": "2027-12-09"}],
        },
        "direct_pass",
        "pass",
        "ineligible",
    ),
    (
        "科技型：已过期的高企证书不能直接认定",
        "tech_sme",
        {
            "years.2025.tech_staff": 5,
            "recognitions": [{"tier": "hnte", "issued_on": "2022-11-02", "expires_on": "2025-11-01"}],
        },
        "direct_pass",
        "fail",
        "ineligible",
    ),
    (
        "科技型：恰好 5 年前获国家级科技奖励、排名第 3，可直接认定",
        "tech_sme",
        {
            "years.2025.tech_staff": 5,
            "awards": [{"level": "national", "awarded_on": "2021-09-15", "rank": 3}],
        },
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "科技型：国家级科技奖励排名第 4 不能直接认定",
        "tech_sme",
        {
            "years.2025.tech_staff": 5,
            "awards": [{"level": "national", "awarded_on": "2024-01-08", "rank": 4}],
        },
        "direct_pass",
        "fail",
        "ineligible",
    ),
    (
        "科技型：5 年零 1 天前的国家级科技奖励已超出近五年",
        "tech_sme",
        {
            "years.2025.tech_staff": 5,
            "awards": [{"level": "national", "awarded_on": "2021-09-14", "rank": 1}],
        },
        "direct_pass",
        "fail",
        "ineligible",
    ),
    (
        "科技型：部级研发机构属于省部级以上，可直接认定",
        "tech_sme",
        {"years.2025.tech_staff": 5, "rd_institution": "ministerial"},
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "科技型：市级研发机构不满足直接认定",
        "tech_sme",
        {"years.2025.tech_staff": 5, "rd_institution": "municipal"},
        "direct_pass",
        "fail",
        "ineligible",
    ),
    (
        "科技型：近五年主导制定标准可直接认定",
        "tech_sme",
        {"years.2025.tech_staff": 5, "led_standard_within_5y": True},
        "direct_pass",
        "pass",
        "eligible",
    ),
    # ------------------------------------------------------------------ 高新技术企业 (32号 第十一条)
    (
        "高企：注册成立恰好 365 天符合“一年以上”",
        "hnte",
        {"founded_on": "2025-09-15"},
        "registered_one_year",
        "pass",
        "eligible",
    ),
    (
        "高企：注册成立 364 天不足一年",
        "hnte",
        {"founded_on": "2025-09-16"},
        "registered_one_year",
        "fail",
        "ineligible",
    ),
    (
        "高企：前一年科技人员占比恰为 10% 符合",
        "hnte",
        {"years.2025.employees": 200, "years.2025.tech_staff": 20},
        "tech_staff_share",
        "pass",
        "eligible",
    ),
    (
        "高企：科技人员占比 9.5% 不符合",
        "hnte",
        {"years.2025.employees": 200, "years.2025.tech_staff": 19},
        "tech_staff_share",
        "fail",
        "ineligible",
    ),
    (
        "高企：最近一年销售收入恰为 5,000 万元适用 5% 档，近三年研发占比 4.6% 不符合",
        "hnte",
        hnte_years((5000, 5000, 5000), 230),
        "rd_intensity",
        "fail",
        "ineligible",
    ),
    (
        "高企：最近一年销售收入 5,001 万元换为 4% 档，同样 4.6% 即符合",
        "hnte",
        hnte_years((5000, 5000, 5001), 230),
        "rd_intensity",
        "pass",
        "eligible",
    ),
    (
        "高企：最近一年销售收入恰为 2 亿元仍适用 4% 档，3.5% 不符合",
        "hnte",
        hnte_years((20000, 20000, 20000), 700),
        "rd_intensity",
        "fail",
        "ineligible",
    ),
    (
        "高企：最近一年销售收入 20,001 万元换为 3% 档，3.5% 即符合",
        "hnte",
        hnte_years((20000, 20000, 20001), 700),
        "rd_intensity",
        "pass",
        "eligible",
    ),
    (
        "高企：近三年研发费用占比恰为 5.00% 符合 5% 档",
        "hnte",
        hnte_years((4000, 4000, 4000), 200),
        "rd_intensity",
        "pass",
        "eligible",
    ),
    (
        "高企：近三年研发费用占比 4.975% 不符合 5% 档",
        "hnte",
        hnte_years((4000, 4000, 4000), 199),
        "rd_intensity",
        "fail",
        "ineligible",
    ),
    (
        "高企：研发费用按近三年合计除以销售收入合计，而非逐年判断（单年 4% 但三年合计 5% 仍符合）",
        "hnte",
        {
            **hnte_years((4000, 4000, 4000), 200),
            "years.2023.rd_expense": 160,
            "years.2023.rd_expense_domestic": 160,
            "years.2025.rd_expense": 240,
            "years.2025.rd_expense_domestic": 240,
        },
        "rd_intensity",
        "pass",
        "eligible",
    ),
    (
        "高企：境内研发费用占比恰为 60% 符合",
        "hnte",
        {
            **hnte_years((4000, 4000, 4000), 200),
            "years.2023.rd_expense_domestic": 120,
            "years.2024.rd_expense_domestic": 120,
            "years.2025.rd_expense_domestic": 120,
        },
        "rd_domestic",
        "pass",
        "eligible",
    ),
    (
        "高企：境内研发费用占比 59.5% 不符合",
        "hnte",
        {
            **hnte_years((4000, 4000, 4000), 200),
            "years.2023.rd_expense_domestic": 119,
            "years.2024.rd_expense_domestic": 119,
            "years.2025.rd_expense_domestic": 119,
        },
        "rd_domestic",
        "fail",
        "ineligible",
    ),
    (
        "高企：高新技术产品（服务）收入占比恰为 60% 符合",
        "hnte",
        {"years.2025.hightech_revenue": 2400},
        "hightech_income",
        "pass",
        "eligible",
    ),
    (
        "高企：高新技术产品（服务）收入占比 59.975% 不符合",
        "hnte",
        {"years.2025.hightech_revenue": 2399},
        "hightech_income",
        "fail",
        "ineligible",
    ),
    (
        "高企：创新能力评价恰为 70 分不符合（须高于 70 分）",
        "hnte",
        {"scores.hnte_innovation": 70},
        "innovation_score",
        "fail",
        "ineligible",
    ),
    (
        "高企：创新能力评价 70.5 分符合",
        "hnte",
        {"scores.hnte_innovation": 70.5},
        "innovation_score",
        "pass",
        "eligible",
    ),
    (
        "高企：没有创新能力评分时需人工评审，不判不符合",
        "hnte",
        {"scores.hnte_innovation": None},
        "innovation_score",
        "manual",
        "needs_review",
    ),
    (
        "高企：没有知识产权不符合",
        "hnte",
        {"ip.class1": 0, "ip.class2": 0},
        "owns_ip",
        "fail",
        "ineligible",
    ),
    (
        "高企：只有Ⅱ类知识产权也满足“拥有知识产权”",
        "hnte",
        {"ip.class1": 0, "ip.class2": 1},
        "owns_ip",
        "pass",
        "eligible",
    ),
    (
        "高企：核心技术不属于重点支持领域不符合",
        "hnte",
        {"hnte_field": False},
        "hnte_field",
        "fail",
        "ineligible",
    ),
    (
        "高企：申请前恰好一年当天发生的重大安全事故仍在“一年内”",
        "hnte",
        {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2025-09-15"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "高企：一年零一天前的重大安全事故已在一年之外",
        "hnte",
        {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2025-09-14"}]},
        "no_major_incident",
        "pass",
        "eligible",
    ),
    (
        "高企：一年内的较大安全事故不构成否决（须为重大）",
        "hnte",
        {"incidents": [{"kind": "safety", "grade": "larger", "occurred_on": "2026-05-01"}]},
        "no_major_incident",
        "pass",
        "eligible",
    ),
    (
        "高企：当年被取消高企资格的企业当年不得再次申请",
        "hnte",
        {
            "recognitions": [
                {
                    "tier": "hnte",
                    "issued_on": "2023-12-01",
                    "expires_on": "2026-11-30",
                    "revoked_on": "2026-03-01",
                }
            ]
        },
        "no_cancellation_this_year",
        "fail",
        "ineligible",
    ),
    (
        "高企：上一年被取消资格的企业今年可以再次申请",
        "hnte",
        {
            "recognitions": [
                {
                    "tier": "hnte",
                    "issued_on": "2022-12-01",
                    "expires_on": "2025-11-30",
                    "revoked_on": "2025-06-01",
                }
            ]
        },
        "no_cancellation_this_year",
        "pass",
        "eligible",
    ),
    # ------------------------------------------------------------------ 创新型中小企业 (63号 附件1)
    (
        "创新型：近三年新增股权融资恰为 500 万元可直通，即使评分不达标",
        "innovative_sme",
        {"years.2025.equity_financing": 500, "years.2025.main_revenue": 1200},
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "创新型：近三年新增股权融资 499 万元不能直通",
        "innovative_sme",
        {"years.2025.equity_financing": 499, "years.2025.main_revenue": 1200},
        "direct_pass",
        "fail",
        "ineligible",
    ),
    (
        "创新型：持有有效高企认定可直通",
        "innovative_sme",
        {
            "years.2025.main_revenue": 1200,
            "recognitions": [{"tier": "hnte", "issued_on": "2024-12-10", "expires_on": "2027-12-09"}],
        },
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "创新型：已过期的高企不再是直通条件",
        "innovative_sme",
        {
            "years.2025.main_revenue": 1200,
            "recognitions": [{"tier": "hnte", "issued_on": "2022-11-02", "expires_on": "2025-11-01"}],
        },
        "direct_pass",
        "fail",
        "ineligible",
    ),
    (
        "创新型：近三年省级科技奖励可直通",
        "innovative_sme",
        {
            "years.2025.main_revenue": 1200,
            "awards": [{"level": "provincial", "awarded_on": "2024-05-01", "rank": 7}],
        },
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "创新型：省级研发机构可直通",
        "innovative_sme",
        {"years.2025.main_revenue": 1200, "rd_institution": "provincial"},
        "direct_pass",
        "pass",
        "eligible",
    ),
    (
        "创新型：不属于中小企业不符合（直通也不能替代）",
        "innovative_sme",
        {"is_sme": False, "years.2025.equity_financing": 800},
        "is_sme",
        "fail",
        "ineligible",
    ),
    (
        "创新型：未给出划型结果时，职工 999 人即为中小企业（工业：任一低于上限）",
        "innovative_sme",
        {
            "is_sme": None,
            "years.2025.employees": 999,
            "years.2025.revenue": 50000,
            "years.2025.rd_expense": 3000,
            "years.2025.main_revenue": 40000,
            "years.2024.main_revenue": 33000,
        },
        "is_sme",
        "pass",
        "eligible",
    ),
    (
        "创新型：未给出划型结果且职工 1,000 人、营业收入 4 亿元，两项都达到则为大型企业",
        "innovative_sme",
        {"is_sme": None, "years.2025.employees": 1000, "years.2025.revenue": 40000},
        "is_sme",
        "fail",
        "ineligible",
    ),
    (
        "创新型：近三年重大数据安全事件否决",
        "innovative_sme",
        {"incidents": [{"kind": "data", "grade": "major", "occurred_on": "2024-02-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "创新型：恰好三年前当天的重大安全事故仍在近三年内",
        "innovative_sme",
        {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2023-09-15"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "创新型：三年零一天前的重大安全事故已在近三年之外",
        "innovative_sme",
        {"incidents": [{"kind": "safety", "grade": "major", "occurred_on": "2023-09-14"}]},
        "no_major_incident",
        "pass",
        "eligible",
    ),
    (
        "创新型：近三年一般安全事故不否决（须为重大）",
        "innovative_sme",
        {"incidents": [{"kind": "safety", "grade": "general", "occurred_on": "2025-02-01"}]},
        "no_major_incident",
        "pass",
        "eligible",
    ),
    (
        "创新型：近三年偷漏税不论等级均否决",
        "innovative_sme",
        {"incidents": [{"kind": "tax", "grade": "general", "occurred_on": "2025-02-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    # ------------------------------------------------------------------ 专精特新中小企业 (2号, 2026-04-01 起)
    (
        "专精特新（2026）：上年营业收入恰为 1,500 万元符合",
        "srdi_sme",
        {"years.2025.revenue": 1500, "years.2025.main_revenue": 1350},
        "revenue",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：上年营业收入 1,499 万元且无股权融资不符合",
        "srdi_sme",
        {"years.2025.revenue": 1499, "years.2025.main_revenue": 1350},
        "revenue",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：营业收入不足但近两年新增股权融资恰为 2,000 万元符合",
        "srdi_sme",
        {
            "years.2025.revenue": 1400,
            "years.2025.main_revenue": 1300,
            "years.2024.equity_financing": 1200,
            "years.2025.equity_financing": 800,
        },
        "revenue",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：营业收入不足且近两年股权融资 1,999 万元不符合",
        "srdi_sme",
        {
            "years.2025.revenue": 1400,
            "years.2025.main_revenue": 1300,
            "years.2024.equity_financing": 1199,
            "years.2025.equity_financing": 800,
        },
        "revenue",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：主营业务收入占比恰为 80% 符合",
        "srdi_sme",
        {"years.2025.main_revenue": 2400},
        "main_share",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：主营业务收入占比 79.97% 不符合",
        "srdi_sme",
        {"years.2025.main_revenue": 2399},
        "main_share",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：资产负债率恰为 80% 符合",
        "srdi_sme",
        {"years.2025.total_liabilities": 3200},
        "debt_ratio",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：资产负债率 80.03% 不符合",
        "srdi_sme",
        {"years.2025.total_liabilities": 3201},
        "debt_ratio",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：上年研发费用恰为 100 万元且占比 3.33% 符合",
        "srdi_sme",
        {"years.2025.rd_expense": 100},
        "rd_each_year",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：上年研发费用 99 万元不符合",
        "srdi_sme",
        {"years.2025.rd_expense": 99},
        "rd_each_year",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：前年研发费用占比恰为 3% 符合（两年都要看）",
        "srdi_sme",
        {"years.2024.revenue": 5000, "years.2024.main_revenue": 4500, "years.2024.rd_expense": 150},
        "rd_each_year",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：上年达标但前年研发占比 2.98% 不符合",
        "srdi_sme",
        {"years.2024.revenue": 5030, "years.2024.main_revenue": 4500, "years.2024.rd_expense": 150},
        "rd_each_year",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：没有Ⅰ类知识产权不符合",
        "srdi_sme",
        {"ip.class1": 0},
        "class1_ip",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：没有Ⅰ类知识产权但近三年省级科技奖励排名第 3，可豁免",
        "srdi_sme",
        {"ip.class1": 0, "awards": [{"level": "provincial", "awarded_on": "2025-01-10", "rank": 3}]},
        "class1_ip",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：没有Ⅰ类知识产权但有省级研发机构，可豁免",
        "srdi_sme",
        {"ip.class1": 0, "rd_institution": "provincial"},
        "class1_ip",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：平台发展评价得分恰为 50 分符合",
        "srdi_sme",
        {"scores.srdi_platform": 50},
        "platform_score",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：平台发展评价得分 49.5 分不符合",
        "srdi_sme",
        {"scores.srdi_platform": 49.5},
        "platform_score",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：2023-01-01 进入细分市场，至上年末恰满 3 年",
        "srdi_sme",
        {"niche_since": "2023-01-01"},
        "niche_years",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：2023-01-02 进入细分市场，至上年末不足 3 年",
        "srdi_sme",
        {"niche_since": "2023-01-02"},
        "niche_years",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：未持有有效的科技型或创新型称号不符合",
        "srdi_sme",
        {"recognitions": []},
        "base_title",
        "fail",
        "ineligible",
    ),
    (
        "专精特新（2026）：有效期内的科技型中小企业入库也满足称号前提（2号 第三十条过渡）",
        "srdi_sme",
        {"recognitions": [{"tier": "tech_sme", "issued_on": "2026-07-15", "expires_on": "2027-07-14"}]},
        "base_title",
        "pass",
        "needs_review",
    ),
    (
        "专精特新（2026）：近三年有数据造假（任何等级）不符合",
        "srdi_sme",
        {"incidents": [{"kind": "fraud", "grade": "general", "occurred_on": "2024-06-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    # ------------------------------------------------------------------ 小巨人 (2号 附件2, 新申请)
    (
        "小巨人（2026）：上年营业收入恰为 5,000 万元符合",
        "little_giant",
        {
            "years.2025.revenue": 5000,
            "years.2025.main_revenue": 4750,
            "years.2023.revenue": 4000,
            "years.2025.rd_expense": 600,
        },
        "revenue",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：上年营业收入 4,999 万元不符合",
        "little_giant",
        {
            "years.2025.revenue": 4999,
            "years.2025.main_revenue": 4750,
            "years.2023.revenue": 4000,
            "years.2025.rd_expense": 600,
        },
        "revenue",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：主营业务收入占比恰为 90% 符合",
        "little_giant",
        {"years.2025.main_revenue": 9000},
        "main_share",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：主营业务收入占比 89.99% 不符合",
        "little_giant",
        {"years.2025.main_revenue": 8999},
        "main_share",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：近两年营业收入复合增长率恰为 5% 符合（√(8,820/8,000) − 1）",
        "little_giant",
        {"years.2025.revenue": 8820, "years.2025.main_revenue": 8500},
        "revenue_cagr",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：复合增长率 4.9% 不符合",
        "little_giant",
        {"years.2025.revenue": 8803, "years.2025.main_revenue": 8500},
        "revenue_cagr",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：复合增长率只看首尾两年，中间年份营业收入未知也能计算",
        "little_giant",
        {"years.2024.revenue": None},
        "revenue_cagr",
        "pass",
        "insufficient_data",
    ),
    (
        "小巨人（2026）：资产负债率恰为 75% 符合",
        "little_giant",
        {"years.2025.total_liabilities": 9000},
        "debt_ratio",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：资产负债率 75.01% 不符合",
        "little_giant",
        {"years.2025.total_liabilities": 9001},
        "debt_ratio",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：近两年研发费用合计恰为 1,200 万元符合",
        "little_giant",
        {"years.2024.rd_expense": 500, "years.2025.rd_expense": 700},
        "rd",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：近两年研发费用合计 1,199 万元不符合",
        "little_giant",
        {"years.2024.rd_expense": 499, "years.2025.rd_expense": 700},
        "rd",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：合计达标但前年研发占比 2.99% 不符合（每年都须 ≥ 3%）",
        "little_giant",
        {"years.2024.rd_expense": 269, "years.2025.rd_expense": 1000},
        "rd",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：Ⅰ类知识产权恰为 4 项符合",
        "little_giant",
        {"ip.class1": 4},
        "class1_ip",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：Ⅰ类知识产权 3 项不符合",
        "little_giant",
        {"ip.class1": 3},
        "class1_ip",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：3 项Ⅰ类但近三年国家级科技奖励排名第 3，知识产权项豁免",
        "little_giant",
        {"ip.class1": 3, "awards": [{"level": "national", "awarded_on": "2024-01-08", "rank": 3}]},
        "class1_ip",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：省级科技奖励不能豁免知识产权项",
        "little_giant",
        {"ip.class1": 3, "awards": [{"level": "provincial", "awarded_on": "2024-01-08", "rank": 1}]},
        "class1_ip",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：国内细分市场占有率恰为 10% 符合",
        "little_giant",
        {"market.domestic_share_pct": 10, "market.domestic_rank": 8},
        "market",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：占有率 9.9% 但国内排名第 3 仍符合",
        "little_giant",
        {"market.domestic_share_pct": 9.9, "market.domestic_rank": 3},
        "market",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：占有率 9.9% 且国内排名第 4 不符合",
        "little_giant",
        {"market.domestic_share_pct": 9.9, "market.domestic_rank": 4},
        "market",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：平台发展评价得分恰为 60 分符合",
        "little_giant",
        {"scores.srdi_platform": 60},
        "platform_score",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：平台发展评价得分 59 分不符合",
        "little_giant",
        {"scores.srdi_platform": 59},
        "platform_score",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：近三年较大安全生产事故即否决",
        "little_giant",
        {"incidents": [{"kind": "safety", "grade": "larger", "occurred_on": "2024-03-01"}]},
        "no_incident",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：一般安全生产事故不否决",
        "little_giant",
        {"incidents": [{"kind": "safety", "grade": "general", "occurred_on": "2024-03-01"}]},
        "no_incident",
        "pass",
        "eligible",
    ),
    (
        "小巨人（2026）：近三年有数据造假即否决",
        "little_giant",
        {"incidents": [{"kind": "fraud", "grade": "general", "occurred_on": "2024-03-01"}]},
        "no_incident",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：已是制造业单项冠军的不再推荐",
        "little_giant",
        {
            "recognitions": [
                {"tier": "srdi_sme", "issued_on": "2024-06-01", "expires_on": "2027-05-31"},
                {"tier": "hidden_champion", "issued_on": "2024-12-01", "expires_on": "2027-11-30"},
            ]
        },
        "not_champion",
        "fail",
        "ineligible",
    ),
    (
        "小巨人（2026）：专精特新称号已过期不符合前提",
        "little_giant",
        {"recognitions": [{"tier": "srdi_sme", "issued_on": "2023-06-01", "expires_on": "2026-05-31"}]},
        "base_title",
        "fail",
        "ineligible",
    ),
    # ------------------------------------------------------------------ 单项冠军 / 独角兽 / 瞪羚
    (
        "单项冠军：至上年末从事细分领域恰满 10 年符合",
        "hidden_champion",
        {"niche_since": "2016-01-01"},
        "niche_years",
        "pass",
        "needs_review",
    ),
    (
        "单项冠军：从事细分领域 7 年，需核实是否为新产品（新产品 5 年即可），不判不符合",
        "hidden_champion",
        {"niche_since": "2019-01-01"},
        "niche_years",
        "manual",
        "needs_review",
    ),
    (
        "单项冠军：从事细分领域不足 5 年不符合",
        "hidden_champion",
        {"niche_since": "2021-06-01"},
        "niche_years",
        "fail",
        "ineligible",
    ),
    (
        "单项冠军：近三年主营业务收入平均恰为 4 亿元符合",
        "hidden_champion",
        {f"years.{y}.main_revenue": 40000 for y in (2023, 2024, 2025)},
        "main_revenue",
        "pass",
        "needs_review",
    ),
    (
        "单项冠军：近三年主营业务收入平均 39,999 万元不符合",
        "hidden_champion",
        {
            "years.2023.main_revenue": 39997,
            "years.2024.main_revenue": 40000,
            "years.2025.main_revenue": 40000,
        },
        "main_revenue",
        "fail",
        "ineligible",
    ),
    (
        "单项冠军：全球市场占有率第 3 符合",
        "hidden_champion",
        {"market.global_rank": 3},
        "global_rank",
        "pass",
        "needs_review",
    ),
    (
        "单项冠军：全球市场占有率第 4 不符合",
        "hidden_champion",
        {"market.global_rank": 4},
        "global_rank",
        "fail",
        "ineligible",
    ),
    (
        "单项冠军：近三年偷漏税不论等级均否决",
        "hidden_champion",
        {"incidents": [{"kind": "tax", "grade": "general", "occurred_on": "2025-02-01"}]},
        "no_major_incident",
        "fail",
        "ineligible",
    ),
    (
        "独角兽：成立恰好 10 年仍符合",
        "unicorn",
        {"founded_on": "2016-09-15"},
        "age",
        "pass",
        "eligible",
    ),
    (
        "独角兽：成立 10 年零 1 天不符合",
        "unicorn",
        {"founded_on": "2016-09-14"},
        "age",
        "fail",
        "ineligible",
    ),
    (
        "独角兽：估值恰为 10 亿美元符合",
        "unicorn",
        {"valuation_usd_bn": 1},
        "valuation",
        "pass",
        "eligible",
    ),
    (
        "独角兽：估值 9.9 亿美元不符合",
        "unicorn",
        {"valuation_usd_bn": 0.99},
        "valuation",
        "fail",
        "ineligible",
    ),
    (
        "独角兽：已上市不符合",
        "unicorn",
        {"listed": True},
        "not_listed",
        "fail",
        "ineligible",
    ),
    (
        "瞪羚：上年营业收入增长恰为 20% 符合",
        "gazelle",
        {},
        "growth",
        "pass",
        "eligible",
    ),
    (
        "瞪羚：增长 19.97% 且收入不足 5,000 万元不符合",
        "gazelle",
        {"years.2025.revenue": 3599},
        "growth",
        "fail",
        "ineligible",
    ),
    (
        "瞪羚：增长不足但上年营业收入恰为 5,000 万元符合",
        "gazelle",
        {"years.2024.revenue": 4900, "years.2025.revenue": 5000},
        "growth",
        "pass",
        "eligible",
    ),
    (
        "瞪羚：不持有有效高企不符合",
        "gazelle",
        {"recognitions": []},
        "hnte",
        "fail",
        "ineligible",
    ),
]


@pytest.mark.parametrize(
    ("tier", "changes", "criterion", "expected", "status"),
    [pytest.param(t, ch, c, o, s, id=name) for name, t, ch, c, o, s in CASES],
)
def test_threshold(
    tier: str, changes: dict[str, Any], criterion: str, expected: str, status: str | None
) -> None:
    d = decide(tier, changes)
    got = outcome(d, criterion)
    detail = next(c.detail for c in d.criteria if c.id == criterion)
    assert got == expected, detail
    if status is not None:
        assert d.status == status, [
            (c.id, c.outcome.value, c.detail) for c in d.criteria if c.outcome.value != "pass"
        ]


# --- scores ----------------------------------------


def tech_score(changes: dict[str, Any]) -> Decimal | None:
    return decide("tech_sme", changes).score


# 科技人员 share bins (R&D 50 + IP 30 fixed): employees 200.
@pytest.mark.parametrize(
    ("tech_staff", "points"),
    [
        pytest.param(20, 4, id="科技型：科技人员占比恰为 10% 得 4 分"),
        pytest.param(29.8, 4, id="科技型：科技人员占比 14.9% 仍得 4 分"),
        pytest.param(30, 8, id="科技型：科技人员占比恰为 15% 进入高一档得 8 分"),
        pytest.param(40, 12, id="科技型：科技人员占比恰为 20% 得 12 分"),
        pytest.param(50, 16, id="科技型：科技人员占比恰为 25% 得 16 分"),
        pytest.param(59.8, 16, id="科技型：科技人员占比 29.9% 得 16 分"),
        pytest.param(60, 20, id="科技型：科技人员占比恰为 30% 得满分 20 分"),
    ],
)
def test_tech_sme_staff_bins(tech_staff: float, points: int) -> None:
    score = tech_score({"years.2025.employees": 200, "years.2025.tech_staff": tech_staff})
    assert score == 80 + points


# R&D ÷ 销售收入 (firm's choice "sales"); revenue 10,000.
@pytest.mark.parametrize(
    ("rd", "points"),
    [
        pytest.param(600, 50, id="科技型：研发投入占销售收入恰为 6% 得 50 分"),
        pytest.param(599, 40, id="科技型：研发投入占销售收入 5.99% 得 40 分"),
        pytest.param(500, 40, id="科技型：研发投入占销售收入恰为 5% 得 40 分"),
        pytest.param(400, 30, id="科技型：研发投入占销售收入恰为 4% 得 30 分"),
        pytest.param(300, 20, id="科技型：研发投入占销售收入恰为 3% 得 20 分"),
        pytest.param(200, 10, id="科技型：研发投入占销售收入恰为 2% 得 10 分"),
        pytest.param(199, 0, id="科技型：研发投入占销售收入 1.99% 得 0 分"),
    ],
)
def test_tech_sme_rd_sales_bins(rd: int, points: int) -> None:
    score = tech_score(
        {"tech_sme_rd_measure": "sales", "years.2025.revenue": 10000, "years.2025.rd_expense": rd}
    )
    assert score == 50 + points


# R&D ÷ 成本费用总额 (firm's choice "cost"); cost 2,000.
@pytest.mark.parametrize(
    ("rd", "points"),
    [
        pytest.param(600, 50, id="科技型：研发投入占成本费用恰为 30% 得 50 分"),
        pytest.param(500, 40, id="科技型：研发投入占成本费用恰为 25% 得 40 分"),
        pytest.param(400, 30, id="科技型：研发投入占成本费用恰为 20% 得 30 分"),
        pytest.param(300, 20, id="科技型：研发投入占成本费用恰为 15% 得 20 分"),
        pytest.param(200, 10, id="科技型：研发投入占成本费用恰为 10% 得 10 分"),
        pytest.param(199, 0, id="科技型：研发投入占成本费用 9.95% 得 0 分"),
    ],
)
def test_tech_sme_rd_cost_bins(rd: int, points: int) -> None:
    score = tech_score(
        {
            "tech_sme_rd_measure": "cost",
            "years.2025.revenue": 100000 if rd > 0 else 1,
            "years.2025.total_assets": 6000,
            "years.2025.cost_total": 2000,
            "years.2025.rd_expense": rd,
            "years.2025.employees": 100,
        }
    )
    # revenue above the size cap does not change the score; only the R&D component is checked here
    assert score == 50 + points


def test_tech_sme_uses_higher_measure_unless_firm_chose() -> None:
    # sales 3% → 20, cost 30% → 50
    base = {"years.2025.revenue": 10000, "years.2025.rd_expense": 300, "years.2025.cost_total": 1000}
    assert tech_score(base) == 100
    assert tech_score({**base, "tech_sme_rd_measure": "sales"}) == 70
    assert tech_score({**base, "tech_sme_rd_measure": "cost"}) == 100


@pytest.mark.parametrize(
    ("class1", "class2", "points"),
    [
        pytest.param(1, 0, 30, id="科技型：1 项Ⅰ类知识产权得 30 分"),
        pytest.param(0, 4, 24, id="科技型：4 项Ⅱ类知识产权得 24 分"),
        pytest.param(0, 10, 24, id="科技型：10 项Ⅱ类知识产权仍为 24 分"),
        pytest.param(0, 3, 18, id="科技型：3 项Ⅱ类知识产权得 18 分"),
        pytest.param(0, 2, 12, id="科技型：2 项Ⅱ类知识产权得 12 分"),
        pytest.param(0, 1, 6, id="科技型：1 项Ⅱ类知识产权得 6 分"),
        pytest.param(0, 0, 0, id="科技型：没有知识产权得 0 分"),
    ],
)
def test_tech_sme_ip_bins(class1: int, class2: int, points: int) -> None:
    assert tech_score({"ip.class1": class1, "ip.class2": class2}) == 70 + points


def test_tech_sme_total_exactly_60_passes_and_58_fails() -> None:
    # staff 10% → 4, R&D 6% → 50, one Ⅱ类 → 6 = 60
    at = {
        "years.2025.employees": 200,
        "years.2025.tech_staff": 20,
        "tech_sme_rd_measure": "sales",
        "years.2025.revenue": 10000,
        "years.2025.rd_expense": 600,
        "ip.class1": 0,
        "ip.class2": 1,
    }
    d = decide("tech_sme", at)
    assert (d.score, d.status, outcome(d, "score")) == (60, "eligible", "pass")
    # staff 4 + R&D 4% → 30 + 4 Ⅱ类 → 24 = 58
    below = {**at, "years.2025.rd_expense": 400, "ip.class2": 4}
    d = decide("tech_sme", below)
    assert (d.score, d.status, outcome(d, "score")) == (58, "ineligible", "fail")
    assert "综合评分还差 2 分（至少 60 分）" in d.gaps


# 创新型 scoring bins: each changes one indicator of the 100-point base firm.
@pytest.mark.parametrize(
    ("changes", "total"),
    [
        pytest.param({"years.2025.rd_expense": 150}, 100, id="创新型：研发占营业收入恰为 5% 得 20 分"),
        pytest.param({"years.2025.rd_expense": 149}, 95, id="创新型：研发占比 4.97% 得 15 分"),
        pytest.param({"years.2025.rd_expense": 90}, 95, id="创新型：研发占比恰为 3% 得 15 分"),
        pytest.param({"years.2025.rd_expense": 60}, 90, id="创新型：研发占比恰为 2% 得 10 分"),
        pytest.param({"years.2025.rd_expense": 30}, 85, id="创新型：研发占比恰为 1% 得 5 分"),
        pytest.param({"years.2025.rd_expense": 29}, 80, id="创新型：研发占比 0.97% 得 0 分"),
        pytest.param({"ip.class1_high_value": 0}, 95, id="创新型：自主研发Ⅰ类（非高价值）得 15 分"),
        pytest.param(
            {"ip.class1_high_value": 0, "ip.class1_self_developed": 0}, 90, id="创新型：受让Ⅰ类得 10 分"
        ),
        pytest.param(
            {"ip.class1_high_value": 0, "ip.class1_self_developed": 0, "ip.class1": 0, "ip.class2": 1},
            85,
            id="创新型：只有Ⅱ类得 5 分",
        ),
        # 主营 growth: 2024 主营 2,000; 2025 主营 varies (share stays ≥ 70% → 20)
        pytest.param({"years.2025.main_revenue": 2300}, 100, id="创新型：主营业务收入增长恰为 15% 得 20 分"),
        pytest.param({"years.2025.main_revenue": 2299}, 95, id="创新型：主营业务收入增长 14.95% 得 15 分"),
        pytest.param({"years.2025.main_revenue": 2200}, 95, id="创新型：主营业务收入增长恰为 10% 得 15 分"),
        pytest.param({"years.2025.main_revenue": 2199}, 90, id="创新型：主营业务收入增长 9.95% 得 10 分"),
        pytest.param({"years.2025.main_revenue": 2100}, 90, id="创新型：主营业务收入增长恰为 5% 得 10 分"),
        pytest.param({"years.2024.main_revenue": 2400}, 85, id="创新型：主营业务收入增长恰为 0 得 5 分"),
        pytest.param({"years.2024.main_revenue": 2401}, 80, id="创新型：主营业务收入负增长得 0 分"),
        pytest.param({"years.2025.total_liabilities": 2750}, 100, id="创新型：资产负债率恰为 55% 得 10 分"),
        pytest.param({"years.2025.total_liabilities": 2751}, 95, id="创新型：资产负债率 55.02% 得 5 分"),
        pytest.param({"years.2025.total_liabilities": 3750}, 95, id="创新型：资产负债率恰为 75% 仍得 5 分"),
        pytest.param({"years.2025.total_liabilities": 3751}, 90, id="创新型：资产负债率 75.02% 得 0 分"),
        pytest.param({"strategic_emerging": False}, 95, id="创新型：主导产品不属于战略性新兴产业得 5 分"),
    ],
)
def test_innovative_sme_bins(changes: dict[str, Any], total: int) -> None:
    assert decide("innovative_sme", changes).score == total


@pytest.mark.parametrize(
    ("main_revenue", "revenue", "points"),
    [
        pytest.param(2100, 3000, 20, id="创新型：主营业务收入占比恰为 70% 得 20 分"),
        pytest.param(1800, 3000, 15, id="创新型：主营业务收入占比恰为 60% 得 15 分"),
        pytest.param(1650, 3000, 10, id="创新型：主营业务收入占比恰为 55% 得 10 分"),
        pytest.param(1500, 3000, 5, id="创新型：主营业务收入占比恰为 50% 得 5 分"),
        pytest.param(1499, 3000, 0, id="创新型：主营业务收入占比 49.97% 得 0 分"),
    ],
)
def test_innovative_sme_main_share_bins(main_revenue: int, revenue: int, points: int) -> None:
    # keep the growth at ≥ 15% (20 points) by lowering last year's 主营 accordingly
    d = decide(
        "innovative_sme",
        {"years.2025.main_revenue": main_revenue, "years.2024.main_revenue": main_revenue / Decimal("1.2")},
    )
    assert d.score == 80 + points


def test_innovative_sme_total_60_fails_on_specialisation_sub_minimum() -> None:
    # 创新能力 5 + 20 = 25；成长性 15 + 10 = 25；专业化 5 + 5 = 10 < 15 → total exactly 60 but fails (case G).
    d = decide(
        "innovative_sme",
        {
            "ip.class1": 0,
            "ip.class1_self_developed": 0,
            "ip.class1_high_value": 0,
            "ip.class2": 7,
            "strategic_emerging": False,
            "years.2024.main_revenue": 1393,  # growth 12.0%
            "years.2025.main_revenue": 1560,  # 52%
        },
    )
    assert d.score == 60
    assert outcome(d, "score") == "fail"
    assert d.status == "ineligible"
    assert "专业化得分还差 5 分（至少 15 分）" in d.gaps


def test_innovative_sme_growth_block_exactly_15_passes() -> None:
    # 主营 growth 8.7% → 10, 负债 58% → 5: 成长性 exactly 15 (case B) and total ≥ 60.
    d = decide(
        "innovative_sme",
        {"years.2024.main_revenue": 2208, "years.2025.total_liabilities": 2900},
    )
    assert outcome(d, "score") == "pass"
    assert d.score == 85
    assert d.status == "eligible"


def test_innovative_sme_innovation_block_below_20_fails() -> None:
    # 创新能力 5 (Ⅱ类) + 10 (研发 2%) = 15 < 20 even though the total is 75.
    d = decide(
        "innovative_sme",
        {
            "ip.class1": 0,
            "ip.class1_self_developed": 0,
            "ip.class1_high_value": 0,
            "ip.class2": 1,
            "years.2025.rd_expense": 60,
        },
    )
    assert d.score == 75
    assert outcome(d, "score") == "fail"
    assert "创新能力得分还差 5 分（至少 20 分）" in d.gaps


# --- 小巨人 2022 ----------------------------------------


@pytest.mark.parametrize(
    ("revenue", "rd_each", "expected"),
    [
        pytest.param(
            10000, 300, "pass", id="小巨人（2022）：上年营业收入恰为 1 亿元适用 3% 档，每年 3% 符合"
        ),
        pytest.param(9999, 300, "fail", id="小巨人（2022）：营业收入 9,999 万元适用 6% 档，3% 不符合"),
        pytest.param(9999, 600, "pass", id="小巨人（2022）：营业收入 9,999 万元、每年 6% 以上符合"),
        pytest.param(5000, 300, "fail", id="小巨人（2022）：营业收入恰为 5,000 万元适用 6% 档"),
        pytest.param(4999, 600, "fail", id="小巨人（2022）：营业收入低于 5,000 万元须股权融资 8,000 万元等"),
    ],
)
def test_little_giant_2022_rd_bands(revenue: int, rd_each: int, expected: str) -> None:
    changes = {
        "years.2024.revenue": revenue,
        "years.2025.revenue": revenue,
        "years.2024.rd_expense": rd_each * revenue / 10000,
        "years.2025.rd_expense": rd_each * revenue / 10000,
        "years.2025.main_revenue": revenue * 0.95,
        "years.2024.main_revenue": revenue * 0.95 / 1.06,
        "years.2023.main_revenue": revenue * 0.95 / 1.06 / 1.06,
    }
    d = decide("little_giant", changes, as_of=date(2026, 3, 31))
    assert d.ruleset == "little_giant/工信部企业〔2022〕63号 附件3"
    assert outcome(d, "innovation") == expected


def test_little_giant_2022_small_firm_path() -> None:
    small = {
        "years.2024.revenue": 4000,
        "years.2025.revenue": 4000,
        "years.2024.rd_expense": 1500,
        "years.2025.rd_expense": 1500,
        "years.2024.equity_financing": 4000,
        "years.2025.equity_financing": 4000,
        "years.2025.employees": 100,
        "years.2025.rd_staff": 50,
    }
    d = decide("little_giant", small, as_of=date(2026, 3, 31))
    assert outcome(d, "innovation") == "pass"
    d = decide("little_giant", {**small, "years.2025.rd_staff": 49}, as_of=date(2026, 3, 31))
    assert outcome(d, "innovation") == "fail"
    assert "研发人员还需 1 人" in " ".join(d.gaps)


def test_little_giant_2022_needs_two_class1_ip() -> None:
    on = date(2026, 3, 31)
    assert outcome(decide("little_giant", {"ip.class1": 2}, as_of=on), "innovation") == "pass"
    assert outcome(decide("little_giant", {"ip.class1": 1}, as_of=on), "innovation") == "fail"


@pytest.mark.parametrize(
    ("changes", "criterion", "expected"),
    [
        pytest.param(
            {"years.2025.main_revenue": 7000},
            "main_share",
            "pass",
            id="小巨人（2022）：主营占比恰为 70% 符合",
        ),
        pytest.param(
            {"years.2025.main_revenue": 6999},
            "main_share",
            "fail",
            id="小巨人（2022）：主营占比 69.99% 不符合",
        ),
        pytest.param(
            {"years.2025.total_liabilities": 8400},
            "debt_ratio",
            "pass",
            id="小巨人（2022）：资产负债率恰为 70% 符合",
        ),
        pytest.param(
            {"years.2025.total_liabilities": 8401},
            "debt_ratio",
            "fail",
            id="小巨人（2022）：资产负债率 70.01% 不符合",
        ),
        pytest.param(
            {"market.domestic_share_pct": 10},
            "market_share",
            "pass",
            id="小巨人（2022）：全国细分市场占有率恰为 10% 符合",
        ),
        pytest.param(
            {"market.domestic_share_pct": 9.9, "market.domestic_rank": 1},
            "market_share",
            "fail",
            id="小巨人（2022）：占有率 9.9% 不符合（2022 标准没有排名前三的替代）",
        ),
        pytest.param(
            {
                "years.2023.main_revenue": 8000,
                "years.2024.main_revenue": 8400,
                "years.2025.main_revenue": 8820,
            },
            "main_growth",
            "pass",
            id="小巨人（2022）：近两年主营业务收入平均增长率恰为 5% 符合",
        ),
        pytest.param(
            {
                "years.2023.main_revenue": 8000,
                "years.2024.main_revenue": 8400,
                "years.2025.main_revenue": 8819,
            },
            "main_growth",
            "fail",
            id="小巨人（2022）：平均增长率 4.99% 不符合",
        ),
    ],
)
def test_little_giant_2022_thresholds(changes: dict[str, Any], criterion: str, expected: str) -> None:
    d = decide("little_giant", changes, as_of=date(2026, 3, 31))
    assert outcome(d, criterion) == expected


# --- gaps ----------------------------------------


def test_gap_tech_staff_counts_people() -> None:
    d = decide("tech_sme", {"years.2025.employees": 200, "years.2025.tech_staff": 19})
    assert "科技人员还需 1 人" in d.gaps
    d = decide("hnte", {"years.2025.employees": 200, "years.2025.tech_staff": 17})
    assert "科技人员还需 3 人" in d.gaps


def test_gap_hnte_rd_in_wan_yuan() -> None:
    d = decide("hnte", hnte_years((4000, 4000, 4000), 199))
    assert "近三年研发费用合计还需增加 3 万元" in d.gaps
    # the band-switch firm of case B: 5% of 13,800 = 690, has 635 → 55
    d = decide(
        "hnte",
        {
            "years.2023.revenue": 4200,
            "years.2024.revenue": 4600,
            "years.2025.revenue": 5000,
            "years.2023.rd_expense": 190,
            "years.2024.rd_expense": 215,
            "years.2025.rd_expense": 230,
            "years.2023.rd_expense_domestic": 190,
            "years.2024.rd_expense_domestic": 215,
            "years.2025.rd_expense_domestic": 230,
        },
    )
    assert "近三年研发费用合计还需增加 55 万元" in d.gaps


def test_gap_srdi_revenue_and_rd() -> None:
    d = decide("srdi_sme", {"years.2025.revenue": 1400, "years.2025.main_revenue": 1300})
    assert any("上年营业收入还需增加 100 万元" in g for g in d.gaps)
    d = decide("srdi_sme", {"years.2025.rd_expense": 99})
    assert "上年研发费用还需增加 1 万元" in d.gaps


def test_gap_little_giant_rd_total_and_ip() -> None:
    d = decide("little_giant", {"years.2024.rd_expense": 450, "years.2025.rd_expense": 700})
    assert "近两年研发费用合计还需增加 50 万元" in d.gaps
    d = decide("little_giant", {"ip.class1": 2})
    assert any("Ⅰ类知识产权还需 2 件" in g for g in d.gaps)


def test_gap_debt_ratio_says_how_much_to_reduce() -> None:
    d = decide("srdi_sme", {"years.2025.total_liabilities": 3300})
    assert "负债总额需减少 100 万元" in d.gaps


def test_no_gaps_when_eligible() -> None:
    assert decide("tech_sme").gaps == []


# --- unknown ----------------------------------------


@pytest.mark.parametrize(
    ("tier", "changes", "criterion"),
    [
        pytest.param(
            "tech_sme", {"years.2025.employees": None}, "size_employees", id="科技型：职工总数未知 → 数据不足"
        ),
        pytest.param(
            "tech_sme", {"years.2025.total_assets": None}, "size_assets", id="科技型：资产总额未知 → 数据不足"
        ),
        pytest.param(
            "tech_sme",
            {"years.2025.tech_staff": None},
            "tech_staff_not_zero",
            id="科技型：科技人员未知 → 数据不足",
        ),
        pytest.param(
            "tech_sme", {"incidents": None}, "no_major_incident", id="科技型：事故记录未给出 → 数据不足"
        ),
        pytest.param(
            "tech_sme",
            {"lists.abnormal": None},
            "not_abnormal",
            id="科技型：是否列入经营异常名录未知 → 数据不足",
        ),
        pytest.param("hnte", {"founded_on": None}, "registered_one_year", id="高企：成立日期未知 → 数据不足"),
        pytest.param(
            "hnte", {"years.2024.rd_expense": None}, "rd_intensity", id="高企：缺一年研发费用 → 数据不足"
        ),
        pytest.param(
            "hnte",
            {"years.2025.revenue": None},
            "rd_intensity",
            id="高企：最近一年销售收入未知，档位无法确定",
        ),
        pytest.param(
            "hnte", {"ip.class1": None, "ip.class2": None}, "owns_ip", id="高企：知识产权未知 → 数据不足"
        ),
        pytest.param(
            "hnte", {"recognitions": None}, "no_cancellation_this_year", id="高企：认定记录未给出 → 数据不足"
        ),
        pytest.param(
            "innovative_sme",
            {"is_sme": None, "years.2025.employees": None, "years.2025.revenue": None},
            "is_sme",
            id="创新型：划型与规模均未知 → 数据不足",
        ),
        pytest.param(
            "innovative_sme",
            {"years.2024.main_revenue": None},
            "score",
            id="创新型：缺上年前一年主营收入、评分可能不足 60 → 数据不足",
        ),
        pytest.param(
            "srdi_sme",
            {"years.2024.rd_expense": None},
            "rd_each_year",
            id="专精特新（2026）：缺前年研发费用 → 数据不足",
        ),
        pytest.param(
            "srdi_sme",
            {"scores.srdi_platform": None},
            "platform_score",
            id="专精特新（2026）：平台得分未知 → 数据不足",
        ),
        pytest.param(
            "srdi_sme",
            {"niche_since": None},
            "niche_years",
            id="专精特新（2026）：细分市场起始日期未知 → 数据不足",
        ),
        pytest.param(
            "srdi_sme", {"recognitions": None}, "base_title", id="专精特新（2026）：认定记录未给出 → 数据不足"
        ),
        pytest.param(
            "little_giant",
            {"market.domestic_share_pct": None, "market.domestic_rank": None},
            "market",
            id="小巨人（2026）：市场占有率与排名均未知 → 数据不足",
        ),
        pytest.param(
            "little_giant",
            {"years.2023.revenue": None},
            "revenue_cagr",
            id="小巨人（2026）：缺 2023 年营业收入 → 复合增长率未知",
        ),
        pytest.param(
            "little_giant",
            {"awards": None, "ip.class1": 3},
            "class1_ip",
            id="小巨人（2026）：Ⅰ类不足且获奖情况未知 → 数据不足",
        ),
        pytest.param(
            "hidden_champion",
            {"market.global_rank": None},
            "global_rank",
            id="单项冠军：全球排名未知 → 数据不足",
        ),
        pytest.param("unicorn", {"valuation_usd_bn": None}, "valuation", id="独角兽：估值未知 → 数据不足"),
    ],
)
def test_unknown_input_is_unknown_never_fail(tier: str, changes: dict[str, Any], criterion: str) -> None:
    d = decide(tier, changes)
    assert outcome(d, criterion) == "unknown"
    assert d.status == "insufficient_data"
    assert any(g.startswith("需补充") or "需补充" in g for g in d.gaps)


def test_unknown_that_cannot_change_the_result_does_not_block() -> None:
    # 科技型: IP unknown, but staff 20 + R&D 50 = 70 ≥ 60 whatever the IP score is.
    d = decide("tech_sme", {"ip.class1": None, "ip.class2": None})
    assert outcome(d, "score") == "pass"
    assert d.status == "eligible"
    # ... but with R&D 2% (10) the IP score decides: 30 + [0, 30] → unknown.
    d = decide(
        "tech_sme",
        {"ip.class1": None, "ip.class2": None, "years.2025.rd_expense": 100, "years.2025.cost_total": None},
    )
    assert outcome(d, "score") == "unknown"
    assert d.status == "insufficient_data"


def test_direct_pass_unknown_does_not_hide_a_passing_score() -> None:
    d = decide("tech_sme", {"awards": None, "recognitions": None, "rd_institution": None})
    assert outcome(d, "direct_pass") == "unknown"
    assert d.status == "eligible"


def test_known_fail_beats_unknown_elsewhere() -> None:
    d = decide(
        "tech_sme",
        {"years.2025.employees": 501, "years.2025.tech_staff": 200, "years.2025.total_assets": None},
    )
    assert outcome(d, "size_assets") == "unknown"
    assert d.status == "ineligible"


# --- status order ----------------------------------------


def test_status_order_fail_beats_unknown_beats_manual() -> None:
    manual = {"scores.hnte_innovation": None}
    unknown = {"years.2025.tech_staff": None}
    fail = {"hnte_field": False}
    assert decide("hnte", {**manual, **unknown, **fail}).status == "ineligible"
    assert decide("hnte", {**manual, **unknown}).status == "insufficient_data"
    assert decide("hnte", manual).status == "needs_review"
    assert decide("hnte").status == "eligible"


def test_status_order_on_srdi_manual_market_position() -> None:
    d = decide("srdi_sme")
    assert outcome(d, "market_position") == "manual"
    assert d.status == "needs_review"
    assert decide("srdi_sme", {"scores.srdi_platform": None}).status == "insufficient_data"
    assert (
        decide("srdi_sme", {"scores.srdi_platform": None, "years.2025.rd_expense": 50}).status == "ineligible"
    )


@pytest.mark.parametrize(
    ("founded_on", "as_of", "expected"),
    [
        pytest.param(
            "2023-09-16",
            date(2024, 9, 15),
            "pass",
            id="高企：跨闰年恰好 365 个日历天即满足（不足一个日历年）",
        ),
        pytest.param("2023-09-17", date(2024, 9, 15), "fail", id="高企：跨闰年 364 个日历天不满足"),
        pytest.param("2025-09-15", date(2026, 9, 15), "pass", id="高企：非闰年恰好 365 天满足"),
    ],
)
def test_hnte_registration_counts_calendar_days(founded_on: str, as_of: date, expected: str) -> None:
    d = decide("hnte", {"founded_on": founded_on}, as_of=as_of)
    assert outcome(d, "registered_one_year") == expected
    if expected == "fail":
        assert "注册成立天数还需 1 天" in d.gaps
