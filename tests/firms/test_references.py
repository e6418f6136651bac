"""The per-process cache of reference tables: a park written here shows at once, and goes with a rollback;
one written by another process shows once the cache's time runs out."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.firms import references
from app.reference.models import Park


def park_names(db: Session) -> dict[str, str]:
    return references.load(db).names["park"]


def test_a_park_added_in_this_process_shows_at_once_and_leaves_with_the_rollback(db: Session) -> None:
    assert "jingan" in park_names(db)
    savepoint = db.begin_nested()
    db.add(Park(code="lingang_test", name="临港测试园", district_code="jingan"))
    db.flush()
    assert park_names(db)["lingang_test"] == "临港测试园"
    savepoint.rollback()
    assert "lingang_test" not in park_names(db)


def test_a_park_written_by_another_process_shows_when_the_cache_expires(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    park_names(db)  # cached now
    # Written past the ORM, as another process's seed run would: this process is not told.
    db.execute(insert(Park).values(code="lingang_core", name="临港核心园", district_code="jingan"))
    assert "lingang_core" not in park_names(db)
    monkeypatch.setattr(references, "TTL_SECONDS", 0.0)
    assert park_names(db)["lingang_core"] == "临港核心园"
    db.execute(delete(Park).where(Park.code == "lingang_core"))
    assert "lingang_core" not in park_names(db)


def test_the_officer_filter_shows_a_new_officer_at_once_and_forgets_a_deactivated_one(
    db: Session, make_user: Any
) -> None:
    def names(parks: frozenset[str] | None) -> list[str]:
        return [name for _id, name in references.officer_choices(db, parks)]

    before_all, before_jingan = names(None), names(frozenset({"jingan"}))  # cached now
    officer = make_user(Role.officer, parks=["jingan"], display_name="新来的专员")
    assert "新来的专员" in names(None)
    assert "新来的专员" in names(frozenset({"jingan"}))
    assert "新来的专员" not in names(frozenset({"yangpu"}))
    officer.is_active = False
    db.flush()
    assert names(None) == before_all
    assert names(frozenset({"jingan"})) == before_jingan
