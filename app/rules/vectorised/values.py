"""What the compiled rules compute with: `Num` (values, error bounds, exact recomputation), the batch's `Env`,
outcome codes, float arithmetic with error bounds and calendar arithmetic on day numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from app.rules.columns import BoolArr, Columns, FloatArr, IntArr, day_number
from app.rules.facts import RD_INSTITUTION_ORDER
from app.rules.loader import ParamTable
from app.rules.vocabulary import (
    OPS,
    Outcome,
)

Int8Arr = npt.NDArray[np.int8]

# Outcome codes, ordered as `all` ranks them (the worst wins); not_applicable is below everything.
NA, PASS, MANUAL, UNKNOWN, FAIL = -1, 0, 1, 2, 3
CODE_OF = {
    Outcome.not_applicable: NA,
    Outcome.pass_: PASS,
    Outcome.manual: MANUAL,
    Outcome.unknown: UNKNOWN,
    Outcome.fail: FAIL,
}
OUTCOME_OF = {v: k for k, v in CODE_OF.items()}

STATUSES = ("eligible", "needs_review", "insufficient_data", "ineligible")
# Status index by outcome code + 1 (engine.STATUS_OF): not applicable and pass are eligible.
STATUS_OF_CODE = np.array([0, 0, 1, 2, 3], dtype=np.int8)

EPS = float(np.finfo(np.float64).eps)
# A comparison closer than this many error bounds is decided in Decimal.
TIE = 16.0
INSTITUTION_INDEX = {name: i for i, name in enumerate(RD_INSTITUTION_ORDER)}


# ---------------------------------------------------------------------------------------------------- numbers


@dataclass
class Num:
    """Values of an expression for every firm: NaN is unknown; `err` bounds |float − exact|."""

    v: FloatArr
    err: FloatArr
    exact: Callable[[IntArr], list[Any]]  # the engine's value (Decimal or bool) for the given known rows


def leaf_err(v: FloatArr) -> FloatArr:
    """A value read from a decimal: exact when integral (and small), else within half an ulp."""
    with np.errstate(invalid="ignore"):
        integral = (v == np.round(v)) & (np.abs(v) < 2.0**53)
    return np.where(integral | np.isnan(v), 0.0, np.abs(v) * EPS)


def const(n: int, value: Decimal) -> Num:
    v = np.full(n, float(value))
    return Num(v, leaf_err(v), lambda rows: [value] * len(rows))


def rounding(v: FloatArr) -> FloatArr:
    return np.abs(np.nan_to_num(v)) * EPS


def compare(a: Num, op: str, b: Num) -> BoolArr:
    """a op b where both are known (other rows: meaningless); too-close rows are decided in Decimal."""
    with np.errstate(invalid="ignore"):
        result = np.asarray(
            {
                ">=": np.greater_equal,
                ">": np.greater,
                "<=": np.less_equal,
                "<": np.less,
                "==": np.equal,
                "!=": np.not_equal,
            }[op](a.v, b.v)
        )
        bound = a.err + b.err
        close = (bound > 0) & (np.abs(a.v - b.v) <= TIE * bound)
    rows = np.flatnonzero(close)
    if rows.size:
        fn = OPS[op]
        result[rows] = [fn(x, y) for x, y in zip(a.exact(rows), b.exact(rows), strict=True)]
    return result


def truthy(a: Num) -> BoolArr:
    """bool(value) for known rows (a number is true when not zero)."""
    return compare(a, "!=", const(len(a.v), Decimal(0)))


@dataclass
class Env:
    """One batch: the columns, the date and the parameters in force."""

    cols: Columns
    as_of: date
    params: ParamTable
    day: int = 0
    _params: dict[str, Num] = field(default_factory=dict)
    _institution: IntArr | None = None

    def __post_init__(self) -> None:
        self.day = day_number(self.as_of)

    @property
    def n(self) -> int:
        return self.cols.n

    def institution_index(self) -> IntArr:
        """rd_institution as its place in RD_INSTITUTION_ORDER (−1: another value, −2: unknown)."""
        if self._institution is None:
            values = self.cols.choices["rd_institution"]
            self._institution = np.array(
                [INSTITUTION_INDEX.get(x, -1) if x is not None else -2 for x in values], dtype=np.int64
            )
        return self._institution

    def param(self, name: str) -> Num:
        """A parameter's value on as_of, looked up once per district present."""
        if name not in self._params:
            by_district = [self.params.value(name, self.as_of, d) for d in self.cols.districts]
            table = np.array([float(x) for x in by_district], dtype=np.float64)
            v = table[self.cols.district] if self.n else np.zeros(0)
            district = self.cols.district
            self._params[name] = Num(
                v, leaf_err(v), lambda rows: [by_district[int(district[r])] for r in rows]
            )
        return self._params[name]


