"""A firm list's total is counted once and kept while nothing it counts has changed (`repository.TOTALS`,
checked against `firm_list_epoch`, which database triggers move). Whatever writes — this process, another
one, plain SQL — the next list shows the new total; a transaction sees its own uncommitted writes; a write
rolled back leaves the total as it was.

These tests commit, so they run on a database of their own (migrated from empty), with more firms than the
list's probe reads (`repository.SPARSE`): only such totals are kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.principal import Principal
from app.db import make_engine
from app.firms import repository
from app.firms.models import Firm, FirmTag
from app.firms.repository import FirmFilters
from app.recognitions.models import Recognition
from seeds.reference import load_reference
from tests.factories import principal as caller

FIRMS = 2 * repository.SPARSE + 200  # each park (half) holds more than the probe reads
TODAY = date(2026, 12, 3)
ADMIN = caller()
OFFICER = caller(Role.officer, frozenset({"jingan"}))


@pytest.fixture(scope="module")
def own_engine(
    fresh_database: Callable[[str], str], alembic_config: Callable[[str], Config]
) -> Iterator[Engine]:
    url = fresh_database("_totals")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine) as session:
        from app.audit.actor import act_as

        act_as(session, ADMIN.actor)
        load_reference(session)
        session.commit()
    with engine.begin() as conn:
        conn.execute(
            insert(Firm),
            [
                {
                    "name": f"上海总数测试科技有限公司{n:04d}",
                    "uscc": f"T{n:017d}",
                    "park_code": "jingan" if n % 2 else "yangpu",
                    "search_text": f"上海总数测试科技有限公司{n:04d}",
                }
                for n in range(FIRMS)
            ],
        )
        ids = conn.scalars(select(Firm.id).order_by(Firm.id)).all()
        conn.execute(
            insert(Recognition),
            [
                {"firm_id": i, "tier": "hnte", "kind": "first", "issued_on": TODAY - timedelta(days=100)}
                for i in ids
            ],
        )
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _forget_totals() -> None:
    repository.TOTALS.clear()


def total(engine: Engine, principal: Principal = ADMIN, **filters: str) -> int:
    with Session(engine) as session:
        return list_total(session, principal, **filters)


def list_total(session: Session, principal: Principal = ADMIN, **filters: str) -> int:
    rows, count = repository.list_firms(session, principal, FirmFilters(**filters), today=TODAY, limit=25)
    assert len(rows) == min(25, count)
    return count


def test_a_total_follows_what_another_connection_commits(own_engine: Engine) -> None:
    before = total(own_engine)
    assert before >= FIRMS
    assert total(own_engine) == before  # kept: now read from TOTALS

    with own_engine.begin() as other:  # another process, say, or plain SQL
        other.execute(
            insert(Firm).values(name="上海新来科技有限公司", uscc="N00000000000000001", park_code="jingan")
        )
    assert total(own_engine) == before + 1

    with own_engine.begin() as other:
        other.execute(delete(Firm).where(Firm.uscc == "N00000000000000001"))
    assert total(own_engine) == before


def test_a_move_between_parks_changes_both_parks_totals(own_engine: Engine) -> None:
    jingan, yangpu = total(own_engine, park="jingan"), total(own_engine, park="yangpu")
    officer = total(own_engine, OFFICER)
    assert officer == jingan
    with own_engine.begin() as other:
        moved = other.scalar(select(Firm.id).where(Firm.park_code == "jingan").limit(1))
        other.execute(update(Firm).where(Firm.id == moved).values(park_code="yangpu"))
    try:
        assert total(own_engine, park="jingan") == jingan - 1
        assert total(own_engine, park="yangpu") == yangpu + 1
        assert total(own_engine, OFFICER) == officer - 1
    finally:
        with own_engine.begin() as other:
            other.execute(update(Firm).where(Firm.id == moved).values(park_code="jingan"))


def test_a_tier_total_follows_a_revocation_and_a_tag_total_a_new_tag(own_engine: Engine) -> None:
    held = total(own_engine, tier="hnte")
    tagged = total(own_engine)  # every firm, to compare with below
    with own_engine.begin() as other:
        first = other.scalar(select(Recognition.id).order_by(Recognition.id).limit(1))
        other.execute(update(Recognition).where(Recognition.id == first).values(revoked_on=TODAY))
    try:
        assert total(own_engine, tier="hnte") == held - 1
    finally:
        with own_engine.begin() as other:
            other.execute(update(Recognition).where(Recognition.id == first).values(revoked_on=None))
    assert total(own_engine, tier="hnte") == held

    with own_engine.begin() as other:
        firm_ids = other.scalars(select(Firm.id).order_by(Firm.id).limit(FIRMS)).all()
        other.execute(insert(FirmTag), [{"firm_id": i, "tag": "瞪羚", "valid_from": TODAY} for i in firm_ids])
    try:
        assert total(own_engine, tag="瞪羚") == FIRMS
        with own_engine.begin() as other:
            other.execute(delete(FirmTag).where(FirmTag.firm_id == firm_ids[0]))
        assert total(own_engine, tag="瞪羚") == FIRMS - 1
    finally:
        with own_engine.begin() as other:
            other.execute(delete(FirmTag))
    assert total(own_engine) == tagged


def test_a_transaction_counts_its_own_writes_and_a_rollback_restores_the_total(own_engine: Engine) -> None:
    before = total(own_engine)
    with Session(own_engine) as session:
        assert list_total(session) == before
        session.execute(insert(Firm).values(name="上海未提交科技有限公司", uscc="U00000000000000001"))
        assert list_total(session) == before + 1  # its own write, not yet committed
        session.rollback()
        assert list_total(session) == before
    assert total(own_engine) == before

    # Once more, so that a value of the epoch seen inside the rolled-back transaction would be met again.
    with Session(own_engine) as session:
        session.execute(insert(Firm).values(name="上海再试科技有限公司", uscc="U00000000000000002"))
        assert list_total(session) == before + 1
        session.commit()
    try:
        assert total(own_engine) == before + 1
    finally:
        with own_engine.begin() as other:
            other.execute(delete(Firm).where(Firm.uscc == "U00000000000000002"))


def test_the_epoch_moves_only_for_what_lists_count(own_engine: Engine) -> None:
    def epoch() -> int:
        with own_engine.connect() as conn:
            return int(conn.scalar(text("SELECT epoch FROM firm_list_epoch")))

    start = epoch()
    with own_engine.begin() as other:  # an address is not filtered on: kept totals stay
        other.execute(
            update(Firm).where(Firm.uscc == "T00000000000000001").values(address="上海市静安区新址1号")
        )
    assert epoch() == start
    with own_engine.begin() as other:
        other.execute(update(Firm).where(Firm.uscc == "T00000000000000001").values(status="moved_out"))
    assert epoch() != start
    with own_engine.begin() as other:
        other.execute(update(Firm).where(Firm.uscc == "T00000000000000001").values(status="active"))


@pytest.mark.parametrize("term", ["科技", "总数测试", "数测试科技有"])
def test_a_search_held_by_hundreds_pages_and_counts_exactly(own_engine: Engine, term: str) -> None:
    """A term more firms hold than the probe reads: counted from the search index, paged by walking the name
    index from either end — the same firms in the same order as sorting every match, cold or kept."""
    with Session(own_engine) as session:
        everyone = session.execute(
            select(Firm.id, Firm.name, Firm.park_code).order_by(Firm.name, Firm.id)
        ).all()
        for principal, parks in ((ADMIN, None), (OFFICER, {"jingan"})):
            expected = [r.id for r in everyone if term in r.name and (parks is None or r.park_code in parks)]
            assert len(expected) > repository.SPARSE
            for _round in ("cold", "kept"):
                for offset in (0, 100, len(expected) - 30, len(expected) + 5):
                    rows, count = repository.list_firms(
                        session, principal, FirmFilters(q=term), today=TODAY, limit=25, offset=offset
                    )
                    assert count == len(expected)
                    assert [r.firm.id for r in rows] == expected[offset : offset + 25]
