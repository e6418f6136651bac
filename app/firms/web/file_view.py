"""The firm file page's context (what each section shows, computed here so templates only format), and the
responses after a change to one of its sections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth import repository as auth_repository
from app.auth.principal import Principal
from app.config import settings
from app.firms import file as firm_file
from app.firms import repository
from app.firms.models import Firm
from app.firms.web.common import LABELS, SOURCE_OPTIONS, by_ladder, opts
from app.firms.web.forms import FormStates
from app.indicators.facts import FACT_DEFS, FACTS, RD_INSTITUTION_LABELS, display_value
from app.indicators.models import (
    AWARD_LEVEL_LABELS,
    INCIDENT_GRADE_LABELS,
    INCIDENT_KIND_LABELS,
    SOURCE_RANK,
    YEAR_FIELDS,
    Source,
)
from app.recognitions import ledger as tier_ledger
from app.recognitions import service as recognitions_service
from app.recognitions.models import RECOGNITION_KIND_LABELS, RECOGNITION_LEVEL_LABELS
from app.tiers.codes import LADDER_LEVEL_LABELS, TIER_LABELS
from app.web.formatting import fmt_amount, today
from app.web.templating import redirect_after_post, render, url_path, wants_block


def _recognition_status(view: firm_file.RecognitionView, as_of: date) -> tuple[str, str]:
    rec = view.recognition
    if rec.revoked_on is not None and rec.revoked_on <= as_of:
        return "revoked", "已撤销"
    if view.expired:
        return "expired", "已过期"
    if view.expiring_soon and rec.expires_on is not None:
        return "expiring", f"即将到期（{(rec.expires_on - as_of).days} 天）"
    if view.held:
        return "valid", "有效"
    return "pending", "未生效"


def _period_state(period: tier_ledger.TierPeriod, day: date) -> tuple[str, str]:
    """(badge kind, label) of a ledger period as of `day`."""
    if period.never_held:
        return "muted", "未生效（认定当日撤销）"
    if period.covers(day):
        return "valid", "持有中"
    if period.start > day:
        return "info", "未开始"
    if period.ended_by is tier_ledger.EventKind.revoked:
        return "muted", "已撤销"
    return "expired", "已到期"


def _ledger(built: firm_file.FirmFile, on: date | None, on_text: str, on_error: str | None) -> dict[str, Any]:
    """梯度台账: each tier's periods with their events, and the answer to "which tiers on `on`"."""
    recs = [view.recognition for view in built.recognitions]
    periods = []
    for period in tier_ledger.tier_periods(recs):
        kind, label = _period_state(period, built.as_of)
        periods.append(
            {
                "period": period,
                "tier_label": LABELS["tier"].get(period.tier, period.tier),
                "kind": kind,
                "state": label,
            }
        )
    held = by_ladder([str(t) for t in tier_ledger.held_tiers(recs, on)]) if on is not None else []
    return {
        "periods": periods,
        "on": on,
        "value": on_text if on_error else (on or built.as_of).isoformat(),
        "error": on_error,
        "held": [(t, LABELS["tier"].get(t, t)) for t in held],
    }


# Where a value came from, as its badge shows it: 企业填报 grey, 部门数据 blue, 专员核实 green.
SOURCE_BADGE_KINDS = {"officer_verified": "ok", "department": "info"}


def _source_badge(source: str | None) -> tuple[str, str] | None:
    if not source:
        return None
    return SOURCE_BADGE_KINDS.get(source, "muted"), LABELS["source"].get(source, source)


# The table cells and fact lines are slotted classes, not dicts: the templates read a few fields of each of
# some hundred cells, and Jinja reads an attribute of a dict only after failing to find it as an attribute.
@dataclass(slots=True)
class YearCell:
    year: int
    text: str
    source: str | None
    badge: tuple[str, str] | None
    conflict: bool
    items: list[tuple[str, str, str]]
    title: str


@dataclass(slots=True)
class YearTableRow:
    name: str
    label: str
    cells: list[YearCell]


def _year_table(built: firm_file.FirmFile) -> list[YearTableRow]:
    table = []
    for name, label, is_amount in YEAR_FIELDS:
        cells = []
        for yv in built.years:
            eff = yv.effective[name]
            text = _fmt_year_value(eff.value, is_amount)
            items = [
                (LABELS["source"][str(s)], _fmt_year_value(v, is_amount), "")
                for s, v in eff.values_by_source.items()
            ]
            source = str(eff.source) if eff.source else None
            cells.append(
                YearCell(
                    year=yv.year,
                    text=text,
                    source=source,
                    badge=_source_badge(source),
                    conflict=eff.conflict,
                    items=items,
                    title="；".join(f"{a}：{b}" for a, b, _ in items),
                )
            )
        table.append(YearTableRow(name=name, label=label + ("（万元）" if is_amount else ""), cells=cells))
    return table


