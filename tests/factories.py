"""factory-boy factories, one per domain model; traits for states (`RecognitionFactory(expired=True)`).

The session comes from the `db` fixture: conftest binds every factory through `bind_session` (see
`_factories_use_db`), so `FirmFactory()` in a test body writes into that test's rolled-back transaction.
Values are deterministic (sequences, fixed dates relative to today); never assert on anything random.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind
from app.audit.models import Channel
from app.auth.models import Role, User, UserPark
from app.auth.principal import Principal
from app.auth.security import hash_password
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.db import utcnow
from app.firms import uscc
from app.firms.models import Contact, Firm, FirmName, FirmStatus, Membership
from app.firms.search import search_text_for
from app.firms.service import place
from app.indicators.models import FactObservation, FirmYear, Source
from app.recognitions.models import Recognition, RecognitionKind, RecognitionLevel
from app.tiers.codes import VALIDITY_YEARS, Tier
from app.web.formatting import today

# Every factory user can sign in with this password; hashed once (argon2 is deliberately slow).
PASSWORD = "ladder-test-password"
_PASSWORD_HASH = hash_password(PASSWORD)

# 9 = 工商, 1 = 企业, 310106 = 静安区: the first 8 characters of a USCC.
USCC_PREFIX = "91310106"

_session_provider: Callable[[], Session] | None = None


def bind_session(provider: Callable[[], Session] | None) -> None:
    """Point every factory at a session (a callable returning it, so it is only opened when used)."""
    global _session_provider
    _session_provider = provider


def _session() -> Session:
    if _session_provider is None:
        raise RuntimeError("factories are not bound to a session: use them inside a test (the `db` fixture)")
    return _session_provider()


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _session
        sqlalchemy_session_persistence = "flush"


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _years_ago(years: int, days: int = 0) -> Any:
    return factory.LazyFunction(lambda: today() - timedelta(days=365 * years + days))


# --- auth -------------------------------------------------------------------------------------------------


class UserFactory(BaseFactory):
    """An admin by default; `UserFactory(officer=True)` serves park jingan, `park_codes=[...]` chooses."""

    class Meta:
        model = User

    class Params:
        officer = factory.Trait(role=Role.officer)
        park_codes = factory.LazyAttribute(lambda o: ["jingan"] if o.role == Role.officer else [])

    username = factory.Sequence(lambda n: f"user{n:04d}")
    display_name = factory.Sequence(lambda n: f"测试用户{n:04d}")
    password_hash = _PASSWORD_HASH
    role = Role.admin
    firm_id = None
    is_active = True
    parks = factory.LazyAttribute(lambda o: [UserPark(park_code=code) for code in o.park_codes])


# --- firms ------------------------------------------------------------------------------------------------


class FirmFactory(BaseFactory):
    """An active firm with a valid USCC and, unless `park=False`, a current membership in park `jingan`.

    `FirmFactory(park="yangpu", park__area_code=..., park__industry_code=...)` places it elsewhere.
    """

    class Meta:
        model = Firm

    name = factory.Sequence(lambda n: f"上海梯度测试科技有限公司{n:04d}")
    uscc = factory.Sequence(lambda n: uscc.build(USCC_PREFIX, f"{10000000 + n:08d}"))
    founded_on = _years_ago(5)
    district_code = "jingan"
    address = factory.Sequence(lambda n: f"上海市静安区测试路{n}号")
    status = FirmStatus.active
    status_since = None
    officer_id = None
    search_text = factory.LazyAttribute(lambda o: search_text_for(o.name, [], o.uscc))

    @factory.post_generation
    def park(obj: Firm, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or extracted is False:
            return
        kwargs.setdefault("valid_from", obj.founded_on or today() - timedelta(days=365))
        MembershipFactory(firm=obj, park_code=extracted or "jingan", **kwargs)


class MembershipFactory(BaseFactory):
    """A current membership (no valid_to); pass `firm=` or `firm_id=`. An open one also becomes the firm's
    current placement, as firms.service does."""

    class Meta:
        model = Membership
        exclude = ("firm",)

    firm = factory.SubFactory(FirmFactory, park=False)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    park_code = "jingan"
    area_code = None
    carrier_code = None
    industry_code = None
    valid_from = _years_ago(3)
    valid_to = None

    @factory.post_generation
    def placement(obj: Membership, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and obj.valid_to is None:
            session = _session()
            place(session.get(Firm, obj.firm_id), obj)  # type: ignore[arg-type]
            session.flush()


class FirmNameFactory(BaseFactory):
    """A former name (曾用名) unless `valid_to=None`."""

    class Meta:
        model = FirmName
        exclude = ("firm",)

    firm = factory.SubFactory(FirmFactory)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    name = factory.Sequence(lambda n: f"上海旧名测试有限公司{n:04d}")
    valid_from = _years_ago(5)
    valid_to = _years_ago(2)


class ContactFactory(BaseFactory):
    class Meta:
        model = Contact
        exclude = ("firm",)

    firm = factory.SubFactory(FirmFactory)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    name = factory.Sequence(lambda n: f"联系人{n:04d}")
    title = "总经理"
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    id_number = None
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    is_primary = True


# --- indicators -------------------------------------------------------------------------------------------


class FirmYearFactory(BaseFactory):
    """Last calendar year's indicators as the firm reported them (amounts in 万元)."""

    class Meta:
        model = FirmYear
        exclude = ("firm",)

    firm = factory.SubFactory(FirmFactory)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    year = factory.LazyFunction(lambda: today().year - 1)
    source = Source.firm_reported
    source_department = None
    employees = 42
    tech_staff = 18
    rd_staff = 12
    revenue = Decimal("1800")
    main_revenue = Decimal("1710")
    hightech_revenue = Decimal("1674")
    total_income = Decimal("1800")
    rd_expense = Decimal("260")
    rd_expense_domestic = Decimal("260")
    cost_total = Decimal("1500")
    total_assets = Decimal("2600")
    total_liabilities = Decimal("1040")
    net_profit = Decimal("210")
    equity_financing = Decimal("0")


