"""The dated facts of the eligibility contract (docs/domain/eligibility-api.md) and how sources combine.

Each key is a path of the contract's firm object (`ip.class1` → firm.ip.class1). Values are stored as
JSON: booleans, integers, ISO dates, choice codes, and decimals as strings (exact).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from app.indicators.models import SOURCE_RANK, Source

Kind = Literal["bool", "date", "int", "decimal", "choice"]

RD_INSTITUTION_LABELS = {
    "national": "国家级",
    "provincial": "省级",
    "ministerial": "部级",
    "municipal": "市级",
    "below_municipal": "市级以下",
    "none": "无",
}


@dataclass(frozen=True)
class FactDef:
    key: str
    label: str
    kind: Kind
    unit: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    minimum: Decimal | None = None
    maximum: Decimal | None = None


_ZERO = Decimal(0)
FACT_DEFS: list[FactDef] = [
    FactDef("is_sme", "中小企业（划型结果）", "bool"),
    FactDef("hnte_field", "核心技术属于国家重点支持的高新技术领域", "bool"),
    FactDef("strategic_emerging", "主导产品属于战略性新兴产业", "bool"),
    FactDef("key_industrial_field", "主导产品属于“小巨人”重点领域", "bool"),
    FactDef("niche_since", "从事细分市场起始日期", "date"),
    FactDef("listed", "已上市", "bool"),
    FactDef("equity_backed", "获得股权投资", "bool"),
    FactDef("valuation_usd_bn", "最新估值", "decimal", unit="亿美元（十亿）", minimum=_ZERO),
    FactDef("prohibited_products", "产品属于禁止/限制/淘汰类目录", "bool"),
    FactDef("lists.abnormal", "列入经营异常名录", "bool"),
    FactDef("lists.dishonest", "列入严重失信主体名单", "bool"),
    FactDef("rd_institution", "研发机构级别", "choice", choices=RD_INSTITUTION_LABELS),
    FactDef("led_standard_within_5y", "近五年主导制定标准", "bool"),
    FactDef(
        "market.domestic_share_pct",
        "国内细分市场占有率",
        "decimal",
        unit="%",
        minimum=_ZERO,
        maximum=Decimal(100),
    ),
    FactDef("market.domestic_rank", "国内细分市场排名", "int", minimum=Decimal(1)),
    FactDef("market.global_rank", "全球细分市场排名", "int", minimum=Decimal(1)),
    FactDef("ip.class1", "Ⅰ类知识产权（件）", "int", minimum=_ZERO),
    FactDef("ip.class1_self_developed", "其中自主研发Ⅰ类（件）", "int", minimum=_ZERO),
    FactDef("ip.class1_high_value", "其中高价值Ⅰ类（件）", "int", minimum=_ZERO),
    FactDef("ip.class2", "Ⅱ类知识产权（件）", "int", minimum=_ZERO),
    FactDef("scores.hnte_innovation", "高企创新能力评价得分", "decimal", minimum=_ZERO, maximum=Decimal(100)),
    FactDef(
        "scores.srdi_platform", "专精特新发展评价得分（平台）", "decimal", minimum=_ZERO, maximum=Decimal(100)
    ),
    FactDef(
        "scores.srdi_2022", "专精特新自评得分（2022 标准）", "decimal", minimum=_ZERO, maximum=Decimal(100)
    ),
]
FACTS: dict[str, FactDef] = {d.key: d for d in FACT_DEFS}


def parse_fact_value(key: str, raw: Any) -> Any:
    """The JSON value to store for `raw`, or ValueError with a Chinese message. None means unknown."""
    defn = FACTS.get(key)
    if defn is None:
        raise ValueError(f"未知的事实项：{key}")
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if defn.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "是", "on"):
            return True
        if text in ("false", "0", "no", "否", "off"):
            return False
        raise ValueError("应为“是”或“否”")
    if defn.kind == "date":
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError("日期格式应为 YYYY-MM-DD") from None
    if defn.kind == "choice":
        text = str(raw).strip()
        if text not in defn.choices:
            raise ValueError("取值无效，可选：" + "、".join(defn.choices.values()))
        return text
    if isinstance(raw, bool):
        raise ValueError("应为数字")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError("应为整数" if defn.kind == "int" else "应为数字") from None
    if not number.is_finite():
        raise ValueError("应为数字")
    if defn.kind == "int" and number != number.to_integral_value():
        raise ValueError("应为整数")
    if defn.minimum is not None and number < defn.minimum:
        raise ValueError(f"不能小于 {defn.minimum}")
    if defn.maximum is not None and number > defn.maximum:
        raise ValueError(f"不能大于 {defn.maximum}")
    if defn.kind == "int":
        return int(number)
    return format(number.normalize(), "f")


def typed_value(key: str, stored: Any) -> Any:
    """The stored JSON value as Python: Decimal for decimals, date for dates."""
    if stored is None:
        return None
    defn = FACTS.get(key)
    if defn is None:
        return stored
    if defn.kind == "decimal":
        return Decimal(str(stored))
    if defn.kind == "date":
        return date.fromisoformat(stored)
    return stored


def display_value(key: str, stored: Any) -> str:
    if stored is None:
        return "未知"
    defn = FACTS.get(key)
    if defn is None:
        return str(stored)
    if defn.kind == "bool":
        return "是" if stored else "否"
    if defn.kind == "choice":
        return defn.choices.get(stored, str(stored))
    return f"{stored}{defn.unit or ''}" if defn.unit in ("%",) else str(stored)


class Observation(Protocol):
    id: int
    key: str
    value: Any
    valid_from: date
    source: Source
    recorded_at: datetime


@dataclass
class EffectiveFact:
    """The value that holds on a date, which observation it came from, and whether sources disagree."""

    key: str
    value: Any
    chosen: Observation
    candidates: list[Observation]

    @property
    def conflict(self) -> bool:
        return len({repr(o.value) for o in self.candidates}) > 1


def _newest_first(obs: Observation) -> tuple[date, datetime, int]:
    return (obs.valid_from, obs.recorded_at, obs.id)


def effective_facts(observations: Iterable[Observation], as_of: date) -> dict[str, EffectiveFact]:
    """Per key: the latest observation of each source holding on `as_of`, chosen by precedence
    专员核实 > 部门数据 > 企业填报 (newest first within a source). Sources whose latest values differ
    make a conflict, shown to the officer."""
    latest: dict[str, dict[Source, Observation]] = {}
    for obs in observations:
        if obs.valid_from > as_of:
            continue
        per_source = latest.setdefault(obs.key, {})
        current = per_source.get(Source(obs.source))
        if current is None or _newest_first(obs) > _newest_first(current):
            per_source[Source(obs.source)] = obs
    result: dict[str, EffectiveFact] = {}
    for key, per_source in latest.items():
        ordered = sorted(
            per_source.values(), key=lambda o: (SOURCE_RANK[Source(o.source)], _newest_first(o)), reverse=True
        )
        result[key] = EffectiveFact(key=key, value=ordered[0].value, chosen=ordered[0], candidates=ordered)
    return result


class YearRow(Protocol):
    year: int
    source: Source


@dataclass
class EffectiveYearField:
    value: Any
    source: Source | None
    conflict: bool
    values_by_source: dict[Source, Any]


def effective_year(rows: Sequence[Any], fields: Sequence[str]) -> dict[str, EffectiveYearField]:
    """For one year: each field from the highest-precedence source that gave it; conflict when the
    sources that gave it disagree."""
    ordered = sorted(rows, key=lambda r: SOURCE_RANK[Source(r.source)], reverse=True)
    out: dict[str, EffectiveYearField] = {}
    for name in fields:
        given = {Source(r.source): getattr(r, name) for r in ordered if getattr(r, name) is not None}
        chosen = next(iter(given.items()), (None, None))
        distinct = {Decimal(str(v)) for v in given.values()}
        out[name] = EffectiveYearField(
            value=chosen[1], source=chosen[0], conflict=len(distinct) > 1, values_by_source=given
        )
    return out
