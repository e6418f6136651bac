"""Request and response of `POST /api/v1/eligibility`, mirroring docs/domain/eligibility-api.md.

Field names are the contract's and never change; fields may be added. `null` or an absent field means unknown;
lists are complete when given. Unknown fields are refused (422) so that a misspelt fact is not silently unknown.
Amounts are 万元 as JSON numbers, kept exact as Decimal.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator

from app.firms.uscc import InvalidUSCC
from app.firms.uscc import validate as validate_uscc
from app.rules.loader import TIERS

# The contract's vocabularies (tests check they agree with app.rules.loader / app.rules.facts).
TierCode = Literal[
    "tech_sme",
    "innovative_sme",
    "hnte",
    "srdi_sme",
    "little_giant",
    "hidden_champion",
    "unicorn",
    "gazelle",
]
AssessMode = Literal["new", "review"]
RegionCode = Literal["jingan", "yangpu", "hongkou"]  # glossary.md: districts and parks share these codes
RecognitionKindCode = Literal["first", "renewal", "review", "moved_in"]
IncidentKindCode = Literal["safety", "quality", "environment", "network", "data", "tax", "fraud"]
IncidentGradeCode = Literal["general", "larger", "major", "extraordinary"]
AwardLevelCode = Literal["national", "provincial", "ministerial"]
RdInstitutionCode = Literal["national", "provincial", "ministerial", "municipal", "below_municipal", "none"]
RdMeasure = Literal["sales", "cost"]
Status = Literal["eligible", "needs_review", "insufficient_data", "ineligible"]
OutcomeCode = Literal["pass", "fail", "unknown", "manual", "not_applicable"]

_MAX_AMOUNT = Decimal("1e12")  # 万元: far beyond any firm; stops absurd inputs, not real ones
Amount = Annotated[
    Decimal,
    Field(ge=0, le=_MAX_AMOUNT, description="万元"),
    WithJsonSchema({"type": "number", "minimum": 0, "description": "万元"}),
]
SignedAmount = Annotated[
    Decimal,
    Field(ge=-_MAX_AMOUNT, le=_MAX_AMOUNT, description="万元，可为负"),
    WithJsonSchema({"type": "number", "description": "万元，可为负"}),
]
Headcount = Annotated[int, Field(ge=0, le=10_000_000, description="年平均人数")]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Rank = Annotated[int, Field(ge=1, le=1_000_000)]
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100, "description": "百分数，14 即 14%"}),
]
Points = Annotated[
    Decimal, Field(ge=0, le=100), WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100})
]
Valuation = Annotated[
    Decimal,
    Field(ge=0, le=1_000_000),
    WithJsonSchema({"type": "number", "minimum": 0, "description": "十亿美元"}),
]

# The engine counts years from these dates; far-future ones would overflow its date arithmetic (year 10000).
Day = Annotated[date, Field(le=date(2999, 12, 31))]

_YEAR_KEY = re.compile(r"^[0-9]{4}$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class YearFacts(_In):
    """One calendar year's figures (amounts 万元, headcounts annual averages); every field optional."""

    employees: Headcount | None = None
    tech_staff: Headcount | None = None
    rd_staff: Headcount | None = None
    revenue: Amount | None = None
    main_revenue: Amount | None = None
    hightech_revenue: Amount | None = None
    total_income: Amount | None = None
    rd_expense: Amount | None = None
    rd_expense_domestic: Amount | None = None
    cost_total: Amount | None = None
    total_assets: Amount | None = None
    total_liabilities: Amount | None = None
    net_profit: SignedAmount | None = None
    equity_financing: Amount | None = None


class ListsIn(_In):
    abnormal: bool | None = None
    dishonest: bool | None = None


class MarketIn(_In):
    domestic_share_pct: Percent | None = None
    domestic_rank: Rank | None = None
    global_rank: Rank | None = None


