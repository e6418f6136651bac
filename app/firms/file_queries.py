"""The firm file's reads (一企一档, app.firms.file): the columns it shows, as plain rows.

The file only reads these rows (writes go through the services and their ORM entities), so they come
through the Core connection as named tuples: no entities, identity map or per-row ORM machinery, and
statements built once at import (the firm id is a bind parameter). Each tuple has the model's attribute
names, so the templates, the API and the export read them as they read the entities. Every statement keeps
the order of the services' readers (`indicators.service.years_of`, `recognitions.service.recognitions_of`…).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.casework.models import Task, TaskStatus
from app.firms.models import Contact, FirmName, FirmTag, Membership
from app.indicators import service as indicators_service
from app.indicators.models import (
    Award,
    AwardLevel,
    FactObservation,
    FirmYear,
    Incident,
    IncidentGrade,
    IncidentKind,
    Source,
)
from app.recognitions.models import EvidenceFile, Recognition, RecognitionKind, RecognitionLevel
from app.tiers.codes import Tier


class NameRow(NamedTuple):
    id: int
    name: str
    valid_from: date | None
    valid_to: date | None


class MembershipRow(NamedTuple):
    id: int
    park_code: str
    area_code: str | None
    carrier_code: str | None
    industry_code: str | None
    valid_from: date
    valid_to: date | None


class ContactRow(NamedTuple):
    id: int
    name: str
    title: str | None
    phone: str | None
    id_number: str | None
    email: str | None
    is_primary: bool


class YearRow(NamedTuple):
    id: int
    year: int
    source: Source
    source_department: str | None
    employees: int | None
    tech_staff: int | None
    rd_staff: int | None
    revenue: Decimal | None
    main_revenue: Decimal | None
    hightech_revenue: Decimal | None
    total_income: Decimal | None
    rd_expense: Decimal | None
    rd_expense_domestic: Decimal | None
    cost_total: Decimal | None
    total_assets: Decimal | None
    total_liabilities: Decimal | None
    net_profit: Decimal | None
    equity_financing: Decimal | None
    verified_at: datetime | None


# Every yearly indicator is a column of YearRow (the table, the API and the export read them all).
assert set(indicators_service.YEAR_FIELDS) <= set(YearRow._fields)


class FactRow(NamedTuple):
    id: int
    key: str
    value: Any
    valid_from: date
    source: Source
    source_department: str | None
    note: str | None
    recorded_at: datetime
    verified_at: datetime | None


class IncidentRow(NamedTuple):
    id: int
    kind: IncidentKind
    grade: IncidentGrade
    occurred_on: date
    source: Source
    source_department: str | None
    description: str | None


class AwardRow(NamedTuple):
    id: int
    name: str | None
    level: AwardLevel
    awarded_on: date
    rank: int | None
    source: Source


class RecognitionRow(NamedTuple):
    id: int
    tier: Tier
    kind: RecognitionKind
    level: RecognitionLevel | None
    certificate_no: str | None
    issued_on: date
    expires_on: date | None
    revoked_on: date | None
    revoke_reason: str | None
    note: str | None


class EvidenceRow(NamedTuple):
    id: int
    recognition_id: int | None
    filename: str
    content_type: str
    size_bytes: int


class TaskRow(NamedTuple):
    id: int
    title: str
    status: TaskStatus
    due_on: date | None
    assignee_id: int


FIRM: BindParameter[int] = bindparam("firm_id")


def _of(model: Any, row: type[tuple[Any, ...]]) -> Select[Any]:
    """The row's columns of `model` (same names), for one firm."""
    fields: tuple[str, ...] = row._fields  # type: ignore[attr-defined]
    return select(*(getattr(model, name) for name in fields)).where(model.firm_id == FIRM)


_NAMES = _of(FirmName, NameRow).order_by(FirmName.id)
_MEMBERSHIPS = _of(Membership, MembershipRow).order_by(Membership.id)
_TAGS = select(FirmTag.tag).where(FirmTag.firm_id == FIRM, FirmTag.valid_to.is_(None)).order_by(FirmTag.id)
_CONTACTS = _of(Contact, ContactRow).order_by(Contact.id)
_YEARS = _of(FirmYear, YearRow).order_by(FirmYear.year.desc())
_FACTS = _of(FactObservation, FactRow).order_by(
    FactObservation.key, FactObservation.valid_from.desc(), FactObservation.id.desc()
)
_INCIDENTS = _of(Incident, IncidentRow).order_by(Incident.occurred_on)
_AWARDS = _of(Award, AwardRow).order_by(Award.awarded_on)
_RECOGNITIONS = _of(Recognition, RecognitionRow).order_by(Recognition.issued_on.desc())
_EVIDENCE = _of(EvidenceFile, EvidenceRow)
_OPEN_TASKS = (
    _of(Task, TaskRow).where(Task.status.in_([TaskStatus.open, TaskStatus.in_progress])).order_by(Task.due_on)
)
_USER_NAMES = select(User.id, User.display_name).where(User.id.in_(bindparam("ids", expanding=True)))

R = TypeVar("R")


@dataclass
class FileRows:
    names: list[NameRow]
    memberships: list[MembershipRow]
    tags: list[str]
    contacts: list[ContactRow]
    years: list[YearRow]
    facts: list[FactRow]
    incidents: list[IncidentRow]
    awards: list[AwardRow]
    recognitions: list[RecognitionRow]
    evidence: list[EvidenceRow]
    tasks: list[TaskRow]


def read(session: Session, firm_id: int) -> FileRows:
    """Everything the file lists beside the firm itself, one statement per table. What the session holds
    unflushed is flushed first (as the ORM's autoflush did), so the rows are those of this transaction."""
    session.flush()
    conn = session.connection()
    params = {"firm_id": firm_id}

    def rows(stmt: Select[Any], make: Callable[..., R]) -> list[R]:
        return [make(*r) for r in conn.execute(stmt, params)]

    return FileRows(
        names=rows(_NAMES, NameRow),
        memberships=rows(_MEMBERSHIPS, MembershipRow),
        tags=[r[0] for r in conn.execute(_TAGS, params)],
        contacts=rows(_CONTACTS, ContactRow),
        years=rows(_YEARS, YearRow),
        facts=rows(_FACTS, FactRow),
        incidents=rows(_INCIDENTS, IncidentRow),
        awards=rows(_AWARDS, AwardRow),
        recognitions=rows(_RECOGNITIONS, RecognitionRow),
        evidence=rows(_EVIDENCE, EvidenceRow),
        tasks=rows(_OPEN_TASKS, TaskRow),
    )


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Display names of these users by id (users_by_ids without loading the accounts)."""
    if not ids:
        return {}
    return {uid: name for uid, name in session.connection().execute(_USER_NAMES, {"ids": sorted(ids)})}
