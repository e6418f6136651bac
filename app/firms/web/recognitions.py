"""The file's recognitions (认定记录): record, revoke, and the evidence files beside them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.audit.actor import set_reason
from app.auth.dependencies import StaffPrincipal
from app.config import settings
from app.db import SessionDep
from app.firms.dependencies import FirmDep
from app.firms.schemas import RecognitionIn, RevokeIn
from app.firms.web import forms
from app.firms.web.common import attempt, ensure_can_edit, int_or_none
from app.firms.web.file_view import file_context, section_done, section_invalid
from app.firms.web.forms import FormDep, FormState, FormStates
from app.policies import flows as policy_flows
from app.recognitions import service as recognitions_service
from app.storage import get_storage
from app.web.formatting import today
from app.web.templating import render, wants_block

router = APIRouter()


@router.post("/{firm_id}/recognitions", name="firms:add_recognition")
def add_recognition(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Record a recognition (认定/入库/复核/带证迁入); the expiry defaults to the tier's validity."""
    ensure_can_edit(principal)
    values = forms.text_values(form, forms.RECOGNITION_FIELDS)
    data, errors = forms.validate(RecognitionIn, values)
    if data is not None:
        errors = attempt(
            session, lambda: recognitions_service.add_recognition(session, principal, firm, data)
        )
    if errors:
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "recognitions",
            FormStates(recognition=FormState(values, errors, open=True)),
        )
    policy_flows.recognition_recorded(session, firm.id, today=today())
    return section_done(request, session, principal, firm, "recognitions", extra_oob=("summary", "ledger"))


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
    ensure_can_edit(principal)
    rec = recognitions_service.get_recognition(session, firm, recognition_id)
    values = forms.text_values(form, forms.REVOKE_FIELDS)
    data, errors = forms.validate(RevokeIn, values)
    if data is not None:
        errors = attempt(session, lambda: recognitions_service.revoke(session, principal, rec, data))
    if errors:
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "recognitions",
            FormStates({f"revoke-{recognition_id}": FormState(values, errors, open=True)}),
        )
    return section_done(request, session, principal, firm, "recognitions", extra_oob=("summary", "ledger"))


@router.get("/{firm_id}/recognitions/{recognition_id}/revoke", name="firms:revoke_form")
def revoke_form(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, recognition_id: int
) -> Response:
    """One recognition's revoke form, open (loaded when its row's 撤销 is opened): the form alone for htmx,
    else the whole file with it open."""
    ensure_can_edit(principal)
    rec = recognitions_service.get_recognition(session, firm, recognition_id)
    slot = f"revoke-form-{rec.id}"
    states = FormStates({f"revoke-{rec.id}": FormState(open=True)})
    if wants_block(request, "revoke_form", slot):
        ctx: dict[str, Any] = {"firm": firm, "rec": rec, "states": states}
    else:
        ctx = file_context(request, session, principal, firm, states=states)
    return render(request, "firms/detail.html", ctx, block="revoke_form", slot=slot)


@router.post("/{firm_id}/evidence", name="firms:upload_evidence")
def upload_evidence(
    request: Request, session: SessionDep, principal: StaffPrincipal, firm: FirmDep, form: FormDep
) -> Response:
    """Upload a certificate scan, PDF or image; the type is read from the bytes, the size is limited."""
    ensure_can_edit(principal)
    upload = form.get("file")
    values = forms.text_values(form, ("recognition_id", "reason"))
    errors: dict[str, str] = {}
    recognition_id = int_or_none(values.get("recognition_id"))
    if not hasattr(upload, "read") or not getattr(upload, "filename", ""):
        errors = {"file": "请选择要上传的文件"}
    else:
        limit = settings.max_upload_mb * 1024 * 1024
        data = upload.file.read(limit + 1)  # type: ignore[union-attr]
        name = upload.filename or "file"  # type: ignore[union-attr]
        set_reason(session, values.get("reason"))
        errors = attempt(
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
        return section_invalid(
            request,
            session,
            principal,
            firm,
            "recognitions",
            FormStates(evidence=FormState(values, errors, open=True)),
        )
    return section_done(request, session, principal, firm, "recognitions")


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
