"""The file's contact persons: add, change, remove (the masked list itself is part of the file page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.db import SessionDep
from app.errors import NotFound
from app.firms import repository, service
from app.firms.dependencies import FirmDep
from app.firms.models import Contact, Firm
from app.firms.schemas import ContactIn
from app.firms.web import forms
from app.firms.web.common import attempt, ensure_can_edit
from app.firms.web.file_view import section_done, section_invalid
from app.firms.web.forms import FormDep, FormState, FormStates

router = APIRouter()


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
    ensure_can_edit(principal)
    values = forms.text_values(form, forms.CONTACT_FIELDS)
    data, errors = forms.validate(ContactIn, forms.contact_payload(values))
    if data is not None:
        errors = attempt(session, lambda: service.add_contact(session, principal, firm, data))
    if errors:
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "contacts",
            FormStates(contact_new=FormState(values, errors, open=True)),
        )
    return section_done(request, session, principal, firm, "contacts")


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
    ensure_can_edit(principal)
    contact = _contact_of(session, firm, contact_id)
    values = forms.text_values(form, forms.CONTACT_FIELDS)
    data, errors = forms.validate(ContactIn, forms.contact_payload(values))
    if data is not None:
        errors = attempt(session, lambda: service.update_contact(session, principal, contact, data))
    if errors:
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "contacts",
            FormStates({f"contact-{contact_id}": FormState(values, errors, open=True)}),
        )
    return section_done(request, session, principal, firm, "contacts")


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
    ensure_can_edit(principal)
    contact = _contact_of(session, firm, contact_id)
    reason = forms.text_values(form, ("reason",)).get("reason")
    service.delete_contact(session, principal, contact, reason)
    return section_done(request, session, principal, firm, "contacts")
