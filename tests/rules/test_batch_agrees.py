"""The all-firms batch decides every firm and tier exactly as the one-firm engine does (STYLE §6: one source
of truth, two executions, tested to agree).

Random contract-shaped firms — values on, just below and just above every threshold of
app/rules/sets/*.yaml, missing values, recognitions, awards and incidents dated around the windows' edges,
as-of dates around every effective date — go through `app.rules.engine.evaluate` one by one and through the
vectorised core all at once, compared criterion by criterion. The database tests run the whole path:
`run_batch` against `decide_firm` for firms made with the factories.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.firms.models import Firm, FirmStatus
from app.indicators.models import Award, FactObservation, Incident, Source
from app.rules import engine
from app.rules.batch import run_batch
from app.rules.columns import columns_from_facts
from app.rules.facts import (
    AWARD_LEVELS,
    INCIDENT_GRADES,
    RD_INSTITUTION_ORDER,
    AwardFact,
    Facts,
    IncidentFact,
    RecognitionFact,
)
from app.rules.loader import INCIDENT_KINDS, TIERS, Override, ParamTable, RuleBook, rulebook
from app.rules.models import TierDecisionRow
from app.rules.service import decide_firm
from app.rules.vectorised import OUTCOME_OF, STATUSES, evaluate_all
from app.rules.vocabulary import add_years
from app.web.formatting import today
from tests.factories import FirmFactory, FirmYearFactory, RecognitionFactory

BOOK = rulebook()
# A district's own version of a tier (none is in the rule files yet): yangpu's 高企 without the innovation
# score.
_HNTE = BOOK.select("hnte", date(2026, 4, 1))
assert _HNTE is not None
_LOCAL = dataclasses.replace(
    _HNTE,
    id="hnte/yangpu-test",
    districts=("yangpu",),
    criteria=[c for c in _HNTE.criteria if c.id != "innovation_score"],
    decision={"all": [c.id for c in _HNTE.criteria if c.id != "innovation_score"]},
)
TEST_BOOK = RuleBook([*BOOK.sets, _LOCAL], BOOK.params)
# Admins' dated district settings (rule_settings): one per district, from different dates.
PARAMS = ParamTable(
    BOOK.params,
    [
        Override("sme.industry_max_employees", date(2025, 1, 1), Decimal(300), "jingan"),
        Override("hidden_champion.min_avg_main_revenue_srdi", date(2024, 1, 1), Decimal(20000), "yangpu"),
        Override("unicorn.max_age_years", date(2026, 4, 1), Decimal("8.5"), None),
        Override("gazelle.min_revenue_growth_pct", date(2023, 6, 1), Decimal("15"), "hongkou"),
    ],
)

# Every effective date of a rule set or parameter, and its neighbours.
EFFECTIVE = sorted(
    {s.effective_from for s in BOOK.sets}
    | {s.effective_to for s in BOOK.sets if s.effective_to}
    | {d for p in BOOK.params.values() for d, _ in p.values}
    | {date(2024, 2, 29), date(2025, 1, 1), date(2026, 12, 31)}
)
AS_OF_DATES = sorted({d + timedelta(days=k) for d in EFFECTIVE if d.year >= 2016 for k in (-1, 0, 1)})

# Thresholds of the rule files (amounts in 万元, shares in %, counts, scores, years), and shares drawn per
# field so that most firms sit close to passing: a random firm far from every tier would prove little.
AMOUNTS = [100, 500, 1000, 1200, 1500, 2000, 3000, 5000, 6000, 8000, 10000, 20000, 40000]
SHARES = {
    "tech_staff": [9, 10, 15, 20, 25, 30, 40],
    "rd_staff": [45, 50, 60],
    "main_revenue": [50, 55, 60, 70, 80, 90, 95],
    "hightech_revenue": [55, 60, 80],
    "rd_expense": [2, 3, 4, 5, 6, 8],
    "rd_expense_domestic": [55, 60, 100],
    "cost_total": [20, 25, 30, 90],
    "total_liabilities": [40, 55, 70, 75, 80, 90],
}
# A strong firm draws only shares on or above the thresholds (it should pass, or miss by a hair).
STRONG = {
    "tech_staff": [10, 30, 40],
    "rd_staff": [50, 60],
    "main_revenue": [70, 80, 90, 95],
    "hightech_revenue": [60, 80],
    "rd_expense": [3, 5, 6, 8],
    "rd_expense_domestic": [60, 100],
    "cost_total": [20, 30],
    "total_liabilities": [40, 55, 70],
}
GROWTHS = [-5, 0, 5, 10, 15, 20, 25]
SCORES = [50, 60, 70]
HAIR = [Decimal(0), Decimal(0), Decimal("0.01"), Decimal("-0.01")]


def near(draw: Any, values: list[int], hair: Decimal = Decimal("0.01")) -> Decimal:
    """A threshold, or a hair below or above it."""
    base = Decimal(draw(st.sampled_from(values)))
    return max(base + draw(st.sampled_from([0, 0, 1, -1])) * hair, Decimal(0))


def money(draw: Any) -> Decimal:
    if draw(st.integers(0, 3)):
        return near(draw, AMOUNTS)
    return Decimal(draw(st.integers(0, 5_000_000))) / 100


def share_of(
    draw: Any, field: str, total: Decimal | None, integer: bool = False, strong: bool = False
) -> Decimal | None:
    """A part of `total` at (or a hair off) one of the field's threshold shares."""
    if total is None:
        return None
    pct = Decimal(draw(st.sampled_from((STRONG if strong else SHARES)[field])))
    value = total * pct / 100
    if integer:
        return max(value.to_integral_value() + draw(st.sampled_from([0, 0, 1, -1])), Decimal(0))
    return max(value.quantize(Decimal("0.01")) + draw(st.sampled_from(HAIR)), Decimal(0))


