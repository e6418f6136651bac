"""Recognitions of a tier (认定/入库/复核), revocation, and their evidence files."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actor import set_reason
from app.auth.principal import Principal
from app.errors import NotFound, RuleViolation
from app.firms.models import Firm
from app.firms.schemas import RecognitionIn, RevokeIn
from app.firms.service import ensure_can_edit
from app.recognitions.models import EvidenceFile, Recognition
from app.storage import RejectedFile, Storage, digest, sniff
from app.tiers.codes import VALIDITY_YEARS, Tier


def default_expiry(tier: Tier, issued_on: date) -> date:
    """Issued + validity years − 1 day (an expiry date is inclusive)."""
    years = VALIDITY_YEARS[tier]
    try:
        anniversary = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February
        anniversary = issued_on.replace(year=issued_on.year + years, day=28)
    return anniversary - timedelta(days=1)


def add_recognition(session: Session, principal: Principal, firm: Firm, data: RecognitionIn) -> Recognition:
    ensure_can_edit(principal)
    expires_on = data.expires_on or default_expiry(data.tier, data.issued_on)
    if expires_on < data.issued_on:
        raise RuleViolation("有效期至不能早于认定日期", field="expires_on")
    if data.revoked_on is not None:
        if data.revoked_on < data.issued_on:
            raise RuleViolation("撤销日期不能早于认定日期", field="revoked_on")
        if not data.revoke_reason:
            raise RuleViolation("撤销须注明原因", field="revoke_reason")
    if data.certificate_no:
        dup = session.scalar(
            select(Recognition.id).where(
                Recognition.tier == data.tier, Recognition.certificate_no == data.certificate_no
            )
        )
        if dup is not None:
            raise RuleViolation("该证书编号已登记", field="certificate_no")
    set_reason(session, data.reason)
    row = Recognition(
        firm_id=firm.id, **data.model_dump(exclude={"reason", "expires_on"}), expires_on=expires_on
    )
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, principal: Principal, recognition: Recognition, data: RevokeIn) -> Recognition:
    ensure_can_edit(principal)
    if data.revoked_on < recognition.issued_on:
        raise RuleViolation("撤销日期不能早于认定日期", field="revoked_on")
    set_reason(session, data.reason)
    recognition.revoked_on = data.revoked_on
    recognition.revoke_reason = data.revoke_reason
    session.flush()
    return recognition


def recognitions_of(session: Session, firm_id: int) -> list[Recognition]:
    return list(
        session.scalars(
            select(Recognition).where(Recognition.firm_id == firm_id).order_by(Recognition.issued_on.desc())
        )
    )


def get_recognition(session: Session, firm: Firm, recognition_id: int) -> Recognition:
    row = session.get(Recognition, recognition_id)
    if row is None or row.firm_id != firm.id:
        raise NotFound()
    return row


def attach_evidence(
    session: Session,
    principal: Principal,
    storage: Storage,
    firm: Firm,
    *,
    filename: str,
    data: bytes,
    recognition_id: int | None = None,
) -> EvidenceFile:
    """Store an uploaded scan/PDF/image after checking its type (from the bytes) and size."""
    ensure_can_edit(principal)
    try:
        content_type, suffix = sniff(data)
    except RejectedFile as exc:
        raise RuleViolation(str(exc), field="file") from None
    if recognition_id is not None:
        get_recognition(session, firm, recognition_id)
    key = storage.save(data, suffix=suffix)
    row = EvidenceFile(
        firm_id=firm.id,
        recognition_id=recognition_id,
        filename=(filename or "file")[-255:],
        content_type=content_type,
        size_bytes=len(data),
        sha256=digest(data),
        storage_key=key,
        uploaded_by_id=principal.user_id,
    )
    session.add(row)
    try:
        session.flush()
    except Exception:
        storage.delete(key)
        raise
    return row


def get_evidence(session: Session, firm: Firm, evidence_id: int) -> EvidenceFile:
    row = session.get(EvidenceFile, evidence_id)
    if row is None or row.firm_id != firm.id:
        raise NotFound()
    return row
