"""The firm file (一企一档) assembled for reading: the API's whole file and the file page share it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from app.audit.service import HistoryLine, firm_history
from app.auth.principal import Principal
from app.firms import file_queries, references
from app.firms.file_queries import (
    AwardRow,
    ContactRow,
    EvidenceRow,
    FactRow,
    IncidentRow,
    MembershipRow,
    RecognitionRow,
    TaskRow,
    YearRow,
)
from app.firms.models import Firm
from app.firms.schemas import (
    ContactOut,
    EffectiveFactOut,
    FactOut,
    FirmFileOut,
    MembershipOut,
    RecognitionOut,
    TaskOut,
    YearOut,
)
from app.firms.service import log_personal_data_access
from app.indicators import service as indicators_service
from app.indicators.facts import (
    FACT_DEFS,
    EffectiveFact,
    EffectiveYearField,
    Observation,
    effective_facts,
    effective_year,
)
from app.recognitions.ledger import is_held
from app.tiers.codes import ladder_level
from app.web.formatting import mask_id_number, mask_phone

EXPIRY_WARNING_DAYS = 180


@dataclass
class YearView:
    year: int
    rows: list[YearRow]
    effective: dict[str, EffectiveYearField]

    @property
    def conflicts(self) -> list[str]:
        return [k for k, v in self.effective.items() if v.conflict]


@dataclass
class RecognitionView:
    recognition: RecognitionRow
    held: bool
    expiring_soon: bool
    expired: bool
    evidence: list[EvidenceRow]


@dataclass
class FirmFile:
    """The file's rows are the plain rows of `file_queries` (the models' attribute names), not entities."""

    firm: Firm
    as_of: date
    membership: MembershipRow | None
    memberships: list[MembershipRow]
    former_names: list[str]
    tags: list[str]
    contacts: list[ContactRow]
    contacts_masked: bool
    years: list[YearView]
    facts: list[FactRow]
    effective: dict[str, EffectiveFact]
    incidents: list[IncidentRow]
    awards: list[AwardRow]
    recognitions: list[RecognitionView]
    evidence_unlinked: list[EvidenceRow]
    tasks: list[TaskRow]
    tiers_held: list[str]
    ladder_level: int
    names: dict[str, dict[str, str]]
    history: list[HistoryLine] = field(default_factory=list)
    history_total: int = 0

    @property
    def conflicts(self) -> list[EffectiveFact]:
        return [f for f in self.effective.values() if f.conflict]


def build(
    session: Session,
    principal: Principal,
    firm: Firm,
    *,
    today: date,
    as_of: date | None = None,
    reveal_personal: bool = False,
    with_history: bool = True,
) -> FirmFile:
    """Everything on the file, as of `as_of` (default today). Contacts come masked unless the caller
    asks to reveal them and the role may: that reveal is logged (PIPL)."""
    day = as_of or today
    rows = file_queries.read(session, firm.id)
    years_by: dict[int, list[YearRow]] = {}
    for row in rows.years:
        years_by.setdefault(row.year, []).append(row)
    years = [
        YearView(year=y, rows=yrows, effective=effective_year(yrows, indicators_service.YEAR_FIELDS))
        for y, yrows in sorted(years_by.items(), reverse=True)
    ]
    evidence = rows.evidence
    warn_until = day + timedelta(days=EXPIRY_WARNING_DAYS)
    recs = []
    for rec in rows.recognitions:
        held = is_held(rec, day)
        recs.append(
            RecognitionView(
                recognition=rec,
                held=held,
                expiring_soon=held and rec.expires_on is not None and rec.expires_on <= warn_until,
                expired=rec.expires_on is not None and rec.expires_on < day,
                evidence=[e for e in evidence if e.recognition_id == rec.id],
            )
        )
    tiers = sorted({str(r.recognition.tier) for r in recs if r.held})
    reveal = reveal_personal and principal.can_see_personal_data
    if reveal and rows.contacts:
        log_personal_data_access(session, principal, firm.id, "view", "联系人电话、身份证号")
    names = references.load(session).names
    history, total = firm_history(session, firm.id, names=names) if with_history else ([], 0)
    current_names = [n for n in rows.names if n.valid_to is None]
    return FirmFile(
        firm=firm,
        as_of=day,
        membership=_membership_on(rows.memberships, day),
        memberships=sorted(rows.memberships, key=lambda m: m.valid_from, reverse=True),
        former_names=[
            n.name
            for n in rows.names
            if n.valid_to is not None and n.name != firm.name and n not in current_names
        ],
        tags=[t.tag for t in rows.tags],
        contacts=sorted(rows.contacts, key=lambda c: (not c.is_primary, c.id)),
        contacts_masked=not reveal,
        years=years,
        facts=rows.facts,
        # FactRow has every field of an Observation (read-only, where the protocol declares plain attributes).
        effective=effective_facts(cast("list[Observation]", rows.facts), day),
        incidents=rows.incidents,
        awards=rows.awards,
        recognitions=recs,
        evidence_unlinked=[e for e in evidence if e.recognition_id is None],
        tasks=rows.tasks,
        tiers_held=tiers,
        ladder_level=ladder_level(set(tiers)),
        names=names,
        history=history,
        history_total=total,
    )


def _membership_on(memberships: list[MembershipRow], day: date) -> MembershipRow | None:
    """Where the firm sat on `day` (repository.membership_on, on the rows already read)."""
    return next(
        (m for m in memberships if m.valid_from <= day and (m.valid_to is None or m.valid_to >= day)),
        None,
    )


def fact_rows(file: FirmFile) -> list[dict[str, Any]]:
    """Every fact of the contract in registry order, with its effective value and conflict flag."""
    out = []
    for defn in FACT_DEFS:
        eff = file.effective.get(defn.key)
        out.append(
            {"defn": defn, "effective": eff, "observations": [f for f in file.facts if f.key == defn.key]}
        )
    return out


def to_api(file: FirmFile) -> FirmFileOut:
    firm, m = file.firm, file.membership
    masked = file.contacts_masked
    return FirmFileOut(
        id=firm.id,
        name=firm.name,
        former_names=file.former_names,
        uscc=firm.uscc,
        founded_on=firm.founded_on,
        district=firm.district_code,
        address=firm.address,
        status=firm.status,
        status_since=firm.status_since,
        officer_id=firm.officer_id,
        version=firm.version,
        park=m.park_code if m else None,
        area=m.area_code if m else None,
        carrier=m.carrier_code if m else None,
        industry=m.industry_code if m else None,
        tiers_held=file.tiers_held,
        ladder_level=file.ladder_level,
        tags=file.tags,
        memberships=[
            MembershipOut(
                park=x.park_code,
                area=x.area_code,
                carrier=x.carrier_code,
                industry=x.industry_code,
                valid_from=x.valid_from,
                valid_to=x.valid_to,
            )
            for x in file.memberships
        ],
        contacts=[
            ContactOut(
                id=c.id,
                name=c.name,
                title=c.title,
                phone=mask_phone(c.phone) if masked else c.phone,
                id_number=mask_id_number(c.id_number) if masked else c.id_number,
                email=c.email,
                is_primary=c.is_primary,
                masked=masked,
            )
            for c in file.contacts
        ],
        years=[
            YearOut(
                year=r.year,
                source=r.source,
                source_department=r.source_department,
                values={k: getattr(r, k) for k in indicators_service.YEAR_FIELDS},
                verified_at=r.verified_at,
            )
            for y in file.years
            for r in y.rows
        ],
        facts=[
            FactOut(
                id=f.id,
                key=f.key,
                value=f.value,
                valid_from=f.valid_from,
                source=f.source,
                source_department=f.source_department,
                note=f.note,
                recorded_at=f.recorded_at,
                verified_at=f.verified_at,
            )
            for f in file.facts
        ],
        effective_facts=[
            EffectiveFactOut(
                key=e.key,
                value=e.value,
                source=e.chosen.source,
                observation_id=e.chosen.id,
                conflict=e.conflict,
            )
            for e in file.effective.values()
        ],
        incidents=[
            {
                "id": i.id,
                "kind": i.kind,
                "grade": i.grade,
                "occurred_on": i.occurred_on.isoformat(),
                "source": i.source,
            }
            for i in file.incidents
        ],
        awards=[
            {
                "id": a.id,
                "name": a.name,
                "level": a.level,
                "awarded_on": a.awarded_on.isoformat(),
                "rank": a.rank,
                "source": a.source,
            }
            for a in file.awards
        ],
        recognitions=[
            RecognitionOut(
                id=r.recognition.id,
                tier=r.recognition.tier,
                kind=r.recognition.kind,
                level=r.recognition.level,
                certificate_no=r.recognition.certificate_no,
                issued_on=r.recognition.issued_on,
                expires_on=r.recognition.expires_on,
                revoked_on=r.recognition.revoked_on,
                revoke_reason=r.recognition.revoke_reason,
                held=r.held,
                evidence=[
                    {
                        "id": e.id,
                        "filename": e.filename,
                        "content_type": e.content_type,
                        "size_bytes": e.size_bytes,
                    }
                    for e in r.evidence
                ],
            )
            for r in file.recognitions
        ],
        tasks=[
            TaskOut(id=t.id, title=t.title, status=t.status, due_on=t.due_on, assignee_id=t.assignee_id)
            for t in file.tasks
        ],
        as_of=file.as_of,
    )
