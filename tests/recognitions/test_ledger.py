"""The tier ledger: one answer to "which tiers did the firm hold on D", in Python and in SQL, and the periods
merged from consecutive recognitions with their events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.firms.repository import held_on
from app.recognitions.ledger import (
    EventKind,
    held_tiers,
    held_tiers_by_firm,
    held_tiers_of,
    is_held,
    ledger_of,
    tier_periods,
)
from app.recognitions.models import Recognition, RecognitionKind
from app.tiers.codes import Tier
from tests.factories import FirmFactory, RecognitionFactory

D = date


@dataclass(frozen=True)
class Rec:
    """A recognition as the ledger reads it, without a database."""

    tier: str
    issued_on: date
    expires_on: date | None = None
    revoked_on: date | None = None
    kind: str = "first"
    certificate_no: str | None = None
    revoke_reason: str | None = None
    id: int | None = None


HNTE = Rec("hnte", D(2022, 12, 10), D(2025, 12, 9))
REVOKED = Rec("hnte", D(2022, 12, 10), D(2025, 12, 9), revoked_on=D(2024, 3, 15), revoke_reason="弄虚作假")
OPEN_ENDED = Rec("gazelle", D(2023, 1, 1))

# (a sentence, the recognition, the day, held?)
EDGE_CASES = [
    ("The day before the issue date is not held", HNTE, D(2022, 12, 9), False),
    ("The issue date is held", HNTE, D(2022, 12, 10), True),
    ("A day in the middle of the term is held", HNTE, D(2024, 6, 30), True),
    ("The expiry date is held (expires_on is inclusive)", HNTE, D(2025, 12, 9), True),
    ("The day after the expiry date is not held", HNTE, D(2025, 12, 10), False),
    ("The day before the revocation is held", REVOKED, D(2024, 3, 14), True),
    ("The revocation day is not held", REVOKED, D(2024, 3, 15), False),
    ("A day after the revocation, still within the term, is not held", REVOKED, D(2025, 1, 1), False),
    ("Without an expiry a recognition is held on any later day", OPEN_ENDED, D(2040, 1, 1), True),
    (
        "Without an expiry a recognition is still not held before its issue date",
        OPEN_ENDED,
        D(2022, 12, 31),
        False,
    ),
    (
        "A recognition revoked on its issue date is never held",
        Rec("hnte", D(2024, 1, 1), D(2026, 12, 31), revoked_on=D(2024, 1, 1)),
        D(2024, 1, 1),
        False,
    ),
    (
        "A revocation after the expiry changes nothing before it",
        Rec("hnte", D(2021, 1, 1), D(2023, 12, 31), revoked_on=D(2024, 6, 1)),
        D(2023, 12, 31),
        True,
    ),
]


@pytest.mark.parametrize(("case", "rec", "day", "held"), EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_held_on_a_day_by_the_contract_definition(case: str, rec: Rec, day: date, held: bool) -> None:
    assert is_held(rec, day) is held
    assert held_tiers([rec], day) == ({Tier(rec.tier)} if held else set())


@pytest.mark.parametrize(("case", "rec", "day", "held"), EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_sql_and_python_agree_on_every_edge_date(
    db: Session, case: str, rec: Rec, day: date, held: bool
) -> None:
    firm = FirmFactory()
    row = RecognitionFactory(
        firm=firm,
        tier=rec.tier,
        issued_on=rec.issued_on,
        expires_on=rec.expires_on,
        revoked_on=rec.revoked_on,
        revoke_reason="撤销" if rec.revoked_on else None,
    )

    in_sql = db.scalar(select(Recognition.id).where(Recognition.id == row.id, held_on(day))) is not None

    assert in_sql is held
    assert row.held_on(day) is held
    assert held_tiers_of(db, firm.id, day) == held_tiers([row], day)


def test_the_bulk_answer_gives_every_firm_asked_for_its_own_tiers(db: Session) -> None:
    day = D(2025, 6, 30)
    both = FirmFactory()
    RecognitionFactory(firm=both, tier="hnte", issued_on=D(2024, 1, 1), expires_on=D(2026, 12, 31))
    RecognitionFactory(firm=both, tier="srdi_sme", issued_on=D(2023, 7, 1), expires_on=D(2025, 6, 30))
    lapsed = FirmFactory()
    RecognitionFactory(firm=lapsed, tier="hnte", issued_on=D(2021, 1, 1), expires_on=D(2023, 12, 31))
    revoked_today = FirmFactory()
    RecognitionFactory(
        firm=revoked_today, tier="hnte", issued_on=D(2024, 1, 1), revoked_on=day, revoke_reason="撤销"
    )
    nothing = FirmFactory()

    found = held_tiers_by_firm(db, [both.id, lapsed.id, revoked_today.id, nothing.id], day)

    assert found == {
        both.id: {Tier.hnte, Tier.srdi_sme},
        lapsed.id: set(),
        revoked_today.id: set(),
        nothing.id: set(),
    }


# --- periods ------------------------------------------------------------------------------------------------


def test_a_renewal_issued_before_the_old_certificate_expires_continues_the_same_period() -> None:
    first = Rec("hnte", D(2019, 6, 1), D(2022, 5, 31), certificate_no="GR201931000001", id=1)
    renewal = Rec(
        "hnte", D(2022, 5, 20), D(2025, 5, 19), kind="renewal", certificate_no="GR202231000002", id=2
    )

    [period] = tier_periods([renewal, first])

    assert (period.tier, period.start, period.end) == (Tier.hnte, D(2019, 6, 1), D(2025, 5, 19))
    assert [(e.on, e.label, e.certificate_no) for e in period.events] == [
        (D(2019, 6, 1), "首次认定", "GR201931000001"),
        (D(2022, 5, 20), "重新认定", "GR202231000002"),
        (D(2025, 5, 19), "到期", "GR202231000002"),
    ]
    assert period.ended_by is EventKind.expired
    assert period.recognition_ids == (1, 2)


def test_a_renewal_issued_the_day_after_expiry_continues_the_period_but_a_day_later_leaves_a_gap() -> None:
    first = Rec("hnte", D(2019, 6, 1), D(2022, 5, 31))
    next_day = Rec("hnte", D(2022, 6, 1), D(2025, 5, 31), kind="renewal")
    day_after = Rec("hnte", D(2022, 6, 2), D(2025, 6, 1), kind="renewal")

    assert len(tier_periods([first, next_day])) == 1
    gap = tier_periods([first, day_after])
    assert [(p.start, p.end) for p in gap] == [
        (D(2019, 6, 1), D(2022, 5, 31)),
        (D(2022, 6, 2), D(2025, 6, 1)),
    ]
    assert held_tiers([first, day_after], D(2022, 6, 1)) == set()


def test_a_revocation_ends_the_period_the_day_before_and_shows_its_reason() -> None:
    rec = Rec(
        "hnte", D(2022, 12, 10), D(2025, 12, 9), revoked_on=D(2024, 3, 15), revoke_reason="弄虚作假，撤销认定"
    )

    [period] = tier_periods([rec])

    assert period.end == D(2024, 3, 14)
    assert period.ended_by is EventKind.revoked
    assert [(e.on, e.label, e.reason) for e in period.events] == [
        (D(2022, 12, 10), "首次认定", None),
        (D(2024, 3, 15), "撤销", "弄虚作假，撤销认定"),
    ]


def test_review_and_moved_in_keep_their_labels_and_each_tier_has_its_own_periods() -> None:
    recs = [
        Rec("little_giant", D(2021, 7, 1), D(2024, 6, 30)),
        Rec("little_giant", D(2024, 7, 1), D(2027, 6, 30), kind="review"),
        Rec("hnte", D(2023, 3, 1), D(2026, 2, 28), kind="moved_in"),
    ]

    periods = tier_periods(recs)

    assert [p.tier for p in periods] == [Tier.little_giant, Tier.hnte]  # higher on the ladder first
    assert [e.label for e in periods[0].events] == ["首次认定", "复核", "到期"]
    assert [e.label for e in periods[1].events] == ["带证迁入", "到期"]


def test_a_recognition_revoked_on_its_issue_day_is_a_period_covering_no_day() -> None:
    rec = Rec("hnte", D(2024, 1, 1), D(2026, 12, 31), revoked_on=D(2024, 1, 1), revoke_reason="认定有误")

    [period] = tier_periods([rec])

    assert period.never_held and not period.covers(D(2024, 1, 1))
    assert [e.label for e in period.events] == ["首次认定", "撤销"]


def test_an_open_ended_recognition_keeps_its_period_open() -> None:
    [period] = tier_periods([Rec("gazelle", D(2023, 1, 1)), Rec("gazelle", D(2024, 1, 1), D(2024, 12, 31))])

    assert period.end is None and period.ended_by is None
    assert period.covers(D(2099, 1, 1))


def test_the_periods_answer_every_day_exactly_as_held_tiers_does() -> None:
    recs = [
        Rec("hnte", D(2019, 6, 1), D(2022, 5, 31)),
        Rec("hnte", D(2022, 5, 20), D(2025, 5, 19), kind="renewal", revoked_on=D(2023, 8, 1)),
        Rec("hnte", D(2023, 8, 1), D(2023, 8, 31), revoked_on=D(2023, 8, 1)),
        Rec("srdi_sme", D(2020, 1, 1), D(2022, 12, 31)),
        Rec("srdi_sme", D(2023, 1, 1), D(2025, 12, 31), kind="review"),
        Rec("gazelle", D(2024, 2, 29)),
    ]
    periods = tier_periods(recs)

    day = D(2019, 5, 25)
    while day <= D(2026, 1, 10):
        assert {p.tier for p in periods if p.covers(day)} == held_tiers(recs, day), day
        day += timedelta(days=1)


def test_the_ledger_of_a_firm_reads_its_recognitions(db: Session) -> None:
    firm = FirmFactory()
    RecognitionFactory(
        firm=firm, tier="hnte", kind=RecognitionKind.first, issued_on=D(2019, 6, 1), expires_on=D(2022, 5, 31)
    )
    RecognitionFactory(
        firm=firm,
        tier="hnte",
        kind=RecognitionKind.renewal,
        issued_on=D(2022, 5, 1),
        expires_on=D(2025, 4, 30),
    )
    RecognitionFactory(firm=FirmFactory(), tier="hnte", issued_on=D(2000, 1, 1), expires_on=D(2000, 12, 31))

    [period] = ledger_of(db, firm.id)

    assert (period.start, period.end) == (D(2019, 6, 1), D(2025, 4, 30))
