"""The rules module's pages: the decision panel's view (shared with the firm file's 梯度评估 section) and the
public 企业自测 (self-check), which runs the contract's facts (docs/domain/eligibility-api.md) through the engine
and stores nothing.

Routes compute every label, colour and count here; templates/rules/_decision.html only formats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.auth.dependencies import OptionalPrincipal
from app.db import SessionDep
from app.indicators.models import AWARD_LEVEL_LABELS, INCIDENT_GRADE_LABELS, INCIDENT_KIND_LABELS
from app.recognitions.models import RECOGNITION_KIND_LABELS
from app.reference import service as reference_service
from app.rules.engine import OUTCOME_LABELS, STATUS_LABELS, TierDecision
from app.rules.facts import FACT_INFO, YEAR_FIELD_INFO, facts_from_contract
from app.rules.loader import TIERS
from app.rules.ratelimit import eligibility_rate_limit
from app.rules.service import decide_facts, param_table
from app.tiers.codes import LADDER_LEVEL_LABELS, LADDER_POSITION, TIER_LABELS, Tier, ladder_level
from app.web.formatting import today
from app.web.templating import render, wants_block

router = APIRouter(include_in_schema=False)

# --- the decision panel's view ------------------------------------------------------------------------------

STATUS_KINDS = {"eligible": "ok", "needs_review": "info", "insufficient_data": "warn", "ineligible": "danger"}
OUTCOME_KINDS = {
    "pass": "ok",
    "fail": "danger",
    "unknown": "warn",
    "manual": "info",
    "not_applicable": "muted",
}
MODE_LABELS = {"new": "新申请", "review": "复核"}
QUALIFYING = ("eligible", "needs_review")


@dataclass(frozen=True)
class CriterionView:
    id: str
    label: str
    outcome: str
    outcome_label: str
    kind: str
    detail: str
    citation: str


@dataclass
class TierView:
    tier: str
    label: str
    position: int
    status: str
    status_label: str
    status_kind: str
    holds: bool
    mode_label: str
    ruleset: str | None
    ruleset_label: str
    effective_from: date | None
    effective_to: date | None
    score: str | None
    criteria: list[CriterionView]
    gaps: list[str]
    tally: list[tuple[str, str, int]]
    distance: Decimal
    open: bool = False

    @property
    def qualifies(self) -> bool:
        return self.status in QUALIFYING


@dataclass(frozen=True)
class Rung:
    level: int
    label: str
    tiers: list[TierView]
    certified: bool


@dataclass
class DecisionView:
    as_of: date
    tiers: list[TierView]
    rungs: list[Rung]
    beside: list[TierView]
    level: int
    level_label: str
    held: list[TierView]
    qualifying: list[TierView]
    focus: TierView | None
    # (label, badge kind) of every status, for the legend.
    legend: list[tuple[str, str]] = field(
        default_factory=lambda: [(STATUS_LABELS[s], kind) for s, kind in STATUS_KINDS.items()]
    )


def plain_number(value: Decimal) -> str:
    """100, 95.5: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _tier_view(decision: TierDecision) -> TierView:
    criteria = [
        CriterionView(
            id=c.id,
            label=c.label,
            outcome=c.outcome.value,
            outcome_label=OUTCOME_LABELS[c.outcome.value],
            kind=OUTCOME_KINDS[c.outcome.value],
            detail=c.detail,
            citation=c.citation,
        )
        for c in decision.criteria
    ]
    tally = [
        (label, OUTCOME_KINDS[outcome], n)
        for outcome, label in OUTCOME_LABELS.items()
        if (n := sum(1 for c in criteria if c.outcome == outcome))
    ]
    tier = Tier(decision.tier)
    return TierView(
        tier=decision.tier,
        label=TIER_LABELS[tier],
        position=LADDER_POSITION.get(tier, 0),
        status=decision.status,
        status_label=STATUS_LABELS[decision.status],
        status_kind=STATUS_KINDS[decision.status],
        holds=decision.holds,
        mode_label=MODE_LABELS.get(decision.mode, decision.mode),
        ruleset=decision.ruleset,
        ruleset_label=decision.ruleset_label,
        effective_from=decision.effective_from,
        effective_to=decision.effective_to,
        score=None if decision.score is None else plain_number(decision.score),
        criteria=criteria,
        gaps=list(decision.gaps),
        tally=tally,
        distance=decision.distance,
    )


