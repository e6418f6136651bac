"""Create and edit a firm's profile and placement; every invalid form comes back with what was typed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth import repository as auth_repository
from app.auth.dependencies import StaffPrincipal
from app.auth.models import Role
from app.auth.principal import Principal
from app.db import SessionDep
from app.errors import NotPermitted
from app.firms import repository, service
from app.firms.dependencies import FirmDep
from app.firms.models import FIRM_STATUS_LABELS, KNOWN_TAGS, Firm
from app.firms.schemas import FirmCreate, FirmUpdate
from app.firms.web import forms
from app.firms.web.common import STALE, attempt, clean, ensure_can_edit, int_or_none, opts
from app.firms.web.forms import FormDep, FormState
from app.reference import service as reference_service
from app.web.formatting import today
from app.web.templating import redirect_after_post, render

router = APIRouter()


def _firm_form_context(
    session: Session, principal: Principal, state: FormState, *, firm: Firm | None = None
) -> dict[str, Any]:
    ref = reference_service.reference_options(session)
    park = state.values.get("park") or None
    scope = principal.park_codes
    officers = auth_repository.officers(session, frozenset([park]) if park else scope)
    # The firm's officer stays choosable even when not listed for the park (an admin, say):
    # saving must not drop them.
    chosen = int_or_none(state.values.get("officer_id"))
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
        "status_options": opts(FIRM_STATUS_LABELS),
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
        "park": clean(park) or only_park,
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
        errors = attempt(
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
    ensure_can_edit(principal)
    values = _edit_values(session, firm)
    current_park = values["park"]
    if park is not None and clean(park) != current_park:
        values.update(park=clean(park) or "", area="", carrier="")
    ctx = _firm_form_context(session, principal, FormState(values=values), firm=firm)
    return render(request, "firms/edit.html", ctx, block="placement_fields")


@router.post("/{firm_id}", name="firms:update")
def update(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Apply the edit; a stale version changes nothing and shows the form again (409)."""
    ensure_can_edit(principal)
    values = forms.text_values(form, forms.FIRM_UPDATE_FIELDS)
    data, errors = forms.validate(
        FirmUpdate, forms.update_payload(values), keep_blank=True, required=("name", "uscc", "park")
    )
    if data is not None:
        # The version read is checked first: a stale form changes nothing, whatever else it holds.
        if data.version != firm.version:
            errors = {"__all__": STALE, "__conflict__": "1"}
        else:
            errors = attempt(
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