def _fmt_year_value(value: Any, is_amount: bool) -> str:
    if value is None:
        return ""
    return fmt_amount(value) if is_amount else str(value)


@dataclass(slots=True)
class FactLine:
    key: str
    label: str
    known: bool
    value: str
    source: str | None
    badge: tuple[str, str] | None
    valid_from: date | None
    department: str | None
    conflict: bool
    items: list[tuple[str, str, str]]
    title: str
    count: int


def _fact_rows(built: firm_file.FirmFile) -> list[FactLine]:
    out = []
    for row in firm_file.fact_rows(built):
        defn, eff = row["defn"], row["effective"]
        source = str(eff.chosen.source) if eff else None
        items = [
            (
                LABELS["source"][str(o.source)],
                display_value(defn.key, o.value),
                f"自 {o.valid_from.isoformat()}",
            )
            for o in (eff.candidates if eff else [])
        ]
        out.append(
            FactLine(
                key=defn.key,
                label=defn.label,
                known=eff is not None,
                value=display_value(defn.key, eff.value) if eff else "未知",
                source=source,
                badge=_source_badge(source),
                valid_from=eff.chosen.valid_from if eff else None,
                department=eff.chosen.source_department if eff else None,
                conflict=bool(eff and eff.conflict),
                items=items,
                title="；".join("：".join(item) for item in items),
                count=len(row["observations"]),
            )
        )
    return out


def _suggest_new_year(built: firm_file.FirmFile) -> int:
    have = {y.year for y in built.years}
    year = today().year - 1
    while year in have and year > 1990:
        year -= 1
    return year


def file_context(
    request: Request,
    session: Session,
    principal: Principal,
    firm: Firm,
    *,
    as_of: date | None = None,
    reveal: bool = False,
    states: FormStates | None = None,
    year_form: dict[str, Any] | None = None,
    with_history: bool = True,
    oob: tuple[str, ...] = (),
    ledger_on: date | None = None,
    ledger_text: str = "",
    ledger_error: str | None = None,
) -> dict[str, Any]:
    """Everything the file page (or one of its blocks) shows, as of today or `as_of`; `ledger_on` is the
    date asked of the tier ledger (查询某日持有的梯度)."""
    day = today()
    past = as_of is not None and as_of != day
    built = firm_file.build(
        session, principal, firm, today=day, as_of=as_of, reveal_personal=reveal, with_history=with_history
    )
    names = built.names
    people = auth_repository.user_names(
        session, {i for i in [built.firm.officer_id, *(t.assignee_id for t in built.tasks)] if i}
    )
    recognitions = []
    for view in built.recognitions:
        state, label = _recognition_status(view, built.as_of)
        recognitions.append({"view": view, "rec": view.recognition, "state": state, "state_label": label})
    if past:
        # Years not over on that date had no figures yet (figures shown are today's, corrections included).
        built.years = [y for y in built.years if y.year < built.as_of.year]
    m = built.membership
    can_edit = principal.can_edit_firms and not past
    return {
        "file": built,
        "firm": built.firm,
        "as_of": built.as_of if past else None,
        "as_of_name": repository.name_on(session, firm.id, built.as_of) if past else None,
        "as_of_status": repository.status_on(session, firm.id, built.as_of) if past else None,
        "names": names,
        "labels": LABELS,
        "placement": {
            "park": names["park"].get(m.park_code, m.park_code) if m else "",
            "area": names["area"].get(m.area_code or "", "") if m else "",
            "carrier": names["carrier"].get(m.carrier_code or "", "") if m else "",
            "industry": names["industry"].get(m.industry_code or "", "") if m else "",
        },
        "district_name": names["district"].get(
            built.firm.district_code or "", built.firm.district_code or ""
        ),
        "officer_name": people.get(built.firm.officer_id, "") if built.firm.officer_id else "",
        "people": people,
        "tiers": [(t, LABELS["tier"].get(t, t)) for t in by_ladder(built.tiers_held)],
        "ladder_label": LADDER_LEVEL_LABELS.get(built.ladder_level, ""),
        "year_columns": [y.year for y in built.years],
        "year_table": _year_table(built),
        "year_sources": {
            y.year: [
                LABELS["source"][str(r.source)]
                for r in sorted(y.rows, key=lambda r: -SOURCE_RANK[Source(r.source)])
            ]
            for y in built.years
        },
        "new_year": _suggest_new_year(built),
        "year_form": year_form,
        "year_field_defs": [(n, label, amount) for n, label, amount in YEAR_FIELDS],
        "fact_rows": _fact_rows(built),
        "fact_hints": {d.key: _fact_hint(d.key) for d in FACT_DEFS},
        "recognitions": recognitions,
        "ledger": _ledger(built, ledger_on, ledger_text, ledger_error),
        "history_subjects": _history_subjects(built),
        "states": states or FormStates(),
        "can_edit": can_edit,
        "can_reveal": principal.can_see_personal_data and bool(built.contacts) and built.contacts_masked,
        **FORM_OPTIONS,
        "max_upload_mb": settings.max_upload_mb,
        "oob": oob,
    }