class IpIn(_In):
    class1: Count | None = None
    class1_self_developed: Count | None = None
    class1_high_value: Count | None = None
    class2: Count | None = None

    @field_validator("class1_self_developed", "class1_high_value")
    @classmethod
    def _subset_of_class1(cls, value: int | None, info: ValidationInfo) -> int | None:
        # Contract: the self-developed and high-value counts are subsets of class1.
        total = info.data.get("class1")
        if value is not None and total is not None and value > total:
            raise ValueError(f"不能大于Ⅰ类知识产权总数（{total}）")
        return value


class ScoresIn(_In):
    hnte_innovation: Points | None = None
    srdi_platform: Points | None = None
    srdi_2022: Points | None = None


class RecognitionIn(_In):
    tier: TierCode
    kind: RecognitionKindCode | None = None
    issued_on: date
    expires_on: date | None = None
    revoked_on: date | None = None
    certificate_no: str | None = Field(default=None, max_length=64)

    @field_validator("expires_on", "revoked_on")
    @classmethod
    def _not_before_issue(cls, value: date | None, info: ValidationInfo) -> date | None:
        issued = info.data.get("issued_on")
        if value is not None and issued is not None and value < issued:
            raise ValueError("不能早于发证日期（issued_on）")
        return value


class IncidentIn(_In):
    kind: IncidentKindCode
    grade: IncidentGradeCode
    occurred_on: date


class AwardIn(_In):
    level: AwardLevelCode
    awarded_on: date
    rank: Rank | None = None


class FirmFacts(_In):
    """The contract's `firm` object: every field optional, `null`/absent = unknown."""

    name: str | None = Field(default=None, max_length=128)
    uscc: str | None = Field(
        default=None, description="统一社会信用代码，校验两个校验码（GB 32100-2015、GB 11714）"
    )
    district: RegionCode | None = None
    park: RegionCode | None = None
    founded_on: Day | None = None
    is_sme: bool | None = None
    hnte_field: bool | None = None
    strategic_emerging: bool | None = None
    key_industrial_field: bool | None = None
    niche_since: Day | None = None
    listed: bool | None = None
    equity_backed: bool | None = None
    valuation_usd_bn: Valuation | None = None
    prohibited_products: bool | None = None
    lists: ListsIn | None = None
    incidents: list[IncidentIn] | None = Field(default=None, max_length=1000)
    recognitions: list[RecognitionIn] | None = Field(default=None, max_length=1000)
    awards: list[AwardIn] | None = Field(default=None, max_length=1000)
    rd_institution: RdInstitutionCode | None = None
    led_standard_within_5y: bool | None = None
    market: MarketIn | None = None
    ip: IpIn | None = None
    scores: ScoresIn | None = None
    # 科技型 R&D indicator: which measure to use; absent = the higher-scoring of the two.
    tech_sme_rd_measure: RdMeasure | None = None
    years: dict[str, YearFacts] | None = Field(default=None, max_length=100)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return validate_uscc(value)
        except InvalidUSCC as exc:
            raise ValueError(str(exc)) from None

    @field_validator("years")
    @classmethod
    def _year_keys(cls, value: dict[str, YearFacts] | None) -> dict[str, YearFacts] | None:
        for key in value or {}:
            if not _YEAR_KEY.match(key):
                raise ValueError(f'年份应为四位数字（如 "2025"），收到 "{key}"')
        return value


class EligibilityRequest(_In):
    as_of: Day = Field(description="评估日期；“上一年”指该日期之前最近的完整自然年")
    assess_as: dict[str, AssessMode] | None = Field(
        default=None, description="梯度代码 → new（新申请，默认）或 review（复核）"
    )
    firm: FirmFacts = Field(default_factory=FirmFacts)
    # Addition to the contract: evaluate a stored firm (signed-in users, within their scope) from its dated
    # observations instead of `firm`.
    firm_id: int | None = Field(default=None, ge=1, description="已登记企业的 id（需登录，且在权限范围内）")

    @field_validator("assess_as")
    @classmethod
    def _known_tiers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        unknown = [k for k in value or {} if k not in TIERS]
        if unknown:
            raise ValueError(f"未知的梯度代码：{'、'.join(unknown)}（可选：{'、'.join(TIERS)}）")
        return value


