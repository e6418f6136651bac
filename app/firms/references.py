"""Reference data as the firm pages read it: one query per request instead of five to fourteen.

Parks, districts, areas, carriers and industries change only when seeds run (no page edits them). What is
read from them (one UNION ALL of about a hundred short rows, `repository.reference_rows`) and built from them
(names by code, select options, groupings) is kept per process and read again:
- at once after a session of this process wrote a reference row (its flush, and the end of its transaction,
  committed or rolled back), so a test or a seed run in this process sees what it made;
- at the latest `TTL_SECONDS` after the last read, so a seed run by another process (another web worker,
  `python -m seeds`) shows within that time.
Reading them on every request cost about 1.4 ms of CPU (measured on the 2-core bench machine), a tenth of
what a firm-file request may spend. Callers must treat what they get as read-only: it is shared.

The firm list's officer filter (`officer_choices`) is kept the same way, and read again after a write to
accounts or their parks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from app.auth.models import User, UserPark
from app.firms import repository
from app.reference.models import Area, Carrier, CarrierKind, District, Industry, Park
from app.reference.service import Options, ReferenceOptions


@dataclass(frozen=True)
class References:
    options: ReferenceOptions
    names: dict[str, dict[str, str]]
    industry_options: Options
    # An industry's code and its sub-industries' (what a filter on it matches), by code.
    industry_family: dict[str, list[str]]


TTL_SECONDS = 30.0
REFERENCE_MODELS = (Park, District, Area, Carrier, Industry, User, UserPark)

_lock = threading.Lock()
# (generation it was read at, when it was read (monotonic), the rows, what was built from them)
_last: tuple[int, float, tuple[Any, ...], References] | None = None
_generation = 0
# park scope → (generation, when read, choices)
_officers: dict[frozenset[str] | None, tuple[int, float, list[tuple[str, str]]]] = {}


def _fresh(generation: int, read_at: float) -> bool:
    """Whether what was read at `read_at` under `generation` may still be used."""
    return generation == _generation and time.monotonic() - read_at < TTL_SECONDS


def invalidate() -> None:
    """Forget what was read: the next `load` reads the tables again."""
    global _generation
    with _lock:
        _generation += 1


def _touches_references(session: Session) -> bool:
    return any(isinstance(obj, REFERENCE_MODELS) for obj in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _note_reference_writes(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if _touches_references(session):
        session.info["ladder_references_written"] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get("ladder_references_written"):
        invalidate()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Committed or rolled back (a savepoint, or the whole transaction; not the flush's own inner one), what
    # was read while the rows were written may no longer hold.
    if not session.info.get("ladder_references_written"):
        return
    if transaction.nested:
        invalidate()
    elif transaction.parent is None:
        session.info.pop("ladder_references_written", None)
        invalidate()


def _build(rows: tuple[Any, ...]) -> References:
    # Transient model instances (never added to a session): ReferenceOptions reads only their columns.
    parks, districts, areas, carriers, industries = [], [], [], [], []
    for kind, code, name, a, b, c in rows:
        if kind == "park":
            parks.append(Park(code=code, name=name, district_code=a))
        elif kind == "district":
            districts.append(District(code=code, name=name))
        elif kind == "area":
            areas.append(Area(code=code, name=name, park_code=a))
        elif kind == "carrier":
            carriers.append(Carrier(code=code, name=name, park_code=a, area_code=b, kind=CarrierKind(c)))
        elif kind == "industry":
            industries.append(Industry(code=code, name=name, parent_code=a))
    # The display order of app.reference.repository (codes are ASCII: Python's order is the database's).
    parks.sort(key=lambda p: p.code)
    districts.sort(key=lambda d: d.code)
    areas.sort(key=lambda x: (x.park_code, x.code))
    carriers.sort(key=lambda x: (x.park_code, x.code))
    industries.sort(key=lambda i: i.code)
    options = ReferenceOptions(
        parks=parks, districts=districts, areas=areas, carriers=carriers, industries=industries
    )
    family: dict[str, list[str]] = {i.code: [i.code] for i in industries}
    for i in industries:
        if i.parent_code in family:
            family[i.parent_code].append(i.code)
    return References(
        options=options,
        names=options.names,
        industry_options=options.industry_options(),
        industry_family=family,
    )


def load(session: Session) -> References:
    """The reference tables, read at most every `TTL_SECONDS` (and after this process wrote one)."""
    global _last
    last, generation, now = _last, _generation, time.monotonic()
    if last is not None and _fresh(last[0], last[1]):
        return last[3]
    rows = repository.reference_rows(session)
    # Same rows as before (the usual case when the time ran out): keep what was built from them.
    built = last[3] if last is not None and last[2] == rows else _build(rows)
    with _lock:
        if generation == _generation:
            _last = (generation, now, rows, built)
    return built


def officer_choices(session: Session, park_codes: frozenset[str] | None) -> list[tuple[str, str]]:
    """`repository.officer_choices`, read at most every `TTL_SECONDS` (and after this process wrote an
    account)."""
    generation, now = _generation, time.monotonic()
    kept = _officers.get(park_codes)
    if kept is not None and _fresh(kept[0], kept[1]):
        return kept[2]
    choices = repository.officer_choices(session, park_codes)
    with _lock:
        if generation == _generation:
            _officers[park_codes] = (generation, now, choices)
    return choices
