"""The tier ledger (梯度台账): each firm's tier history, effective-dated from its recognitions.

"Which tiers did firm X hold on date D" has exactly one answer (docs/domain/eligibility-api.md, `holds`): a
recognition is held on D iff issued_on ≤ D ≤ expires_on (inclusive; no expiry means open-ended) and it was not
revoked on or before D. `is_held` is that rule in Python and `app.firms.repository.held_on` the same rule in
SQL; tests/recognitions/test_ledger.py proves they agree on every edge date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.firms.repository import held_on
from app.recognitions.models import RECOGNITION_KIND_LABELS, Recognition, RecognitionKind
from app.tiers.codes import LADDER_POSITION, Tier

ONE_DAY = timedelta(days=1)
# Bound on ids per IN (...) list: SQLite and PostgreSQL both accept far more, but keep statements modest.
_CHUNK = 2000


class RecognitionLike(Protocol):
    """What the ledger reads of a recognition: the ORM row, the rules' RecognitionFact or a test double.
    `kind`, `certificate_no`, `revoke_reason` and `id` are read when present."""

    @property
    def tier(self) -> str: ...

    @property
    def issued_on(self) -> date: ...

    @property
    def expires_on(self) -> date | None: ...

    @property
    def revoked_on(self) -> date | None: ...


class EventKind(StrEnum):
    first = "first"
    renewal = "renewal"
    review = "review"
    moved_in = "moved_in"
    expired = "expired"
    revoked = "revoked"


EVENT_LABELS: dict[EventKind, str] = {
    **{EventKind(k.value): label for k, label in RECOGNITION_KIND_LABELS.items()},
    EventKind.expired: "到期",
    EventKind.revoked: "撤销",
}
# A recognition whose kind is unknown (an outside system's facts) is shown as a plain 认定.
ISSUED_LABEL = "认定"
# Order of events on the same day: an award before the end of another certificate.
_SAME_DAY_ORDER = {EventKind.expired: 1, EventKind.revoked: 2}


@dataclass(frozen=True)
class LedgerEvent:
    on: date
    kind: EventKind | None  # None: a recognition of unknown kind was issued
    label: str
    certificate_no: str | None = None
    reason: str | None = None
    recognition_id: int | None = None


@dataclass(frozen=True)
class TierPeriod:
    """An unbroken stretch during which the firm held `tier`, merged from consecutive or overlapping
    recognitions. `end` is the last day held (inclusive); None when the last recognition has no expiry.
    A recognition revoked on its own issue day was never held: its period has `end` < `start`."""

    tier: Tier
    start: date
    end: date | None
    events: tuple[LedgerEvent, ...]
    recognition_ids: tuple[int, ...]
    ended_by: EventKind | None  # expired, revoked, or None while open-ended

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    @property
    def never_held(self) -> bool:
        return self.end is not None and self.end < self.start


def is_held(rec: RecognitionLike, on: date) -> bool:
    """Held on `on`: issued_on ≤ on ≤ expires_on, and not revoked on or before `on`."""
    if rec.issued_on > on:
        return False
    if rec.expires_on is not None and on > rec.expires_on:
        return False
    return not (rec.revoked_on is not None and rec.revoked_on <= on)


def last_day_held(rec: RecognitionLike) -> date | None:
    """The last day the recognition is held (before `issued_on` if never); None when it has no end."""
    ends = [
        d for d in (rec.expires_on, rec.revoked_on - ONE_DAY if rec.revoked_on else None) if d is not None
    ]
    return min(ends) if ends else None


def held_tiers(recognitions: Iterable[RecognitionLike], on: date) -> set[Tier]:
    """The tiers held on `on` according to these recognitions (of one firm)."""
    return {Tier(r.tier) for r in recognitions if is_held(r, on)}


def _ended_by_revocation(rec: RecognitionLike) -> bool:
    return rec.revoked_on is not None and (rec.expires_on is None or rec.revoked_on <= rec.expires_on)


def _issue_event(rec: RecognitionLike) -> LedgerEvent:
    kind_value = getattr(rec, "kind", None)
    kind = EventKind(str(kind_value)) if kind_value in set(RecognitionKind) else None
    return LedgerEvent(
        on=rec.issued_on,
        kind=kind,
        label=EVENT_LABELS[kind] if kind is not None else ISSUED_LABEL,
        certificate_no=getattr(rec, "certificate_no", None),
        recognition_id=getattr(rec, "id", None),
    )


def _revoke_event(rec: RecognitionLike) -> LedgerEvent:
    assert rec.revoked_on is not None
    return LedgerEvent(
        on=rec.revoked_on,
        kind=EventKind.revoked,
        label=EVENT_LABELS[EventKind.revoked],
        certificate_no=getattr(rec, "certificate_no", None),
        reason=getattr(rec, "revoke_reason", None),
        recognition_id=getattr(rec, "id", None),
    )


def _period(tier: Tier, recs: list[RecognitionLike]) -> TierPeriod:
    """One period from the recognitions merged into it (already known to touch or overlap)."""
    ends = [last_day_held(r) for r in recs]
    end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    events = [_issue_event(r) for r in recs]
    events += [_revoke_event(r) for r in recs if r.revoked_on is not None]
    ended_by: EventKind | None = None
    if end is not None:
        # The recognition that ends the period decides how it ended; expiry wins a tie with a revocation.
        closing = [r for r, e in zip(recs, ends, strict=True) if e == end]
        by_expiry = [r for r in closing if not _ended_by_revocation(r)]
        if by_expiry:
            ended_by = EventKind.expired
            rec = by_expiry[0]
            events.append(
                LedgerEvent(
                    on=end,
                    kind=EventKind.expired,
                    label=EVENT_LABELS[EventKind.expired],
                    certificate_no=getattr(rec, "certificate_no", None),
                    recognition_id=getattr(rec, "id", None),
                )
            )
        else:
            ended_by = EventKind.revoked
    events.sort(key=lambda e: (e.on, _SAME_DAY_ORDER.get(e.kind, 0) if e.kind else 0))
    ids = tuple(i for i in (getattr(r, "id", None) for r in recs) if isinstance(i, int))
    return TierPeriod(
        tier=tier,
        start=min(r.issued_on for r in recs),
        end=end,
        events=tuple(events),
        recognition_ids=ids,
        ended_by=ended_by,
    )


def tier_periods(recognitions: Iterable[RecognitionLike]) -> list[TierPeriod]:
    """Each tier's periods, ladder order (highest first), then by start date.

    Recognitions of the same tier merge when one starts on or before the day after another's last day held
    (a renewal issued before the old certificate expires, or the day after). Issuances and revocations (with
    the reason) are events of the period; the expiry that ends it is its last event.
    """
    by_tier: dict[Tier, list[RecognitionLike]] = defaultdict(list)
    for rec in recognitions:
        by_tier[Tier(rec.tier)].append(rec)
    out: list[TierPeriod] = []
    for tier, recs in by_tier.items():
        recs.sort(key=lambda r: (r.issued_on, getattr(r, "id", 0) or 0))
        group: list[RecognitionLike] = []
        group_end: date | None = None
        for rec in recs:
            end = last_day_held(rec)
            if end is not None and end < rec.issued_on:
                out.append(_period(tier, [rec]))  # never held: a period of its own, covering no day
                continue
            if group and (group_end is None or rec.issued_on <= group_end + ONE_DAY):
                group.append(rec)
                group_end = None if end is None or group_end is None else max(group_end, end)
                continue
            if group:
                out.append(_period(tier, group))
            group, group_end = [rec], end
        if group:
            out.append(_period(tier, group))
    order = list(Tier)
    out.sort(key=lambda p: (-LADDER_POSITION.get(p.tier, 0), order.index(p.tier), p.start, p.end or date.max))
    return out


# --- on the database ----------------------------------------------------------------------------------------


def held_tiers_of(session: Session, firm_id: int, on: date) -> set[Tier]:
    """The tiers firm `firm_id` held on `on` (the SQL predicate `held_on`)."""
    return held_tiers_by_firm(session, [firm_id], on)[firm_id]


def held_tiers_by_firm(session: Session, firm_ids: Collection[int], on: date) -> dict[int, set[Tier]]:
    """The tiers each firm held on `on`, every firm asked for present (an empty set when none)."""
    out: dict[int, set[Tier]] = {firm_id: set() for firm_id in firm_ids}
    ids = sorted(out)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = session.execute(
            select(Recognition.firm_id, Recognition.tier)
            .where(Recognition.firm_id.in_(chunk), held_on(on))
            .distinct()
        )
        for firm_id, tier in rows:
            out[firm_id].add(Tier(tier))
    return out


def ledger_of(session: Session, firm_id: int) -> list[TierPeriod]:
    """The firm's tier ledger from its recognitions."""
    recs = session.scalars(
        select(Recognition)
        .where(Recognition.firm_id == firm_id)
        .order_by(Recognition.issued_on, Recognition.id)
    )
    return tier_periods(recs)
