"""Web pages of the firm file (一企一档): the firm list, create and edit forms, and the file page with its
in-place edits. Every htmx action is also a plain link or form (STYLE §5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from math import ceil
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.audit.actor import set_reason
from app.auth import repository as auth_repository
from app.auth.dependencies import StaffPrincipal
from app.auth.models import Role
from app.auth.principal import Principal
from app.casework.models import TASK_STATUS_LABELS
from app.config import settings
from app.db import SessionDep
from app.errors import Conflict, NotFound, NotPermitted, RuleViolation
from app.firms import file as firm_file
from app.firms import forms, repository, service
from app.firms.dependencies import FirmDep
from app.firms.forms import FormDep, FormState, FormStates
from app.firms.models import FIRM_STATUS_LABELS, KNOWN_TAGS, Contact, Firm
from app.firms.schemas import (
    AwardIn,
    ContactIn,
    FactIn,
    FirmCreate,
    FirmUpdate,
    IncidentIn,
    RecognitionIn,
    RevokeIn,
    YearIn,
)
from app.indicators import service as indicators_service
from app.indicators.facts import FACT_DEFS, FACTS, RD_INSTITUTION_LABELS, display_value, effective_year
from app.indicators.models import (
    AWARD_LEVEL_LABELS,
    INCIDENT_GRADE_LABELS,
    INCIDENT_KIND_LABELS,
    SOURCE_LABELS,
    SOURCE_RANK,
    YEAR_FIELDS,
    Source,
)
from app.recognitions import service as recognitions_service
from app.recognitions.models import RECOGNITION_KIND_LABELS, RECOGNITION_LEVEL_LABELS
from app.storage import get_storage
from app.tiers.codes import LADDER_LEVEL_LABELS, LADDER_POSITION, TIER_LABELS, Tier, ladder_level
from app.web.formatting import fmt_amount, today
from app.web.templating import redirect_after_post, render, wants_block

router = APIRouter(prefix="/firms", include_in_schema=False)

LABELS: dict[str, Any] = {
    "tier": {k.value: v for k, v in TIER_LABELS.items()},
    "status": {k.value: v for k, v in FIRM_STATUS_LABELS.items()},
    "source": {k.value: v for k, v in SOURCE_LABELS.items()},
    "rec_kind": {k.value: v for k, v in RECOGNITION_KIND_LABELS.items()},
    "rec_level": {k.value: v for k, v in RECOGNITION_LEVEL_LABELS.items()},
    "incident_kind": {k.value: v for k, v in INCIDENT_KIND_LABELS.items()},
    "incident_grade": {k.value: v for k, v in INCIDENT_GRADE_LABELS.items()},
    "award_level": {k.value: v for k, v in AWARD_LEVEL_LABELS.items()},
    "task_status": {k.value: v for k, v in TASK_STATUS_LABELS.items()},
}
SOURCE_OPTIONS = [(s.value, SOURCE_LABELS[s]) for s in sorted(Source, key=lambda s: -SOURCE_RANK[s])]


def _opts(labels: dict[Any, str]) -> list[tuple[str, str]]:
    return [(str(getattr(k, "value", k)), v) for k, v in labels.items()]


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _by_ladder(tiers: list[str]) -> list[str]:
    """Highest ladder position first (小巨人 before 高企 before 科技型), labels beside the ladder last."""
    order = list(Tier)
    return sorted(tiers, key=lambda t: (-LADDER_POSITION.get(Tier(t), 0), order.index(Tier(t))))


def _plain(value: Any) -> str:
    """A stored number as an officer would type it back (260, 38.5), without thousands separators."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    return str(value)


STALE = "该企业档案已被他人修改，请刷新后重试（您读取的版本已过期）"


def _attempt(session: Session, action: Callable[[], Any]) -> dict[str, str]:
    """Run a change in a savepoint: a refused change leaves nothing behind and comes back as form errors
    (a conflict under the key "__conflict__" as well, for a 409)."""
    try:
        with session.begin_nested():
            action()
    except Conflict as exc:
        return {"__all__": exc.message, "__conflict__": "1"}
    except StaleDataError:
        return {"__all__": STALE, "__conflict__": "1"}
    except RuleViolation as exc:
        return forms.error_of(exc)
    return {}


