"""The facts a rule reads: the firm object of the eligibility contract (docs/domain/eligibility-api.md), typed.

`None` anywhere means unknown — never zero, never false. Lists (`recognitions`, `awards`, `incidents`) are complete
when given; `None` means not given (unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# Every `years` field of the contract: (label, unit).
YEAR_FIELD_INFO: dict[str, tuple[str, str]] = {
    "employees": ("职工总数", "人"),
    "tech_staff": ("科技人员", "人"),
    "rd_staff": ("研发人员", "人"),
    "revenue": ("营业收入", "万元"),
    "main_revenue": ("主营业务收入", "万元"),
    "hightech_revenue": ("高新技术产品（服务）收入", "万元"),
    "total_income": ("总收入", "万元"),
    "rd_expense": ("研发费用", "万元"),
    "rd_expense_domestic": ("境内研发费用", "万元"),
    "cost_total": ("成本费用总额", "万元"),
    "total_assets": ("资产总额", "万元"),
    "total_liabilities": ("负债总额", "万元"),
    "net_profit": ("净利润", "万元"),
    "equity_financing": ("股权融资", "万元"),
}

# Scalar facts a rule may read by path: (label, kind).
FACT_INFO: dict[str, tuple[str, str]] = {
    "founded_on": ("成立日期", "date"),
    "is_sme": ("中小企业（划型）", "bool"),
    "hnte_field": ("核心技术属于国家重点支持的高新技术领域", "bool"),
    "strategic_emerging": ("主导产品属于战略性新兴产业", "bool"),
    "key_industrial_field": ("主导产品属于“小巨人”重点领域", "bool"),
    "niche_since": ("从事细分市场起始日期", "date"),
    "listed": ("已上市", "bool"),
    "equity_backed": ("获得股权投资", "bool"),
    "valuation_usd_bn": ("最新估值（十亿美元）", "number"),
    "prohibited_products": ("产品属于禁止/限制/淘汰类", "bool"),
    "lists.abnormal": ("列入经营异常名录", "bool"),
    "lists.dishonest": ("列入严重失信主体名单", "bool"),
    "rd_institution": ("研发机构级别", "choice"),
    "led_standard_within_5y": ("近五年主导制定标准", "bool"),
    "market.domestic_share_pct": ("国内细分市场占有率（%）", "number"),
    "market.domestic_rank": ("国内细分市场排名", "number"),
    "market.global_rank": ("全球细分市场排名", "number"),
    "ip.class1": ("Ⅰ类知识产权（件）", "number"),
    "ip.class1_self_developed": ("自主研发Ⅰ类知识产权（件）", "number"),
    "ip.class1_high_value": ("高价值Ⅰ类知识产权（件）", "number"),
    "ip.class2": ("Ⅱ类知识产权（件）", "number"),
    "scores.hnte_innovation": ("高企创新能力评价得分", "number"),
    "scores.srdi_platform": ("专精特新发展评价得分（平台）", "number"),
    "scores.srdi_2022": ("专精特新评价得分（2022 标准）", "number"),
    "tech_sme_rd_measure": ("科技型研发投入指标口径", "choice"),
}

RD_INSTITUTION_ORDER = ["none", "below_municipal", "municipal", "ministerial", "provincial", "national"]
INCIDENT_GRADES = ["general", "larger", "major", "extraordinary"]
AWARD_LEVELS = ["national", "provincial", "ministerial"]


@dataclass(frozen=True)
class RecognitionFact:
    tier: str
    issued_on: date
    expires_on: date | None = None
    revoked_on: date | None = None
    kind: str | None = None
    certificate_no: str | None = None

    def held_on(self, day: date) -> bool:
        """Held iff issued_on ≤ day ≤ expires_on and not revoked on or before day (eligibility-api.md `holds`)."""
        if self.issued_on > day:
            return False
        if self.expires_on is not None and day > self.expires_on:
            return False
        return not (self.revoked_on is not None and self.revoked_on <= day)


@dataclass(frozen=True)
class AwardFact:
    level: str
    awarded_on: date
    rank: int | None = None


@dataclass(frozen=True)
class IncidentFact:
    kind: str
    grade: str
    occurred_on: date


@dataclass
class Facts:
    """One firm's facts; `scalars` keyed by the contract path (`ip.class1`), `years` by calendar year."""

    scalars: dict[str, Any] = field(default_factory=dict)
    years: dict[int, dict[str, Decimal | None]] = field(default_factory=dict)
    recognitions: list[RecognitionFact] | None = None
    awards: list[AwardFact] | None = None
    incidents: list[IncidentFact] | None = None
    district: str | None = None
    park: str | None = None

    def get(self, path: str) -> Any:
        return self.scalars.get(path)

    def year_value(self, year: int, name: str) -> Decimal | None:
        row = self.years.get(year)
        return None if row is None else row.get(name)

    def holds(self, tier: str, day: date) -> bool | None:
        if self.recognitions is None:
            return None
        return any(r.tier == tier and r.held_on(day) for r in self.recognitions)


def _num(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def facts_from_contract(firm: dict[str, Any]) -> Facts:
    """Facts from the contract's `firm` object (plain JSON-like dict, already validated)."""
    scalars: dict[str, Any] = {}
    for path, (_, kind) in FACT_INFO.items():
        head, _, tail = path.partition(".")
        value = firm.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        if kind == "number":
            value = _num(value)
        elif kind == "date":
            value = _day(value)
        scalars[path] = value
    years: dict[int, dict[str, Decimal | None]] = {}
    for year, row in (firm.get("years") or {}).items():
        years[int(year)] = {name: _num((row or {}).get(name)) for name in YEAR_FIELD_INFO}

    def listed(key: str) -> list[dict[str, Any]] | None:
        value = firm.get(key)
        return None if value is None else list(value)

    recs = listed("recognitions")
    awards = listed("awards")
    incidents = listed("incidents")
    return Facts(
        scalars=scalars,
        years=years,
        recognitions=None
        if recs is None
        else [
            RecognitionFact(
                tier=str(r["tier"]),
                issued_on=_day(r["issued_on"]),  # type: ignore[arg-type]
                expires_on=_day(r.get("expires_on")),
                revoked_on=_day(r.get("revoked_on")),
                kind=r.get("kind"),
                certificate_no=r.get("certificate_no"),
            )
            for r in recs
        ],
        awards=None
        if awards is None
        else [
            AwardFact(level=str(a["level"]), awarded_on=_day(a["awarded_on"]), rank=a.get("rank"))  # type: ignore[arg-type]
            for a in awards
        ],
        incidents=None
        if incidents is None
        else [
            IncidentFact(kind=str(i["kind"]), grade=str(i["grade"]), occurred_on=_day(i["occurred_on"]))  # type: ignore[arg-type]
            for i in incidents
        ],
        district=firm.get("district"),
        park=firm.get("park"),
    )
