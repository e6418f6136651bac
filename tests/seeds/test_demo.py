from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.actor import current_actor
from app.audit.models import AuditEntry
from app.auth.models import Role, User, UserPark
from app.auth.security import DEMO_PASSWORD, DEMO_USERNAMES, verify_password
from app.casework.models import Task, TaskOrigin
from app.config import settings
from app.db import make_engine
from app.firms import uscc
from app.firms.models import Firm, FirmName, Membership
from app.indicators.models import FactObservation, FirmYear, Source
from app.recognitions.models import Recognition
from app.reference.models import Area, Industry
from app.tiers.codes import Tier
from seeds.demo import DEMO_ACTOR, DemoModeOff, ensure_demo_accounts, generate
from seeds.fake import firm_rows, reference_data
from seeds.reference import load_reference

TODAY = date(2026, 9, 15)
N = 60


@pytest.fixture
def demo(db: Session, demo_mode: None) -> list[int]:
    load_reference(db)
    ensure_demo_accounts(db)
    return generate(db, today=TODAY, n_firms=N)


def _identities(db: Session, ids: list[int]) -> list[tuple[str, str]]:
    rows = db.execute(select(Firm.name, Firm.uscc).where(Firm.id.in_(ids)).order_by(Firm.id))
    return [(name, code) for name, code in rows]


def test_the_same_day_gives_the_same_firms_twice(db: Session, demo_mode: None) -> None:
    load_reference(db)
    ensure_demo_accounts(db)
    savepoint = db.begin_nested()
    first = _identities(db, generate(db, today=TODAY, n_firms=N))
    savepoint.rollback()
    second = _identities(db, generate(db, today=TODAY, n_firms=N))
    assert first == second
    assert len(first) == N
    # The rows the benchmark gets are the same firms.
    assert first == [(r["firms"][0]["name"], r["firms"][0]["uscc"]) for r in firm_rows(N, today=TODAY)]


def test_every_uscc_is_valid(db: Session, demo: list[int]) -> None:
    codes = db.scalars(select(Firm.uscc).where(Firm.id.in_(demo))).all()
    assert len(codes) == N
    assert all(uscc.is_valid(code) for code in codes)


def test_firms_spread_over_the_three_parks_with_their_own_areas_and_industries(
    db: Session, demo: list[int]
) -> None:
    rows = db.execute(
        select(Membership.park_code, Area.park_code, Membership.industry_code, Membership.carrier_code)
        .join(Area, Area.code == Membership.area_code)
        .where(Membership.firm_id.in_(demo))
    ).all()
    assert len(rows) == N
    assert {park for park, *_ in rows} == {"jingan", "yangpu", "hongkou"}
    leads = reference_data().lead_industries
    carriers = {c["code"]: c for park in leads for c in reference_data().carriers[park]}
    for park, area_park, industry, carrier in rows:
        assert area_park == park
        assert industry in leads[park]
        assert db.get(Industry, industry) is not None
        assert carrier is None or carriers[carrier]["park_code"] == park


def test_each_firm_is_served_by_its_park_officer(db: Session, demo: list[int]) -> None:
    officers = dict(
        db.execute(select(UserPark.park_code, User.id).join(User, User.id == UserPark.user_id)).all()
    )
    rows = db.execute(
        select(Firm.officer_id, Membership.park_code)
        .join(Membership, Membership.firm_id == Firm.id)
        .where(Firm.id.in_(demo))
    ).all()
    assert all(officer == officers[park] for officer, park in rows)


def test_former_names_are_kept_and_searchable(db: Session, demo: list[int]) -> None:
    former = db.execute(
        select(FirmName.name, Firm.search_text)
        .join(Firm, Firm.id == FirmName.firm_id)
        .where(FirmName.firm_id.in_(demo), FirmName.valid_to.is_not(None))
    ).all()
    assert former, "some firms have a 曾用名"
    assert all(name.lower() in text for name, text in former)


def test_some_recognitions_expire_within_six_months_and_some_have_expired(
    db: Session, demo: list[int]
) -> None:
    recs = db.scalars(select(Recognition).where(Recognition.firm_id.in_(demo))).all()
    soon = [
        r for r in recs if r.held_on(TODAY) and r.expires_on and r.expires_on <= TODAY + timedelta(days=183)
    ]
    expired = [r for r in recs if r.expires_on and r.expires_on < TODAY]
    first_recent = [r for r in recs if r.kind == "first" and r.issued_on.year in (TODAY.year, TODAY.year - 1)]
    assert {r.tier for r in soon} >= {Tier.tech_sme, Tier.hnte}
    assert expired and first_recent
    hnte = [r for r in recs if r.tier == Tier.hnte]
    assert all(r.certificate_no and r.certificate_no.startswith(f"GR{r.issued_on.year}31") for r in hnte)
    assert all(
        r.expires_on == r.issued_on.replace(year=r.issued_on.year + 3) - timedelta(days=1) for r in hnte
    )