def _focus(tiers: list[TierView], level: int) -> TierView | None:
    """The panel worth opening: the highest rung above the certified one that the firm qualifies for now; else
    the nearest rung above it (the tier closest to passing); else, at the top, the highest tier held."""
    above = [t for t in tiers if t.position > level and not t.holds]
    ready = [t for t in above if t.qualifies]
    if ready:
        return max(ready, key=lambda t: t.position)
    if above:
        nearest = min(t.position for t in above)
        return min((t for t in above if t.position == nearest), key=lambda t: t.distance)
    held = [t for t in tiers if t.holds and t.position]
    return max(held, key=lambda t: t.position) if held else None


def decision_view(decisions: Mapping[str, TierDecision], as_of: date) -> DecisionView:
    """Every tier's decision, ready to show: the ladder (levels 5 → 1, labels beside it) and the panels."""
    tiers = [_tier_view(d) for d in decisions.values()]
    held = [t for t in tiers if t.holds]
    level = ladder_level({t.tier for t in held})
    focus = _focus(tiers, level)
    if focus is not None:
        focus.open = True
    rungs = [
        Rung(n, LADDER_LEVEL_LABELS[n], [t for t in tiers if t.position == n], n == level)
        for n in range(5, 0, -1)
    ]
    return DecisionView(
        as_of=as_of,
        tiers=tiers,
        rungs=rungs,
        beside=[t for t in tiers if not t.position],
        level=level,
        level_label=LADDER_LEVEL_LABELS[level],
        held=sorted(held, key=lambda t: -t.position),
        qualifying=sorted((t for t in tiers if t.qualifies), key=lambda t: -t.position),
        focus=focus,
    )


def assess_as_of(values: Mapping[str, Any]) -> dict[str, str]:
    """The contract's `assess_as` from form fields `assess_as.<tier>` (新申请 unless 复核 is chosen)."""
    return {t: "review" for t in TIERS if values.get(f"assess_as.{t}") == "review"}


