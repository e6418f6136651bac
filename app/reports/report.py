"""The monthly report as pages and exports read it: tables by park, functional area, industry and officer with
环比 and 同比 beside every count, flows, plan-target progress, projected lapses and the bar charts' geometry.

Everything here works on the few thousand grouped rows the repository returns, never on firms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.reference.models import PlanTarget
from app.reports import months, service
from app.reports import repository as repo
from app.reports.models import ReportMonth, Restatement, View
from app.reports.repository import FineRow, Scope
from app.reports.service import KEY_LABELS, LEVELS, MEASURES, SIGNS, TIERS, Difference

DIMS = {"park": "园区", "area": "功能区", "industry": "行业", "officer": "服务专员"}
NONE_LABELS = {"park": "—", "area": "未划定功能区", "industry": "未填行业", "officer": "未指定服务专员"}
VIEW_TITLES = {View.counts: "梯度企业数", View.ladder: "阶梯视图（每家企业按最高梯度计一次）"}


@dataclass
class Cell:
    value: int
    mom: int | None = None  # 环比: change since the previous month-end
    yoy: int | None = None  # 同比: change since the same month-end a year before
    restated: int | None = None  # a closed month's figure as last restated
    drill: dict[str, str] = field(default_factory=dict)


@dataclass
class Line:
    code: str
    label: str
    cells: list[Cell]
    total: Cell | None = None  # ladder rows: firms on any rung


@dataclass
class Table:
    view: View
    dim: str
    keys: list[tuple[str, str]]
    lines: list[Line]
    total: Line

    @property
    def title(self) -> str:
        return f"{VIEW_TITLES[self.view]} · 按{DIMS[self.dim]}"

    @property
    def has_row_total(self) -> bool:
        return self.view is View.ladder


def _dim(row: FineRow, dim: str) -> str:
    if dim == "park":
        return row.park
    if dim == "area":
        return row.area or ""
    if dim == "industry":
        return row.industry or ""
    return str(row.officer_id or 0)


def _sums(rows: list[FineRow], dim: str) -> dict[tuple[str | None, str | None], int]:
    """Sums by (dimension value, key), with the margins: (value, None), (None, key) and (None, None)."""
    out: dict[tuple[str | None, str | None], int] = defaultdict(int)
    for r in rows:
        code = _dim(r, dim)
        for k in ((code, r.key), (code, None), (None, r.key), (None, None)):
            out[k] += r.value
    return out


def _label(names: dict[str, dict[Any, str]], dim: str, code: str) -> str:
    if code in ("", "0"):
        return NONE_LABELS[dim]
    if dim == "officer":
        return names["officer"].get(int(code), f"用户 {code}")
    return names[dim].get(code, code)


def build_table(
    view: View,
    dim: str,
    now: list[FineRow],
    prev: list[FineRow],
    year_ago: list[FineRow],
    names: dict[str, dict[Any, str]],
    scope: Scope,
    restated: dict[tuple[View, str, str], int] | None = None,
) -> Table:
    keys = list(KEY_LABELS[view].items())
    cur, mom, yoy = _sums(now, dim), _sums(prev, dim), _sums(year_ago, dim)
    codes = {c for c, _ in (*cur, *mom, *yoy) if c is not None}
    if dim == "park":
        codes |= {p for p in names["park"] if scope is None or p in scope}
    ordered = sorted(codes, key=lambda c: (c in ("", "0"), _label(names, dim, c) if dim == "officer" else c))

    def cell(code: str | None, key: str | None) -> Cell:
        def pick(table: dict[tuple[str | None, str | None], int]) -> int:
            return table.get((code, key), 0)

        value = pick(cur)
        drill = {"view": view.value}
        if key is not None:
            drill["key"] = key
        if code is not None:
            drill[dim] = code
        found = restated.get((view, code, key)) if restated and dim == "park" and code and key else None
        return Cell(value, value - pick(mom), value - pick(yoy), found, drill if key is not None else {})

    lines = []
    for code in ordered:
        total = cell(code, None) if view is View.ladder else None
        lines.append(Line(code, _label(names, dim, code), [cell(code, k) for k, _ in keys], total))
    total_line = Line(
        "", "合计", [cell(None, k) for k, _ in keys], cell(None, None) if view is View.ladder else None
    )
    return Table(view, dim, keys, lines, total_line)


# -------------------------------------------------------------------------------------------- flows


@dataclass
class FlowLine:
    park: str
    park_label: str
    tier: str
    tier_label: str
    values: dict[str, int]

    @property
    def balanced(self) -> bool:
        expected = self.values["opening"] + sum(s * self.values[m] for m, s in SIGNS.items())
        return expected == self.values["closing"]


def flow_lines(flows: dict[tuple[str, str, str], int], names: dict[str, dict[Any, str]]) -> list[FlowLine]:
    pairs = sorted({(p, t) for p, t, _ in flows}, key=lambda pt: (pt[0], TIERS.index(pt[1])))
    out = []
    for park, tier in pairs:
        values = {m: flows.get((park, tier, m), 0) for m in MEASURES}
        if any(values.values()):
            out.append(
                FlowLine(park, names["park"].get(park, park), tier, KEY_LABELS[View.counts][tier], values)
            )
    return out


# ---------------------------------------------------------------------------------- targets, lapses


@dataclass
class TargetProgress:
    target: PlanTarget
    park_label: str
    current: int | None  # None: not measured from the ledger
    why_not: str = ""

    @property
    def percent(self) -> int | None:
        if self.current is None or not self.target.value:
            return None
        return int(Decimal(self.current) * 100 / self.target.value)

    @property
    def gap(self) -> int | None:
        if self.current is None:
            return None
        return max(int(self.target.value) - self.current, 0)

    @property
    def max_value(self) -> int:
        return int(self.target.value)


def target_progress(
    targets: list[PlanTarget], counts: list[FineRow], names: dict[str, dict[Any, str]]
) -> list[TargetProgress]:
    """Targets in 家 of one tier are measured by that tier's month-end count in the park; the rest are shown
    with the reason they are not (a 倍数 of a base year, an amount, a tag or a combination of tiers)."""
    held = service.by_park_key(counts)
    out = []
    for t in targets:
        park_label = names["park"].get(t.park_code, t.park_code)
        if t.tier and t.unit == "家":
            out.append(TargetProgress(t, park_label, held.get((t.park_code, t.tier), 0)))
        elif t.tier:
            out.append(TargetProgress(t, park_label, None, f"单位为“{t.unit}”，需对照基期人工核算"))
        else:
            out.append(TargetProgress(t, park_label, None, "非单一梯度指标，不从梯度台账计量"))
    return out


@dataclass
class LapseLine:
    park: str
    park_label: str
    tier: str
    tier_label: str
    within: dict[int, int]


def lapse_lines(
    lapses: dict[tuple[str, str], dict[int, int]], names: dict[str, dict[Any, str]]
) -> list[LapseLine]:
    """Tiers held at the month-end that lapse within 3 and 6 months unless renewed, by park."""
    return [
        LapseLine(p, names["park"].get(p, p), t, KEY_LABELS[View.counts].get(t, t), w)
        for (p, t), w in sorted(lapses.items(), key=lambda kv: (kv[0][0], TIERS.index(kv[0][1])))
        if any(w.values())
    ]


# ------------------------------------------------------------------------------------------- charts


@dataclass
class Bar:
    label: str
    value: int
    width: int
    x: int
    y: int


def bars(
    items: list[tuple[str, int]], *, width: int = 360, row: int = 26, centred: bool = False
) -> list[Bar]:
    """Bar geometry for an SVG chart (attributes, no inline style): widths scaled to the largest value."""
    top = max((v for _, v in items), default=0) or 1
    out = []
    for i, (label, value) in enumerate(items):
        w = round(width * value / top) if value else 0
        out.append(Bar(label, value, w, (width - w) // 2 if centred else 0, i * row))
    return out


# ------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    month: str
    day: date
    closed: ReportMonth | None
    prev_month: str
    year_ago_month: str
    scope: Scope
    names: dict[str, dict[Any, str]]
    now: service.MonthFigures
    prev: service.MonthFigures
    year_ago: service.MonthFigures
    flows: list[FlowLine]
    targets: list[TargetProgress]
    lapses: list[LapseLine]
    restatements: list[Restatement]
    pending: list[Difference]
    restated: dict[tuple[View, str, str], int]

    @property
    def label(self) -> str:
        return months.label(self.month)

    def table(self, view: View, dim: str) -> Table:
        rows: Callable[[service.MonthFigures], list[FineRow]] = (
            (lambda f: f.counts) if view is View.counts else (lambda f: f.ladder)
        )
        return build_table(
            view,
            dim,
            rows(self.now),
            rows(self.prev),
            rows(self.year_ago),
            self.names,
            self.scope,
            self.restated,
        )

    def tier_bars(self) -> list[Bar]:
        totals = service.by_park_key(self.now.counts)
        items = [
            (label, sum(v for (_, k), v in totals.items() if k == key))
            for key, label in KEY_LABELS[View.counts].items()
        ]
        return bars(items)

    def ladder_bars(self) -> list[Bar]:
        """The cultivation pyramid: rung 5 on top, each bar centred."""
        totals = service.by_park_key(self.now.ladder)
        items = [
            (KEY_LABELS[View.ladder][k], sum(v for (_, kk), v in totals.items() if kk == k))
            for k in reversed(LEVELS)
        ]
        return bars(items, centred=True)

    def json_rows(self) -> list[dict[str, Any]]:
        return detail_rows(self.now.counts)


def detail_rows(counts: list[FineRow]) -> list[dict[str, Any]]:
    """Tier counts by (park, area, industry, tier), as the JSON contract and the 明细 sheet give them."""
    out: dict[tuple[str, str | None, str | None, str], int] = defaultdict(int)
    for r in counts:
        out[(r.park, r.area, r.industry, r.key)] += r.value
    ordered = sorted(
        out.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or "", TIERS.index(kv[0][3]))
    )
    return [{"park": p, "area": a, "industry": i, "tier": t, "count": n} for (p, a, i, t), n in ordered]


def monthly(session: Session, principal: Principal, month: str, today: date) -> Report:
    """The whole report of `month` for this principal's parks: one snapshot of the ledger at the month-ends
    it needs live, plus the frozen figures of whichever of the month, the previous one and the one a year
    before are closed."""
    month = months.parse(month)
    scope = service.scope_of(principal)
    prev_month, year_ago_month = months.shift(month, -1), months.shift(month, -12)
    closed = repo.closed_months(session, [month, prev_month, year_ago_month])
    is_closed = closed.get(month)
    day = service.as_of(month, today)
    # The month-ends read live: this one always (lapses, restatements), the previous one for the flows or an
    # open month's 环比, the one a year before only while its month is open.
    flow = is_closed is None
    dates = [day, months.end(prev_month)] if flow or prev_month not in closed else [day]
    if year_ago_month not in closed:
        dates.append(months.end(year_ago_month))
    live = service.live(session, dates, scope, flow=flow, lapses=True)
    rows = dict(zip(dates, live.rows, strict=True))
    empty: dict[View, list[FineRow]] = {View.counts: [], View.ladder: []}

    def month_figures(m: str) -> service.MonthFigures:
        end_rows = rows.get(service.as_of(m, today), empty)
        return service.frozen_or(session, m, scope, today, closed.get(m), end_rows)

    now, prev, year_ago = month_figures(month), month_figures(prev_month), month_figures(year_ago_month)
    names = repo.names(session)
    restatements = repo.restatements(session, month, scope) if is_closed else []
    flows = repo.frozen_flows(session, month, scope) if is_closed else live.flows
    pending = service.compare(service.published(session, month, scope), rows[day]) if is_closed else []
    return Report(
        month=month,
        day=day,
        closed=is_closed,
        prev_month=prev_month,
        year_ago_month=year_ago_month,
        scope=scope,
        names=names,
        now=now,
        prev=prev,
        year_ago=year_ago,
        flows=flow_lines(flows, names),
        targets=target_progress(repo.targets(session, scope), now.counts, names),
        lapses=lapse_lines(live.lapses, names),
        restatements=restatements,
        pending=pending,
        restated={(View(r.view), r.park_code, r.key): r.new_value for r in restatements},
    )
