"""Pydantic schemas of the firm file: what the API and the forms accept and return."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from app.casework.models import TaskStatus
from app.firms.models import FirmStatus
from app.firms.uscc import InvalidUSCC, validate
from app.indicators.models import AwardLevel, IncidentGrade, IncidentKind, Source
from app.recognitions.models import RecognitionKind, RecognitionLevel
from app.tiers.codes import Tier

# Amounts are 万元, exact in the database and JSON numbers on the wire.
Amount = Annotated[Decimal, PlainSerializer(lambda v: float(v), return_type=float, when_used="json")]
AmountIn = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]
Reason = Annotated[str | None, Field(default=None, max_length=500)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        # Empty form fields mean "not given", never "".
        if isinstance(data, dict):
            return {k: _blank_to_none(v) for k, v in data.items()}
        return data


def _check_uscc(value: str) -> str:
    try:
        return validate(value)
    except InvalidUSCC as exc:
        raise ValueError(str(exc)) from None


class FirmCreate(_In):
    name: str = Field(min_length=2, max_length=128)
    uscc: str
    park: str
    area: str | None = None
    carrier: str | None = None
    industry: str | None = None
    founded_on: date | None = None
    district: str | None = None
    address: str | None = Field(default=None, max_length=256)
    officer_id: int | None = None
    joined_on: date | None = None
    tags: list[str] = Field(default_factory=list)
    reason: Reason = None

    _uscc = field_validator("uscc")(classmethod(lambda cls, v: _check_uscc(v)))


class FirmUpdate(_In):
    """A partial update: only the fields sent change. `version` is the one the client read."""

    version: int
    name: str | None = Field(default=None, min_length=2, max_length=128)
    renamed_on: date | None = None
    uscc: str | None = None
    founded_on: date | None = None
    district: str | None = None
    address: str | None = Field(default=None, max_length=256)
    status: FirmStatus | None = None
    status_since: date | None = None
    officer_id: int | None = None
    park: str | None = None
    area: str | None = None
    carrier: str | None = None
    industry: str | None = None
    moved_on: date | None = None
    tags: list[str] | None = None
    reason: Reason = None

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str | None) -> str | None:
        return None if v is None else _check_uscc(v)


YEAR_INT_FIELDS = ("employees", "tech_staff", "rd_staff")
YEAR_AMOUNT_FIELDS = (
    "revenue",
    "main_revenue",
    "hightech_revenue",
    "total_income",
    "rd_expense",
    "rd_expense_domestic",
    "cost_total",
    "total_assets",
    "total_liabilities",
    "net_profit",
    "equity_financing",
)
NonNegAmount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
NonNegInt = Annotated[int, Field(ge=0, le=10_000_000)]


class YearIn(_In):
    """One year's indicators from one source (amounts 万元, headcounts annual averages)."""

    source: Source = Source.officer_verified
    source_department: str | None = Field(default=None, max_length=64)
    employees: NonNegInt | None = None
    tech_staff: NonNegInt | None = None
    rd_staff: NonNegInt | None = None
    revenue: NonNegAmount | None = None
    main_revenue: NonNegAmount | None = None
    hightech_revenue: NonNegAmount | None = None
    total_income: NonNegAmount | None = None
    rd_expense: NonNegAmount | None = None
    rd_expense_domestic: NonNegAmount | None = None
    cost_total: NonNegAmount | None = None
    total_assets: NonNegAmount | None = None
    total_liabilities: NonNegAmount | None = None
    net_profit: AmountIn | None = None
    equity_financing: NonNegAmount | None = None
    reason: Reason = None


class FactIn(_In):
    key: str
    value: Any = None
    valid_from: date | None = None
    source: Source = Source.officer_verified
    source_department: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=256)
    reason: Reason = None


class RecognitionIn(_In):
    tier: Tier
    kind: RecognitionKind = RecognitionKind.first
    level: RecognitionLevel | None = None
    certificate_no: str | None = Field(default=None, max_length=64)
    issued_on: date
    expires_on: date | None = None
    revoked_on: date | None = None
    revoke_reason: str | None = Field(default=None, max_length=256)
    note: str | None = Field(default=None, max_length=2000)
    reason: Reason = None


class RevokeIn(_In):
    revoked_on: date
    revoke_reason: str = Field(min_length=2, max_length=256)
    reason: Reason = None


class IncidentIn(_In):
    kind: IncidentKind
    grade: IncidentGrade
    occurred_on: date
    source: Source = Source.officer_verified
    source_department: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)
    reason: Reason = None


class AwardIn(_In):
    name: str | None = Field(default=None, max_length=128)
    level: AwardLevel
    awarded_on: date
    rank: int | None = Field(default=None, ge=1)
    source: Source = Source.officer_verified
    reason: Reason = None


class ContactIn(_In):
    name: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, pattern=r"^[0-9+\-() ]{5,20}$", max_length=32)
    id_number: str | None = Field(default=None, pattern=r"^[0-9]{17}[0-9Xx]$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=128)
    is_primary: bool = False
    reason: Reason = None


# ---- output -------------------------------------------------------------------------------------


class FirmListItem(BaseModel):
    id: int
    name: str
    uscc: str
    park: str | None
    area: str | None
    industry: str | None
    tiers_held: list[str]
    ladder_level: int
    version: int
    park_name: str | None = None
    area_name: str | None = None
    industry_name: str | None = None
    status: str
    officer: str | None = None
    tags: list[str] = Field(default_factory=list)


class FirmList(BaseModel):
    items: list[FirmListItem]
    total: int
    limit: int
    offset: int


class MembershipOut(BaseModel):
    park: str
    area: str | None
    carrier: str | None
    industry: str | None
    valid_from: date
    valid_to: date | None


class ContactOut(BaseModel):
    id: int
    name: str
    title: str | None
    phone: str | None
    id_number: str | None
    email: str | None
    is_primary: bool
    masked: bool


class YearOut(BaseModel):
    year: int
    source: str
    source_department: str | None
    values: dict[str, Amount | int | None]
    verified_at: datetime | None


class FactOut(BaseModel):
    id: int
    key: str
    value: Any
    valid_from: date
    source: str
    source_department: str | None
    note: str | None
    recorded_at: datetime
    verified_at: datetime | None


class EffectiveFactOut(BaseModel):
    key: str
    value: Any
    source: str
    observation_id: int
    conflict: bool


class RecognitionOut(BaseModel):
    id: int
    tier: str
    kind: str
    level: str | None
    certificate_no: str | None
    issued_on: date
    expires_on: date | None
    revoked_on: date | None
    revoke_reason: str | None
    held: bool
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class TaskOut(BaseModel):
    id: int
    title: str
    status: TaskStatus
    due_on: date | None
    assignee_id: int


class FirmFileOut(BaseModel):
    id: int
    name: str
    former_names: list[str]
    uscc: str
    founded_on: date | None
    district: str | None
    address: str | None
    status: str
    status_since: date | None
    officer_id: int | None
    version: int
    park: str | None
    area: str | None
    carrier: str | None
    industry: str | None
    tiers_held: list[str]
    ladder_level: int
    tags: list[str]
    memberships: list[MembershipOut]
    contacts: list[ContactOut]
    years: list[YearOut]
    facts: list[FactOut]
    effective_facts: list[EffectiveFactOut]
    incidents: list[dict[str, Any]]
    awards: list[dict[str, Any]]
    recognitions: list[RecognitionOut]
    tasks: list[TaskOut]
    as_of: date