# The choices of the file's forms (fixed label tables).
FORM_OPTIONS: dict[str, Any] = {
    "fact_options": [(d.key, d.label) for d in FACT_DEFS],
    "source_options": SOURCE_OPTIONS,
    "tier_options": opts(TIER_LABELS),
    "rec_kind_options": opts(RECOGNITION_KIND_LABELS),
    "rec_level_options": opts(RECOGNITION_LEVEL_LABELS),
    "incident_kind_options": opts(INCIDENT_KIND_LABELS),
    "incident_grade_options": opts(INCIDENT_GRADE_LABELS),
    "award_level_options": opts(AWARD_LEVEL_LABELS),
}


def form_context(session: Session, firm: Firm, name: str, states: FormStates) -> dict[str, Any]:
    """What one add form of the file needs when it is rendered alone (its block), and nothing else."""
    ctx: dict[str, Any] = {
        "firm": firm,
        "labels": LABELS,
        "states": states,
        **FORM_OPTIONS,
        "max_upload_mb": settings.max_upload_mb,
    }
    if name == "evidence":  # the recognition an upload belongs to, as the file lists them
        recs = recognitions_service.recognitions_of(session, firm.id)
        ctx["recognitions"] = [{"rec": rec} for rec in recs]
    return ctx


def _history_subjects(built: firm_file.FirmFile) -> dict[tuple[str, int], str]:
    """Which year or recognition a history line is about ("2025 年 · 部门数据"), by (entity label, row id)."""
    out: dict[tuple[str, int], str] = {}
    for yv in built.years:
        for row in yv.rows:
            out[("年度指标", row.id)] = f"{row.year} 年 · {LABELS['source'].get(row.source, row.source)}"
    for view in built.recognitions:
        rec = view.recognition
        out[("认定", rec.id)] = LABELS["tier"].get(rec.tier, rec.tier)
    return out


def _fact_hint(key: str) -> str:
    defn = FACTS[key]
    if defn.kind == "bool":
        return "是 / 否"
    if defn.kind == "date":
        return "日期 YYYY-MM-DD"
    if defn.kind == "choice":
        return (
            "、".join(RD_INSTITUTION_LABELS.values())
            if key == "rd_institution"
            else "、".join(defn.choices.values())
        )
    if defn.kind == "int":
        return "整数"
    return "数字" + (f"（{defn.unit}）" if defn.unit else "")


def _detail_url(request: Request, firm: Firm, anchor: str = "") -> str:
    url = url_path(request.app, "firms:detail", firm_id=firm.id)
    return f"{url}#{anchor}" if anchor else url


def section_done(
    request: Request,
    session: Session,
    principal: Principal,
    firm: Firm,
    block: str,
    *,
    extra_oob: tuple[str, ...] = (),
) -> Response:
    """After a change: htmx gets the section again plus the history out of band; a plain post a 303."""
    if wants_block(request, block):
        ctx = file_context(request, session, principal, firm, oob=("history", "eligibility", *extra_oob))
        return render(request, "firms/detail.html", ctx, block=block)
    return redirect_after_post(request, _detail_url(request, firm, block.replace("_", "-")))


def section_invalid(
    request: Request,
    session: Session,
    principal: Principal,
    firm: Firm,
    block: str,
    states: FormStates,
    *,
    year_form: dict[str, Any] | None = None,
    status: int = 422,
) -> Response:
    """An invalid form: the section (htmx) or the whole file (plain) with the form open and its errors."""
    ctx = file_context(
        request,
        session,
        principal,
        firm,
        states=states,
        year_form=year_form,
        with_history=not wants_block(request, block),
    )
    return render(request, "firms/detail.html", ctx, block=block, status_code=status)