def _ensure_can_edit(principal: Principal) -> None:
    """Leaders read only: refuse before looking at the form, so a leader's post is 403 whatever it holds."""
    service.ensure_can_edit(principal)


# --- the firm list ---------------------------------------------------------------------------------------


@dataclass
class ListRow:
    firm: Firm
    park: str
    area: str
    industry: str
    officer: str
    tiers: list[tuple[str, str]]
    ladder_level: int
    ladder_label: str
    status_label: str
    tags: list[str]


FILTER_KEYS = ("q", "park", "area", "industry", "tier", "tag", "status", "officer")


@router.get("", name="firms:list")
def list_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    q: str | None = None,
    park: str | None = None,
    area: str | None = None,
    industry: str | None = None,
    tier: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    officer: str | None = None,
    sort: str | None = None,
    dir: str | None = None,
    page: str | None = None,
    areas_for: str | None = None,
) -> Response:
    """The firm list: active search, filters, sortable columns and pages; the table alone for htmx."""
    values = {
        "q": _clean(q),
        "park": _clean(park),
        "area": _clean(area),
        "industry": _clean(industry),
        "tier": _clean(tier),
        "tag": _clean(tag),
        "status": _clean(status),
        "officer": _clean(officer),
    }
    ref = forms.reference_options(session)
    if (
        values["park"]
        and values["area"]
        and all(a.code != values["area"] or a.park_code != values["park"] for a in ref.areas)
    ):
        values["area"] = None  # an area left over from the previous park
    sort_key = sort if sort in repository.SORTS else "name"
    direction = "desc" if dir == "desc" else "asc"
    page_no = max(_int_or_none(page) or 1, 1)
    size = settings.page_size
    filters = repository.FirmFilters(
        q=values["q"],
        park=values["park"],
        area=values["area"],
        industry=values["industry"],
        tier=values["tier"],
        tag=values["tag"],
        status=values["status"],
        officer=_int_or_none(values["officer"]),
    )
    rows, total = repository.list_firms(
        session,
        principal,
        filters,
        today=today(),
        sort=sort_key,
        descending=direction == "desc",
        limit=size,
        offset=(page_no - 1) * size,
    )
    pages = max(ceil(total / size), 1)
    names = ref.names
    view = []
    for row in rows:
        m = row.membership
        level = ladder_level(set(row.tiers_held))
        view.append(
            ListRow(
                firm=row.firm,
                park=names["park"].get(m.park_code, m.park_code) if m else "",
                area=names["area"].get(m.area_code, m.area_code) if m and m.area_code else "",
                industry=names["industry"].get(m.industry_code, m.industry_code)
                if m and m.industry_code
                else "",
                officer=row.officer.display_name if row.officer else "",
                tiers=[(t, LABELS["tier"].get(t, t)) for t in _by_ladder(row.tiers_held)],
                ladder_level=level,
                ladder_label=LADDER_LEVEL_LABELS.get(level, ""),
                status_label=LABELS["status"].get(row.firm.status, row.firm.status),
                tags=row.tags,
            )
        )
    list_url = request.app.url_path_for("firms:list")
    active = {k: v for k, v in values.items() if v}
    base = list_url + ("?" + urlencode(active) if active else "")
    page_base = list_url + "?" + urlencode({**active, "sort": sort_key, "dir": direction})
    fragment = wants_block(request, "firm_table")
    officers = auth_repository.officers(session, principal.park_codes)
    ctx = {
        "rows": view,
        "total": total,
        "page": page_no,
        "pages": pages,
        "values": values,
        "sort": sort_key,
        "dir": direction,
        "base_url": base,
        "page_base": page_base,
        "filtered": bool(active),
        "fragment": fragment,
        # The area select follows the park select: `areas_for` is the park its options were drawn for, so
        # when the park changed the fragment brings the new options out of band.
        "oob_area": fragment and (_clean(areas_for) or "") != (values["park"] or ""),
        "park_options": ref.park_options(principal.park_codes),
        "area_groups": ref.area_groups(values["park"], principal.park_codes),
        "industry_options": ref.industry_options(),
        "tier_options": _opts(TIER_LABELS),
        "tag_options": [(t, t) for t in KNOWN_TAGS],
        "status_options": _opts(FIRM_STATUS_LABELS),
        "officer_options": [(str(u.id), u.display_name) for u in officers],
        "can_create": principal.can_create_firms,
    }
    # The address bar gets only the filters set (not every empty field): shareable, and Back works.
    shown = dict(active)
    if (sort_key, direction) != ("name", "asc"):
        shown.update(sort=sort_key, dir=direction)
    if page_no > 1:
        shown["page"] = str(page_no)
    headers = {"HX-Push-Url": list_url + ("?" + urlencode(shown) if shown else "")} if fragment else None
    return render(request, "firms/list.html", ctx, block="firm_table", headers=headers)


