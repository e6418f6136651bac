"""规则参数 (district settings): every parameter that parameters.yaml marks `district_setting: true`, its full dated
history (the file's values and administrators' values) and the value in force; administrators append new dated
values. Nothing is edited or deleted: a later value supersedes an earlier one from its effective date, so the
rules of any past date can be reproduced. The cited national and provincial thresholds are not editable here.

Service first (no HTTP), then the two routes (page/fragment and the append form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction

from app.audit.actor import set_reason
from app.auth.dependencies import AdminPrincipal, StaffPrincipal
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.db import SessionDep
from app.errors import RuleViolation
from app.reference.models import District
from app.rules import service
from app.rules.loader import DISTRICTS, ParamDef, RuleBook, rulebook
from app.rules.models import RuleSetting
from app.rules.vocabulary import RuleError
from app.web.formatting import today
from app.web.templating import redirect_after_post, render, wants_block
from app.web.validation import field_errors

ALL_DISTRICTS = "全部区"
# Used only when the reference table has not been loaded (a fresh database).
FALLBACK_DISTRICT_NAMES = {"jingan": "静安区", "yangpu": "杨浦区", "hongkou": "虹口区"}
STATE_LABELS = {"current": "现行", "future": "待生效", "superseded": "已被替代"}
STATE_KINDS = {"current": "valid", "future": "info", "superseded": "muted"}
NOTE_MAX = 500


class RuleSettingsAreAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_setting_edits(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    """A dated value is never changed or removed: a correction is a new value with its own date."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, RuleSetting) and (obj in session.deleted or session.is_modified(obj)):
            raise RuleSettingsAreAppendOnly("规则参数的取值只能追加，不能修改或删除")


# ---------------------------------------------------------------------------------------------------------- service


def fmt_value(value: Decimal | None, unit: str = "") -> str:
    """1,000 / 0.5 / 20 % — without needless zeros (the column keeps 4 decimals)."""
    if value is None:
        return "—"
    text = format(value.normalize(), ",f")
    text = "0" if text in ("-0", "") else text
    return f"{text} {unit}".rstrip() if unit else text