def day_of(year: IntArr, month: IntArr, day: IntArr) -> IntArr:
    months = (year - 1970) * 12 + (month - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return np.asarray(first + (day - 1), dtype=np.int64)


def ymd(days: IntArr) -> tuple[IntArr, IntArr, IntArr]:
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


FIRST_DAY = (date.min - date(1970, 1, 1)).days
LAST_DAY = (date.max - date(1970, 1, 1)).days


def shift_years(year: IntArr, month: IntArr, day: IntArr, years: IntArr | int) -> IntArr:
    """vocabulary.add_years: the same calendar day `years` later, 29 February becoming 28 February (beyond
    the calendar: its first or last day)."""
    y = year + years
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    d = np.where((month == 2) & (day == 29) & ~leap, 28, day)
    inside = (y >= 1) & (y <= 9999)
    days = day_of(np.where(inside, y, 2000), month, d)
    beyond = np.where(np.asarray(years) > 0, LAST_DAY, FIRST_DAY)
    return np.asarray(np.where(inside, days, beyond), dtype=np.int64)


def scalar_shift_years(day: date, years: int) -> int:
    y, m, d = (np.array([x], dtype=np.int64) for x in (day.year, day.month, day.day))
    return int(shift_years(y, m, d, years)[0])


def years_between_days(start: IntArr, end: IntArr) -> tuple[IntArr, IntArr, IntArr, BoolArr]:
    """vocabulary.years_between as (whole, days, span, negative): ±(whole + days / span)."""
    negative = end < start
    lo, hi = np.where(negative, end, start), np.where(negative, start, end)
    sy, sm, sd = ymd(lo)
    ey = ymd(hi)[0]
    whole = ey - sy
    whole = whole - (shift_years(sy, sm, sd, whole) > hi)
    anchor = shift_years(sy, sm, sd, whole)
    span = shift_years(sy, sm, sd, whole + 1) - anchor
    return whole, hi - anchor, span, negative


# What the compiled nodes are: functions of the batch's Env.
ExprFn = Callable[[Env], Num]
CondFn = Callable[[Env], Int8Arr]
ScoreFn = Callable[[Env], tuple[IntArr, IntArr]]


# Float arithmetic with an error bound: (value, bound on |value − exact|).
Approx = tuple[FloatArr, FloatArr]


def sub(a: Approx, b: Approx) -> Approx:
    v = a[0] - b[0]
    return v, a[1] + b[1] + rounding(v)


def add_c(a: Approx, c: float) -> Approx:
    v = a[0] + c
    return v, a[1] + rounding(v)


def mul_c(a: Approx, c: float) -> Approx:
    v = a[0] * c
    return v, a[1] * abs(c) + rounding(v)


def quot(a: Approx, b: Approx) -> Approx:
    with np.errstate(divide="ignore", invalid="ignore"):
        v = a[0] / b[0]
        room = np.abs(b[0]) - b[1]
        err = np.where(room > 0, (a[1] + np.abs(v) * b[1]) / np.where(room > 0, room, 1.0), np.inf)
    return v, err + rounding(v)


def sqrt_approx(a: Approx) -> Approx:
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.sqrt(a[0])
        below = np.sqrt(np.maximum(a[0] - a[1], 0.0))
        err = np.where(v + below > 0, a[1] / (v + below), np.sqrt(a[1]))
    return v, err + rounding(v)
