"""Load and validate the rule files (app/rules/sets/*.yaml) and dated parameters (app/rules/parameters.yaml).

Refuses — with a message naming the file and place — an unknown field or term, a criterion without a citation,
an unknown parameter, tier or fact, and two versions of a tier that overlap for the same mode and region.
The app calls `load_rulebook()` at start-up, so a bad rule file stops it from starting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from app.rules.facts import AWARD_LEVELS, FACT_INFO, INCIDENT_GRADES, RD_INSTITUTION_ORDER, YEAR_FIELD_INFO
from app.rules.vocabulary import (
    OPS,
    All,
    Any_,
    Avg,
    Band,
    BestOf,
    Cases,
    Cmp,
    Component,
    Cond,
    Const,
    CountAwards,
    CountIncidents,
    CountRevocations,
    DaysSince,
    Expr,
    Fact,
    FirstKnown,
    GapSpec,
    Growth,
    GrowthKind,
    Held,
    InstitutionAtLeast,
    Is,
    Manual,
    Not,
    Outcome,
    Param,
    Percent,
    RuleError,
    Score,
    Scorer,
    Sum,
    Switch,
    ThresholdBand,
    Window,
    Year,
    YearsSince,
)

RULES_DIR = Path(__file__).parent / "sets"
PARAMETERS_FILE = Path(__file__).parent / "parameters.yaml"
TIERS = (
    "tech_sme",
    "innovative_sme",
    "hnte",
    "srdi_sme",
    "little_giant",
    "hidden_champion",
    "unicorn",
    "gazelle",
)
MODES = ("new", "review")
INCIDENT_KINDS = ("safety", "quality", "environment", "network", "data", "tax", "fraud")
DISTRICTS = ("jingan", "yangpu", "hongkou")


# ---------------------------------------------------------------------------------------------------------- params


@dataclass
class ParamDef:
    name: str
    label: str
    unit: str
    citation: str
    district_setting: bool
    unconfirmed: bool
    note: str
    values: list[tuple[date, Decimal]]


@dataclass
class Override:
    """An admin's dated value for a district setting (stored in the database, append-only)."""

    name: str
    effective_from: date
    value: Decimal
    district: str | None = None


class ParamTable:
    """Dated parameter values: the file's, then admins' overrides (a later or same-day override wins)."""

    def __init__(self, defs: dict[str, ParamDef], overrides: list[Override] | None = None) -> None:
        self.defs = defs
        self.overrides = overrides or []
        self._by_name: dict[str, list[tuple[date, int, str | None, Decimal]]] = {}
        for name, d in defs.items():
            self._by_name[name] = [(day, 0, None, value) for day, value in d.values]
        for o in self.overrides:
            self._by_name.setdefault(o.name, []).append((o.effective_from, 1, o.district, o.value))
        for rows in self._by_name.values():
            rows.sort(key=lambda r: (r[0], r[1]))

    def value(self, name: str, on: date, region: str | None = None) -> Decimal:
        found: Decimal | None = None
        for day, _, district, value in self._by_name[name]:
            if day > on:
                break
            if district is None or district == region:
                found = value
        if found is None:
            raise RuleError(f"参数 {name} 在 {on.isoformat()} 没有生效的取值")
        return found

    def label(self, name: str) -> str:
        return self.defs[name].label

    def history(self, name: str) -> list[tuple[date, str | None, Decimal, bool]]:
        """Every dated value: (from, district, value, is_override)."""
        return [(day, district, value, bool(src)) for day, src, district, value in self._by_name[name]]