# --- create and edit ---------------------------------------------------------------------------------------


def _firm_form_context(
    session: Session, principal: Principal, state: FormState, *, firm: Firm | None = None
) -> dict[str, Any]:
    ref = forms.reference_options(session)
    park = state.values.get("park") or None
    scope = principal.park_codes
    officers = auth_repository.officers(session, frozenset([park]) if park else scope)
    # The firm's officer stays choosable even when not listed for the park (an admin, say):
    # saving must not drop them.
    chosen = _int_or_none(state.values.get("officer_id"))
    if chosen and all(u.id != chosen for u in officers):
        officers += list(auth_repository.users_by_ids(session, {chosen}).values())
    return {
        "state": state,
        "firm": firm,
        "park_options": ref.park_options(scope),
        "area_groups": ref.area_groups(park, scope),
        "carrier_groups": ref.carrier_groups(park, scope),
        "industry_options": ref.industry_options(),
        "district_options": ref.district_options(),
        "officer_options": [(str(u.id), u.display_name) for u in officers],
        "status_options": _opts(FIRM_STATUS_LABELS),
        "tag_options": [(t, t) for t in KNOWN_TAGS],
    }


@router.get("/new", name="firms:new")
def new_page(
    request: Request, session: SessionDep, principal: StaffPrincipal, park: str | None = None
) -> Response:
    """The create form. `?park=` narrows the area and carrier choices (htmx refreshes only those)."""
    if not principal.can_create_firms:
        raise NotPermitted("您的角色不能新建企业档案")
    # An officer of one park gets it chosen; with several (or all) parks every park's areas are offered,
    # grouped, so that the form works without JavaScript too.
    only_park = (
        next(iter(principal.park_codes)) if principal.park_codes and len(principal.park_codes) == 1 else None
    )
    values: dict[str, Any] = {
        "park": _clean(park) or only_park,
        "joined_on": today().isoformat(),
        "tags": [],
    }
    if principal.role is Role.officer:
        values["officer_id"] = str(principal.user_id)
    ctx = _firm_form_context(session, principal, FormState(values=values))
    return render(request, "firms/new.html", ctx, block="placement_fields")


@router.post("", name="firms:create")
def create(request: Request, session: SessionDep, principal: StaffPrincipal, form: FormDep) -> Response:
    """Register a firm; an invalid form comes back (422) with every value typed and the errors beside."""
    if not principal.can_create_firms:
        raise NotPermitted("您的角色不能新建企业档案")
    values = forms.text_values(form, forms.FIRM_CREATE_FIELDS)
    data, errors = forms.validate(FirmCreate, values)
    created: list[Firm] = []
    if data is not None:
        errors = _attempt(
            session, lambda: created.append(service.create_firm(session, principal, data, today=today()))
        )
    if errors:
        ctx = _firm_form_context(session, principal, FormState(values=values, errors=errors, open=True))
        return render(request, "firms/new.html", ctx, status_code=422)
    return redirect_after_post(request, request.app.url_path_for("firms:detail", firm_id=str(created[0].id)))


def _edit_values(session: Session, firm: Firm) -> dict[str, Any]:
    full = repository.load_with_children(session, firm.id)
    current = next((m for m in full.memberships if m.valid_to is None), None)
    return {
        "version": str(full.version),
        "name": full.name,
        "uscc": full.uscc,
        "founded_on": full.founded_on.isoformat() if full.founded_on else "",
        "district": full.district_code or "",
        "address": full.address or "",
        "status": str(full.status),
        # Empty: a status change takes effect from the date typed (or today), never the old status's date.
        "status_since": "",
        "officer_id": str(full.officer_id) if full.officer_id else "",
        "park": current.park_code if current else "",
        "area": current.area_code or "" if current else "",
        "carrier": current.carrier_code or "" if current else "",
        "industry": current.industry_code or "" if current else "",
        "tags": [t.tag for t in full.tags if t.valid_to is None],
        "joined_on": current.valid_from.isoformat() if current else "",
    }


