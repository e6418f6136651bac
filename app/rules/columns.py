"""Many firms' facts as columns — one numpy array per fact, per year field and per kind of event — the input of the
vectorised batch (app/rules/vectorised.py).

Built from a list of `Facts` (`columns_from_facts`, used by the agreement tests) or straight from the database
(app/rules/batch_load.py). Unknown is NaN in a float column, `NO_DAY` in a day column and None in a choice column;
`has_recognitions` / `has_awards` / `has_incidents` say whether a firm's list was given at all (a stored firm's
lists are complete). Dates are day numbers since 1970-01-01.

Numbers travel as float64. The exact value of a number (needed only where a comparison is too close to call in
floating point) is `Decimal(repr(x))`, which is the stored decimal whenever it has at most 15 significant digits
(every Numeric(18,2) amount below 10 000 000 000 000 万元); a value that does not survive that round trip is kept in
`exact` as it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from app.rules.facts import (
    AWARD_LEVELS,
    FACT_INFO,
    INCIDENT_GRADES,
    YEAR_FIELD_INFO,
    Facts,
)
from app.rules.loader import INCIDENT_KINDS, TIERS

FloatArr = npt.NDArray[np.float64]
IntArr = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]
ObjArr = npt.NDArray[np.object_]

EPOCH = date(1970, 1, 1)
NO_DAY = np.int64(-(2**62))  # an unknown date
NO_END = np.int64(2**62)  # no expiry / never revoked

NUMBER_FACTS = [p for p, (_, kind) in FACT_INFO.items() if kind in ("number", "bool")]
DATE_FACTS = [p for p, (_, kind) in FACT_INFO.items() if kind == "date"]
CHOICE_FACTS = [p for p, (_, kind) in FACT_INFO.items() if kind == "choice"]


def day_number(day: date) -> int:
    return (day - EPOCH).days


@dataclass
class Recognitions:
    row: IntArr
    tier: IntArr  # index in loader.TIERS, −1 for another code
    issued: IntArr
    expires: IntArr  # NO_END when open-ended
    revoked: IntArr  # NO_END when not revoked


@dataclass
class Awards:
    row: IntArr
    level: IntArr  # index in facts.AWARD_LEVELS, −1 for another level
    day: IntArr
    rank: IntArr  # meaningful where has_rank
    has_rank: BoolArr


@dataclass
class Incidents:
    row: IntArr
    kind: IntArr  # index in loader.INCIDENT_KINDS, −1 for another kind
    grade: IntArr  # index in facts.INCIDENT_GRADES, −1 for another grade
    day: IntArr


def _ints(values: Sequence[int] | IntArr) -> IntArr:
    return np.asarray(values, dtype=np.int64)


def empty_recognitions() -> Recognitions:
    e = _ints([])
    return Recognitions(e, e, e, e, e)


def empty_awards() -> Awards:
    e = _ints([])
    return Awards(e, e, e, e, np.zeros(0, dtype=bool))


def empty_incidents() -> Incidents:
    e = _ints([])
    return Incidents(e, e, e, e)


@dataclass
class Columns:
    n: int
    district: IntArr  # index in `districts`
    districts: list[str | None]
    numbers: dict[str, FloatArr]  # number and yes/no facts (1.0 / 0.0)
    dates: dict[str, IntArr]
    choices: dict[str, ObjArr]
    first_year: int  # years[name][:, 0] is this calendar year
    years: dict[str, FloatArr]  # (n, number of years)
    recognitions: Recognitions
    awards: Awards
    incidents: Incidents
    has_recognitions: BoolArr
    has_awards: BoolArr
    has_incidents: BoolArr
    # (name, row, year or −1 for a scalar fact) → the value as given, where float64 cannot carry it exactly.
    exact: dict[tuple[str, int, int], Decimal] = field(default_factory=dict)

    @property
    def year_count(self) -> int:
        return next(iter(self.years.values())).shape[1] if self.years else 0

    def year_column(self, name: str, year: int) -> FloatArr:
        """The field for one calendar year (all NaN when the year is not held)."""
        i = year - self.first_year
        if 0 <= i < self.year_count:
            return self.years[name][:, i]
        return np.full(self.n, np.nan)

    def exact_value(self, name: str, row: int, year: int, value: float) -> Decimal:
        found = self.exact.get((name, row, year))
        return found if found is not None else Decimal(repr(float(value)))


def _float(value: Any, name: str, row: int, year: int, exact: dict[tuple[str, int, int], Decimal]) -> float:
    if value is None:
        return np.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if not isinstance(value, (int, float, Decimal)):
        # A yes/no fact given as something else: only its truth matters (`is`), as in the one-firm engine.
        return 1.0 if value else 0.0
    number = float(value)
    if isinstance(value, Decimal) and Decimal(repr(number)) != value:
        exact[(name, row, year)] = value
    return number


def columns_from_facts(facts: Sequence[Facts], first_year: int, last_year: int) -> Columns:
    """Columns of the given firms (in order), holding the years first_year … last_year."""
    n = len(facts)
    exact: dict[tuple[str, int, int], Decimal] = {}
    districts: list[str | None] = sorted({f.district for f in facts}, key=lambda d: (d is not None, d or ""))
    district = _ints([districts.index(f.district) for f in facts])
    numbers = {
        path: np.array(
            [_float(f.get(path), path, i, -1, exact) for i, f in enumerate(facts)], dtype=np.float64
        )
        for path in NUMBER_FACTS
    }
    dates = {
        path: _ints([day_number(v) if isinstance(v := f.get(path), date) else int(NO_DAY) for f in facts])
        for path in DATE_FACTS
    }
    choices = {
        path: np.array([f.get(path) for f in facts] + [None], dtype=object)[:n] for path in CHOICE_FACTS
    }
    span = last_year - first_year + 1
    years = {}
    for name in YEAR_FIELD_INFO:
        grid = np.full((n, span), np.nan)
        for i, f in enumerate(facts):
            for year in range(first_year, last_year + 1):
                grid[i, year - first_year] = _float(f.year_value(year, name), name, i, year, exact)
        years[name] = grid
    rec: list[tuple[int, int, int, int, int]] = []
    awd: list[tuple[int, int, int, int, bool]] = []
    inc: list[tuple[int, int, int, int]] = []
    for i, f in enumerate(facts):
        for r in f.recognitions or []:
            rec.append(
                (
                    i,
                    TIERS.index(r.tier) if r.tier in TIERS else -1,
                    day_number(r.issued_on),
                    day_number(r.expires_on) if r.expires_on else int(NO_END),
                    day_number(r.revoked_on) if r.revoked_on else int(NO_END),
                )
            )
        for a in f.awards or []:
            level = AWARD_LEVELS.index(a.level) if a.level in AWARD_LEVELS else -1
            awd.append((i, level, day_number(a.awarded_on), a.rank or 0, a.rank is not None))
        for x in f.incidents or []:
            kind = INCIDENT_KINDS.index(x.kind) if x.kind in INCIDENT_KINDS else -1
            grade = INCIDENT_GRADES.index(x.grade) if x.grade in INCIDENT_GRADES else -1
            inc.append((i, kind, grade, day_number(x.occurred_on)))

    def col(rows: list[Any], j: int) -> IntArr:
        return _ints([r[j] for r in rows])

    return Columns(
        n=n,
        district=district,
        districts=districts,
        numbers=numbers,
        dates=dates,
        choices=choices,
        first_year=first_year,
        years=years,
        recognitions=Recognitions(col(rec, 0), col(rec, 1), col(rec, 2), col(rec, 3), col(rec, 4)),
        awards=Awards(
            col(awd, 0), col(awd, 1), col(awd, 2), col(awd, 3), np.array([a[4] for a in awd], dtype=bool)
        ),
        incidents=Incidents(col(inc, 0), col(inc, 1), col(inc, 2), col(inc, 3)),
        has_recognitions=np.array([f.recognitions is not None for f in facts], dtype=bool),
        has_awards=np.array([f.awards is not None for f in facts], dtype=bool),
        has_incidents=np.array([f.incidents is not None for f in facts], dtype=bool),
        exact=exact,
    )
