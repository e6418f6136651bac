"""规则库 (rule catalogue): every tier, its rule-set versions (dates, 新申请/复核, districts, document and source),
each criterion with its citation, and the parameters each version uses with their dated values. Read-only: this is
where officers look up which standard applies on which date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.models import Role
from app.db import SessionDep
from app.rules import service
from app.rules.admin import ALL_DISTRICTS, district_names, fmt_value, param_anchor
from app.rules.loader import MODES, TIERS, Criterion, ParamDef, ParamTable, RuleSet, rulebook
from app.rules.vocabulary import TIER_LABELS_SHORT, RuleError
from app.tiers.codes import TIER_LABELS, Tier
from app.web.formatting import today
from app.web.templating import render

MODE_LABELS = {"new": "新申请", "review": "复核"}


def tier_label(tier: str) -> str:
    try:
        return TIER_LABELS[Tier(tier)]
    except ValueError:
        return TIER_LABELS_SHORT.get(tier, tier)


@dataclass
class DatedValue:
    effective_from: date
    scope: str
    value_text: str
    by_admin: bool


@dataclass
class ParamRow:
    d: ParamDef
    values: list[DatedValue]
    on_text: str

    @property
    def anchor(self) -> str:
        return param_anchor(self.d.name)


@dataclass
class VersionView:
    rs: RuleSet
    state: str  # in_force | past | future (relative to the date asked about)
    applies_label: str
    districts_label: str
    criteria: list[Criterion]
    params: list[ParamRow]
    decision: str = ""
    chosen_for: list[str] = field(default_factory=list)  # the modes this version is selected for on that date

    @property
    def anchor(self) -> str:
        rs = self.rs
        scope = "-".join(rs.districts) if rs.districts else "all"
        return f"rs-{rs.tier}-{rs.effective_from.isoformat()}-{'-'.join(rs.applies_to)}-{scope}"

    def modes_label(self, c: Criterion) -> str:
        return "" if set(c.modes) >= set(self.rs.applies_to) else "、".join(MODE_LABELS[m] for m in c.modes)


@dataclass
class TierView:
    tier: str
    label: str
    versions: list[VersionView]
    in_force: list[tuple[str, str | None]]  # (mode label, version label or None) on the date asked about


STATE_LABELS = {"in_force": "生效中", "past": "已失效", "future": "未生效"}
STATE_KINDS = {"in_force": "valid", "past": "muted", "future": "info"}


def decision_text(node: Any, numbers: dict[str, str], top: bool = True) -> str:
    """The decision tree by criterion number: 须同时满足 1、2、3，及（4 或（5 且 6））."""
    if isinstance(node, str):
        return numbers.get(node, node)
    key = next(iter(node))
    parts = [decision_text(child, numbers, False) for child in node[key]]
    if top:
        return ("须同时满足 " + "、".join(parts)) if key == "all" else ("满足其一：" + " 或 ".join(parts))
    return "（" + (" 且 " if key == "all" else " 或 ").join(parts) + "）"


def _param_row(d: ParamDef, table: ParamTable, names: dict[str, str], on: date) -> ParamRow:
    values = [
        DatedValue(
            day, ALL_DISTRICTS if district is None else names.get(district, district), fmt_value(v, d.unit), o
        )
        for day, district, v, o in table.history(d.name)
    ]
    try:
        on_text = fmt_value(table.value(d.name, on), d.unit)
    except RuleError:
        on_text = "—"
    return ParamRow(d, values, on_text)


def catalogue(session: Session, on: date) -> list[TierView]:
    """Every tier in ladder order with its versions, oldest first; what applies on `on` (district default)."""
    book = rulebook()
    table = service.param_table(session)
    names = district_names(session)
    tiers = []
    for tier in TIERS:
        sets = sorted(
            (s for s in book.sets if s.tier == tier), key=lambda s: (s.effective_from, s.applies_to)
        )
        chosen = {mode: book.select(tier, on, mode) for mode in MODES}
        versions = []
        for rs in sets:
            state = "in_force" if rs.covers(on) else ("future" if rs.effective_from > on else "past")
            params = [
                _param_row(book.params[name], table, names, on)
                for name in sorted(rs.params_used, key=list(book.params).index)
            ]
            versions.append(
                VersionView(
                    rs=rs,
                    state=state,
                    applies_label="、".join(MODE_LABELS[m] for m in rs.applies_to),
                    districts_label="、".join(names.get(c, c) for c in rs.districts)
                    if rs.districts
                    else ALL_DISTRICTS,
                    criteria=rs.criteria,
                    params=params,
                    decision=decision_text(rs.decision, {c.id: str(i) for i, c in enumerate(rs.criteria, 1)}),
                    chosen_for=[MODE_LABELS[m] for m, s in chosen.items() if s is rs],
                )
            )
        in_force = [(MODE_LABELS[m], s.label if s else None) for m, s in chosen.items()]
        tiers.append(TierView(tier, tier_label(tier), versions, in_force))
    return tiers


# ---------------------------------------------------------------------------------------------------------- routes

router = APIRouter(tags=["rules"], include_in_schema=False)

PAGE = "rules/catalogue.html"


def _parse_day(value: str) -> tuple[date, str | None]:
    if not value.strip():
        return today(), None
    try:
        return date.fromisoformat(value.strip()), None
    except ValueError:
        return today(), "日期格式应为 YYYY-MM-DD，已按今天显示"


@router.get("/rules", name="rules:catalogue")
def catalogue_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    on: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """规则库: every tier's rule versions with citations and parameters; `?on=` shows what applies that day."""
    day, error = _parse_day(on)
    ctx: dict[str, Any] = {
        "on": day,
        "on_error": error,
        "tiers": catalogue(session, day),
        "state_labels": STATE_LABELS,
        "state_kinds": STATE_KINDS,
        "is_admin": principal.role is Role.admin,
    }
    return render(request, PAGE, ctx, block="catalogue_body")