# ---- response -----------------------------------------------------------------------------------


class CriterionOut(BaseModel):
    id: str
    label: str
    outcome: OutcomeCode
    detail: str
    citation: str


class TierOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Status
    holds: bool
    ruleset: str | None
    score: int | float | None
    criteria: list[CriterionOut]
    gaps: list[str]
    ruleset_label: str = ""
    assess_as: AssessMode = "new"


class PolicyOut(BaseModel):
    code: str
    name: str
    mode: Literal["auto_grant", "apply", "service_package"]
    status: Literal["eligible", "needs_review", "insufficient_data"]


class EligibilityResponse(BaseModel):
    as_of: date
    tiers: dict[str, TierOut]
    policies: list[PolicyOut]
    firm_id: int | None = None


# ---- OpenAPI examples: the contract's own ---------------------------------------------------------

EXAMPLE_REQUEST: dict[str, Any] = {
    "as_of": "2026-09-15",
    "assess_as": {"little_giant": "review"},
    "firm": {
        "name": "沪芯微测科技有限公司",
        "uscc": "91310115MA1H7ABC80",
        "district": "jingan",
        "park": "jingan",
        "founded_on": "2021-05-10",
        "is_sme": True,
        "hnte_field": True,
        "strategic_emerging": True,
        "key_industrial_field": False,
        "niche_since": "2021-05-10",
        "listed": False,
        "equity_backed": False,
        "valuation_usd_bn": None,
        "prohibited_products": False,
        "lists": {"abnormal": False, "dishonest": False},
        "incidents": [{"kind": "safety", "grade": "larger", "occurred_on": "2025-09-03"}],
        "recognitions": [
            {
                "tier": "hnte",
                "kind": "first",
                "issued_on": "2024-12-10",
                "expires_on": "2027-12-09",
                "revoked_on": None,
                "certificate_no": "GR202431001234",
            }
        ],
        "awards": [{"level": "national", "awarded_on": "2024-01-08", "rank": 2}],
        "rd_institution": "provincial",
        "led_standard_within_5y": False,
        "market": {"domestic_share_pct": 14, "domestic_rank": 2, "global_rank": None},
        "ip": {"class1": 2, "class1_self_developed": 2, "class1_high_value": 0, "class2": 6},
        "scores": {"hnte_innovation": None, "srdi_platform": None, "srdi_2022": None},
        "years": {
            "2025": {
                "employees": 42,
                "tech_staff": 18,
                "rd_staff": 12,
                "revenue": 1800,
                "main_revenue": 1710,
                "hightech_revenue": 1674,
                "total_income": 1800,
                "rd_expense": 260,
                "rd_expense_domestic": 260,
                "cost_total": 1500,
                "total_assets": 2600,
                "total_liabilities": 1040,
                "net_profit": 210,
                "equity_financing": 0,
            }
        },
    },
}

EXAMPLE_RESPONSE: dict[str, Any] = {
    "as_of": "2026-09-15",
    "tiers": {
        "tech_sme": {
            "status": "eligible",
            "holds": False,
            "ruleset": "tech_sme/国科发政〔2017〕115号",
            "score": 100,
            "criteria": [
                {
                    "id": "tech_staff_share",
                    "label": "科技人员占职工总数比例",
                    "outcome": "pass",
                    "detail": "42.9% ≥ 10%（得 20 分）",
                    "citation": "国科发政〔2017〕115号 第七条",
                }
            ],
            "gaps": [],
            "ruleset_label": "科技型中小企业评价办法（2017）",
            "assess_as": "new",
        }
    },
    "policies": [],
    "firm_id": None,
}
