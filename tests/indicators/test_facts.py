"""Source precedence of dated facts: 专员核实 > 部门数据 > 企业填报, newest first within a source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.indicators.facts import effective_facts, effective_year, parse_fact_value
from app.indicators.models import Source

F, D, V = Source.firm_reported, Source.department, Source.officer_verified


@dataclass
class Obs:
    id: int
    key: str
    value: Any
    valid_from: date
    source: Source
    recorded_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)


def obs(i: int, value: Any, source: Source, valid_from: str, key: str = "ip.class1") -> Obs:
    return Obs(id=i, key=key, value=value, valid_from=date.fromisoformat(valid_from), source=source)


CASES = [
    (
        "A single firm report is the value, with no conflict.",
        [obs(1, 5, F, "2025-01-01")],
        "2026-01-01",
        5,
        False,
    ),
    (
        "Department data outranks the firm's own report, and the disagreement is flagged.",
        [obs(1, 5, F, "2025-01-01"), obs(2, 4, D, "2025-01-01")],
        "2026-01-01",
        4,
        True,
    ),
    (
        "An officer's verification outranks department data even when older.",
        [obs(1, 3, V, "2024-01-01"), obs(2, 4, D, "2025-06-01")],
        "2026-01-01",
        3,
        True,
    ),
    (
        "Within one source the newest observation wins and an older one is no conflict.",
        [obs(1, 2, F, "2024-01-01"), obs(2, 6, F, "2025-01-01")],
        "2026-01-01",
        6,
        False,
    ),
    (
        "An observation from after the as-of date is not yet known.",
        [obs(1, 2, F, "2024-01-01"), obs(2, 9, V, "2026-03-01")],
        "2026-02-28",
        2,
        False,
    ),
    (
        "On the day it starts to hold, an observation counts (valid_from is inclusive).",
        [obs(1, 2, F, "2024-01-01"), obs(2, 9, V, "2026-03-01")],
        "2026-03-01",
        9,
        True,
    ),
    (
        "Sources agreeing on the value are not a conflict.",
        [obs(1, 4, F, "2025-01-01"), obs(2, 4, D, "2025-02-01")],
        "2026-01-01",
        4,
        False,
    ),
]


@pytest.mark.parametrize(
    ("why", "observations", "as_of", "value", "conflict"), CASES, ids=[c[0] for c in CASES]
)
def test_effective_fact(why: str, observations: list[Obs], as_of: str, value: Any, conflict: bool) -> None:
    result = effective_facts(observations, date.fromisoformat(as_of))["ip.class1"]
    assert result.value == value
    assert result.conflict is conflict


def test_nothing_known_before_the_first_observation() -> None:
    assert effective_facts([obs(1, 5, F, "2025-01-01")], date(2024, 12, 31)) == {}


@dataclass
class Row:
    source: Source
    revenue: Decimal | None = None
    employees: int | None = None


def test_each_year_field_comes_from_the_best_source_that_gave_it() -> None:
    rows = [Row(F, revenue=Decimal("1800"), employees=42), Row(V, revenue=Decimal("1750.00"))]
    eff = effective_year(rows, ["revenue", "employees"])
    assert (eff["revenue"].value, eff["revenue"].source, eff["revenue"].conflict) == (
        Decimal("1750.00"),
        V,
        True,
    )
    assert (eff["employees"].value, eff["employees"].source, eff["employees"].conflict) == (42, F, False)


def test_equal_amounts_written_differently_are_not_a_conflict() -> None:
    eff = effective_year([Row(F, revenue=Decimal("1800")), Row(D, revenue=Decimal("1800.00"))], ["revenue"])
    assert eff["revenue"].conflict is False


PARSE = [
    ("A count is an integer.", "ip.class1", "3", 3),
    ("A share keeps its decimals exactly.", "market.domestic_share_pct", "14.50", "14.5"),
    ("是 is true.", "is_sme", "是", True),
    ("An empty value means unknown, not zero or false.", "is_sme", "", None),
    ("A date is kept as YYYY-MM-DD.", "niche_since", "2021-05-10", "2021-05-10"),
]


@pytest.mark.parametrize(("why", "key", "raw", "stored"), PARSE, ids=[p[0] for p in PARSE])
def test_parse_fact_value(why: str, key: str, raw: Any, stored: Any) -> None:
    assert parse_fact_value(key, raw) == stored


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("ip.class1", "1.5", "应为整数"),
        ("ip.class1", "-1", "不能小于 0"),
        ("scores.hnte_innovation", "101", "不能大于 100"),
        ("niche_since", "2021/05/10", "YYYY-MM-DD"),
        ("rd_institution", "city", "取值无效"),
    ],
)
def test_bad_fact_values_are_refused_in_chinese(key: str, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fact_value(key, raw)