def test_expiry_reminders_go_to_the_officer_before_the_certificate_expires(
    db: Session, demo: list[int]
) -> None:
    rows = db.execute(
        select(Task, Recognition, Firm.officer_id)
        .join(Firm, Firm.id == Task.firm_id)
        .join(Recognition, Task.origin_ref == "recognition:" + cast(Recognition.id, String))
        .where(Task.firm_id.in_(demo))
    ).all()
    assert rows
    for task, rec, officer_id in rows:
        assert task.origin == TaskOrigin.expiry_reminder
        assert task.assignee_id == officer_id
        assert rec.firm_id == task.firm_id
        assert rec.expires_on is not None and task.due_on is not None
        assert TODAY <= task.due_on < rec.expires_on


def test_some_facts_conflict_between_sources(db: Session, demo: list[int]) -> None:
    facts = db.scalars(select(FactObservation).where(FactObservation.firm_id.in_(demo))).all()
    by_key: dict[tuple[int, str, date], set[tuple[str, str]]] = {}
    for fact in facts:
        by_key.setdefault((fact.firm_id, fact.key, fact.valid_from), set()).add(
            (fact.source, repr(fact.value))
        )
    conflicting = {
        (firm, key)
        for (firm, key, _), seen in by_key.items()
        if len({s for s, _ in seen}) > 1 and len({v for _, v in seen}) > 1
    }
    assert conflicting
    assert any(key == "ip.class1" for _, key in conflicting) or len(conflicting) >= 2
    keys = {fact.key for fact in facts}
    assert {"is_sme", "niche_since", "lists.abnormal", "ip.class1", "scores.hnte_innovation"} <= keys


def test_indicators_come_from_several_sources(db: Session, demo: list[int]) -> None:
    sources = dict(
        db.execute(
            select(FirmYear.source, func.count()).where(FirmYear.firm_id.in_(demo)).group_by(FirmYear.source)
        ).all()
    )
    assert sources[Source.firm_reported] > sources.get(Source.department, 0) > 0
    departments = set(
        db.scalars(
            select(FirmYear.source_department).where(
                FirmYear.firm_id.in_(demo), FirmYear.source == "department"
            )
        )
    )
    assert departments and departments <= {"税务局", "市场监管局", "人社局"}


def test_every_write_is_audited_as_demo_data_and_the_callers_actor_is_restored(
    db: Session, demo: list[int]
) -> None:
    labels = dict(
        db.execute(
            select(AuditEntry.actor_label, func.count())
            .where(AuditEntry.entity == "firms", AuditEntry.entity_id.in_(demo))
            .group_by(AuditEntry.actor_label)
        ).all()
    )
    assert labels == {"演示数据": N}
    assert current_actor(db) not in (None, DEMO_ACTOR)


def test_demo_accounts_are_created_once_with_the_demo_password(db: Session, demo_mode: None) -> None:
    load_reference(db)
    first = ensure_demo_accounts(db)
    again = ensure_demo_accounts(db)
    assert first.created == list(DEMO_USERNAMES) and again.created == []
    users = {u.username: u for u in db.scalars(select(User).where(User.username.in_(DEMO_USERNAMES)))}
    assert users["officer_jingan"].role == Role.officer and users["leader"].role == Role.leader
    assert users["officer_jingan"].display_name == "王静（静安园专员）"
    assert verify_password(users["admin"].password_hash, DEMO_PASSWORD)
    parks = db.scalars(
        select(UserPark.park_code).where(UserPark.user_id == users["officer_hongkou"].id)
    ).all()
    assert parks == ["hongkou"]


def test_demo_accounts_are_refused_outside_demo_mode(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "demo_mode", False)
    with pytest.raises(DemoModeOff):
        ensure_demo_accounts(db)


def test_cli_refuses_outside_demo_mode(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from seeds.__main__ import main

    monkeypatch.setattr(settings, "demo_mode", False)
    assert main(["demo"]) == 2
    assert "LADDER_DEMO_MODE" in capsys.readouterr().err


def test_cli_loads_once_then_skips(
    fresh_database: Callable[[str], str],
    alembic_config: Callable[[str], Config],
    demo_mode: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import seeds.__main__ as cli

    url = fresh_database("_seeds_cli")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    monkeypatch.setattr(cli, "_sessions", lambda: factory)
    try:
        assert cli.main(["demo", "--firms", "20", "--today", "2026-09-15"]) == 0
        assert "企业：20 家" in capsys.readouterr().out
        assert cli.main(["demo", "--firms", "20"]) == 0
        assert "演示数据已存在，跳过" in capsys.readouterr().out
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Firm)) == 20
            audited = select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_label == "演示数据")
            assert (session.scalar(audited) or 0) > 20
    finally:
        engine.dispose()