def mode_fields(assess_as: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(field name, tier label, chosen mode) for the 申请类型 selects."""
    return [(f"assess_as.{t}", TIER_LABELS[Tier(t)], assess_as.get(t, "new")) for t in TIERS]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# Dates outside these bounds are typing mistakes; refusing them keeps year arithmetic (N years before) safe.
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def parse_day(text: str) -> tuple[date | None, str | None]:
    """(the date, None) for YYYY-MM-DD, (None, the Chinese message) otherwise."""
    text = text.strip()
    if not _ISO_DATE.match(text):
        return None, "日期格式应为 YYYY-MM-DD"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "日期不存在，请检查年月日"
    if not EARLIEST <= day <= LATEST:
        return None, f"日期应在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间"
    return day, None


# --- the self-check form -------------------------------------------------------------------------------------

TRI_STATE = [("true", "是"), ("false", "否")]
LIST_GIVEN = [("none", "无"), ("listed", "有，见下表")]
RD_INSTITUTIONS = [
    ("national", "国家级"),
    ("provincial", "省级"),
    ("ministerial", "部级"),
    ("municipal", "市级"),
    ("below_municipal", "市级以下"),
    ("none", "无"),
]
RD_MEASURES = [("sales", "研发费用占销售收入比例"), ("cost", "研发费用占成本费用总额比例")]
ROWS = 3  # rows offered for recognitions, awards and incidents (a form without JavaScript cannot add rows)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Field:
    """One input: `name` is the contract path (`ip.class1`), which is also the form field's name."""

    name: str
    label: str
    kind: str  # bool | date | int | number | choice
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    placeholder: str = "未知"


def _fact(name: str, kind: str | None = None, **kw: Any) -> Field:
    label, fact_kind = FACT_INFO[name]
    return Field(name, label, kind or fact_kind, **kw)


def form_groups(
    districts: list[tuple[str, str]], parks: list[tuple[str, str]]
) -> list[tuple[str, list[Field]]]:
    """The scalar facts of the contract, grouped as the form shows them, each with its explanation."""
    return [
        (
            "基本情况",
            [
                Field("founded_on", "成立日期", "date", "营业执照上的成立日期"),
                Field(
                    "district",
                    "注册地（区）",
                    "choice",
                    "可不填；用于区级口径（如瞪羚）",
                    districts,
                    placeholder="不填",
                ),
                Field("park", "所在园区", "choice", "可不填", parks, placeholder="不填"),
                _fact("is_sme", help="按《中小企业划型标准规定》的划型结果", choices=TRI_STATE),
                _fact("hnte_field", help="核心技术属于《国家重点支持的高新技术领域》", choices=TRI_STATE),
                _fact("strategic_emerging", help="主导产品属于《战略性新兴产业分类》", choices=TRI_STATE),
                _fact(
                    "key_industrial_field",
                    help="核心基础零部件/元器件、关键软件、先进基础工艺、关键基础材料、产业技术基础，"
                    "或新兴/未来产业链的关键环节",
                    choices=TRI_STATE,
                ),
                _fact("niche_since", help="开始从事特定细分市场的日期"),
                _fact("listed", help="已在境内外证券交易所上市", choices=TRI_STATE),
                _fact("equity_backed", help="获得过私募股权投资", choices=TRI_STATE),
                _fact(
                    "valuation_usd_bn",
                    help="最近一轮融资的估值，单位十亿美元（填 1 即 10 亿美元）",
                    minimum=_ZERO,
                ),
                _fact(
                    "prohibited_products",
                    help="产品或服务属于国家禁止、限制或淘汰类目录",
                    choices=TRI_STATE,
                ),
                _fact("lists.abnormal", help="被市场监管部门列入经营异常名录", choices=TRI_STATE),
                _fact("lists.dishonest", help="被列入严重违法失信主体名单", choices=TRI_STATE),
            ],
        ),
        (
            "知识产权",
            [
                _fact(
                    "ip.class1",
                    help="与主导产品相关的有效Ⅰ类知识产权：发明专利（含国防专利）、植物新品种、集成电路布图设计等",
                    kind="int",
                    minimum=_ZERO,
                ),
                _fact(
                    "ip.class1_self_developed", help="上一项中自主研发获得的件数", kind="int", minimum=_ZERO
                ),
                _fact(
                    "ip.class1_high_value", help="上一项中高价值发明专利等的件数", kind="int", minimum=_ZERO
                ),
                _fact(
                    "ip.class2",
                    help="Ⅱ类知识产权：实用新型专利、外观设计专利、软件著作权等",
                    kind="int",
                    minimum=_ZERO,
                ),
            ],
        ),
        (
            "市场地位",
            [
                _fact(
                    "market.domestic_share_pct",
                    help="主导产品在国内细分市场的占有率，填 14 表示 14%",
                    minimum=_ZERO,
                    maximum=_HUNDRED,
                ),
                _fact(
                    "market.domestic_rank",
                    help="主导产品在国内细分市场的排名，1 为第一",
                    kind="int",
                    minimum=Decimal(1),
                ),
                _fact(
                    "market.global_rank",
                    help="主导产品在全球细分市场的排名，1 为第一",
                    kind="int",
                    minimum=Decimal(1),
                ),
            ],
        ),
        (
            "研发机构与标准",
            [
                _fact("rd_institution", help="经认定的研发机构的最高级别", choices=RD_INSTITUTIONS),
                _fact(
                    "led_standard_within_5y",
                    help="近五年主导制定过国际、国家或行业标准",
                    choices=TRI_STATE,
                ),
            ],
        ),
        (
            "评分",
            [
                _fact(
                    "scores.hnte_innovation",
                    help="高企认定的企业创新能力评价得分（须高于 70 分）；未评价可不填，结果为待人工评审",
                    minimum=_ZERO,
                    maximum=_HUNDRED,
                ),
                _fact(
                    "scores.srdi_platform",
                    help="优质中小企业梯度培育平台给出的专精特新发展评价得分",
                    minimum=_ZERO,
                    maximum=_HUNDRED,
                ),
                _fact(
                    "scores.srdi_2022",
                    help="按 2022 年标准（工信部企业〔2022〕63号）的专精特新评价得分",
                    minimum=_ZERO,
                    maximum=_HUNDRED,
                ),
                _fact(
                    "tech_sme_rd_measure",
                    help="科技型中小企业研发投入指标的口径；不选则取得分较高的一种",
                    choices=RD_MEASURES,
                    placeholder="取得分较高的口径",
                ),
            ],
        ),
    ]


# Rows of the list sections: (list name, section title, [(field, label, kind, choices)], required fields).
_TIER_CHOICES = [(t.value, label) for t, label in TIER_LABELS.items()]
ROW_SPECS: dict[str, tuple[str, list[tuple[str, str, str, list[tuple[str, str]]]], tuple[str, ...]]] = {
    "recognitions": (
        "认定记录",
        [
            ("tier", "梯度", "choice", _TIER_CHOICES),
            ("kind", "认定类型", "choice", [(k.value, v) for k, v in RECOGNITION_KIND_LABELS.items()]),
            ("issued_on", "认定日期", "date", []),
            ("expires_on", "有效期至", "date", []),
            ("revoked_on", "撤销日期", "date", []),
        ],
        ("tier", "issued_on"),
    ),
    "awards": (
        "获奖",
        [
            ("level", "级别", "choice", [(k.value, v) for k, v in AWARD_LEVEL_LABELS.items()]),
            ("awarded_on", "获奖日期", "date", []),
            ("rank", "本单位排名", "int", []),
        ],
        ("level", "awarded_on"),
    ),
    "incidents": (
        "事故与违法记录",
        [
            ("kind", "类型", "choice", [(k.value, v) for k, v in INCIDENT_KIND_LABELS.items()]),
            ("grade", "等级", "choice", [(k.value, v) for k, v in INCIDENT_GRADE_LABELS.items()]),
            ("occurred_on", "发生日期", "date", []),
        ],
        ("kind", "grade", "occurred_on"),
    ),
}
LIST_HELP = {
    "recognitions": "曾获得的梯度认定（含已过期的），用于判断评估日是否持有及直通条件",
    "awards": "国家级、省级或省部级科技奖励；排名为本单位在获奖单位中的名次",
    "incidents": "安全、质量、环境、网络、数据安全事故，税务违法或弄虚作假等",
}
YEAR_INTS = ("employees", "tech_staff", "rd_staff")
YEAR_HELP = {
    "employees": "全年月平均职工人数",
    "tech_staff": "从事研发和相关技术创新活动的人员，及为其提供直接服务的人员",
    "rd_staff": "直接从事研究开发活动的人员",
    "revenue": "营业收入（销售收入）",
    "main_revenue": "主营业务收入",
    "hightech_revenue": "高新技术产品（服务）收入",
    "total_income": "收入总额",
    "rd_expense": "按研发费用归集口径的全部研发费用",
    "rd_expense_domestic": "其中在中国境内发生的研发费用",
    "cost_total": "成本费用总额",
    "total_assets": "年末资产总额",
    "total_liabilities": "年末负债总额",
    "net_profit": "亏损填负数",
    "equity_financing": "当年新增股权融资（实缴）",
}
_YEAR_KEY = re.compile(r"^years\.(\d{4})\.([a-z_]+)$")


def year_columns(as_of: date, values: Mapping[str, Any]) -> list[int]:
    """The three last full years before `as_of`, plus any other year the visitor typed figures for."""
    years = {as_of.year - 3, as_of.year - 2, as_of.year - 1}
    for key, value in values.items():
        found = _YEAR_KEY.match(key)
        if found and str(value).strip() and found.group(2) in YEAR_FIELD_INFO:
            years.add(int(found.group(1)))
    return sorted(years)


def _number(raw: str, *, integer: bool, minimum: Decimal | None, maximum: Decimal | None) -> Decimal:
    try:
        value = Decimal(raw.replace(" ", ""))
    except InvalidOperation:
        raise ValueError("应为整数" if integer else "应为数字") from None
    if not value.is_finite():
        raise ValueError("应为数字")
    if integer and value != value.to_integral_value():
        raise ValueError("应为整数")
    if value and value.adjusted() >= 12:
        raise ValueError("数字过大，请检查单位（金额以万元计）")
    if int(value.as_tuple().exponent) < -4:
        raise ValueError("最多 4 位小数")
    if minimum is not None and value < minimum:
        raise ValueError(f"不能小于 {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"不能大于 {maximum}")
    return value


def parse_value(
    kind: str,
    raw: str,
    *,
    choices: list[tuple[str, str]] | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Any:
    """The typed value of one field (None when blank: unknown), or ValueError with a Chinese message."""
    if raw == "":
        return None
    if kind == "bool":
        if raw not in ("true", "false"):
            raise ValueError("请选择是、否或未知")
        return raw == "true"
    if kind == "date":
        day, error = parse_day(raw)
        if error:
            raise ValueError(error)
        return day
    if kind == "choice":
        if raw not in {code for code, _ in choices or []}:
            raise ValueError("取值无效，请从列表中选择")
        return raw
    return _number(raw, integer=kind == "int", minimum=minimum, maximum=maximum)


@dataclass
class SelfCheck:
    """What the form shows: the typed text of every field, the errors beside them, and the contract's firm."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    firm: dict[str, Any] = field(default_factory=dict)
    as_of: date | None = None


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    head, _, tail = path.partition(".")
    if tail:
        target.setdefault(head, {})[tail] = value
    else:
        target[head] = value


def _rows(name: str, values: Mapping[str, str], errors: dict[str, str]) -> list[dict[str, Any]] | None:
    """One list (recognitions, awards, incidents): None when unknown, [] when none, else the typed rows."""
    _, fields, required = ROW_SPECS[name]
    given = values.get(f"{name}.given", "")
    rows: list[dict[str, Any]] = []
    for i in range(ROWS):
        raw = {f: values.get(f"{name}.{i}.{f}", "") for f, *_ in fields}
        if not any(raw[f] for f in required):
            if any(raw.values()):
                for f in required:
                    errors[f"{name}.{i}.{f}"] = "必填"
            continue
        row: dict[str, Any] = {}
        for f, _label, kind, choices in fields:
            key = f"{name}.{i}.{f}"
            try:
                row[f] = parse_value(kind, raw[f], choices=choices, minimum=Decimal(1))
            except ValueError as exc:
                errors[key] = str(exc)
            if f in required and not raw[f]:
                errors[key] = "必填"
        if name == "recognitions" and row.get("issued_on"):
            for end in ("expires_on", "revoked_on"):
                if row.get(end) and row[end] < row["issued_on"]:
                    errors[f"{name}.{i}.{end}"] = "不能早于认定日期"
        if row.get("rank") is not None:
            row["rank"] = int(row["rank"])
        rows.append(row)
    if given == "none" and rows:
        errors[f"{name}.given"] = "选择了“无”，但下表填写了记录"
    elif given == "listed" and not rows:
        errors[f"{name}.given"] = "请在下表至少填写一条，或选择“无”"
    elif given not in ("", "none", "listed"):
        errors[f"{name}.given"] = "取值无效，请从列表中选择"
    if given == "none":
        return []
    return rows if rows or given == "listed" else None


def read_self_check(form: FormData, groups: list[tuple[str, list[Field]]]) -> SelfCheck:
    """Validate the posted form and build the contract's firm object (nothing is stored)."""
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    check = SelfCheck(values=values)
    errors = check.errors
    check.as_of, error = parse_day(values.get("as_of", ""))
    if error:
        errors["as_of"] = error if values.get("as_of") else "请填写评估日期"
    firm: dict[str, Any] = {}
    for _title, fields in groups:
        for f in fields:
            try:
                value = parse_value(
                    f.kind, values.get(f.name, ""), choices=f.choices, minimum=f.minimum, maximum=f.maximum
                )
            except ValueError as exc:
                errors[f.name] = str(exc)
                continue
            _set_path(firm, f.name, value)
    for name in ROW_SPECS:
        firm[name] = _rows(name, values, errors)
    years: dict[str, dict[str, Decimal | None]] = {}
    for year in year_columns(check.as_of or today(), values):
        row: dict[str, Decimal | None] = {}
        for name in YEAR_FIELD_INFO:
            key = f"years.{year}.{name}"
            try:
                row[name] = (
                    _number(
                        values[key],
                        integer=name in YEAR_INTS,
                        minimum=None if name == "net_profit" else _ZERO,
                        maximum=None,
                    )
                    if values.get(key)
                    else None
                )
            except ValueError as exc:
                errors[key] = str(exc)
        if any(v is not None for v in row.values()):
            years[str(year)] = row
    firm["years"] = years
    check.firm = firm
    return check


def field_labels(groups: list[tuple[str, list[Field]]], years: list[int]) -> dict[str, str]:
    """Every field's label, for the error summary's links."""
    labels = {"as_of": "评估日期"}
    labels.update({f.name: f.label for _t, fields in groups for f in fields})
    for name, (title, fields, _req) in ROW_SPECS.items():
        labels[f"{name}.given"] = f"{title}：有无"
        for i in range(ROWS):
            labels.update({f"{name}.{i}.{f}": f"{title}第 {i + 1} 行：{label}" for f, label, *_ in fields})
    for year in years:
        for name, (label, unit) in YEAR_FIELD_INFO.items():
            labels[f"years.{year}.{name}"] = f"{year} 年{label}（{unit}）"
    return labels


# --- routes ---------------------------------------------------------------------------------------------------


async def _read_form(request: Request) -> FormData:
    return await request.form()


def _groups(session: SessionDep) -> list[tuple[str, list[Field]]]:
    ref = reference_service.reference_options(session)
    return form_groups(ref.district_options(), ref.park_options(None))


def _page(
    request: Request,
    groups: list[tuple[str, list[Field]]],
    check: SelfCheck,
    *,
    view: DecisionView | None = None,
    policies: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    as_of = check.as_of or today()
    years = year_columns(as_of, check.values)
    fragment = wants_block(request, "self_check_result")
    ctx = {
        "groups": groups,
        "values": check.values,
        "errors": check.errors,
        "labels": field_labels(groups, years) if check.errors else {},
        "year_columns": years,
        "year_fields": [
            (n, label, unit, YEAR_HELP.get(n, "")) for n, (label, unit) in YEAR_FIELD_INFO.items()
        ],
        "row_specs": ROW_SPECS,
        "row_count": ROWS,
        "list_given": LIST_GIVEN,
        "list_help": LIST_HELP,
        "mode_fields": mode_fields(assess_as_of(check.values)),
        "reviewing": bool(assess_as_of(check.values)),
        "view": view,
        "policies": policies or [],
        # htmx swaps the result; the form comes along out of band only when it has something new to show
        # (errors to add or clear, year columns that moved with the evaluation date).
        "oob_form": fragment
        and bool(
            check.errors or check.values.get("had_errors") or check.values.get("year_cols") != _cols(years)
        ),
    }
    return render(request, "rules/self_check.html", ctx, block="self_check_result", status_code=status_code)


def _cols(years: list[int]) -> str:
    return ",".join(str(y) for y in years)


@router.get("/self-check", name="rules:self_check")
def self_check_page(request: Request, session: SessionDep, _principal: OptionalPrincipal) -> Response:
    """企业自测: the form, open to anyone; nothing typed here is stored."""
    day = today()
    return _page(request, _groups(session), SelfCheck(values={"as_of": day.isoformat()}, as_of=day))


@router.post("/self-check", name="rules:self_check_submit", dependencies=[Depends(eligibility_rate_limit)])
def self_check_submit(
    request: Request,
    session: SessionDep,
    _principal: OptionalPrincipal,
    form: Annotated[FormData, Depends(_read_form)],
) -> Response:
    """Run the typed facts through the rules for every tier; an invalid form comes back (422) as typed."""
    groups = _groups(session)
    check = read_self_check(form, groups)
    if check.errors or check.as_of is None:
        return _page(request, groups, check, status_code=422)
    facts = facts_from_contract(check.firm)
    decisions = decide_facts(session, facts, check.as_of, assess_as_of(check.values))
    policies = policy_matches(session, facts, check.as_of)
    return _page(request, groups, check, view=decision_view(decisions, check.as_of), policies=policies)


def policy_matches(session: Session, facts: Any, as_of: date) -> list[dict[str, Any]]:
    """The policy items the facts match on `as_of` (as the contract's `policies`), with amount and gaps."""
    from app.policies import catalogue
    from app.policies.models import DELIVERY_MODE_LABELS

    labels = {"eligible": "符合条件", "needs_review": "需人工审核", "insufficient_data": "资料待补充"}
    matches = catalogue.match_facts(
        catalogue.list_policies(session, active_only=True), facts, as_of, param_table(session)
    )
    return [
        {
            "name": m.policy.name,
            "document_no": m.policy.document_no,
            "mode": DELIVERY_MODE_LABELS.get(m.policy.mode, m.policy.mode),
            "status": m.decision.status,
            "status_label": labels.get(m.decision.status, m.decision.status),
            "amount": catalogue.amount_text(m.policy),
            "gaps": m.decision.gaps,
        }
        for m in matches
    ]