class FactObservationFactory(BaseFactory):
    """One fact of the eligibility contract (default `is_sme` = true) as the firm reported it."""

    class Meta:
        model = FactObservation
        exclude = ("firm",)

    firm = factory.SubFactory(FirmFactory)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    key = "is_sme"
    value = True
    valid_from = _years_ago(1)
    source = Source.firm_reported
    source_department = None
    note = None
    recorded_at = factory.LazyFunction(utcnow)


# --- recognitions -----------------------------------------------------------------------------------------


class RecognitionFactory(BaseFactory):
    """A 高新技术企业 recognition issued a year ago and valid for its full term.

    Traits: `expired=True` (ended a month ago), `expiring_soon=True` (ends in 30 days), `revoked=True`
    (revoked ten days ago).
    """

    class Meta:
        model = Recognition
        exclude = ("firm",)

    class Params:
        expired = factory.Trait(
            issued_on=factory.LazyFunction(lambda: today() - timedelta(days=365 * 3 + 30)),
            expires_on=factory.LazyFunction(lambda: today() - timedelta(days=30)),
        )
        expiring_soon = factory.Trait(
            issued_on=factory.LazyFunction(lambda: today() - timedelta(days=365 * 3 - 30)),
            expires_on=factory.LazyFunction(lambda: today() + timedelta(days=30)),
        )
        revoked = factory.Trait(
            revoked_on=factory.LazyFunction(lambda: today() - timedelta(days=10)),
            revoke_reason="弄虚作假，撤销认定",
        )

    firm = factory.SubFactory(FirmFactory)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    tier = Tier.hnte
    kind = RecognitionKind.first
    level = RecognitionLevel.national
    certificate_no = factory.Sequence(lambda n: f"GR2024310{n:05d}")
    issued_on = factory.LazyFunction(lambda: today() - timedelta(days=365))
    # Inclusive end: issued_on + validity years − 1 day.
    expires_on = factory.LazyAttribute(
        lambda o: add_years(o.issued_on, VALIDITY_YEARS[Tier(o.tier)]) - timedelta(days=1)
    )
    revoked_on = None
    revoke_reason = None
    note = None


# --- casework ---------------------------------------------------------------------------------------------


class TaskFactory(BaseFactory):
    """An open manual task for a firm, assigned to an officer of park jingan, due in two weeks."""

    class Meta:
        model = Task
        exclude = ("firm", "assignee")

    firm = factory.SubFactory(FirmFactory)
    assignee = factory.SubFactory(UserFactory, officer=True)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id if o.firm is not None else None)
    assignee_id = factory.LazyAttribute(lambda o: o.assignee.id)
    origin = TaskOrigin.manual
    origin_ref = None
    title = factory.Sequence(lambda n: f"走访企业了解诉求（{n}）")
    due_on = factory.LazyFunction(lambda: today() + timedelta(days=14))
    status = TaskStatus.open
    notes = None
    created_by_id = None
    closed_at = None


ALL_FACTORIES: list[type[BaseFactory]] = [
    UserFactory,
    FirmFactory,
    MembershipFactory,
    FirmNameFactory,
    ContactFactory,
    FirmYearFactory,
    FactObservationFactory,
    RecognitionFactory,
    TaskFactory,
]


def principal(role: Role = Role.admin, parks: frozenset[str] | None = None) -> Principal:
    """A caller with no account row (repository tests): an admin of every park, or an officer of `parks`."""
    return Principal(
        user_id=0,
        username=role.value,
        display_name="测试" + role.value,
        role=role,
        park_codes=parks,
        firm_id=None,
        actor=Actor(kind=ActorKind.system, label="测试", channel=Channel.system),
    )