def maybe(draw: Any, value: Any, p_none: float = 0.08) -> Any:
    return None if draw(st.integers(0, 99)) < p_none * 100 else value


def good(draw: Any, value: bool, p_good: float = 0.85) -> bool | None:
    """A yes/no fact: usually the answer that passes, sometimes the other, sometimes unknown."""
    roll = draw(st.integers(0, 99))
    return value if roll < p_good * 100 else (not value if roll < 94 else None)


def day_near(draw: Any, anchor: date, years: list[int]) -> date:
    back = draw(st.sampled_from(years))
    return add_years(anchor, -back) + timedelta(days=draw(st.sampled_from([-1, 0, 0, 1, 2, -40, 200])))


@st.composite
def year_row(
    draw: Any, previous: dict[str, Decimal | None] | None, strong: bool
) -> dict[str, Decimal | None]:
    employees = Decimal(draw(st.sampled_from([1, 9, 10, 42, 100, 299, 300, 500, 501, 999, 1000, 1001])))
    if previous and previous.get("revenue") and draw(st.integers(0, 3)):
        # Growth on (or a hair off) a threshold from the year before.
        rate = Decimal(draw(st.sampled_from(GROWTHS[2:] if strong else GROWTHS)))
        revenue = (previous["revenue"] * (100 + rate) / 100).quantize(Decimal("0.01"))  # type: ignore[operator]
        revenue += draw(st.sampled_from(HAIR))
    else:
        revenue = money(draw)
    if draw(st.integers(0, 30)) == 0:
        revenue = Decimal(0)
    total_income = revenue if draw(st.booleans()) else money(draw)
    assets = money(draw)
    rd = (
        share_of(draw, "rd_expense", revenue, strong=strong)
        if draw(st.integers(0, 3))
        else near(draw, AMOUNTS)
    )
    main = share_of(draw, "main_revenue", revenue, strong=strong)
    if previous and previous.get("main_revenue") and draw(st.booleans()):
        rate = Decimal(draw(st.sampled_from(GROWTHS)))
        main = (previous["main_revenue"] * (100 + rate) / 100).quantize(Decimal("0.01"))  # type: ignore[operator]
    row: dict[str, Decimal | None] = {
        "employees": employees,
        "tech_staff": share_of(draw, "tech_staff", employees, True, strong),
        "rd_staff": share_of(draw, "rd_staff", employees, True, strong),
        "revenue": revenue,
        "main_revenue": main,
        "hightech_revenue": share_of(draw, "hightech_revenue", total_income, strong=strong),
        "total_income": total_income,
        "rd_expense": rd,
        "rd_expense_domestic": share_of(draw, "rd_expense_domestic", rd, strong=strong),
        "cost_total": share_of(draw, "cost_total", revenue, strong=strong),
        "total_assets": assets,
        "total_liabilities": share_of(draw, "total_liabilities", assets, strong=strong),
        "net_profit": money(draw) * draw(st.sampled_from([1, -1])),
        "equity_financing": near(draw, AMOUNTS) if draw(st.integers(0, 3)) == 0 else Decimal(0),
    }
    return {k: maybe(draw, v, 0.04) for k, v in row.items()}


