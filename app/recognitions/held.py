"""Tiers held on a day (`HeldTier`, migration c5e2a8f1d374): moving the day, and whether readers may use it.

Triggers keep the rows right for the stored day on every write to recognitions; `refresh` moves the day and
brings the rows to it (the ten-minute job `refresh_held_tiers`, seeding, the bench). Readers ask `is_current`:
only rows of today answer "which firms hold tier T today"; otherwise they ask recognitions directly.
"""

from __future__ import annotations

import threading
import time
from datetime import date

from sqlalchemy import and_, delete, exists, insert, select, text, update
from sqlalchemy.orm import Session

from app.recognitions.models import HeldTier, HeldTiersAsOf, Recognition

# The advisory lock `refresh` holds and the PostgreSQL triggers share (migration c5e2a8f1d374: HELD_LOCK).
HELD_LOCK = 7402113


def as_of(session: Session) -> date | None:
    return session.scalar(select(HeldTiersAsOf.as_of).where(HeldTiersAsOf.id == 1))


def refresh(session: Session, day: date) -> tuple[int, int]:
    """Make the rows those of `day`, in the caller's transaction: (rows removed, rows added). Only what
    changed is written (at midnight: the recognitions that lapsed or began). PostgreSQL: writers of
    recognitions wait while the rows are compared, and the comparison waits for writers still open (the
    triggers share the lock)."""
    _lock(session, wait=True)
    return _compare(session, day)


def try_refresh(session: Session, day: date) -> tuple[int, int] | None:
    """`refresh`, or nothing (None) while a writer of recognitions is still open (an import's long
    transaction), rather than queue every officer's next write behind the comparison."""
    if not _lock(session, wait=False):
        return None
    return _compare(session, day)


def _lock(session: Session, *, wait: bool) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # one writer at a time
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": HELD_LOCK})
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": HELD_LOCK}).scalar())


def _compare(session: Session, day: date) -> tuple[int, int]:
    from app.firms.repository import held_on  # the one definition of "valid on a day"

    session.execute(update(HeldTiersAsOf).where(HeldTiersAsOf.id == 1).values(as_of=day))
    backed = exists().where(
        Recognition.firm_id == HeldTier.firm_id, Recognition.tier == HeldTier.tier, held_on(day)
    )
    conn = session.connection()  # Core statements: their row counts (the ORM's INSERT…SELECT reports none)
    removed = conn.execute(delete(HeldTier).where(~backed)).rowcount
    new = (
        select(Recognition.tier, Recognition.firm_id)
        .where(
            held_on(day),
            ~exists().where(and_(HeldTier.firm_id == Recognition.firm_id, HeldTier.tier == Recognition.tier)),
        )
        .distinct()
    )
    # Counted from RETURNING: psycopg reports no row count for INSERT … SELECT.
    added = len(
        conn.execute(insert(HeldTier).from_select(["tier", "firm_id"], new).returning(HeldTier.tier)).all()
    )
    _current.forget()
    return int(removed or 0), int(added or 0)


class _Current:
    """The day the rows hold, per database, as last read by this process: once it is today it stays today
    (only the refresh moves it, and only to today); before that it is read again at most every `recheck`
    seconds."""

    def __init__(self, recheck: float = 30.0) -> None:
        self._recheck = recheck
        self._seen: dict[object, tuple[float, date | None]] = {}
        self._lock = threading.Lock()

    def holds(self, session: Session, today: date) -> bool:
        key = session.get_bind().engine.url
        with self._lock:
            seen = self._seen.get(key)
        if seen is not None and seen[1] == today:
            return True
        now = time.monotonic()
        if seen is None or now - seen[0] > self._recheck:
            day = as_of(session)
            with self._lock:
                self._seen[key] = (now, day)
            return day == today
        return False

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


_current = _Current()


def is_current(session: Session, today: date) -> bool:
    """Whether `HeldTier` holds the tiers of `today` (read at most every 30 s until it does)."""
    return _current.holds(session, today)


def forget() -> None:
    """Read the day again at the next `is_current` (after the rows' day was moved and rolled back: tests)."""
    _current.forget()
