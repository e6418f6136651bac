"""Month-end counts, the ladder view and flows against a hand-built ledger (tests/reports/ledger.py), and the
flow identity on a generated ledger checked against the one-firm ledger rule (`is_held`)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind
from app.audit.models import Channel
from app.auth.dependencies import principal_for
from app.recognitions.ledger import is_held
from app.reports import months, report, service
from app.reports.models import View
from app.tiers.codes import LADDER_POSITION, Tier
from tests.factories import FirmFactory, MembershipFactory, RecognitionFactory
from tests.reports import ledger

TODAY = date(2026, 12, 2)
ADMIN = Actor(kind=ActorKind.user, label="管理员（admin）", channel=Channel.web)


def _by_park_tier(rows: list) -> dict[tuple[str, str], int]:
    return dict(service.by_park_key(rows))


def test_month_end_counts_count_a_firm_under_every_tier_it_holds(db: Session) -> None:
    ledger.build()
    db.flush()
    oct_end = service.figures(db, "2026-10", None, TODAY, None)
    assert oct_end.day == date(2026, 10, 31)
    assert _by_park_tier(oct_end.counts) == {
        # 甲 乙 丁 戊 壬: 乙 expires on the month-end itself (inclusive), 壬 is revoked only in November;
        # 丙 expired on the 30th, 庚 was revoked, 己 moved to 杨浦 in the middle of the month.
        ("jingan", "hnte"): 5,
        ("jingan", "tech_sme"): 2,  # 甲 and 丁, who also count under 高企
        ("yangpu", "hnte"): 1,
        ("hongkou", "hnte"): 1,
        ("hongkou", "little_giant"): 1,
    }
    sep_end = service.figures(db, "2026-09", None, TODAY, None)
    assert _by_park_tier(sep_end.counts)[("jingan", "hnte")] == 6  # 甲 乙 丙 己 庚 壬
    nov_end = service.figures(db, "2026-11", None, TODAY, None)
    assert _by_park_tier(nov_end.counts)[("jingan", "hnte")] == 3  # 乙 lapsed on 1 Nov, 壬 revoked on 5 Nov


def test_the_ladder_view_counts_each_firm_once_at_its_highest_position(db: Session) -> None:
    ledger.build()
    db.flush()
    rows = service.figures(db, "2026-10", None, TODAY, None).ladder
    assert _by_park_tier(rows) == {("jingan", "2"): 5, ("yangpu", "2"): 1, ("hongkou", "4"): 1}


def test_counts_by_area_industry_and_officer_with_month_on_month_and_year_on_year(
    db: Session, make_user
) -> None:
    officer = make_user("officer", parks=["jingan"], display_name="王专员")
    ledger.build(officer)
    db.flush()
    admin = principal_for(make_user("admin"), Channel.web)
    rep = report.monthly(db, admin, "2026-10", TODAY)
    parks = rep.table(View.counts, "park")
    jingan = next(line for line in parks.lines if line.code == "jingan")
    hnte = jingan.cells[[k for k, _ in parks.keys].index("hnte")]
    # 2026-09-30: 6; 2025-10-31: 甲 乙 丙 己 庚 壬 = 6.
    assert (hnte.value, hnte.mom, hnte.yoy) == (5, -1, -1)
    total_hnte = parks.total.cells[[k for k, _ in parks.keys].index("hnte")]
    assert total_hnte.value == 7
    areas = {line.label: line for line in rep.table(View.counts, "area").lines}
    assert areas["市北"].cells[[k for k, _ in parks.keys].index("tech_sme")].value == 1
    assert areas["未划定功能区"].cells[[k for k, _ in parks.keys].index("hnte")].value == 6
    officers = {line.label: line for line in rep.table(View.counts, "officer").lines}
    assert officers["王专员"].cells[[k for k, _ in parks.keys].index("hnte")].value == 1
    industries = {line.label: line for line in rep.table(View.ladder, "industry").lines}
    assert industries["人工智能"].total is not None and industries["人工智能"].total.value == 1


def test_flows_of_october_add_up_and_drill_down_to_the_named_firms(db: Session, make_user) -> None:
    built = ledger.build()
    db.flush()
    flows = service.live_flows(db, "2026-10", None, TODAY)
    jingan = {m: flows.get(("jingan", "hnte", m), 0) for m in service.MEASURES}
    assert jingan == {
        "opening": 6,
        "new": 1,  # 戊
        "upgrade": 1,  # 丁 held 科技型
        "expired": 1,  # 丙
        "revoked": 1,  # 庚
        "moved_in": 0,
        "moved_out": 1,  # 己
        "closing": 5,
    }
    assert flows[("yangpu", "hnte", "moved_in")] == 1 and flows[("yangpu", "hnte", "closing")] == 1
    admin = principal_for(make_user("admin"), Channel.web)
    for line in report.flow_lines(flows, {"park": {}}):
        assert line.balanced, line
    named = {
        m: {
            f.name
            for f in service.drill(
                db, admin, "2026-10", TODAY, view=View.flows, key="hnte", measure=m, park="jingan"
            )
        }
        for m in service.MEASURES
    }
    assert named["upgrade"] == {built.firms["D"].name}
    assert named["new"] == {built.firms["E"].name}
    assert named["revoked"] == {built.firms["G"].name}
    assert named["moved_out"] == {built.firms["F"].name}
    assert len(named["closing"]) == 5 and built.firms["I"].name in named["closing"]
    holders = service.drill(
        db, admin, "2026-10", TODAY, view=View.counts, key="tech_sme", park="jingan", area="jingan.shibei"
    )
    assert [f.name for f in holders] == [built.firms["A"].name]


def test_projected_lapses_within_three_and_six_months_of_the_month_end(db: Session) -> None:
    ledger.build()
    db.flush()
    lapses = service.live(db, [date(2026, 10, 31)], None, lapses=True).lapses
    lines = {(x.park, x.tier): x.within for x in report.lapse_lines(lapses, {"park": {}})}
    assert lines[("jingan", "tech_sme")] == {3: 1, 6: 2}  # 丁 on 2026-12-31; 甲 on 2027-03-31
    assert lines[("yangpu", "hnte")] == {3: 1, 6: 1}  # 己 on 2026-12-31
    assert lines[("hongkou", "hnte")] == {3: 0, 6: 1}  # 辛 on 2027-04-30
    # 乙 ends on the month-end itself; 壬's certificate is revoked (a revoked certificate projects nothing).
    assert ("jingan", "hnte") not in lines


def test_flows_add_up_and_counts_match_the_one_firm_ledger_on_a_generated_ledger(db: Session) -> None:
    rnd = random.Random(20261031)
    parks = ["jingan", "yangpu", "hongkou"]
    tiers = [Tier.tech_sme, Tier.innovative_sme, Tier.hnte, Tier.srdi_sme, Tier.little_giant, Tier.gazelle]
    base = date(2026, 8, 1)
    firms = []
    for n in range(40):
        firm = FirmFactory(park=False, name=f"生成企业{n:02d}")
        first_park, second_park = rnd.choice(parks), rnd.choice(parks)
        move = base + timedelta(days=rnd.randint(0, 110))
        if rnd.random() < 0.4:
            MembershipFactory(
                firm=firm, park_code=first_park, valid_from=ledger.SINCE, valid_to=move - timedelta(days=1)
            )
            if rnd.random() < 0.8:
                MembershipFactory(firm=firm, park_code=second_park, valid_from=move)
        else:
            MembershipFactory(firm=firm, park_code=first_park, valid_from=ledger.SINCE)
        recs = []
        for _ in range(rnd.randint(0, 4)):
            issued = base + timedelta(days=rnd.randint(-500, 110))
            expires = issued + timedelta(days=rnd.randint(20, 400))
            revoked = issued + timedelta(days=rnd.randint(0, 300)) if rnd.random() < 0.15 else None
            recs.append(
                RecognitionFactory(
                    firm=firm,
                    tier=rnd.choice(tiers),
                    issued_on=issued,
                    expires_on=expires,
                    revoked_on=revoked,
                )
            )
        firms.append((firm, recs))
    db.flush()
    memberships = {f.id: [] for f, _ in firms}
    from sqlalchemy import select

    from app.firms.models import Membership

    for m in db.scalars(select(Membership)):
        if m.firm_id in memberships:
            memberships[m.firm_id].append(m)

    def park_on(firm_id: int, day: date) -> str | None:
        for m in memberships[firm_id]:
            if m.valid_from <= day and (m.valid_to is None or day <= m.valid_to):
                return m.park_code
        return None

    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        day = months.end(month)
        expected: dict[tuple[str, str], int] = {}
        expected_ladder: dict[tuple[str, str], int] = {}
        for firm, recs in firms:
            park = park_on(firm.id, day)
            held = {Tier(r.tier) for r in recs if is_held(r, day)}
            if park is None:
                continue
            for tier in held:
                expected[(park, tier.value)] = expected.get((park, tier.value), 0) + 1
            level = max((LADDER_POSITION.get(t, 0) for t in held), default=0)
            if level:
                expected_ladder[(park, str(level))] = expected_ladder.get((park, str(level)), 0) + 1
        figures = service.figures(db, month, None, TODAY, None)
        assert _by_park_tier(figures.counts) == expected, month
        assert _by_park_tier(figures.ladder) == expected_ladder, month
        flows = service.live_flows(db, month, None, TODAY)
        for line in report.flow_lines(flows, {"park": {}}):
            assert line.balanced, (month, line)
            assert line.values["closing"] == expected.get((line.park, line.tier), 0)


def test_month_on_month_compares_with_the_previous_months_published_figure(db: Session, make_user) -> None:
    ledger.build()
    db.flush()
    service.close_month(db, ADMIN, "2026-09", TODAY)
    late = FirmFactory(name="迟录科技有限公司", park="jingan", park__valid_from=ledger.SINCE)
    RecognitionFactory(firm=late, tier=Tier.hnte, issued_on=date(2026, 9, 5), expires_on=date(2029, 9, 4))
    db.flush()
    admin = principal_for(make_user("admin"), Channel.web)
    october = report.monthly(db, admin, "2026-10", TODAY)
    parks = october.table(View.counts, "park")
    hnte = next(x for x in parks.lines if x.code == "jingan").cells[[k for k, _ in parks.keys].index("hnte")]
    assert (hnte.value, hnte.mom) == (6, 0)  # September was published with 6 (frozen), not the 7 it now reads
    september = report.monthly(db, admin, "2026-09", TODAY)
    assert september.closed is not None
    assert [(d.view, d.park, d.key, d.old, d.new) for d in september.pending] == [
        (View.counts, "jingan", "hnte", 6, 7),
        (View.ladder, "jingan", "2", 6, 7),
    ]
    flows = {(f.park, f.tier): f.values for f in september.flows}
    assert flows[("jingan", "hnte")]["closing"] == 6  # frozen with the month


def test_projected_lapses_drill_down_to_the_named_firms(db: Session, make_user) -> None:
    built = ledger.build()
    db.flush()
    admin = principal_for(make_user("admin"), Channel.web)

    def named(measure: str) -> list[str]:
        rows = service.drill(
            db, admin, "2026-10", TODAY, view=View.counts, key="tech_sme", measure=measure, park="jingan"
        )
        return [f.name for f in rows]

    assert named("lapse3") == [built.firms["D"].name]
    assert sorted(named("lapse6")) == sorted([built.firms["A"].name, built.firms["D"].name])
