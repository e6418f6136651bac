"""The whitelisted condition vocabulary of rule files, and how each term is evaluated for one firm.

A rule file is data (YAML); `parse_expr` / `parse_cond` turn its dicts into these nodes and refuse anything else —
there is no `eval`. Values are tri-state: a number, date or boolean, or `None` for unknown. Conditions answer
pass / fail / unknown / manual with a Chinese explanation carrying the real numbers, and the gap to pass.

The same nodes are compiled to array operations for the all-firms batch (app/rules/batch.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any, Protocol

from app.rules.facts import (
    FACT_INFO,
    INCIDENT_GRADES,
    RD_INSTITUTION_ORDER,
    YEAR_FIELD_INFO,
    Facts,
)

TIER_LABELS_SHORT = {
    "tech_sme": "科技型中小企业",
    "innovative_sme": "创新型中小企业",
    "hnte": "高新技术企业",
    "srdi_sme": "专精特新中小企业",
    "little_giant": "专精特新“小巨人”",
    "hidden_champion": "隐形冠军/单项冠军",
    "unicorn": "独角兽",
    "gazelle": "瞪羚",
}
INCIDENT_KIND_LABELS = {
    "safety": "安全生产",
    "quality": "质量",
    "environment": "环境",
    "network": "网络安全",
    "data": "数据安全",
    "tax": "税务",
    "fraud": "弄虚作假/失信",
}
GRADE_LABELS = {"general": "一般", "larger": "较大", "major": "重大", "extraordinary": "特别重大"}
LEVEL_LABELS = {"national": "国家级", "provincial": "省级", "ministerial": "省部级"}
INSTITUTION_LABELS = {
    "national": "国家级",
    "provincial": "省级",
    "ministerial": "部级",
    "municipal": "市级",
    "below_municipal": "市级以下",
    "none": "无",
}


class RuleError(ValueError):
    """A rule file that does not follow the vocabulary; the message names where."""


class Outcome(StrEnum):
    pass_ = "pass"
    fail = "fail"
    unknown = "unknown"
    manual = "manual"
    not_applicable = "not_applicable"


# How `all` combines: the worst wins (fail > unknown > manual > pass); `any` takes the best.
_ALL_RANK = {
    Outcome.fail: 3,
    Outcome.unknown: 2,
    Outcome.manual: 1,
    Outcome.pass_: 0,
    Outcome.not_applicable: -1,
}
_ANY_RANK = {
    Outcome.pass_: 3,
    Outcome.manual: 2,
    Outcome.unknown: 1,
    Outcome.fail: 0,
    Outcome.not_applicable: -1,
}


def combine_all(outcomes: list[Outcome]) -> Outcome:
    live = [o for o in outcomes if o is not Outcome.not_applicable]
    return max(live, key=_ALL_RANK.__getitem__) if live else Outcome.not_applicable


def combine_any(outcomes: list[Outcome]) -> Outcome:
    live = [o for o in outcomes if o is not Outcome.not_applicable]
    return max(live, key=_ANY_RANK.__getitem__) if live else Outcome.not_applicable


class Params(Protocol):
    def value(self, name: str, on: date, region: str | None) -> Decimal: ...

    def label(self, name: str) -> str: ...


@dataclass
class Ctx:
    facts: Facts
    as_of: date
    params: Params
    mode: str = "new"

    @property
    def last_year(self) -> int:
        return self.as_of.year - 1


# ---------------------------------------------------------------------------------------------------------- format


def fmt(value: Decimal | int | float | None, unit: str = "") -> str:
    if value is None:
        return "未知"
    number = Decimal(str(value))
    if number == number.to_integral_value():
        text = f"{int(number):,}"
    else:
        text = f"{number.quantize(Decimal('0.01')).normalize():,f}"
    if unit == "%":
        return f"{fmt_pct(number)}"
    return f"{text} {unit}".strip() if unit and unit not in ("件", "人", "分", "年") else f"{text}{unit}"


def fmt_pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'))}%"


# ---------------------------------------------------------------------------------------------------------- values


@dataclass
class Val:
    value: Any
    text: str
    missing: list[str] = field(default_factory=list)
    unit: str = ""


class Expr:
    unit: str = ""

    def eval(self, ctx: Ctx) -> Val:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, ctx: Ctx) -> str:
        """What the value is, in Chinese, without the number (for gaps and missing inputs)."""
        return ""


@dataclass
class Const(Expr):
    value: Any
    unit: str = ""

    def eval(self, ctx: Ctx) -> Val:
        value = Decimal(str(self.value)) if isinstance(self.value, (int, float)) else self.value
        return Val(value, fmt(value, self.unit) if isinstance(value, Decimal) else str(value), unit=self.unit)


@dataclass
class Param(Expr):
    name: str
    unit: str = ""

    def eval(self, ctx: Ctx) -> Val:
        value = ctx.params.value(self.name, ctx.as_of, ctx.facts.district)
        return Val(value, fmt(value, self.unit), unit=self.unit)


@dataclass
class Fact(Expr):
    path: str
    unit: str = ""

    def describe(self, ctx: Ctx) -> str:
        return FACT_INFO[self.path][0]

    def eval(self, ctx: Ctx) -> Val:
        value = ctx.facts.get(self.path)
        label = FACT_INFO[self.path][0]
        if value is None:
            return Val(None, f"{label}未知", [label])
        if isinstance(value, bool):
            return Val(value, f"{label}：{'是' if value else '否'}")
        if self.path == "rd_institution":
            return Val(value, f"{label}：{INSTITUTION_LABELS.get(value, value)}")
        if isinstance(value, Decimal):
            return Val(value, f"{label} {fmt(value, self.unit)}", unit=self.unit)
        return Val(value, f"{label} {value}")


@dataclass
class Year(Expr):
    """A `years` field of the year `ago` full years before as_of (ago=1: last year)."""

    name: str
    ago: int = 1

    @property
    def unit(self) -> str:  # type: ignore[override]
        return YEAR_FIELD_INFO[self.name][1]

    def describe(self, ctx: Ctx) -> str:
        return f"{ctx.as_of.year - self.ago} 年{YEAR_FIELD_INFO[self.name][0]}"

    def eval(self, ctx: Ctx) -> Val:
        year = ctx.as_of.year - self.ago
        value = ctx.facts.year_value(year, self.name)
        label = self.describe(ctx)
        if value is None:
            return Val(None, f"{label}未知", [label], unit=self.unit)
        return Val(value, f"{label} {fmt(value, self.unit)}", unit=self.unit)


def _years_window(ctx: Ctx, years: int, since_founding: bool) -> list[int]:
    window = [ctx.as_of.year - ago for ago in range(years, 0, -1)]
    founded = ctx.facts.get("founded_on")
    if since_founding and isinstance(founded, date):
        window = [y for y in window if y >= founded.year] or window[-1:]
    return window


@dataclass
class Sum(Expr):
    """The sum of a field over the last `years` full years (optionally only the years since founding)."""

    name: str
    years: int
    since_founding: bool = False

    @property
    def unit(self) -> str:  # type: ignore[override]
        return YEAR_FIELD_INFO[self.name][1]

    def describe(self, ctx: Ctx) -> str:
        window = _years_window(ctx, self.years, self.since_founding)
        span = f"{window[0]}—{window[-1]} 年" if len(window) > 1 else f"{window[0]} 年"
        return f"{span}{YEAR_FIELD_INFO[self.name][0]}合计"

    def eval(self, ctx: Ctx) -> Val:
        window = _years_window(ctx, self.years, self.since_founding)
        label = YEAR_FIELD_INFO[self.name][0]
        values = [ctx.facts.year_value(y, self.name) for y in window]
        missing = [f"{y} 年{label}" for y, v in zip(window, values, strict=True) if v is None]
        if missing:
            return Val(None, f"{self.describe(ctx)}未知（缺 {'、'.join(missing)}）", missing, unit=self.unit)
        total = sum(values, Decimal(0))  # type: ignore[arg-type]
        parts = " + ".join(fmt(v) for v in values)
        return Val(total, f"{self.describe(ctx)} {parts} = {fmt(total, self.unit)}", unit=self.unit)


@dataclass
class Avg(Expr):
    name: str
    years: int

    @property
    def unit(self) -> str:  # type: ignore[override]
        return YEAR_FIELD_INFO[self.name][1]

    def describe(self, ctx: Ctx) -> str:
        return f"近 {self.years} 年{YEAR_FIELD_INFO[self.name][0]}平均"

    def eval(self, ctx: Ctx) -> Val:
        inner = Sum(self.name, self.years).eval(ctx)
        if inner.value is None:
            return Val(None, f"{self.describe(ctx)}未知", inner.missing, unit=self.unit)
        avg = inner.value / self.years
        return Val(avg, f"{self.describe(ctx)} {fmt(avg, self.unit)}", unit=self.unit)


@dataclass
class Percent(Expr):
    """num ÷ den × 100. Unknown when either is unknown or the denominator is zero."""

    num: Expr
    den: Expr
    unit: str = "%"

    def describe(self, ctx: Ctx) -> str:
        return f"{self.num.describe(ctx)}占{self.den.describe(ctx)}比例"

    def eval(self, ctx: Ctx) -> Val:
        a, b = self.num.eval(ctx), self.den.eval(ctx)
        missing = a.missing + b.missing
        if a.value is None or b.value is None:
            return Val(None, f"{self.describe(ctx)}未知", missing, unit="%")
        if b.value == 0:
            return Val(
                None, f"{self.den.describe(ctx)}为 0，比例无法计算", [self.den.describe(ctx)], unit="%"
            )
        pct = a.value * 100 / b.value
        return Val(pct, f"{fmt(a.value)}/{fmt(b.value)} = {fmt_pct(pct)}", unit="%")


class GrowthKind(StrEnum):
    last_year = "last_year"  # (Y1 − Y2) / Y2
    average_2y = "average_2y"  # ½ × ((Y1/Y2 − 1) + (Y2/Y3 − 1))
    cagr_2y = "cagr_2y"  # √(Y1/Y3) − 1


@dataclass
class Growth(Expr):
    """Growth of a field in percent; Y1 is last year, Y2 the year before, Y3 the one before that."""

    name: str
    kind: GrowthKind
    unit: str = "%"

    def describe(self, ctx: Ctx) -> str:
        label = YEAR_FIELD_INFO[self.name][0]
        return {
            GrowthKind.last_year: f"{ctx.last_year} 年{label}增长率",
            GrowthKind.average_2y: f"近 2 年{label}平均增长率",
            GrowthKind.cagr_2y: f"近 2 年{label}复合增长率",
        }[self.kind]

    def eval(self, ctx: Ctx) -> Val:
        need = 2 if self.kind is GrowthKind.last_year else 3
        years = [ctx.last_year - i for i in range(need)]
        values = [ctx.facts.year_value(y, self.name) for y in years]
        label = YEAR_FIELD_INFO[self.name][0]
        # The compound rate depends only on the end points (Y1 and Y3); the middle year is not needed.
        used = [0, 2] if self.kind is GrowthKind.cagr_2y else list(range(need))
        missing = [f"{years[i]} 年{label}" for i in used if values[i] is None]
        if missing:
            return Val(None, f"{self.describe(ctx)}未知", missing, unit="%")
        if any(values[i] == 0 for i in used[1:]):
            return Val(
                None, f"{self.describe(ctx)}无法计算（基数为 0）", [f"{years[-1]} 年{label}"], unit="%"
            )
        y1, y2 = values[0], values[1]
        if self.kind is GrowthKind.last_year:
            assert y1 is not None and y2 is not None
            rate = (y1 - y2) * 100 / y2
            shown = f"({fmt(y1)} − {fmt(y2)})/{fmt(y2)}"
        elif self.kind is GrowthKind.average_2y:
            y3 = values[2]
            assert y1 is not None and y2 is not None and y3 is not None
            rate = ((y1 / y2 - 1) + (y2 / y3 - 1)) * 50
            shown = f"½×({fmt(y1)}/{fmt(y2)} + {fmt(y2)}/{fmt(y3)} − 2)"
        else:
            y3 = values[2]
            assert y1 is not None and y3 is not None
            ratio = y1 / y3
            if ratio < 0:
                return Val(None, f"{self.describe(ctx)}无法计算", [], unit="%")
            rate = (ratio.sqrt() - 1) * 100
            shown = f"√({fmt(y1)}/{fmt(y3)}) − 1"
        return Val(rate, f"{self.describe(ctx)} {shown} = {fmt_pct(rate)}", unit="%")


@dataclass
class YearsSince(Expr):
    """Full-year span from a date fact to `until` (`as_of` or `last_year_end`), as a decimal number of years.

    `last_year_end` means the end of 31 December of last year, i.e. the span is measured to 1 January of the as_of
    year: a niche entered on 2023-01-01 has exactly 3 years at the end of 2025 (criteria.md §4A "as of last
    year-end"; 含本数).
    """

    path: str
    until: str = "as_of"
    unit: str = "年"

    def end(self, ctx: Ctx) -> date:
        """The day shown to the reader (as_of, or 31 December of last year)."""
        return date(ctx.last_year, 12, 31) if self.until == "last_year_end" else ctx.as_of

    def measure_end(self, ctx: Ctx) -> date:
        """The instant the span is measured to: as_of, or the end of last year (= 1 January of the as_of year)."""
        return date(ctx.as_of.year, 1, 1) if self.until == "last_year_end" else ctx.as_of

    def describe(self, ctx: Ctx) -> str:
        return f"{FACT_INFO[self.path][0]}至 {self.end(ctx).isoformat()} 的年数"

    def eval(self, ctx: Ctx) -> Val:
        start = ctx.facts.get(self.path)
        label = FACT_INFO[self.path][0]
        if start is None:
            return Val(None, f"{label}未知", [label], unit="年")
        years = years_between(start, self.measure_end(ctx))
        shown = years.quantize(Decimal("0.01"), rounding=ROUND_DOWN).normalize()
        return Val(
            years,
            f"{label} {start.isoformat()} 至 {self.end(ctx).isoformat()} 共 {shown:f} 年",
            unit="年",
        )


@dataclass
class DaysSince(Expr):
    """Calendar days from a date fact to as_of (as_of − start), e.g. 高企 "注册成立一年以上（365 个日历天）"."""

    path: str
    unit: str = "天"

    def describe(self, ctx: Ctx) -> str:
        return f"{FACT_INFO[self.path][0]}至 {ctx.as_of.isoformat()} 的天数"

    def eval(self, ctx: Ctx) -> Val:
        start = ctx.facts.get(self.path)
        label = FACT_INFO[self.path][0]
        if start is None:
            return Val(None, f"{label}未知", [label], unit="天")
        days = Decimal((ctx.as_of - start).days)
        return Val(days, f"{label} {start.isoformat()} 至 {ctx.as_of.isoformat()} 共 {days} 天", unit="天")


def add_years(day: date, years: int) -> date:
    if not 1 <= day.year + years <= 9999:
        return date.max if years > 0 else date.min
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def years_between(start: date, end: date) -> Decimal:
    """Whole years from start to end, plus the fraction of the year in progress (exact on anniversaries)."""
    if end < start:
        return -years_between(end, start)
    whole = end.year - start.year
    if add_years(start, whole) > end:
        whole -= 1
    anchor = add_years(start, whole)
    span = (add_years(start, whole + 1) - anchor).days
    return Decimal(whole) + Decimal((end - anchor).days) / Decimal(span)


@dataclass
class Window:
    """A date window ending on as_of (inclusive at both ends): `years` rolling years (from the day N years before
    as_of), or `calendar_years` (this year and the N−1 before)."""

    years: int | None = None
    calendar_years: int | None = None

    def start(self, ctx: Ctx) -> date:
        if self.calendar_years is not None:
            return date(ctx.as_of.year - self.calendar_years + 1, 1, 1)
        assert self.years is not None
        return add_years(ctx.as_of, -self.years)

    def contains(self, ctx: Ctx, day: date) -> bool:
        # Both kinds include their first day: "近 N 年 / N 年内" includes the day exactly N years before as_of
        # (以内 含本数, criteria.md conventions).
        return self.start(ctx) <= day <= ctx.as_of

    def text(self) -> str:
        if self.calendar_years is not None:
            return "当年及上一年" if self.calendar_years == 2 else f"近 {self.calendar_years} 个自然年"
        return f"近 {self.years} 年"


@dataclass
class CountAwards(Expr):
    levels: list[str]
    window: Window
    rank_max: int | None = None
    unit: str = "项"

    def describe(self, ctx: Ctx) -> str:
        levels = "/".join(LEVEL_LABELS[lv] for lv in self.levels)
        rank = f"（排名前 {self.rank_max}）" if self.rank_max else ""
        return f"{self.window.text()}{levels}科技奖励{rank}"

    def eval(self, ctx: Ctx) -> Val:
        awards = ctx.facts.awards
        if awards is None:
            return Val(None, f"{self.describe(ctx)}未知", ["获奖情况"])
        sure = uncertain = 0
        for a in awards:
            if a.level not in self.levels or not self.window.contains(ctx, a.awarded_on):
                continue
            if self.rank_max is None or (a.rank is not None and a.rank <= self.rank_max):
                sure += 1
            elif a.rank is None:
                uncertain += 1
        if sure == 0 and uncertain:
            return Val(None, f"{self.describe(ctx)}：获奖排名未知", ["获奖单位排名"])
        return Val(Decimal(sure), f"{self.describe(ctx)} {sure} 项")


@dataclass
class CountIncidents(Expr):
    kinds: list[str]
    grade_min: str
    window: Window
    unit: str = "起"

    def describe(self, ctx: Ctx) -> str:
        kinds = "、".join(INCIDENT_KIND_LABELS[k] for k in self.kinds)
        return f"{self.window.text()}{GRADE_LABELS[self.grade_min]}及以上{kinds}事故或违法"

    def eval(self, ctx: Ctx) -> Val:
        incidents = ctx.facts.incidents
        if incidents is None:
            return Val(None, f"{self.describe(ctx)}情况未知", ["事故与违法记录"])
        floor = INCIDENT_GRADES.index(self.grade_min)
        hits = [
            i
            for i in incidents
            if i.kind in self.kinds
            and INCIDENT_GRADES.index(i.grade) >= floor
            and self.window.contains(ctx, i.occurred_on)
        ]
        listed = "；".join(
            f"{i.occurred_on.isoformat()} {GRADE_LABELS[i.grade]}{INCIDENT_KIND_LABELS[i.kind]}" for i in hits
        )
        return Val(
            Decimal(len(hits)), f"{self.describe(ctx)} {len(hits)} 起" + (f"（{listed}）" if hits else "")
        )


@dataclass
class Held(Expr):
    """Whether the firm holds a valid recognition of any of these tiers on as_of."""

    tiers: list[str]

    def describe(self, ctx: Ctx) -> str:
        return "持有有效的" + "或".join(TIER_LABELS_SHORT[t] for t in self.tiers) + "认定"

    def eval(self, ctx: Ctx) -> Val:
        if ctx.facts.recognitions is None:
            return Val(None, f"{self.describe(ctx)}：认定情况未知", ["认定记录"])
        held = [t for t in self.tiers if ctx.facts.holds(t, ctx.as_of)]
        if held:
            return Val(True, "持有有效的" + "、".join(TIER_LABELS_SHORT[t] for t in held))
        return Val(False, "未持有有效的" + "或".join(TIER_LABELS_SHORT[t] for t in self.tiers))


@dataclass
class CountRevocations(Expr):
    """How many recognitions of these tiers were revoked (取消) inside the window, e.g. 高企: a firm whose
    qualification was cancelled cannot re-apply in the same year (criteria.md §2 Validity)."""

    tiers: list[str]
    window: Window
    unit: str = "次"

    def describe(self, ctx: Ctx) -> str:
        tiers = "或".join(TIER_LABELS_SHORT[t] for t in self.tiers)
        span = "当年" if self.window.calendar_years == 1 else self.window.text()
        return f"{span}被取消的{tiers}资格"

    def eval(self, ctx: Ctx) -> Val:
        recognitions = ctx.facts.recognitions
        if recognitions is None:
            return Val(None, f"{self.describe(ctx)}：认定情况未知", ["认定记录"])
        hits = [
            r
            for r in recognitions
            if r.tier in self.tiers and r.revoked_on is not None and self.window.contains(ctx, r.revoked_on)
        ]
        listed = "；".join(f"{r.revoked_on.isoformat()} 取消" for r in hits if r.revoked_on)
        return Val(
            Decimal(len(hits)), f"{self.describe(ctx)} {len(hits)} 次" + (f"（{listed}）" if hits else "")
        )


@dataclass
class InstitutionAtLeast(Expr):
    level: str

    def describe(self, ctx: Ctx) -> str:
        return f"{INSTITUTION_LABELS[self.level]}及以上研发机构"

    def eval(self, ctx: Ctx) -> Val:
        value = ctx.facts.get("rd_institution")
        if value is None:
            return Val(None, "研发机构级别未知", ["研发机构级别"])
        if self.level == "ministerial":
            ok = value in ("ministerial", "provincial", "national")
        else:
            ok = RD_INSTITUTION_ORDER.index(value) >= RD_INSTITUTION_ORDER.index(self.level)
        return Val(ok, f"研发机构级别：{INSTITUTION_LABELS[value]}")


@dataclass
class ThresholdBand(Expr):
    """A threshold chosen by where `by` falls: the first band whose upper limit (inclusive) holds `by`."""

    by: Expr
    bands: list[tuple[Decimal, Decimal]]
    otherwise: Decimal
    unit: str = "%"

    def eval(self, ctx: Ctx) -> Val:
        basis = self.by.eval(ctx)
        if basis.value is None:
            return Val(None, f"适用标准取决于{basis.text}", basis.missing, unit=self.unit)
        chosen = self.otherwise
        for limit, threshold in self.bands:
            if basis.value <= limit:
                chosen = threshold
                break
        return Val(chosen, f"{fmt(chosen, self.unit)}（{basis.text}）", unit=self.unit)


# ---------------------------------------------------------------------------------------------------------- conditions


@dataclass
class Res:
    outcome: Outcome
    detail: str
    missing: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


class Cond:
    def eval(self, ctx: Ctx) -> Res:  # pragma: no cover - abstract
        raise NotImplementedError


OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
OP_TEXT = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}


@dataclass
class GapSpec:
    label: str
    unit: str = ""
    integer: bool = False


@dataclass
class Cmp(Cond):
    lhs: Expr
    op: str
    rhs: Expr
    unknown_is: Outcome = Outcome.unknown
    gap: GapSpec | None = None

    def eval(self, ctx: Ctx) -> Res:
        a, b = self.lhs.eval(ctx), self.rhs.eval(ctx)
        if a.value is None or b.value is None:
            missing = a.missing + b.missing
            if self.unknown_is is Outcome.manual:
                return Res(Outcome.manual, f"{a.text}，需人工评审（要求 {OP_TEXT[self.op]} {b.text}）")
            need = "、".join(missing) if missing else a.text
            return Res(
                Outcome.unknown, f"{a.text}；要求 {OP_TEXT[self.op]} {b.text}", missing, [f"需补充：{need}"]
            )
        ok = OPS[self.op](a.value, b.value)
        rhs_text = b.text
        if isinstance(self.rhs, Const) and not self.rhs.unit and a.unit and isinstance(b.value, Decimal):
            rhs_text = fmt(b.value, a.unit)
        detail = f"{a.text} {OP_TEXT[self.op] if ok else _negate(self.op)} {rhs_text}"
        if ok:
            return Res(Outcome.pass_, detail)
        return Res(Outcome.fail, detail, gaps=[self._gap(ctx, a.value, b.value)])

    def _gap(self, ctx: Ctx, a: Any, b: Any) -> str:
        if not isinstance(a, Decimal) or not isinstance(b, Decimal):
            return f"需满足：{self.lhs.describe(ctx) or '该项'} {OP_TEXT[self.op]} {b}"
        label = self.gap.label if self.gap else (self.lhs.describe(ctx) or "该指标")
        unit = self.gap.unit if self.gap else self.lhs.unit
        integer = self.gap.integer if self.gap else isinstance(self.lhs, (CountAwards, CountIncidents))
        if isinstance(self.lhs, Fact) and self.lhs.path.startswith("ip.") and not self.gap:
            integer, unit = True, "件"
        if isinstance(self.lhs, Percent):
            num, den = self.lhs.num.eval(ctx).value, self.lhs.den.eval(ctx).value
            needed = b * den / 100
            delta = needed - num
            if self.op in (">=", ">"):
                if integer:
                    count = int(
                        (delta if self.op == ">=" else delta + Decimal("1e-9")).to_integral_value(
                            ROUND_CEILING
                        )
                    )
                    return f"{label}还需 {max(count, 1)} {unit or '人'}"
                return f"{label}还需增加 {fmt(_ceil2(delta))} {unit}".strip() + (
                    "（并须高于该比例）" if self.op == ">" else ""
                )
            return f"{label}需减少 {fmt(_ceil2(-delta))} {unit}".strip()
        if self.op in (">=", ">"):
            delta = b - a
            if integer:
                count = max(int(delta.to_integral_value(ROUND_CEILING)) + (1 if self.op == ">" else 0), 1)
                return f"{label}还需 {count} {unit}".strip()
            more = "以上" if self.op == ">" else ""
            verb = "提高" if unit in ("%", "分", "个百分点", "") else "增加"
            return f"{label}还需{verb} {fmt(_ceil2(delta))} {unit}{more}".strip()
        if self.op in ("<=", "<"):
            return f"{label}需降低 {fmt(_ceil2(a - b))} {unit}".strip() + ("以上" if self.op == "<" else "")
        return f"需满足：{label} {OP_TEXT[self.op]} {fmt(b)}"


def _ceil2(value: Decimal) -> Decimal:
    return (value * 100).to_integral_value(ROUND_CEILING) / 100


def _negate(op: str) -> str:
    return {">=": "<", ">": "≤", "<=": ">", "<": "≥", "==": "≠", "!=": "="}[op]


@dataclass
class Is(Cond):
    """A yes/no fact equals the expected answer (unknown stays unknown)."""

    expr: Expr
    expected: bool
    unknown_is: Outcome = Outcome.unknown

    def eval(self, ctx: Ctx) -> Res:
        v = self.expr.eval(ctx)
        if v.value is None:
            if self.unknown_is is Outcome.manual:
                return Res(Outcome.manual, f"{v.text}，需人工核实")
            return Res(Outcome.unknown, v.text, v.missing, [f"需补充：{'、'.join(v.missing) or v.text}"])
        if bool(v.value) == self.expected:
            return Res(Outcome.pass_, v.text)
        wanted = self.expr.describe(ctx) if hasattr(self.expr, "describe") else ""
        return Res(
            Outcome.fail, v.text, gaps=[f"需{'满足' if self.expected else '不再'}：{wanted or v.text}"]
        )


@dataclass
class All(Cond):
    items: list[Cond]

    def eval(self, ctx: Ctx) -> Res:
        results = [c.eval(ctx) for c in self.items]
        outcome = combine_all([r.outcome for r in results])
        return Res(
            outcome,
            "；".join(r.detail for r in results),
            [m for r in results for m in r.missing],
            [g for r in results if r.outcome in (Outcome.fail, Outcome.unknown) for g in r.gaps],
        )


@dataclass
class Any_(Cond):
    items: list[Cond]

    def eval(self, ctx: Ctx) -> Res:
        results = [c.eval(ctx) for c in self.items]
        outcome = combine_any([r.outcome for r in results])
        if outcome is Outcome.pass_:
            hit = next(r for r in results if r.outcome is Outcome.pass_)
            return Res(outcome, hit.detail)
        detail = "；".join(r.detail for r in results)
        gaps = [g for r in results for g in r.gaps]
        if len(gaps) > 1:
            gaps = ["以下任一即可：" + " / ".join(gaps)]
        return Res(outcome, detail, [m for r in results for m in r.missing], gaps)


@dataclass
class Not(Cond):
    item: Cond

    def eval(self, ctx: Ctx) -> Res:
        r = self.item.eval(ctx)
        flip = {Outcome.pass_: Outcome.fail, Outcome.fail: Outcome.pass_}
        return Res(flip.get(r.outcome, r.outcome), r.detail, r.missing, r.gaps)


@dataclass
class FirstKnown(Cond):
    """The first alternative whose outcome is known (e.g. the stated 划型 result, else the 划型 thresholds)."""

    items: list[Cond]

    def eval(self, ctx: Ctx) -> Res:
        last = Res(Outcome.unknown, "未知")
        for c in self.items:
            last = c.eval(ctx)
            if last.outcome is not Outcome.unknown:
                return last
        return last


@dataclass
class Switch(Cond):
    """The `then` of the first case whose `when` passes; unknown when a `when` before it is unknown."""

    cases: list[tuple[Cond, Cond]]
    otherwise: Cond | None

    def eval(self, ctx: Ctx) -> Res:
        for when, then in self.cases:
            w = when.eval(ctx)
            if w.outcome is Outcome.pass_:
                r = then.eval(ctx)
                return Res(r.outcome, f"{w.detail}：{r.detail}", r.missing, r.gaps)
            if w.outcome is not Outcome.fail:
                return Res(
                    Outcome.unknown, w.detail, w.missing, w.gaps or [f"需补充：{'、'.join(w.missing)}"]
                )
        if self.otherwise is None:
            return Res(Outcome.not_applicable, "不适用")
        return self.otherwise.eval(ctx)


@dataclass
class Manual(Cond):
    text: str

    def eval(self, ctx: Ctx) -> Res:
        return Res(Outcome.manual, self.text)


# ---------------------------------------------------------------------------------------------------------- scores


@dataclass
class Points:
    """A component's points, or its bounds when an input is unknown."""

    low: Decimal
    high: Decimal
    text: str
    missing: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.low == self.high


class Scorer:
    max_points: Decimal

    def score(self, ctx: Ctx) -> Points:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Band(Scorer):
    """value ≥ threshold → points, first match wins (≤ when lower_is_better); a boundary takes the higher bin."""

    value: Expr
    bins: list[tuple[Decimal, Decimal]]
    otherwise: Decimal = Decimal(0)
    lower_is_better: bool = False

    @property
    def max_points(self) -> Decimal:  # type: ignore[override]
        return max([p for _, p in self.bins] + [self.otherwise])

    def score(self, ctx: Ctx) -> Points:
        v = self.value.eval(ctx)
        if v.value is None:
            low = min([p for _, p in self.bins] + [self.otherwise])
            return Points(low, self.max_points, v.text, v.missing)
        for threshold, pts in self.bins:
            if (v.value <= threshold) if self.lower_is_better else (v.value >= threshold):
                return Points(
                    pts,
                    pts,
                    f"{v.text}（{OP_TEXT['<=' if self.lower_is_better else '>=']} "
                    f"{fmt(threshold, v.unit)}，得 {fmt(pts)} 分）",
                )
        return Points(self.otherwise, self.otherwise, f"{v.text}（得 {fmt(self.otherwise)} 分）")


@dataclass
class Cases(Scorer):
    cases: list[tuple[Cond, Decimal]]
    otherwise: Decimal = Decimal(0)

    @property
    def max_points(self) -> Decimal:  # type: ignore[override]
        return max([p for _, p in self.cases] + [self.otherwise])

    def score(self, ctx: Ctx) -> Points:
        for i, (when, pts) in enumerate(self.cases):
            r = when.eval(ctx)
            if r.outcome is Outcome.pass_:
                return Points(pts, pts, f"{r.detail}（得 {fmt(pts)} 分）")
            if r.outcome is not Outcome.fail:
                rest = [p for _, p in self.cases[i:]] + [self.otherwise]
                return Points(min(rest), max(rest), r.detail, r.missing)
        return Points(self.otherwise, self.otherwise, f"均不满足（得 {fmt(self.otherwise)} 分）")


@dataclass
class BestOf(Scorer):
    """The higher-scoring of named measures, unless the fact `choice` names the one the firm chose."""

    options: dict[str, Scorer]
    choice: str | None = None

    @property
    def max_points(self) -> Decimal:  # type: ignore[override]
        return max(s.max_points for s in self.options.values())

    def score(self, ctx: Ctx) -> Points:
        chosen = ctx.facts.get(self.choice) if self.choice else None
        if chosen in self.options:
            p = self.options[chosen].score(ctx)
            return Points(p.low, p.high, f"按企业选择的口径：{p.text}", p.missing)
        scored = {name: s.score(ctx) for name, s in self.options.items()}
        best_name = max(scored, key=lambda n: (scored[n].low, scored[n].high))
        best = scored[best_name]
        high = max(p.high for p in scored.values())
        others = "；".join(p.text for n, p in scored.items() if n != best_name)
        text = f"取得分较高的口径：{best.text}" + (f"（另一口径：{others}）" if others else "")
        missing = [m for p in scored.values() for m in p.missing] if high > best.low else []
        return Points(best.low, high, text, missing)


@dataclass
class Component:
    id: str
    label: str
    scorer: Scorer | None = None
    parts: list[Component] = field(default_factory=list)
    minimum: Decimal | None = None

    @property
    def max_points(self) -> Decimal:
        if self.scorer is not None:
            return self.scorer.max_points
        return sum((p.max_points for p in self.parts), Decimal(0))

    def score(self, ctx: Ctx) -> tuple[Points, list[tuple[Component, Points]]]:
        if self.scorer is not None:
            return self.scorer.score(ctx), []
        low = high = Decimal(0)
        texts, missing, blocks = [], [], []
        for part in self.parts:
            p, sub = part.score(ctx)
            blocks.extend(sub)
            if part.minimum is not None:
                blocks.append((part, p))
            low += p.low
            high += p.high
            texts.append(f"{part.label} {_pts(p)}")
            missing += p.missing
        return Points(low, high, "，".join(texts), missing), blocks


def _pts(p: Points) -> str:
    return f"{fmt(p.low)} 分" if p.known else f"{fmt(p.low)}—{fmt(p.high)} 分（待补数据）"


@dataclass
class Score(Cond):
    """A points total with a pass mark and sub-minima on blocks; unknown inputs give bounds, not zeros."""

    root: Component
    minimum: Decimal

    def points(self, ctx: Ctx) -> Points:
        return self.root.score(ctx)[0]

    def eval(self, ctx: Ctx) -> Res:
        total, blocks = self.root.score(ctx)
        parts = []
        for part in self.root.parts:
            p, _ = part.score(ctx)
            parts.append(f"{part.label}：{p.text}")
        fails, unknowns, gaps = [], [], []
        for comp, p in blocks:
            assert comp.minimum is not None
            if p.high < comp.minimum:
                fails.append(f"{comp.label} {_pts(p)} < {fmt(comp.minimum)} 分")
                gaps.append(
                    f"{comp.label}得分还差 {fmt(comp.minimum - p.high)} 分（至少 {fmt(comp.minimum)} 分）"
                )
            elif p.low < comp.minimum:
                unknowns.append(comp.label)
        summary = f"合计 {_pts(total)}"
        if total.high < self.minimum:
            fails.append(f"合计 {_pts(total)} < {fmt(self.minimum)} 分")
            gaps.append(f"综合评分还差 {fmt(self.minimum - total.high)} 分（至少 {fmt(self.minimum)} 分）")
        detail = "；".join(parts)
        if fails:
            return Res(Outcome.fail, f"{'；'.join(fails)}（{detail}）", gaps=gaps)
        if total.low < self.minimum or unknowns:
            need = "、".join(dict.fromkeys(total.missing)) or "评分所需数据"
            return Res(
                Outcome.unknown,
                f"{summary}，尚不能确定是否达到 {fmt(self.minimum)} 分（{detail}）",
                total.missing,
                [f"需补充：{need}"],
            )
        blocks_text = "；".join(f"{c.label} {_pts(p)} ≥ {fmt(c.minimum)}" for c, p in blocks if c.minimum)
        return Res(
            Outcome.pass_,
            f"{summary} ≥ {fmt(self.minimum)} 分"
            + (f"（{blocks_text}）" if blocks_text else "")
            + f"；{detail}",
        )


def ceil_int(value: float) -> int:
    return int(math.ceil(value))
