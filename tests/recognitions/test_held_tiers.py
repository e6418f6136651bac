"""Tiers held today (`held_tiers`, migration c5e2a8f1d374): database triggers keep them right on every write
to recognitions, whoever writes; the ten-minute job moves them to a new day and repairs drift; the firm
list's tier filter reads them only while they are today's, and asks recognitions otherwise. The test
database holds today's (conftest), as production does once the job has run."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.firms.models import Firm
from app.firms.repository import FirmFilters, list_firms
from app.recognitions import held, jobs
from app.recognitions.models import HeldTier, Recognition
from app.tiers.codes import Tier
from app.web.formatting import today
from tests.factories import FirmFactory, RecognitionFactory, principal

ADMIN = principal()


def truth(db: Session, firm_ids: list[int], day: date) -> set[tuple[str, int]]:
    """(tier, firm) held on `day`, from the recognitions by the model's own rule."""
    recs = db.scalars(select(Recognition).where(Recognition.firm_id.in_(firm_ids))).all()
    return {(str(r.tier), r.firm_id) for r in recs if r.held_on(day)}


def kept(db: Session, firm_ids: list[int]) -> set[tuple[str, int]]:
    db.flush()
    rows = db.execute(select(HeldTier.tier, HeldTier.firm_id).where(HeldTier.firm_id.in_(firm_ids)))
    return {(r.tier, r.firm_id) for r in rows}


def holders(db: Session, tier: Tier, day: date | None = None) -> set[int]:
    """The firms the list shows under 持有梯度 = tier (and its total agrees)."""
    rows, total = list_firms(db, ADMIN, FirmFilters(tier=tier), today=day or today(), limit=500)
    assert total == len(rows)
    return {r.firm.id for r in rows}


def test_the_test_database_holds_todays_tiers_so_the_list_reads_them(
    db: Session, query_counter: Callable[[], Any]
) -> None:
    firm = RecognitionFactory(tier=Tier.little_giant).firm_id
    assert held.is_current(db, today())
    with query_counter() as statements:
        assert firm in holders(db, Tier.little_giant)
    assert any("held_tiers" in s for s in statements)


def test_every_write_through_the_session_keeps_the_held_tiers_right(db: Session) -> None:
    day = today()
    a, b = FirmFactory(), FirmFactory()
    rec = RecognitionFactory(firm=a, tier=Tier.hnte)
    RecognitionFactory(firm=b, tier=Tier.hnte, expired=True)
    ids = [a.id, b.id]
    assert kept(db, ids) == truth(db, ids, day) == {("hnte", a.id)}
    assert holders(db, Tier.hnte) & set(ids) == {a.id}

    rec.revoked_on = day  # revoked today: no longer held today
    assert kept(db, ids) == truth(db, ids, day) == set()
    assert not holders(db, Tier.hnte) & set(ids)

    rec.revoked_on = day + timedelta(days=1)  # revoked from tomorrow: still held today
    assert kept(db, ids) == {("hnte", a.id)}

    rec.revoked_on = None
    rec.issued_on = day + timedelta(days=1)  # a certificate that takes effect tomorrow
    assert kept(db, ids) == truth(db, ids, day) == set()

    rec.issued_on = day - timedelta(days=10)
    rec.expires_on = day  # its last day is today
    assert kept(db, ids) == {("hnte", a.id)}
    rec.expires_on = day - timedelta(days=1)
    assert kept(db, ids) == set()

    # Two recognitions of one tier (a renewal overlapping): held until both are gone.
    rec.expires_on = None
    second = RecognitionFactory(firm=a, tier=Tier.hnte)
    db.delete(rec)
    assert kept(db, ids) == {("hnte", a.id)}
    db.delete(second)
    assert kept(db, ids) == truth(db, ids, day) == set()

    # A recognition moved to another firm (a correction) leaves the first and joins the second.
    third = RecognitionFactory(firm=a, tier=Tier.srdi_sme)
    third.firm_id = b.id
    assert kept(db, ids) == truth(db, ids, day) == {("srdi_sme", b.id)}
    assert holders(db, Tier.srdi_sme) & set(ids) == {b.id}