@router.get("/{firm_id}/edit", name="firms:edit")
def edit_page(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, park: str | None = None
) -> Response:
    """Edit the profile and placement, carrying the version read (a stale one is refused)."""
    _ensure_can_edit(principal)
    values = _edit_values(session, firm)
    current_park = values["park"]
    if park is not None and _clean(park) != current_park:
        values.update(park=_clean(park) or "", area="", carrier="")
    ctx = _firm_form_context(session, principal, FormState(values=values), firm=firm)
    return render(request, "firms/edit.html", ctx, block="placement_fields")


@router.post("/{firm_id}", name="firms:update")
def update(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Apply the edit; a stale version changes nothing and shows the form again (409)."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.FIRM_UPDATE_FIELDS)
    data, errors = forms.validate(
        FirmUpdate, forms.update_payload(values), keep_blank=True, required=("name", "uscc", "park")
    )
    if data is not None:
        # The version read is checked first: a stale form changes nothing, whatever else it holds.
        if data.version != firm.version:
            errors = {"__all__": STALE, "__conflict__": "1"}
        else:
            errors = _attempt(
                session, lambda: service.update_firm(session, principal, firm, data, today=today())
            )
    status = 409 if errors.pop("__conflict__", None) else 422
    if status == 409:
        errors["__all__"] += "。您填写的内容仍保留在下方，请核对当前档案后再保存。"
    if errors:
        ctx = _firm_form_context(
            session, principal, FormState(values=values, errors=errors, open=True), firm=firm
        )
        ctx["stale"] = status == 409
        return render(request, "firms/edit.html", ctx, status_code=status)
    return redirect_after_post(request, request.app.url_path_for("firms:detail", firm_id=str(firm.id)))


# --- the file page -----------------------------------------------------------------------------------------


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


def _year_table(built: firm_file.FirmFile) -> list[dict[str, Any]]:
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
            cells.append(
                {
                    "year": yv.year,
                    "text": text,
                    "source": str(eff.source) if eff.source else None,
                    "conflict": eff.conflict,
                    "items": items,
                    "title": "；".join(f"{a}：{b}" for a, b, _ in items),
                }
            )
        table.append({"name": name, "label": label + ("（万元）" if is_amount else ""), "cells": cells})
    return table


def _fmt_year_value(value: Any, is_amount: bool) -> str:
    if value is None:
        return ""
    return fmt_amount(value) if is_amount else str(value)


def _fact_rows(built: firm_file.FirmFile) -> list[dict[str, Any]]:
    out = []
    for row in firm_file.fact_rows(built):
        defn, eff = row["defn"], row["effective"]
        out.append(
            {
                "key": defn.key,
                "label": defn.label,
                "known": eff is not None,
                "value": display_value(defn.key, eff.value) if eff else "未知",
                "source": str(eff.chosen.source) if eff else None,
                "valid_from": eff.chosen.valid_from if eff else None,
                "department": eff.chosen.source_department if eff else None,
                "conflict": bool(eff and eff.conflict),
                "items": [
                    (
                        LABELS["source"][str(o.source)],
                        display_value(defn.key, o.value),
                        f"自 {o.valid_from.isoformat()}",
                    )
                    for o in (eff.candidates if eff else [])
                ],
                "count": len(row["observations"]),
            }
        )
    return out


def _suggest_new_year(built: firm_file.FirmFile) -> int:
    have = {y.year for y in built.years}
    year = today().year - 1
    while year in have and year > 1990:
        year -= 1
    return year


def _file_context(
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
) -> dict[str, Any]:
    day = today()
    past = as_of is not None and as_of != day
    built = firm_file.build(
        session, principal, firm, today=day, as_of=as_of, reveal_personal=reveal, with_history=with_history
    )
    ref = forms.reference_options(session)
    names = ref.names
    people = auth_repository.users_by_ids(
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
        "officer_name": people[built.firm.officer_id].display_name if built.firm.officer_id in people else "",
        "people": {k: v.display_name for k, v in people.items()},
        "tiers": [(t, LABELS["tier"].get(t, t)) for t in _by_ladder(built.tiers_held)],
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
        "fact_options": [(d.key, d.label) for d in FACT_DEFS],
        "fact_hints": {d.key: _fact_hint(d.key) for d in FACT_DEFS},
        "recognitions": recognitions,
        "history_subjects": _history_subjects(built),
        "states": states or FormStates(),
        "can_edit": can_edit,
        "can_reveal": principal.can_see_personal_data and bool(built.contacts) and built.contacts_masked,
        "source_options": SOURCE_OPTIONS,
        "tier_options": _opts(TIER_LABELS),
        "rec_kind_options": _opts(RECOGNITION_KIND_LABELS),
        "rec_level_options": _opts(RECOGNITION_LEVEL_LABELS),
        "incident_kind_options": _opts(INCIDENT_KIND_LABELS),
        "incident_grade_options": _opts(INCIDENT_GRADE_LABELS),
        "award_level_options": _opts(AWARD_LEVEL_LABELS),
        "max_upload_mb": settings.max_upload_mb,
        "oob": oob,
    }


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


@router.get("/{firm_id}", name="firms:detail")
def detail(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    as_of: Annotated[date | None, Query()] = None,
) -> Response:
    """The firm file; `?as_of=YYYY-MM-DD` shows it as it was on that date."""
    ctx = _file_context(request, session, principal, firm, as_of=as_of)
    return render(request, "firms/detail.html", ctx)


@router.get("/{firm_id}/contacts", name="firms:contacts")
def contacts(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, reveal: str | None = None
) -> Response:
    """The contacts, masked; `?reveal=1` shows full phone and ID numbers to roles that may (logged)."""
    fragment = wants_block(request, "contacts")
    ctx = _file_context(
        request, session, principal, firm, reveal=reveal in ("1", "true"), with_history=not fragment
    )
    return render(request, "firms/detail.html", ctx, block="contacts")


def _detail_url(request: Request, firm: Firm, anchor: str = "") -> str:
    url = request.app.url_path_for("firms:detail", firm_id=str(firm.id))
    return f"{url}#{anchor}" if anchor else url


def _section_done(
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
        ctx = _file_context(request, session, principal, firm, oob=("history", *extra_oob))
        return render(request, "firms/detail.html", ctx, block=block)
    return redirect_after_post(request, _detail_url(request, firm, block.replace("_", "-")))


def _section_invalid(
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
    ctx = _file_context(
        request,
        session,
        principal,
        firm,
        states=states,
        year_form=year_form,
        with_history=not wants_block(request, block),
    )
    return render(request, "firms/detail.html", ctx, block=block, status_code=status)


# --- yearly indicators -------------------------------------------------------------------------------------


def _year_form_values(
    session: Session, firm: Firm, year: int, source: str | None
) -> tuple[dict[str, Any], bool]:
    """The form of one year from one source: that source's row if any (else the year's best source)."""
    rows = [r for r in indicators_service.years_of(session, firm.id) if r.year == year]
    rows.sort(key=lambda r: -SOURCE_RANK[Source(r.source)])
    wanted = (
        source if source in {s.value for s in Source} else (rows[0].source if rows else "officer_verified")
    )
    row = next((r for r in rows if r.source == wanted), None)
    values: dict[str, Any] = {
        "year": str(year),
        "source": str(wanted),
        "source_department": (row.source_department if row else "") or "",
    }
    for name in forms.YEAR_VALUE_FIELDS:
        values[name] = _plain(getattr(row, name)) if row else ""
    return values, bool(rows)


def _year_placeholders(session: Session, firm: Firm, year: int | None) -> dict[str, str]:
    """For a field this source left empty: what another source says (shown greyed inside the input)."""
    rows = [r for r in indicators_service.years_of(session, firm.id) if r.year == year]
    out = {}
    for name, eff in effective_year(rows, forms.YEAR_VALUE_FIELDS).items():
        if eff.value is not None and eff.source is not None:
            out[name] = f"{SOURCE_LABELS[eff.source]}：{_plain(eff.value)}"
    return out


@router.get("/{firm_id}/years/{year}/edit", name="firms:year_form")
def year_form(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    year: int,
    source: str | None = None,
) -> Response:
    """The form of one year's indicators, in place of the table's empty form slot (htmx) or on the file."""
    _ensure_can_edit(principal)
    values, exists = _year_form_values(session, firm, year, source)
    form = {
        "state": FormState(values=values, open=True),
        "exists": exists,
        "year": year,
        "placeholders": _year_placeholders(session, firm, year),
    }
    ctx = _file_context(
        request, session, principal, firm, year_form=form, with_history=not wants_block(request, "year_form")
    )
    return render(request, "firms/detail.html", ctx, block="year_form")


@router.post("/{firm_id}/years", name="firms:save_year")
def save_year(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Add or replace one year's indicators from one source; the years table comes back (htmx) or a 303."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.YEAR_FORM_FIELDS)
    is_new = form.get("is_new") == "1"
    year, year_error = forms.parse_year(values.get("year"))
    data, errors = forms.validate(YearIn, forms.year_payload(values))
    if year_error:
        errors = {"year": year_error, **errors}
    if not errors and year is not None and data is not None:
        taken = any(
            r.year == year and r.source == data.source for r in indicators_service.years_of(session, firm.id)
        )
        if is_new and taken:
            errors = {
                "year": f"{year} 年度已有“{SOURCE_LABELS[data.source]}”的数据，请在表格中点该年度的“编辑”"
            }
        else:
            errors = _attempt(
                session,
                lambda: indicators_service.upsert_year(session, principal, firm, year, data, today=today()),
            )
    if errors:
        state = FormState(values=values, errors=errors, open=True)
        form_ctx = {
            "state": state,
            "exists": not is_new,
            "year": year,
            "placeholders": _year_placeholders(session, firm, year),
        }
        return _section_invalid(request, session, principal, firm, "years", FormStates(), year_form=form_ctx)
    return _section_done(request, session, principal, firm, "years")


# --- facts, incidents, awards -----------------------------------------------------------------------------


@router.post("/{firm_id}/facts", name="firms:add_fact")
def add_fact(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record what one source says of a fact, from a date."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.FACT_FIELDS)
    data, errors = forms.validate(FactIn, values)
    if data is not None:
        errors = _attempt(
            session, lambda: indicators_service.add_fact(session, principal, firm, data, today=today())
        )
    if errors:
        return _section_invalid(
            request, session, principal, firm, "facts", FormStates(fact=FormState(values, errors, open=True))
        )
    return _section_done(request, session, principal, firm, "facts")


@router.post("/{firm_id}/incidents", name="firms:add_incident")
def add_incident(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record an incident or violation with its grade and date."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.INCIDENT_FIELDS)
    data, errors = forms.validate(IncidentIn, values)
    if data is not None:
        errors = _attempt(session, lambda: indicators_service.add_incident(session, principal, firm, data))
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "incidents_awards",
            FormStates(incident=FormState(values, errors, open=True)),
        )
    return _section_done(request, session, principal, firm, "incidents_awards")


@router.post("/{firm_id}/awards", name="firms:add_award")
def add_award(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record an award with its level and the firm's rank."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.AWARD_FIELDS)
    data, errors = forms.validate(AwardIn, values)
    if data is not None:
        errors = _attempt(session, lambda: indicators_service.add_award(session, principal, firm, data))
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "incidents_awards",
            FormStates(award=FormState(values, errors, open=True)),
        )
    return _section_done(request, session, principal, firm, "incidents_awards")


# --- recognitions and evidence -----------------------------------------------------------------------------


@router.post("/{firm_id}/recognitions", name="firms:add_recognition")
def add_recognition(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record a recognition (认定/入库/复核/带证迁入); the expiry defaults to the tier's validity."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.RECOGNITION_FIELDS)
    data, errors = forms.validate(RecognitionIn, values)
    if data is not None:
        errors = _attempt(
            session, lambda: recognitions_service.add_recognition(session, principal, firm, data)
        )
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "recognitions",
            FormStates(recognition=FormState(values, errors, open=True)),
        )
    return _section_done(request, session, principal, firm, "recognitions", extra_oob=("summary",))


@router.post("/{firm_id}/recognitions/{recognition_id}/revoke", name="firms:revoke_recognition")
def revoke_recognition(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    recognition_id: int,
    form: FormDep,
) -> Response:
    """Revoke a recognition from a date, with the reason."""
    _ensure_can_edit(principal)
    rec = recognitions_service.get_recognition(session, firm, recognition_id)
    values = forms.text_values(form, forms.REVOKE_FIELDS)
    data, errors = forms.validate(RevokeIn, values)
    if data is not None:
        errors = _attempt(session, lambda: recognitions_service.revoke(session, principal, rec, data))
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "recognitions",
            FormStates({f"revoke-{recognition_id}": FormState(values, errors, open=True)}),
        )
    return _section_done(request, session, principal, firm, "recognitions", extra_oob=("summary",))


@router.post("/{firm_id}/evidence", name="firms:upload_evidence")
def upload_evidence(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Upload a certificate scan, PDF or image; the type is read from the bytes, the size is limited."""
    _ensure_can_edit(principal)
    upload = form.get("file")
    values = forms.text_values(form, ("recognition_id", "reason"))
    errors: dict[str, str] = {}
    recognition_id = _int_or_none(values.get("recognition_id"))
    if not hasattr(upload, "read") or not getattr(upload, "filename", ""):
        errors = {"file": "请选择要上传的文件"}
    else:
        limit = settings.max_upload_mb * 1024 * 1024
        data = upload.file.read(limit + 1)  # type: ignore[union-attr]
        name = upload.filename or "file"  # type: ignore[union-attr]
        set_reason(session, values.get("reason"))
        errors = _attempt(
            session,
            lambda: recognitions_service.attach_evidence(
                session,
                principal,
                get_storage(),
                firm,
                filename=name,
                data=data,
                recognition_id=recognition_id,
            ),
        )
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "recognitions",
            FormStates(evidence=FormState(values, errors, open=True)),
        )
    return _section_done(request, session, principal, firm, "recognitions")


@router.get("/{firm_id}/evidence/{evidence_id}", name="firms:evidence")
def evidence(session: SessionDep, principal: StaffPrincipal, firm: FirmDep, evidence_id: int) -> Response:
    """Download an evidence file (always as an attachment, with the type decided at upload)."""
    row = recognitions_service.get_evidence(session, firm, evidence_id)
    data = get_storage().open(row.storage_key)
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- contacts ---------------------------------------------------------------------------------------------


def _contact_of(session: Session, firm: Firm, contact_id: int) -> Contact:
    found = next((c for c in repository.contacts_of(session, firm.id) if c.id == contact_id), None)
    if found is None:
        raise NotFound("未找到该联系人")
    return found


@router.post("/{firm_id}/contacts", name="firms:add_contact")
def add_contact(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Add a contact person."""
    _ensure_can_edit(principal)
    values = forms.text_values(form, forms.CONTACT_FIELDS)
    data, errors = forms.validate(ContactIn, forms.contact_payload(values))
    if data is not None:
        errors = _attempt(session, lambda: service.add_contact(session, principal, firm, data))
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "contacts",
            FormStates(contact_new=FormState(values, errors, open=True)),
        )
    return _section_done(request, session, principal, firm, "contacts")


@router.post("/{firm_id}/contacts/{contact_id}", name="firms:update_contact")
def update_contact(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    contact_id: int,
    form: FormDep,
) -> Response:
    """Change a contact person (the form is offered only with the full information shown)."""
    _ensure_can_edit(principal)
    contact = _contact_of(session, firm, contact_id)
    values = forms.text_values(form, forms.CONTACT_FIELDS)
    data, errors = forms.validate(ContactIn, forms.contact_payload(values))
    if data is not None:
        errors = _attempt(session, lambda: service.update_contact(session, principal, contact, data))
    if errors:
        return _section_invalid(
            request,
            session,
            principal,
            firm,
            "contacts",
            FormStates({f"contact-{contact_id}": FormState(values, errors, open=True)}),
        )
    return _section_done(request, session, principal, firm, "contacts")


@router.post("/{firm_id}/contacts/{contact_id}/delete", name="firms:delete_contact")
def delete_contact(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    contact_id: int,
    form: FormDep,
) -> Response:
    """Remove a contact person."""
    _ensure_can_edit(principal)
    contact = _contact_of(session, firm, contact_id)
    reason = forms.text_values(form, ("reason",)).get("reason")
    service.delete_contact(session, principal, contact, reason)
    return _section_done(request, session, principal, firm, "contacts")