@st.composite
def firms(draw: Any, as_of: date) -> Facts:
    strong = draw(st.booleans())
    p_good = 0.97 if strong else 0.8
    last_end = date(as_of.year - 1, 12, 31)
    founded = maybe(draw, day_near(draw, as_of, [1, 2, 3, 5, 8, 10, 11]), 0.06)
    if founded is not None and draw(st.integers(0, 15)) == 0:
        founded = draw(
            st.sampled_from([date(2016, 2, 29), as_of - timedelta(days=365), as_of + timedelta(days=3)])
        )
    years: dict[int, dict[str, Decimal | None]] = {}
    previous = None
    for year in range(as_of.year - 4, as_of.year):
        if draw(st.integers(0, 14)) == 0:
            previous = None
            continue  # a year with no data at all
        previous = draw(year_row(previous, strong))
        years[year] = previous
    scalars: dict[str, Any] = {
        "founded_on": founded,
        "is_sme": maybe(draw, good(draw, True, p_good), 0.4),
        "hnte_field": good(draw, True, p_good),
        "strategic_emerging": good(draw, True, 0.5),
        "key_industrial_field": good(draw, True, p_good),
        "niche_since": maybe(
            draw, day_near(draw, last_end, [3, 4, 10, 11] if strong else [1, 2, 3, 4, 9, 10])
        ),
        "listed": good(draw, False),
        "equity_backed": good(draw, True),
        "valuation_usd_bn": maybe(draw, near(draw, [0, 1, 2], Decimal("0.001")), 0.3),
        "prohibited_products": good(draw, False, p_good),
        "lists.abnormal": good(draw, False, p_good),
        "lists.dishonest": good(draw, False, p_good),
        "rd_institution": maybe(draw, draw(st.sampled_from(RD_INSTITUTION_ORDER))),
        "led_standard_within_5y": good(draw, True, 0.3),
        "market.domestic_share_pct": maybe(draw, near(draw, [10, 20] if strong else [5, 10, 20])),
        "market.domestic_rank": maybe(draw, Decimal(draw(st.integers(1, 5)))),
        "market.global_rank": maybe(draw, Decimal(draw(st.integers(1, 5)))),
        "ip.class1": maybe(draw, Decimal(draw(st.sampled_from([2, 4, 5, 8] if strong else [0, 1, 2, 3, 4])))),
        "ip.class1_self_developed": maybe(draw, Decimal(draw(st.integers(0, 2)))),
        "ip.class1_high_value": maybe(draw, Decimal(draw(st.integers(0, 2)))),
        "ip.class2": maybe(draw, Decimal(draw(st.integers(0, 5)))),
        "scores.hnte_innovation": maybe(draw, near(draw, [70, 80] if strong else SCORES), 0.2),
        "scores.srdi_platform": maybe(draw, near(draw, [60, 70] if strong else SCORES), 0.2),
        "scores.srdi_2022": maybe(draw, near(draw, SCORES), 0.3),
        "tech_sme_rd_measure": draw(st.sampled_from([None, None, "sales", "cost", "other"])),
    }
    recognitions = [
        RecognitionFact(
            tier=draw(st.sampled_from([*TIERS, "tech_sme", "srdi_sme", "hnte", "innovative_sme"])),
            issued_on=(
                issued := as_of + timedelta(days=draw(st.sampled_from([-1000, -400, -400, -1, 0, 1])))
            ),
            expires_on=maybe(draw, as_of + timedelta(days=draw(st.sampled_from([-1, 0, 1, 300, 300]))), 0.2),
            revoked_on=maybe(
                draw, min(issued + timedelta(days=draw(st.sampled_from([0, 1, 1000]))), as_of), 0.85
            ),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    if strong:
        held = draw(st.sampled_from(["tech_sme", "innovative_sme", "srdi_sme", "hnte"]))
        recognitions.append(RecognitionFact(tier=held, issued_on=as_of - timedelta(days=200)))
    awards = [
        AwardFact(
            level=draw(st.sampled_from(AWARD_LEVELS)),
            awarded_on=day_near(draw, as_of, [0, 3, 5]),
            rank=maybe(draw, draw(st.integers(1, 6)), 0.3),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    incidents = [
        IncidentFact(
            kind=draw(st.sampled_from(INCIDENT_KINDS)),
            grade=draw(st.sampled_from(INCIDENT_GRADES)),
            occurred_on=draw(
                st.sampled_from(
                    [
                        day_near(draw, as_of, [0, 1, 3]),
                        date(as_of.year - 1, 1, 1),
                        date(as_of.year - 2, 12, 31),
                    ]
                )
            ),
        )
        for _ in range(draw(st.sampled_from([0] if strong else [0, 0, 1, 2])))
    ]
    return Facts(
        scalars=scalars,
        years=years,
        recognitions=maybe(draw, recognitions, 0.05),
        awards=maybe(draw, awards, 0.05),
        incidents=maybe(draw, incidents, 0.05),
        district=draw(st.sampled_from([None, "jingan", "yangpu", "hongkou"])),
    )


@st.composite
def batches(draw: Any) -> tuple[date, list[Facts]]:
    pick = draw(st.integers(0, 3))
    if pick == 0:
        as_of = draw(st.sampled_from(AS_OF_DATES))
    elif pick == 1:
        as_of = date(2026, 4, 1) + timedelta(days=draw(st.sampled_from([-2, -1, 0, 1, 2])))
    else:
        as_of = date(2026, 4, 1) + timedelta(days=draw(st.integers(-800, 400)))
    return as_of, draw(st.lists(firms(as_of), min_size=1, max_size=6))


def expected_counts(decision: engine.TierDecision, book: RuleBook) -> tuple[int, int]:
    """Failing and unknown criteria among those engine._relevant keeps (0, 1 when no rule set applies)."""
    return decision.fails, decision.unknowns


def assert_agree(as_of: date, facts: list[Facts], book: RuleBook, params: ParamTable) -> None:
    cols = columns_from_facts(facts, as_of.year - 4, as_of.year - 1)
    batch = evaluate_all(cols, as_of, book, params, criteria=True)
    for i, f in enumerate(facts):
        one = engine.evaluate(f, as_of, book, params)
        for tier in TIERS:
            d, b = one[tier], batch[tier]
            where = f"firm {i} tier {tier} on {as_of}"
            ruleset = b.rulesets[b.ruleset[i]] if b.ruleset[i] >= 0 else None
            assert ruleset == d.ruleset, where
            if ruleset is not None:
                outcomes = b.criteria[ruleset]
                for c in d.criteria:
                    assert OUTCOME_OF[int(outcomes[c.id][i])] is c.outcome, f"{where} {c.id}: {c.detail}"
            assert STATUSES[b.status[i]] == d.status, where
            assert b.score_at(i) == d.score, where
            assert bool(b.holds[i]) == d.holds, where
            assert (int(b.fails[i]), int(b.unknowns[i])) == expected_counts(d, book), where


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(batches())
def test_the_batch_decides_every_random_firm_and_tier_as_the_one_firm_engine(
    batch: tuple[date, list[Facts]],
) -> None:
    as_of, facts = batch
    assert_agree(as_of, facts, TEST_BOOK, PARAMS)


def test_the_batch_agrees_on_the_full_contract_example_firm_on_every_effective_date() -> None:
    from app.rules.facts import facts_from_contract
    from app.rules.schemas import EXAMPLE_REQUEST

    facts = facts_from_contract(EXAMPLE_REQUEST["firm"])
    for as_of in AS_OF_DATES:
        assert_agree(as_of, [facts, dataclasses.replace(facts, district="yangpu")], TEST_BOOK, PARAMS)


# --------------------------------------------------------------------------------------------------- database


def _fact(db: Session, firm_id: int, key: str, value: Any, valid_from: date, **kw: Any) -> None:
    kw.setdefault("source", Source.firm_reported)
    kw.setdefault("recorded_at", utcnow())
    db.add(FactObservation(firm_id=firm_id, key=key, value=value, valid_from=valid_from, **kw))
    db.flush()


def _seed_firms(db: Session, day: date) -> dict[str, int]:
    """A firm close to several tiers, a troubled one, one without data, a young one and a closed one."""
    last, month_ago = day.year - 1, day - timedelta(days=30)
    strong = FirmFactory(founded_on=date(2015, 3, 1))
    for year in (last, last - 1, last - 2):
        FirmYearFactory(firm=strong, year=year, revenue=Decimal("1800") - (last - year) * 100)
    # Officer-verified figures override what the firm reported, field by field.
    FirmYearFactory(firm=strong, year=last, source=Source.officer_verified, tech_staff=5, revenue=None)
    for key, value in (
        ("is_sme", True),
        ("hnte_field", True),
        ("ip.class1", 2),
        ("ip.class2", 4),
        ("lists.abnormal", False),
        ("lists.dishonest", False),
        ("prohibited_products", False),
        ("scores.hnte_innovation", "71.5"),
        ("niche_since", "2018-06-30"),
        ("rd_institution", "municipal"),
        ("market.domestic_share_pct", "10"),
    ):
        _fact(db, strong.id, key, value, month_ago)
    # Same source and day: the one recorded later wins, though written (and numbered) after.
    _fact(db, strong.id, "ip.class1", 0, month_ago, recorded_at=utcnow() - timedelta(days=1))
    # Not yet known on the day: an observation from the future.
    _fact(db, strong.id, "hnte_field", False, day + timedelta(days=3), source=Source.officer_verified)
    RecognitionFactory(firm=strong, tier="hnte")
    RecognitionFactory(firm=strong, tier="srdi_sme", expired=True)

    troubled = FirmFactory(founded_on=date(2019, 2, 28))
    FirmYearFactory(firm=troubled, year=last)
    _fact(db, troubled.id, "lists.abnormal", False, month_ago)
    # An older department record outranks a newer firm report.
    _fact(db, troubled.id, "lists.abnormal", True, day - timedelta(days=60), source=Source.department)
    db.add_all(
        [
            Award(
                firm_id=troubled.id,
                level="national",
                awarded_on=day - timedelta(days=400),
                rank=2,
                source=Source.department,
            ),
            Incident(
                firm_id=troubled.id,
                kind="safety",
                grade="major",
                occurred_on=day - timedelta(days=200),
                source=Source.department,
            ),
        ]
    )
    RecognitionFactory(firm=troubled, tier="hnte", revoked=True)

    bare = FirmFactory(park="yangpu", district_code="yangpu", founded_on=None)
    young = FirmFactory(founded_on=day - timedelta(days=200))
    FirmYearFactory(firm=young, year=last)
    _fact(db, young.id, "is_sme", True, day - timedelta(days=10))
    closed = FirmFactory(status=FirmStatus.deregistered)
    db.flush()
    return {
        "strong": strong.id,
        "troubled": troubled.id,
        "bare": bare.id,
        "young": young.id,
        "closed": closed.id,
    }


def test_run_batch_stores_for_every_active_firm_what_decide_firm_decides(db: Session) -> None:
    day = today()
    firms = _seed_firms(db, day)
    run = run_batch(db, day, reason="测试", actor_label="测试")
    assert run.finished_at is not None and run.as_of == day
    rows = {(r.firm_id, r.tier): r for r in db.scalars(select(TierDecisionRow))}
    active = set(db.scalars(select(Firm.id).where(Firm.status == FirmStatus.active)))
    assert run.firms == len(active)
    assert {f for f, _ in rows} == active
    assert firms["closed"] not in active
    for name in ("strong", "troubled", "bare", "young"):
        firm = db.get(Firm, firms[name])
        assert firm is not None
        decided = decide_firm(db, firm, day)
        for tier in TIERS:
            row, d = rows[(firm.id, tier)], decided[tier]
            where = (name, tier, [(c.id, c.outcome.value) for c in d.criteria])
            assert (row.status, row.score, row.holds, row.ruleset) == (
                d.status,
                d.score,
                d.holds,
                d.ruleset,
            ), where
            assert (row.fails, row.unknowns) == expected_counts(d, BOOK), where
            assert row.distance == Decimal(row.fails) + Decimal(row.unknowns) / 2
            assert row.run_id == run.id and row.as_of == day
    strong = {t: rows[(firms["strong"], t)] for t in TIERS}
    assert strong["hnte"].holds and strong["tech_sme"].status == "eligible"
    # 科技人员 5/42 → 4, 研发投入 260/1800 → 50, Ⅰ类知识产权 2 件 (the later record, not 0) → 30.
    assert strong["tech_sme"].score == Decimal(84)
    assert rows[(firms["troubled"], "tech_sme")].status == "ineligible"


@pytest.mark.parametrize("bulk", [False, True], ids=["row by row", "bulk load"])
def test_a_second_run_replaces_every_row_of_the_first(db: Session, bulk: bool) -> None:
    firms = _seed_firms(db, today())
    first = run_batch(db, today(), reason="第一次", actor_label="测试", bulk=bulk)
    young = db.get(Firm, firms["young"])
    assert young is not None
    young.status = FirmStatus.moved_out
    db.flush()
    second = run_batch(db, today(), reason="第二次", actor_label="测试", bulk=bulk)
    assert second.id != first.id
    assert set(db.scalars(select(TierDecisionRow.run_id))) == {second.id}
    assert firms["young"] not in set(db.scalars(select(TierDecisionRow.firm_id)))
    assert db.scalar(select(func.count()).select_from(TierDecisionRow)) == second.firms * len(TIERS)
    # The bulk load rebuilt what it dropped: the pool index and the primary and foreign keys are as migrated.
    schema = inspect(db.connection())
    assert "ix_tier_decisions_pool" in {ix["name"] for ix in schema.get_indexes("tier_decisions")}
    assert schema.get_pk_constraint("tier_decisions")["constrained_columns"] == ["firm_id", "tier"]
    assert {fk["name"] for fk in schema.get_foreign_keys("tier_decisions")} >= {
        "fk_tier_decisions_firm_id_firms",
        "fk_tier_decisions_run_id_evaluation_runs",
    }