def test_plain_sql_of_many_rows_keeps_them_right_and_a_deleted_firm_leaves_none(db: Session) -> None:
    day = today()
    firms = [FirmFactory() for _ in range(4)]
    ids = [f.id for f in firms]
    db.execute(
        insert(Recognition),
        [
            {
                "firm_id": f.id,
                "tier": tier,
                "kind": "first",
                "issued_on": day - timedelta(days=100 + n),
                "expires_on": day + timedelta(days=n - 1),  # the first ended yesterday
            }
            for n, f in enumerate(firms)
            for tier in ("tech_sme", "innovative_sme")
        ],
    )
    assert kept(db, ids) == truth(db, ids, day)
    assert {f for _t, f in kept(db, ids)} == set(ids[1:])

    db.execute(
        update(Recognition)
        .where(Recognition.firm_id.in_(ids[:2]), Recognition.tier == "tech_sme")
        .values(expires_on=day + timedelta(days=365))
    )
    assert kept(db, ids) == truth(db, ids, day)
    assert ("tech_sme", ids[0]) in kept(db, ids)

    db.execute(delete(Recognition).where(Recognition.firm_id == ids[2], Recognition.tier == "innovative_sme"))
    assert kept(db, ids) == truth(db, ids, day)

    db.execute(delete(Firm).where(Firm.id == ids[3]))
    assert not kept(db, [ids[3]])


def test_a_stale_day_is_not_used_and_the_refresh_brings_it_to_today(db: Session) -> None:
    day = today()
    yesterday = day - timedelta(days=1)
    lapsed = RecognitionFactory(
        tier=Tier.gazelle, issued_on=day - timedelta(days=400), expires_on=yesterday
    ).firm_id
    starting = RecognitionFactory(tier=Tier.gazelle, issued_on=day, expires_on=None).firm_id
    ids = [lapsed, starting]

    held.refresh(db, yesterday)  # the job has not run since midnight
    assert kept(db, ids) == truth(db, ids, yesterday) == {("gazelle", lapsed)}
    assert not held.is_current(db, day)
    # The list asks recognitions meanwhile: today's holders, not yesterday's.
    assert holders(db, Tier.gazelle) & set(ids) == {starting}

    removed, added = held.refresh(db, day)
    assert (removed, added) == (1, 1)
    assert kept(db, ids) == truth(db, ids, day) == {("gazelle", starting)}
    assert held.is_current(db, day)
    assert holders(db, Tier.gazelle) & set(ids) == {starting}


def test_the_job_moves_the_day_once(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "open_session", lambda: nullcontext(db))
    firm = RecognitionFactory(tier=Tier.unicorn, issued_on=today(), expires_on=None).firm_id
    held.refresh(db, today() - timedelta(days=1))
    assert not kept(db, [firm])

    assert jobs.refresh_held_tiers() is True
    assert held.as_of(db) == today()
    assert kept(db, [firm]) == {("unicorn", firm)}
    assert jobs.refresh_held_tiers() is False


def test_while_no_day_is_set_nothing_is_kept_and_the_list_still_answers(db: Session) -> None:
    db.execute(update(held.HeldTiersAsOf).values(as_of=None))
    db.execute(delete(HeldTier))
    held.forget()
    firm = RecognitionFactory(tier=Tier.hidden_champion).firm_id
    assert not kept(db, [firm])
    assert firm in holders(db, Tier.hidden_champion)


def test_the_worker_runs_the_job_every_ten_minutes() -> None:
    """The huey consumer (started by `make run`, a container in production) runs it on its schedule."""
    from datetime import datetime

    from app.jobs import huey

    def due(minute: int) -> list[str]:
        return [task.name for task in huey.read_periodic(datetime(2026, 12, 3, 0, minute))]

    assert "recognitions.refresh_held_tiers" in due(0)
    assert "recognitions.refresh_held_tiers" in due(10)
    assert "recognitions.refresh_held_tiers" not in due(11)


def test_the_job_repairs_rows_that_drifted(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """What two writers of one firm's recognitions at the same moment could leave behind (each trigger saw
    its own snapshot) is set right at the job's next run, the same day."""
    monkeypatch.setattr(jobs, "open_session", lambda: nullcontext(db))
    firm = RecognitionFactory(tier=Tier.srdi_sme).firm_id
    other = FirmFactory().id
    db.execute(delete(HeldTier).where(HeldTier.firm_id == firm))
    db.execute(insert(HeldTier).values(tier="unicorn", firm_id=other))
    assert kept(db, [firm, other]) == {("unicorn", other)}

    assert jobs.refresh_held_tiers() is True
    assert kept(db, [firm, other]) == truth(db, [firm, other], today()) == {("srdi_sme", firm)}
    assert jobs.refresh_held_tiers() is False


def test_the_job_does_not_queue_behind_an_open_writer(db: Session) -> None:
    """PostgreSQL: while a transaction that wrote recognitions is open (an import, say), the comparison is
    skipped for this run rather than hold every officer's next write behind it."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    from sqlalchemy import text

    from app.db import engine

    with engine.connect() as writer:  # what the triggers take while a writer's transaction is open
        writer.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": held.HELD_LOCK})
        assert held.try_refresh(db, today()) is None
        writer.rollback()
    assert held.try_refresh(db, today()) == (0, 0)