def plain_value(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def param_anchor(name: str) -> str:
    """The id of a parameter's section on the settings page (linked from the catalogue)."""
    return "param-" + name.replace(".", "-").replace("_", "-")


def district_names(session: Session) -> dict[str, str]:
    """The districts a value may be scoped to, in DISTRICTS order, by their Chinese names."""
    rows = dict(
        session.execute(select(District.code, District.name).where(District.code.in_(DISTRICTS)))
        .tuples()
        .all()
    )
    return {code: rows.get(code) or FALLBACK_DISTRICT_NAMES.get(code, code) for code in DISTRICTS}


def district_setting_defs(book: RuleBook | None = None) -> list[ParamDef]:
    """Parameters an administrator may set, in parameters.yaml order."""
    return [d for d in (book or rulebook()).params.values() if d.district_setting]


@dataclass
class HistoryEntry:
    effective_from: date
    district: str | None
    district_label: str
    value: Decimal
    value_text: str
    from_file: bool
    by: str | None = None
    at: datetime | None = None
    note: str | None = None
    state: str = "superseded"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def state_kind(self) -> str:
        return STATE_KINDS[self.state]


@dataclass
class InForce:
    district: str | None
    district_label: str
    value_text: str
    differs: bool = False


@dataclass
class SettingView:
    d: ParamDef
    history: list[HistoryEntry] = field(default_factory=list)
    in_force: list[InForce] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return param_anchor(self.d.name)

    @property
    def uniform(self) -> bool:
        """Every district has the all-district value today."""
        return not any(f.differs for f in self.in_force)


def _mark_states(entries: list[HistoryEntry], on: date) -> None:
    """现行 / 待生效 / 已被替代, in the engine's order (ParamTable: date, then file before admin, then entry order):
    for each scope the last value dated on or before `on` that applies to it is the one in force."""
    winners: set[int] = set()
    for scope in (None, *DISTRICTS):
        winner = None
        for i, e in enumerate(entries):
            if e.effective_from <= on and (e.district is None or e.district == scope):
                winner = i
        if winner is not None:
            winners.add(winner)
    for i, e in enumerate(entries):
        e.state = "future" if e.effective_from > on else ("current" if i in winners else "superseded")


def setting_views(session: Session, on: date, names: dict[str, str] | None = None) -> list[SettingView]:
    """Every district setting with its dated history and the value in force on `on` (three queries in all)."""
    defs = district_setting_defs()
    names = names if names is not None else district_names(session)
    table = service.param_table(session)  # the engine's own view of the values
    rows = session.execute(
        select(RuleSetting, User.display_name)
        .outerjoin(User, User.id == RuleSetting.created_by_id)
        .where(RuleSetting.name.in_([d.name for d in defs]))
        .order_by(RuleSetting.effective_from, RuleSetting.id)
    ).all()
    by_name: dict[str, list[tuple[RuleSetting, str | None]]] = {}
    for setting, display_name in rows:
        by_name.setdefault(setting.name, []).append((setting, display_name))

    def scope_label(code: str | None) -> str:
        return ALL_DISTRICTS if code is None else names.get(code, code)

    views = []
    for d in defs:
        entries = [
            HistoryEntry(day, None, ALL_DISTRICTS, value, fmt_value(value, d.unit), from_file=True)
            for day, value in d.values
        ]
        entries += [
            HistoryEntry(
                s.effective_from,
                s.district_code,
                scope_label(s.district_code),
                s.value,
                fmt_value(s.value, d.unit),
                from_file=False,
                by=display_name or "—",
                at=s.created_at,
                note=s.note,
            )
            for s, display_name in by_name.get(d.name, [])
        ]
        # Stable sort: the same order ParamTable uses, so 现行 here is what the engine applies.
        entries.sort(key=lambda e: (e.effective_from, not e.from_file))
        _mark_states(entries, on)
        in_force = []
        default: Decimal | None = None
        for scope in (None, *DISTRICTS):
            try:
                value: Decimal | None = table.value(d.name, on, scope)
            except RuleError:
                value = None
            if scope is None:
                default = value
            in_force.append(
                InForce(
                    scope,
                    scope_label(scope),
                    fmt_value(value, d.unit),
                    scope is not None and value != default,
                )
            )
        views.append(SettingView(d, entries, in_force))
    return views


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class SettingIn(BaseModel):
    """A new dated value as the form posts it (blank fields are 必填, numbers may carry thousands separators)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    district: str | None = None
    effective_from: date
    value: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4, allow_inf_nan=False)]
    note: str = Field(min_length=1, max_length=NOTE_MAX)

    @field_validator("district", mode="before")
    @classmethod
    def _district(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(",", "").replace("，", "").replace(" ", "")
        return value


def add_setting(session: Session, by: Principal, data: SettingIn) -> RuleSetting:
    """Append a dated value of a district setting; refuses (RuleViolation with its field) anything else."""
    if by.role is not Role.admin:
        raise RuleViolation("只有管理员可以设置规则参数")
    book = rulebook()
    d = book.params.get(data.name)
    if d is None:
        raise RuleViolation(f"未知参数 {data.name}", field="name")
    if not d.district_setting:
        raise RuleViolation(
            f"“{d.label}”是{d.citation}规定的标准，不是区级设置，不能在此修改；文件修订时请更新规则参数文件",
            field="name",
        )
    if data.district is not None and data.district not in DISTRICTS:
        raise RuleViolation("适用区应为全部区、静安区、杨浦区或虹口区", field="district")
    scope = ALL_DISTRICTS if data.district is None else district_names(session)[data.district]
    taken = data.district is None and any(day == data.effective_from for day, _ in d.values)
    if not taken:
        same_scope = (
            RuleSetting.district_code.is_(None)
            if data.district is None
            else RuleSetting.district_code == data.district
        )
        taken = (
            session.scalar(
                select(RuleSetting.id)
                .where(
                    RuleSetting.name == d.name, RuleSetting.effective_from == data.effective_from, same_scope
                )
                .limit(1)
            )
            is not None
        )
    if taken:
        raise RuleViolation(
            f"“{d.label}”在 {data.effective_from.isoformat()} 已有{scope}的取值；已有取值不可修改，"
            "如需调整请另选生效日期追加新的取值",
            field="effective_from",
        )
    setting = RuleSetting(
        name=d.name,
        district_code=data.district,
        effective_from=data.effective_from,
        value=data.value,
        note=data.note,
        created_by_id=by.user_id,
    )
    # The audit trail records who appended which value, with the 依据 as the reason.
    set_reason(session, data.note[:NOTE_MAX])
    session.add(setting)
    session.flush()
    return setting


# ---------------------------------------------------------------------------------------------------------- routes

router = APIRouter(tags=["rules"], include_in_schema=False)

PAGE = "rules/settings.html"
BLOCK = "settings_body"
FORM_FIELDS = ("name", "district", "effective_from", "value", "note")


def _context(
    session: Session,
    principal: Principal,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    on = today()
    names = district_names(session)
    views = setting_views(session, on, names)
    form = form or {}
    chosen = next((v.d for v in views if v.d.name == form.get("name")), None)
    return {
        "on": on,
        "views": views,
        "can_edit": principal.role is Role.admin,
        "param_options": [(v.d.name, f"{v.d.label}（{v.d.unit}）" if v.d.unit else v.d.label) for v in views],
        "district_options": [("", ALL_DISTRICTS), *names.items()],
        "chosen_unit": chosen.unit if chosen else None,
        "form": form,
        "errors": errors or {},
        "notice": notice,
    }


def _notice(session: Session, added: int | None) -> str | None:
    if added is None:
        return None
    setting = session.get(RuleSetting, added)
    if setting is None:
        return None
    d = rulebook().params.get(setting.name)
    label = d.label if d else setting.name
    scope = (
        ALL_DISTRICTS if setting.district_code is None else district_names(session).get(setting.district_code)
    )
    value = fmt_value(setting.value, d.unit if d else "")
    return f"已追加：{label}，{scope}，自 {setting.effective_from.isoformat()} 起为 {value}"


@router.get("/admin/rule-settings", name="rules:settings")
def settings_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    name: Annotated[str, Query(max_length=64)] = "",
    added: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """规则参数: the district settings and their dated values (officers and leaders read; admins append)."""
    ctx = _context(session, principal, form={"name": name}, notice=_notice(session, added))
    return render(request, PAGE, ctx, block=BLOCK)


@router.post("/admin/rule-settings", name="rules:add_setting")
def add_setting_route(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    name: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    effective_from: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """追加取值: 422 with the form, its values and errors; else the refreshed block (htmx) or a 303."""
    values = {
        "name": name,
        "district": district,
        "effective_from": effective_from,
        "value": value,
        "note": note,
    }
    errors: dict[str, str] = {}
    payload = {k: v for k, v in values.items() if v.strip() or k == "district"}
    try:
        data = SettingIn.model_validate(payload)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
    else:
        try:
            with session.begin_nested():
                setting = add_setting(session, principal, data)
        except RuleViolation as exc:
            errors = {exc.field if exc.field in FORM_FIELDS else "__all__": exc.message}
    if errors:
        ctx = _context(session, principal, form=values, errors=errors)
        return render(request, PAGE, ctx, block=BLOCK, status_code=422)
    if wants_block(request, BLOCK):
        # A fresh form (keeping the parameter chosen) above the list that now shows the new value.
        ctx = _context(session, principal, form={"name": setting.name}, notice=_notice(session, setting.id))
        return render(request, PAGE, ctx, block=BLOCK)
    url = request.app.url_path_for("rules:settings")
    return redirect_after_post(request, f"{url}?added={setting.id}")
