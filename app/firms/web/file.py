"""The firm file page (一企一档) and its in-place edits of yearly indicators, facts, incidents and awards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.db import SessionDep
from app.firms.dependencies import FirmDep
from app.firms.models import Firm
from app.firms.schemas import AwardIn, FactIn, IncidentIn, YearIn
from app.firms.web import forms
from app.firms.web.common import attempt, ensure_can_edit, plain
from app.firms.web.file_view import file_context, form_context, section_done, section_invalid
from app.firms.web.forms import FormDep, FormState, FormStates
from app.indicators import service as indicators_service
from app.indicators.facts import effective_year
from app.indicators.models import SOURCE_LABELS, SOURCE_RANK, Source
from app.web.formatting import today
from app.web.templating import render, wants_block

router = APIRouter()


@router.get("/{firm_id}", name="firms:detail")
def detail(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    firm: FirmDep,
    as_of: Annotated[date | None, Query()] = None,
) -> Response:
    """The firm file; `?as_of=YYYY-MM-DD` shows it as it was on that date."""
    ctx = file_context(request, session, principal, firm, as_of=as_of)
    return render(request, "firms/detail.html", ctx)


@router.get("/{firm_id}/contacts", name="firms:contacts")
def contacts(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, reveal: str | None = None
) -> Response:
    """The contacts, masked; `?reveal=1` shows full phone and ID numbers to roles that may (logged)."""
    fragment = wants_block(request, "contacts")
    ctx = file_context(
        request, session, principal, firm, reveal=reveal in ("1", "true"), with_history=not fragment
    )
    return render(request, "firms/detail.html", ctx, block="contacts")


# --- the add forms, loaded when opened ---------------------------------------------------------------------

# Each is a block of the file page, `<name>_form` ↔ `#<name>-form`, closed (a <details> that asks for it)
# until its route is asked: htmx gets the block open; a plain GET (no JavaScript) the whole file with it open.
LAZY_FORMS = ("contact_new", "fact", "incident", "award", "recognition", "evidence")


def _form_route(name: str) -> Callable[..., Response]:
    block = f"{name}_form"

    def open_form(
        request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep
    ) -> Response:
        ensure_can_edit(principal)
        states = FormStates({name: FormState(open=True)})
        if wants_block(request, block):
            ctx = form_context(session, firm, name, states)
        else:
            ctx = file_context(request, session, principal, firm, states=states)
        return render(request, "firms/detail.html", ctx, block=block)

    open_form.__name__ = f"{name}_form"
    open_form.__doc__ = f"The file's {name} form, open: the form alone for htmx, else the whole file."
    return open_form


for _name in LAZY_FORMS:
    router.add_api_route(
        f"/{{firm_id}}/forms/{_name}", _form_route(_name), methods=["GET"], name=f"firms:{_name}_form"
    )


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
        values[name] = plain(getattr(row, name)) if row else ""
    return values, bool(rows)


def _year_placeholders(session: Session, firm: Firm, year: int | None) -> dict[str, str]:
    """For a field this source left empty: what another source says (shown greyed inside the input)."""
    rows = [r for r in indicators_service.years_of(session, firm.id) if r.year == year]
    out = {}
    for name, eff in effective_year(rows, forms.YEAR_VALUE_FIELDS).items():
        if eff.value is not None and eff.source is not None:
            out[name] = f"{SOURCE_LABELS[eff.source]}：{plain(eff.value)}"
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
    ensure_can_edit(principal)
    values, exists = _year_form_values(session, firm, year, source)
    form = {
        "state": FormState(values=values, open=True),
        "exists": exists,
        "year": year,
        "placeholders": _year_placeholders(session, firm, year),
    }
    ctx = file_context(
        request, session, principal, firm, year_form=form, with_history=not wants_block(request, "year_form")
    )
    return render(request, "firms/detail.html", ctx, block="year_form")


@router.post("/{firm_id}/years", name="firms:save_year")
def save_year(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Add or replace one year's indicators from one source; the years table comes back (htmx) or a 303."""
    ensure_can_edit(principal)
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
            errors = attempt(
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
        return section_invalid(request, session, principal, firm, "years", FormStates(), year_form=form_ctx)
    return section_done(request, session, principal, firm, "years")


# --- facts, incidents, awards -----------------------------------------------------------------------------


@router.post("/{firm_id}/facts", name="firms:add_fact")
def add_fact(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record what one source says of a fact, from a date."""
    ensure_can_edit(principal)
    values = forms.text_values(form, forms.FACT_FIELDS)
    data, errors = forms.validate(FactIn, values)
    if data is not None:
        errors = attempt(
            session, lambda: indicators_service.add_fact(session, principal, firm, data, today=today())
        )
    if errors:
        return section_invalid(
            request, session, principal, firm, "facts", FormStates(fact=FormState(values, errors, open=True))
        )
    return section_done(request, session, principal, firm, "facts")


@router.post("/{firm_id}/incidents", name="firms:add_incident")
def add_incident(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record an incident or violation with its grade and date."""
    ensure_can_edit(principal)
    values = forms.text_values(form, forms.INCIDENT_FIELDS)
    data, errors = forms.validate(IncidentIn, values)
    if data is not None:
        errors = attempt(session, lambda: indicators_service.add_incident(session, principal, firm, data))
    if errors:
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "incidents_awards",
            FormStates(incident=FormState(values, errors, open=True)),
        )
    return section_done(request, session, principal, firm, "incidents_awards")


@router.post("/{firm_id}/awards", name="firms:add_award")
def add_award(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record an award with its level and the firm's rank."""
    ensure_can_edit(principal)
    values = forms.text_values(form, forms.AWARD_FIELDS)
    data, errors = forms.validate(AwardIn, values)
    if data is not None:
        errors = attempt(session, lambda: indicators_service.add_award(session, principal, firm, data))
    if errors:
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "incidents_awards",
            FormStates(award=FormState(values, errors, open=True)),
        )
    return section_done(request, session, principal, firm, "incidents_awards")