def _keys(data: dict[str, Any], allowed: set[str], where: str, required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    if not isinstance(data, dict):
        raise RuleError(f"{where}：应为映射")
    unknown = set(data) - allowed
    if unknown:
        raise RuleError(f"{where}：未知字段 {', '.join(sorted(unknown))}")
    missing = set(required) - set(data)
    if missing:
        raise RuleError(f"{where}：缺少字段 {', '.join(sorted(missing))}")


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(f"{where}：日期无效 {value!r}") from None


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise RuleError(f"{where}：应为数字")
    try:
        return Decimal(str(value))
    except Exception:
        raise RuleError(f"{where}：应为数字") from None


def load_params(path: Path = PARAMETERS_FILE) -> dict[str, ParamDef]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    defs: dict[str, ParamDef] = {}
    for name, body in raw.items():
        where = f"{path.name} {name}"
        _keys(
            body,
            {"label", "unit", "citation", "district_setting", "unconfirmed", "note", "values"},
            where,
            {"label", "citation", "values"},
        )
        if not str(body["citation"]).strip():
            raise RuleError(f"{where}：缺少出处（citation）")
        values = []
        for i, v in enumerate(body["values"]):
            _keys(v, {"from", "value"}, f"{where} values[{i}]", {"from", "value"})
            values.append((_date(v["from"], where), _dec(v["value"], where)))
        days = [d for d, _ in values]
        if len(set(days)) != len(days) or days != sorted(days):
            raise RuleError(f"{where}：取值的生效日期须递增且不重复")
        defs[name] = ParamDef(
            name=name,
            label=str(body["label"]),
            unit=str(body.get("unit") or ""),
            citation=str(body["citation"]),
            district_setting=bool(body.get("district_setting", False)),
            unconfirmed=bool(body.get("unconfirmed", False)),
            note=str(body.get("note") or ""),
            values=values,
        )
    return defs


# ---------------------------------------------------------------------------------------------------------- parsing


class Parser:
    def __init__(self, params: dict[str, ParamDef], where: str) -> None:
        self.params = params
        self.where = where
        self.used_params: set[str] = set()

    def err(self, msg: str) -> RuleError:
        return RuleError(f"{self.where}：{msg}")

    def one(self, data: Any, allowed: set[str]) -> tuple[str, Any]:
        if not isinstance(data, dict):
            raise self.err(f"应为映射：{data!r}")
        heads = [k for k in data if k in allowed]
        if len(heads) != 1:
            raise self.err(f"未知或不唯一的条目 {sorted(data)}（可用：{', '.join(sorted(allowed))}）")
        return heads[0], data[heads[0]]

    # values
    EXPR_HEADS = {
        "param",
        "fact",
        "year",
        "sum",
        "avg",
        "percent",
        "growth",
        "years_since",
        "days_since",
        "awards",
        "revocations",
        "incidents",
        "held",
        "institution_at_least",
        "threshold_band",
        "const",
    }

    def expr(self, data: Any) -> Expr:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return Const(Decimal(str(data)))
        head, body = self.one(data, self.EXPR_HEADS)
        extra = set(data) - {head}
        if head == "param":
            _keys(data, {"param", "unit"}, self.where)
            if body not in self.params:
                raise self.err(f"未知参数 {body}")
            self.used_params.add(body)
            return Param(body, data.get("unit", self.params[body].unit))
        if head == "const":
            _keys(data, {"const", "unit"}, self.where)
            return Const(_dec(body, self.where), data.get("unit", ""))
        if head == "fact":
            _keys(data, {"fact", "unit"}, self.where)
            if body not in FACT_INFO:
                raise self.err(f"未知事实 {body}")
            return Fact(body, data.get("unit", ""))
        if head == "year":
            _keys(data, {"year", "ago"}, self.where)
            self.field(body)
            return Year(body, int(data.get("ago", 1)))
        if head == "sum":
            _keys(data, {"sum", "years", "since_founding"}, self.where, {"years"})
            self.field(body)
            return Sum(body, int(data["years"]), bool(data.get("since_founding", False)))
        if head == "avg":
            _keys(data, {"avg", "years"}, self.where, {"years"})
            self.field(body)
            return Avg(body, int(data["years"]))
        if head == "percent":
            if extra or not isinstance(body, list) or len(body) != 2:
                raise self.err("percent 应为 [分子, 分母]")
            return Percent(self.expr(body[0]), self.expr(body[1]))
        if head == "growth":
            _keys(data, {"growth", "kind"}, self.where, {"kind"})
            self.field(body)
            try:
                kind = GrowthKind(data["kind"])
            except ValueError:
                raise self.err(f"未知增长率口径 {data['kind']}") from None
            return Growth(body, kind)
        if head == "years_since":
            _keys(data, {"years_since", "until"}, self.where)
            if FACT_INFO.get(body, ("", ""))[1] != "date":
                raise self.err(f"years_since 须为日期事实：{body}")
            until = data.get("until", "as_of")
            if until not in ("as_of", "last_year_end"):
                raise self.err(f"years_since.until 应为 as_of 或 last_year_end：{until}")
            return YearsSince(body, until)
        if head == "days_since":
            _keys(data, {"days_since"}, self.where)
            if FACT_INFO.get(body, ("", ""))[1] != "date":
                raise self.err(f"days_since 须为日期事实：{body}")
            return DaysSince(body)
        if head == "revocations":
            _keys(data, {"revocations"}, self.where)
            _keys(body, {"tiers", "within_years", "calendar_years"}, self.where, {"tiers"})
            tiers = [body["tiers"]] if isinstance(body["tiers"], str) else list(body["tiers"])
            if not set(tiers) <= set(TIERS):
                raise self.err(f"未知梯度 {tiers}")
            if ("within_years" in body) == ("calendar_years" in body):
                raise self.err("revocations 须且只能给出 within_years 或 calendar_years 之一")
            window = Window(years=body.get("within_years"), calendar_years=body.get("calendar_years"))
            return CountRevocations(tiers, window)
        if head == "awards":
            _keys(data, {"awards"}, self.where)
            _keys(body, {"levels", "rank_max", "within_years"}, self.where, {"levels", "within_years"})
            levels = list(body["levels"])
            if not set(levels) <= set(AWARD_LEVELS):
                raise self.err(f"未知奖励级别 {levels}")
            return CountAwards(levels, Window(years=int(body["within_years"])), body.get("rank_max"))
        if head == "incidents":
            _keys(data, {"incidents"}, self.where)
            _keys(
                body,
                {"kinds", "grade_min", "within_years", "calendar_years"},
                self.where,
                {"kinds", "grade_min"},
            )
            kinds = list(body["kinds"])
            if not set(kinds) <= set(INCIDENT_KINDS):
                raise self.err(f"未知事故类型 {kinds}")
            if body["grade_min"] not in INCIDENT_GRADES:
                raise self.err(f"未知事故等级 {body['grade_min']}")
            if ("within_years" in body) == ("calendar_years" in body):
                raise self.err("incidents 须且只能给出 within_years 或 calendar_years 之一")
            window = Window(years=body.get("within_years"), calendar_years=body.get("calendar_years"))
            return CountIncidents(kinds, body["grade_min"], window)
        if head == "held":
            _keys(data, {"held"}, self.where)
            tiers = [body] if isinstance(body, str) else list(body)
            if not set(tiers) <= set(TIERS):
                raise self.err(f"未知梯度 {tiers}")
            return Held(tiers)
        if head == "institution_at_least":
            _keys(data, {"institution_at_least"}, self.where)
            if body not in RD_INSTITUTION_ORDER:
                raise self.err(f"未知研发机构级别 {body}")
            return InstitutionAtLeast(body)
        # threshold_band
        _keys(data, {"threshold_band"}, self.where)
        _keys(body, {"by", "bands", "else", "unit"}, self.where, {"by", "bands", "else"})
        bands = [(_dec(a, self.where), _dec(b, self.where)) for a, b in body["bands"]]
        return ThresholdBand(
            self.expr(body["by"]), bands, _dec(body["else"], self.where), body.get("unit", "%")
        )

    def field(self, name: str) -> None:
        if name not in YEAR_FIELD_INFO:
            raise self.err(f"未知年度指标 {name}")

    # conditions
    COND_HEADS = {"cmp", "is", "all", "any", "not", "first_known", "switch", "manual", "score"}

    def cond(self, data: Any) -> Cond:
        head, body = self.one(data, self.COND_HEADS)
        if head == "cmp":
            _keys(data, {"cmp", "unknown_is", "gap"}, self.where)
            if not isinstance(body, list) or len(body) != 3 or body[1] not in OPS:
                raise self.err(f"cmp 应为 [左, 比较符, 右]，比较符为 {', '.join(OPS)}")
            gap = None
            if "gap" in data:
                _keys(data["gap"], {"label", "unit", "integer"}, self.where, {"label"})
                gap = GapSpec(**data["gap"])
            return Cmp(self.expr(body[0]), body[1], self.expr(body[2]), self.unknown_is(data), gap)
        if head == "is":
            _keys(data, {"is", "unknown_is"}, self.where)
            if not isinstance(body, list) or len(body) != 2 or not isinstance(body[1], bool):
                raise self.err("is 应为 [事实, true/false]")
            return Is(self.expr(body[0]), body[1], self.unknown_is(data))
        if head in ("all", "any", "first_known"):
            _keys(data, {head}, self.where)
            if not isinstance(body, list) or not body:
                raise self.err(f"{head} 应为非空列表")
            items = [self.cond(c) for c in body]
            return {"all": All, "any": Any_, "first_known": FirstKnown}[head](items)
        if head == "not":
            _keys(data, {"not"}, self.where)
            return Not(self.cond(body))
        if head == "switch":
            _keys(data, {"switch", "else"}, self.where)
            cases = []
            for case in body:
                _keys(case, {"when", "then"}, self.where, {"when", "then"})
                cases.append((self.cond(case["when"]), self.cond(case["then"])))
            return Switch(cases, self.cond(data["else"]) if "else" in data else None)
        if head == "manual":
            _keys(data, {"manual"}, self.where)
            return Manual(str(body))
        _keys(data, {"score"}, self.where)
        _keys(body, {"min", "components"}, self.where, {"min", "components"})
        root = Component("total", "合计", parts=[self.component(c) for c in body["components"]])
        return Score(root, _dec(body["min"], self.where))

    def unknown_is(self, data: dict[str, Any]) -> Outcome:
        value = data.get("unknown_is", "unknown")
        if value not in ("unknown", "manual"):
            raise self.err(f"unknown_is 应为 unknown 或 manual：{value}")
        return Outcome(value)

    def component(self, data: Any) -> Component:
        _keys(data, {"id", "label", "min", "band", "cases", "best_of", "parts"}, self.where, {"id", "label"})
        kinds = [k for k in ("band", "cases", "best_of", "parts") if k in data]
        if len(kinds) != 1:
            raise self.err(f"评分项 {data.get('id')} 须且只能有 band / cases / best_of / parts 之一")
        minimum = _dec(data["min"], self.where) if "min" in data else None
        if kinds[0] == "parts":
            return Component(
                data["id"], data["label"], parts=[self.component(p) for p in data["parts"]], minimum=minimum
            )
        return Component(data["id"], data["label"], scorer=self.scorer(data), minimum=minimum)

    def scorer(self, data: dict[str, Any]) -> Scorer:
        if "band" in data:
            body = data["band"]
            _keys(body, {"value", "bins", "else", "lower_is_better"}, self.where, {"value", "bins"})
            bins = [(_dec(t, self.where), _dec(p, self.where)) for t, p in body["bins"]]
            lower = bool(body.get("lower_is_better", False))
            thresholds = [t for t, _ in bins]
            if thresholds != sorted(thresholds, reverse=not lower):
                raise self.err(f"评分档 {data.get('id')} 的阈值顺序有误")
            return Band(self.expr(body["value"]), bins, _dec(body.get("else", 0), self.where), lower)
        if "cases" in data:
            cases, otherwise = [], Decimal(0)
            for case in data["cases"]:
                if "else" in case:
                    _keys(case, {"else"}, self.where)
                    otherwise = _dec(case["else"], self.where)
                    continue
                _keys(case, {"when", "points"}, self.where, {"when", "points"})
                cases.append((self.cond(case["when"]), _dec(case["points"], self.where)))
            return Cases(cases, otherwise)
        body = data["best_of"]
        _keys(body, {"choice", "options"}, self.where, {"options"})
        if body.get("choice") is not None and body["choice"] not in FACT_INFO:
            raise self.err(f"未知事实 {body['choice']}")
        return BestOf({name: self.scorer(opt) for name, opt in body["options"].items()}, body.get("choice"))


# ---------------------------------------------------------------------------------------------------------- rule sets


@dataclass
class Criterion:
    id: str
    label: str
    citation: str
    test: Cond
    modes: tuple[str, ...] = MODES
    note: str = ""
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class RuleSet:
    id: str
    tier: str
    label: str
    document: str
    effective_from: date
    effective_to: date | None
    applies_to: tuple[str, ...]
    districts: tuple[str, ...] | None
    criteria: list[Criterion]
    decision: Any  # nested {"all"/"any": [...]} of criterion ids
    source_url: str = ""
    note: str = ""
    file: str = ""
    params_used: set[str] = field(default_factory=set)

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


RULE_KEYS = {
    "id",
    "tier",
    "label",
    "document",
    "source_url",
    "effective_from",
    "effective_to",
    "applies_to",
    "districts",
    "extends",
    "drop",
    "replace",
    "criteria",
    "decision",
    "note",
}
CRITERION_KEYS = {"id", "label", "citation", "test", "modes", "note"}


def _parse_criterion(parser: Parser, raw: dict[str, Any]) -> Criterion:
    _keys(raw, CRITERION_KEYS, f"{parser.where} 条件 {raw.get('id')}", {"id", "label", "test"})
    citation = str(raw.get("citation") or "").strip()
    if not citation:
        raise parser.err(f"条件 {raw['id']} 缺少出处（citation）")
    modes = tuple(raw.get("modes", MODES))
    if not set(modes) <= set(MODES):
        raise parser.err(f"条件 {raw['id']} 的 modes 未知：{modes}")
    return Criterion(
        raw["id"],
        str(raw["label"]),
        citation,
        parser.cond(raw["test"]),
        modes,
        str(raw.get("note") or ""),
        raw,
    )


def _check_decision(node: Any, ids: set[str], where: str) -> set[str]:
    if isinstance(node, str):
        if node not in ids:
            raise RuleError(f"{where}：decision 引用了未知条件 {node}")
        return {node}
    _keys(node, {"all", "any"}, where)
    if len(node) != 1:
        raise RuleError(f"{where}：decision 的每一层只能是 all 或 any")
    used: set[str] = set()
    for child in next(iter(node.values())):
        used |= _check_decision(child, ids, where)
    return used


def _parse_ruleset(
    raw: dict[str, Any], params: dict[str, ParamDef], file: str, by_id: dict[str, dict[str, Any]]
) -> RuleSet:
    where = f"{file}（{raw.get('id')}）"
    _keys(raw, RULE_KEYS, where, {"id", "tier", "label", "document", "effective_from", "applies_to"})
    if raw["tier"] not in TIERS:
        raise RuleError(f"{where}：未知梯度 {raw['tier']}")
    parser = Parser(params, where)
    criteria_raw: list[dict[str, Any]] = []
    decision = raw.get("decision")
    if "extends" in raw:
        base = by_id.get(raw["extends"])
        if base is None:
            raise RuleError(f"{where}：extends 指向未知规则集 {raw['extends']}")
        if base["tier"] != raw["tier"]:
            raise RuleError(f"{where}：extends 的规则集属于其他梯度")
        drop = set(raw.get("drop", []))
        replace = {c["id"]: c for c in raw.get("replace", [])}
        known = {c["id"] for c in base.get("criteria", [])}
        for name in drop | set(replace):
            if name not in known:
                raise RuleError(f"{where}：drop/replace 引用了未知条件 {name}")
        criteria_raw = [replace.get(c["id"], c) for c in base.get("criteria", []) if c["id"] not in drop]
        criteria_raw += raw.get("criteria", [])
        decision = decision if decision is not None else _prune(base.get("decision"), drop)
    else:
        if "drop" in raw or "replace" in raw:
            raise RuleError(f"{where}：drop/replace 只能与 extends 一起使用")
        criteria_raw = list(raw.get("criteria", []))
    if not criteria_raw:
        raise RuleError(f"{where}：没有任何条件")
    criteria = [_parse_criterion(parser, c) for c in criteria_raw]
    ids = [c.id for c in criteria]
    if len(set(ids)) != len(ids):
        raise RuleError(f"{where}：条件 id 重复")
    if decision is None:
        decision = {"all": ids}
    used = _check_decision(decision, set(ids), where)
    if used != set(ids):
        raise RuleError(f"{where}：decision 未使用条件 {', '.join(sorted(set(ids) - used))}")
    applies = tuple(raw["applies_to"])
    if not applies or not set(applies) <= set(MODES):
        raise RuleError(f"{where}：applies_to 应为 new / review")
    districts = raw.get("districts")
    if districts is not None and not set(districts) <= set(DISTRICTS):
        raise RuleError(f"{where}：未知区 {districts}")
    start = _date(raw["effective_from"], where)
    end = _date(raw["effective_to"], where) if raw.get("effective_to") else None
    if end is not None and end < start:
        raise RuleError(f"{where}：effective_to 早于 effective_from")
    return RuleSet(
        id=str(raw["id"]),
        tier=raw["tier"],
        label=str(raw["label"]),
        document=str(raw["document"]),
        effective_from=start,
        effective_to=end,
        applies_to=applies,
        districts=tuple(districts) if districts else None,
        criteria=criteria,
        decision=decision,
        source_url=str(raw.get("source_url") or ""),
        note=str(raw.get("note") or ""),
        file=file,
        params_used=parser.used_params,
    )


def _prune(node: Any, drop: set[str]) -> Any:
    if node is None:
        return None
    if isinstance(node, str):
        return None if node in drop else node
    key = next(iter(node))
    children = [c for c in (_prune(x, drop) for x in node[key]) if c is not None]
    return {key: children} if children else None


@dataclass
class RuleBook:
    sets: list[RuleSet]
    params: dict[str, ParamDef]

    def select(self, tier: str, on: date, mode: str = "new", district: str | None = None) -> RuleSet | None:
        """The version in force for this tier, date and mode; a district's own version before the default."""
        candidates = [s for s in self.sets if s.tier == tier and mode in s.applies_to and s.covers(on)]
        local = [s for s in candidates if s.districts and district in s.districts]
        default = [s for s in candidates if not s.districts]
        chosen = local or default
        return chosen[0] if chosen else None

    def by_id(self, rule_id: str) -> RuleSet:
        return next(s for s in self.sets if s.id == rule_id)


def _overlap(a: RuleSet, b: RuleSet) -> bool:
    if a.tier != b.tier or not set(a.applies_to) & set(b.applies_to):
        return False
    if (a.districts is None) != (b.districts is None):
        return False
    if a.districts and b.districts and not set(a.districts) & set(b.districts):
        return False
    a_end = a.effective_to or date.max
    b_end = b.effective_to or date.max
    return a.effective_from <= b_end and b.effective_from <= a_end


def load_rulebook(rules_dir: Path = RULES_DIR, params_file: Path = PARAMETERS_FILE) -> RuleBook:
    params = load_params(params_file)
    raws: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(rules_dir.glob("*.yaml")):
        docs = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in docs if isinstance(docs, list) else [docs]:
            raws.append((path.name, raw))
    by_id: dict[str, dict[str, Any]] = {}
    for file, raw in raws:
        if not isinstance(raw, dict) or "id" not in raw:
            raise RuleError(f"{file}：每个规则集须有 id")
        if raw["id"] in by_id:
            raise RuleError(f"{file}：规则集 id 重复 {raw['id']}")
        by_id[raw["id"]] = raw
    sets = [_parse_ruleset(raw, params, file, by_id) for file, raw in raws]
    for i, a in enumerate(sets):
        for b in sets[i + 1 :]:
            if _overlap(a, b):
                raise RuleError(
                    f"规则版本重叠：{a.id}（{a.file}）与 {b.id}（{b.file}）在同一梯度、申请类型和地区的有效期相交"
                )
    missing = set(TIERS) - {s.tier for s in sets}
    if missing:
        raise RuleError(f"以下梯度没有规则集：{', '.join(sorted(missing))}")
    return RuleBook(sets, params)


@lru_cache(maxsize=1)
def rulebook() -> RuleBook:
    return load_rulebook()
