"""The firm file's reads (一企一档, app.firms.file): the columns it shows, as plain rows.

The file only reads these rows (writes go through the services and their ORM entities), so they come
through the Core connection as named tuples: no entities, identity map or per-row ORM machinery. Eleven
tables are read in two UNION ALL statements built once at import (the firm id is a bind parameter): each
table's columns sit in typed slots, and each row says which table it is from and its place in that table's
order (the order of the services' readers, `indicators.service.years_of`, `recognitions.service.
recognitions_of`…). Each tuple has the model's attribute names, so the templates, the API and the export
read them as they read the entities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    BindParameter,
    Boolean,
    CompoundSelect,
    Date,
    Integer,
    Numeric,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.casework.models import Task, TaskStatus
from app.db import UTCDateTime
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


class TagRow(NamedTuple):
    id: int
    tag: str


FIRM: BindParameter[int] = bindparam("firm_id")


@dataclass(frozen=True)
class _Part:
    """One table's share of the file: FileRows' field `name` holds the firm's rows of `model` as `row`, in
    this order (the order of the services' readers; evidence in upload order)."""

    name: str
    row: Callable[..., tuple[Any, ...]]
    model: Any
    order_by: tuple[Any, ...]
    where: tuple[Any, ...] = ()


# Two statements, each under the 4 kB past which psycopg parses a statement afresh every time: the firm's
# yearly figures and facts (wide, numeric), and the rest of its file.
_GROUPS = (
    (
        _Part("names", NameRow, FirmName, (FirmName.id,)),
        _Part("memberships", MembershipRow, Membership, (Membership.id,)),
        _Part("tags", TagRow, FirmTag, (FirmTag.id,), (FirmTag.valid_to.is_(None),)),
        _Part("contacts", ContactRow, Contact, (Contact.id,)),
        _Part("recognitions", RecognitionRow, Recognition, (Recognition.issued_on.desc(),)),
        _Part("evidence", EvidenceRow, EvidenceFile, (EvidenceFile.id,)),
        _Part("incidents", IncidentRow, Incident, (Incident.occurred_on,)),
        _Part("awards", AwardRow, Award, (Award.awarded_on,)),
        _Part(
            "tasks",
            TaskRow,
            Task,
            (Task.due_on,),
            (Task.status.in_([TaskStatus.open, TaskStatus.in_progress]),),
        ),
    ),
    (
        _Part("years", YearRow, FirmYear, (FirmYear.year.desc(),)),
        _Part(
            "facts",
            FactRow,
            FactObservation,
            (FactObservation.key, FactObservation.valid_from.desc(), FactObservation.id.desc()),
        ),
    ),
)


def _slot_kind(type_: Any) -> str:
    """Columns of one kind share the union's slots (each slot has one SQL type on every engine)."""
    if isinstance(type_, UTCDateTime):
        return "timestamp"
    for kind in (JSON, Boolean, Integer, Date, String):
        if isinstance(type_, kind):
            return kind.__name__
    if isinstance(type_, Numeric):
        return f"Numeric({type_.precision},{type_.scale})"
    return repr(type_)


Picker = Callable[[Any], tuple[Any, ...]]


def _union(parts: tuple[_Part, ...]) -> tuple[CompoundSelect[Any], list[Picker]]:
    """Parts in one UNION ALL: (part number, place in its order, slots...), each part's columns in the slots
    of their kind and NULL elsewhere; and for each part, what picks its columns out of a result row.
    The first SELECT names the columns and casts its NULLs to their slot's type: PostgreSQL types a UNION
    column pair by pair from the left (two untyped NULLs make it text), and SQLAlchemy takes the result
    types from that SELECT. The others are bare: psycopg parses a statement afresh each time past 4 kB."""
    slot_types: dict[str, list[Any]] = {}
    placed: list[list[tuple[str, int]]] = []
    for part in parts:
        used: dict[str, int] = {}
        spots = []
        for name in part.row._fields:  # type: ignore[attr-defined]
            type_ = getattr(part.model, name).type
            kind = _slot_kind(type_)
            i = used.get(kind, 0)
            used[kind] = i + 1
            kind_slots = slot_types.setdefault(kind, [])
            if i == len(kind_slots):
                kind_slots.append(type_)
            spots.append((kind, i))
        placed.append(spots)
    position: dict[tuple[str, int], int] = {}
    for kind, types in slot_types.items():
        for i in range(len(types)):
            position[(kind, i)] = 2 + len(position)
    selects = []
    for n, (part, spots) in enumerate(zip(parts, placed, strict=True)):
        fields = part.row._fields  # type: ignore[attr-defined]
        by_slot = {spot: getattr(part.model, name) for spot, name in zip(spots, fields, strict=True)}
        columns: list[Any] = [
            literal_column(str(n), Integer).label("part"),
            func.row_number().over(order_by=part.order_by).label("ord"),
        ]
        for (kind, i), at in position.items():
            value = by_slot.get((kind, i))
            if n == 0:
                columns.append(
                    (cast(null(), slot_types[kind][i]) if value is None else value).label(f"c{at}")
                )
            else:  # names and types come from the first SELECT
                columns.append(literal_column("NULL") if value is None else value)
        if n > 0:
            columns[:2] = [literal_column(str(n)), func.row_number().over(order_by=part.order_by)]
        selects.append(select(*columns).where(part.model.firm_id == FIRM, *part.where))
    stmt = union_all(*selects)
    stmt = stmt.order_by(stmt.selected_columns.part, stmt.selected_columns.ord)
    # Every row class has two fields or more, so each picker gives a tuple.
    return stmt, [itemgetter(*(position[spot] for spot in spots)) for spots in placed]


_STATEMENTS = [(parts, *_union(parts)) for parts in _GROUPS]


@dataclass
class FileRows:
    names: list[NameRow]
    memberships: list[MembershipRow]
    tags: list[TagRow]
    contacts: list[ContactRow]
    years: list[YearRow]
    facts: list[FactRow]
    incidents: list[IncidentRow]
    awards: list[AwardRow]
    recognitions: list[RecognitionRow]
    evidence: list[EvidenceRow]
    tasks: list[TaskRow]


def read(session: Session, firm_id: int) -> FileRows:
    """Everything the file lists beside the firm itself, in two statements. What the session holds
    unflushed is flushed first (as the ORM's autoflush did), so the rows are those of this transaction."""
    session.flush()
    conn = session.connection()
    params = {"firm_id": firm_id}
    out: dict[str, list[Any]] = {}
    for parts, stmt, pickers in _STATEMENTS:
        grouped: list[list[Any]] = [[] for _ in parts]
        for r in conn.execute(stmt, params):
            grouped[r[0]].append(r)
        for part, pick, rows in zip(parts, pickers, grouped, strict=True):
            make = part.row
            out[part.name] = [make(*pick(r)) for r in rows]
    return FileRows(**out)
