"""The second execution of the rule nodes: every firm at once, as numpy array operations (STYLE §6).

The nodes of app/rules/vocabulary.py are compiled, once per rule set, into functions over `Columns`:

- an Expr becomes a `Num`: float64 values (NaN where unknown), a bound on their floating-point error, and a way to
  recompute the exact Decimal of chosen rows in the one-firm engine's order of operations;
- a Cond becomes an int8 outcome array (`PASS` … `FAIL`, ordered as `all` ranks them);
- a Scorer becomes (low, high) integer arrays of points scaled to the smallest unit the rule set uses.

Comparisons are made in float64 unless the two sides are closer than their error bounds allow to decide; those
rows (an amount exactly on a threshold, say) are recomputed in Decimal exactly as the engine computes them, so
both executions decide every row alike. tests/rules/test_batch_agrees.py proves it on random firms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from app.rules.columns import NO_DAY, NO_END, BoolArr, Columns, FloatArr, IntArr, day_number
from app.rules.facts import AWARD_LEVELS, FACT_INFO, INCIDENT_GRADES, RD_INSTITUTION_ORDER
from app.rules.loader import INCIDENT_KINDS, TIERS, ParamTable, RuleBook, RuleSet
from app.rules.vocabulary import (
    OPS,
    All,
    Any_,
    Avg,
    Band,
    BestOf,
    Cases,
    Cmp,
    Component,
    Cond,
    Const,
    CountAwards,
    CountIncidents,
    CountRevocations,
    DaysSince,
    Expr,
    Fact,
    FirstKnown,
    Growth,
    GrowthKind,
    Held,
    InstitutionAtLeast,
    Is,
    Manual,
    Not,
    Outcome,
    Param,
    Percent,
    RuleError,
    Score,
    Scorer,
    Sum,
    Switch,
    ThresholdBand,
    Window,
    Year,
    YearsSince,
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
# `any` takes the best: code → rank (index code + 1) and back (index rank + 1).
_ANY_RANK = np.array([-1, 3, 2, 1, 0], dtype=np.int8)
_CODE_OF_ANY_RANK = np.array([NA, FAIL, UNKNOWN, MANUAL, PASS], dtype=np.int8)

STATUSES = ("eligible", "needs_review", "insufficient_data", "ineligible")
# Status index by outcome code + 1 (engine.STATUS_OF): not applicable and pass are eligible.
_STATUS_OF_CODE = np.array([0, 0, 1, 2, 3], dtype=np.int8)

_EPS = float(np.finfo(np.float64).eps)
# A comparison closer than this many error bounds is decided in Decimal.
_TIE = 16.0
_INSTITUTION_INDEX = {name: i for i, name in enumerate(RD_INSTITUTION_ORDER)}


# ---------------------------------------------------------------------------------------------------------- numbers


@dataclass
class Num:
    """Values of an expression for every firm: NaN is unknown; `err` bounds |float − exact|."""

    v: FloatArr
    err: FloatArr
    exact: Callable[[IntArr], list[Any]]  # the engine's value (Decimal or bool) for the given known rows


def _leaf_err(v: FloatArr) -> FloatArr:
    """A value read from a decimal: exact when integral (and small), else within half an ulp."""
    with np.errstate(invalid="ignore"):
        integral = (v == np.round(v)) & (np.abs(v) < 2.0**53)
    return np.where(integral | np.isnan(v), 0.0, np.abs(v) * _EPS)


def _const(n: int, value: Decimal) -> Num:
    v = np.full(n, float(value))
    return Num(v, _leaf_err(v), lambda rows: [value] * len(rows))


def _rounding(v: FloatArr) -> FloatArr:
    return np.abs(np.nan_to_num(v)) * _EPS


def _compare(a: Num, op: str, b: Num) -> BoolArr:
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
        close = (bound > 0) & (np.abs(a.v - b.v) <= _TIE * bound)
    rows = np.flatnonzero(close)
    if rows.size:
        fn = OPS[op]
        result[rows] = [fn(x, y) for x, y in zip(a.exact(rows), b.exact(rows), strict=True)]
    return result


def _truthy(a: Num) -> BoolArr:
    """bool(value) for known rows (a number is true when not zero)."""
    return _compare(a, "!=", _const(len(a.v), Decimal(0)))


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
                [_INSTITUTION_INDEX.get(x, -1) if x is not None else -2 for x in values], dtype=np.int64
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
                v, _leaf_err(v), lambda rows: [by_district[int(district[r])] for r in rows]
            )
        return self._params[name]


def _day_of(year: IntArr, month: IntArr, day: IntArr) -> IntArr:
    months = (year - 1970) * 12 + (month - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return np.asarray(first + (day - 1), dtype=np.int64)


def _ymd(days: IntArr) -> tuple[IntArr, IntArr, IntArr]:
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


_FIRST_DAY = (date.min - date(1970, 1, 1)).days
_LAST_DAY = (date.max - date(1970, 1, 1)).days


def _add_years(year: IntArr, month: IntArr, day: IntArr, years: IntArr | int) -> IntArr:
    """vocabulary.add_years: the same calendar day `years` later, 29 February becoming 28 February (beyond
    the calendar: its first or last day)."""
    y = year + years
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    d = np.where((month == 2) & (day == 29) & ~leap, 28, day)
    inside = (y >= 1) & (y <= 9999)
    days = _day_of(np.where(inside, y, 2000), month, d)
    beyond = np.where(np.asarray(years) > 0, _LAST_DAY, _FIRST_DAY)
    return np.asarray(np.where(inside, days, beyond), dtype=np.int64)


def _scalar_add_years(day: date, years: int) -> int:
    y, m, d = (np.array([x], dtype=np.int64) for x in (day.year, day.month, day.day))
    return int(_add_years(y, m, d, years)[0])


def _years_between(start: IntArr, end: IntArr) -> tuple[IntArr, IntArr, IntArr, BoolArr]:
    """vocabulary.years_between as (whole, days, span, negative): ±(whole + days / span)."""
    negative = end < start
    lo, hi = np.where(negative, end, start), np.where(negative, start, end)
    sy, sm, sd = _ymd(lo)
    ey = _ymd(hi)[0]
    whole = ey - sy
    whole = whole - (_add_years(sy, sm, sd, whole) > hi)
    anchor = _add_years(sy, sm, sd, whole)
    span = _add_years(sy, sm, sd, whole + 1) - anchor
    return whole, hi - anchor, span, negative


# ---------------------------------------------------------------------------------------------------------- compiling

ExprFn = Callable[[Env], Num]
CondFn = Callable[[Env], Int8Arr]
ScoreFn = Callable[[Env], tuple[IntArr, IntArr]]


def _kind(expr: Expr) -> str:
    """'number' for what can be compared with a number, 'other' for dates and choices (only `is` reads them)."""
    if isinstance(expr, Fact) and FACT_INFO[expr.path][1] in ("date", "choice"):
        return "other"
    return "number"


def _numeric(expr: Expr) -> ExprFn:
    if _kind(expr) != "number":
        raise RuleError(f"批量评估：{type(expr).__name__} 不能参与数值比较或计算")
    return compile_expr(expr)


def compile_expr(expr: Expr) -> ExprFn:
    compiler = _EXPRS.get(type(expr))
    if compiler is None:
        raise RuleError(f"批量评估：词汇 {type(expr).__name__} 没有向量化实现")
    return compiler(expr)


def _fact(node: Fact) -> ExprFn:
    path, kind = node.path, FACT_INFO[node.path][1]

    def run(env: Env) -> Num:
        cols = env.cols
        if kind == "date":
            known = cols.dates[path] != NO_DAY
            v = np.where(known, 1.0, np.nan)
            return Num(v, np.zeros(env.n), lambda rows: [True] * len(rows))
        if kind == "choice":
            values = cols.choices[path]
            known = np.array([x is not None for x in values], dtype=bool)
            truth = np.array([bool(x) for x in values], dtype=np.float64)
            return Num(np.where(known, truth, np.nan), np.zeros(env.n), lambda rows: [values[r] for r in rows])
        v = cols.numbers[path]
        if kind == "bool":
            return Num(v, np.zeros(env.n), lambda rows: [bool(v[r]) for r in rows])
        return Num(v, _leaf_err(v), lambda rows: [cols.exact_value(path, int(r), -1, v[r]) for r in rows])

    return run


def _year_num(env: Env, name: str, year: int) -> Num:
    cols = env.cols
    v = cols.year_column(name, year)
    return Num(v, _leaf_err(v), lambda rows: [cols.exact_value(name, int(r), year, v[r]) for r in rows])


def _year(node: Year) -> ExprFn:
    return lambda env: _year_num(env, node.name, env.as_of.year - node.ago)


def _sum_num(env: Env, name: str, years: int, since_founding: bool) -> Num:
    window = [env.as_of.year - ago for ago in range(years, 0, -1)]
    start = np.full(env.n, window[0], dtype=np.int64)
    if since_founding:
        founded = env.cols.dates["founded_on"]
        known = founded != NO_DAY
        founded_year = _ymd(np.where(known, founded, 0))[0]
        # Only the years since founding; the last year alone when founded after it (vocabulary._years_window).
        start = np.where(known, np.minimum(np.maximum(founded_year, window[0]), window[-1]), start)
    parts = [_year_num(env, name, y) for y in window]
    total = np.zeros(env.n)
    err = np.zeros(env.n)
    for y, part in zip(window, parts, strict=True):
        inside = start <= y
        total = total + np.where(inside, part.v, 0.0)
        err = err + np.where(inside, part.err + _rounding(total), 0.0)

    def exact(rows: IntArr) -> list[Any]:
        cols = [p.exact(rows) for p in parts]
        out = []
        for i, r in enumerate(rows):
            values = [c[i] for y, c in zip(window, cols, strict=True) if y >= start[r]]
            out.append(sum(values, Decimal(0)))
        return out

    return Num(total, err, exact)


def _sum(node: Sum) -> ExprFn:
    return lambda env: _sum_num(env, node.name, node.years, node.since_founding)


def _avg(node: Avg) -> ExprFn:
    def run(env: Env) -> Num:
        inner = _sum_num(env, node.name, node.years, False)
        v = inner.v / node.years
        return Num(
            v,
            inner.err / node.years + _rounding(v),
            lambda rows: [x / node.years for x in inner.exact(rows)],
        )

    return run


# Float arithmetic with an error bound: (value, bound on |value − exact|).
Approx = tuple[FloatArr, FloatArr]


def _sub(a: Approx, b: Approx) -> Approx:
    v = a[0] - b[0]
    return v, a[1] + b[1] + _rounding(v)


def _add_c(a: Approx, c: float) -> Approx:
    v = a[0] + c
    return v, a[1] + _rounding(v)


def _mul_c(a: Approx, c: float) -> Approx:
    v = a[0] * c
    return v, a[1] * abs(c) + _rounding(v)


def _quot(a: Approx, b: Approx) -> Approx:
    with np.errstate(divide="ignore", invalid="ignore"):
        v = a[0] / b[0]
        room = np.abs(b[0]) - b[1]
        err = np.where(room > 0, (a[1] + np.abs(v) * b[1]) / np.where(room > 0, room, 1.0), np.inf)
    return v, err + _rounding(v)


def _sqrt(a: Approx) -> Approx:
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.sqrt(a[0])
        below = np.sqrt(np.maximum(a[0] - a[1], 0.0))
        err = np.where(v + below > 0, a[1] / (v + below), np.sqrt(a[1]))
    return v, err + _rounding(v)


def _div(a: Num, b: Num, scale: float) -> Num:
    """a × scale / b, unknown where b is (exactly) zero."""
    zero = ~np.isnan(b.v) & ~_truthy(b)
    v, err = _quot(_mul_c((a.v, a.err), scale), (np.where(zero, 1.0, b.v), b.err))
    factor = int(scale)

    def exact(rows: IntArr) -> list[Any]:
        return [x * factor / y for x, y in zip(a.exact(rows), b.exact(rows), strict=True)]

    return Num(np.where(zero, np.nan, v), np.where(zero, 0.0, err), exact)


def _percent(node: Percent) -> ExprFn:
    num, den = _numeric(node.num), _numeric(node.den)
    return lambda env: _div(num(env), den(env), 100.0)


def _growth(node: Growth) -> ExprFn:
    def run(env: Env) -> Num:
        last = env.as_of.year - 1
        need = 2 if node.kind is GrowthKind.last_year else 3
        vals = [_year_num(env, node.name, last - i) for i in range(need)]
        # The compound rate reads only Y1 and Y3 (vocabulary.Growth); the others all their years.
        used = [vals[0], vals[2]] if node.kind is GrowthKind.cagr_2y else vals
        known = np.logical_and.reduce([~np.isnan(p.v) for p in used])
        for p in used[1:]:
            known &= p.v != 0  # a stored value is zero exactly when its float is
        y1, y2 = (vals[0].v, vals[0].err), (vals[1].v, vals[1].err)
        ex1, ex2 = vals[0].exact, vals[1].exact
        exact: Callable[[IntArr], list[Any]]
        if node.kind is GrowthKind.last_year:
            v, err = _quot(_mul_c(_sub(y1, y2), 100.0), y2)

            def exact(rows: IntArr) -> list[Any]:
                return [(a - b) * 100 / b for a, b in zip(ex1(rows), ex2(rows), strict=True)]

        elif node.kind is GrowthKind.average_2y:
            y3, ex3 = (vals[2].v, vals[2].err), vals[2].exact
            r1, r2 = _add_c(_quot(y1, y2), -1.0), _add_c(_quot(y2, y3), -1.0)
            v, err = _mul_c((r1[0] + r2[0], r1[1] + r2[1] + _rounding(r1[0] + r2[0])), 50.0)

            def exact(rows: IntArr) -> list[Any]:
                return [
                    ((a / b - 1) + (b / c - 1)) * 50
                    for a, b, c in zip(ex1(rows), ex2(rows), ex3(rows), strict=True)
                ]

        else:
            y3, ex3 = (vals[2].v, vals[2].err), vals[2].exact
            ratio = _quot(y1, y3)
            with np.errstate(invalid="ignore"):
                known &= ~(ratio[0] < 0)  # the sign of a quotient of exact non-zero values is exact
            v, err = _mul_c(_add_c(_sqrt((np.where(known, ratio[0], 0.0), ratio[1])), -1.0), 100.0)

            def exact(rows: IntArr) -> list[Any]:
                return [((a / c).sqrt() - 1) * 100 for a, c in zip(ex1(rows), ex3(rows), strict=True)]

        v = np.where(known, v, np.nan)
        return Num(v, np.where(known, err, 0.0), exact)

    return run


def _years_since(node: YearsSince) -> ExprFn:
    def run(env: Env) -> Num:
        start = env.cols.dates[node.path]
        known = start != NO_DAY
        # "To the end of last year" is measured to 1 January of the as_of year (vocabulary.YearsSince).
        end = date(env.as_of.year, 1, 1) if node.until == "last_year_end" else env.as_of
        ends = np.full(env.n, day_number(end), dtype=np.int64)
        whole, days, span, negative = _years_between(np.where(known, start, ends), ends)
        v = np.where(negative, -1.0, 1.0) * (whole + days / span)
        v = np.where(known, v, np.nan)

        def exact(rows: IntArr) -> list[Any]:
            out = []
            for r in rows:
                value = Decimal(int(whole[r])) + Decimal(int(days[r])) / Decimal(int(span[r]))
                out.append(-value if negative[r] else value)
            return out

        return Num(v, 4 * _rounding(v), exact)

    return run


def _days_since(node: DaysSince) -> ExprFn:
    def run(env: Env) -> Num:
        start = env.cols.dates[node.path]
        known = start != NO_DAY
        days = env.day - np.where(known, start, 0)
        v = np.where(known, days.astype(np.float64), np.nan)
        return Num(v, np.zeros(env.n), lambda rows: [Decimal(int(days[r])) for r in rows])

    return run


def _window_start(env: Env, window: Window) -> int:
    """The window's first day; it ends on as_of and holds both ends (vocabulary.Window)."""
    if window.calendar_years is not None:
        return day_number(date(env.as_of.year - window.calendar_years + 1, 1, 1))
    assert window.years is not None
    return _scalar_add_years(env.as_of, -window.years)


def _inside(env: Env, window: Window, days: IntArr) -> BoolArr:
    return np.asarray((days >= _window_start(env, window)) & (days <= env.day))


def _count(env: Env, rows: IntArr, mask: BoolArr) -> IntArr:
    return np.bincount(rows[mask], minlength=env.n).astype(np.int64)


def _count_num(env: Env, count: IntArr, known: BoolArr) -> Num:
    v = np.where(known, count.astype(np.float64), np.nan)
    return Num(v, np.zeros(env.n), lambda rows: [Decimal(int(count[r])) for r in rows])


def _awards(node: CountAwards) -> ExprFn:
    levels = [AWARD_LEVELS.index(x) for x in node.levels]

    def run(env: Env) -> Num:
        a = env.cols.awards
        hit = np.isin(a.level, levels) & _inside(env, node.window, a.day)
        if node.rank_max is None:
            sure, unsure = hit, np.zeros_like(hit)
        else:
            sure = hit & a.has_rank & (a.rank <= node.rank_max)
            unsure = hit & ~a.has_rank
        n_sure, n_unsure = _count(env, a.row, sure), _count(env, a.row, unsure)
        # Only unranked awards where a rank is required: whether any counts is unknown.
        known = env.cols.has_awards & ~((n_sure == 0) & (n_unsure > 0))
        return _count_num(env, n_sure, known)

    return run


def _incidents(node: CountIncidents) -> ExprFn:
    kinds = [INCIDENT_KINDS.index(k) for k in node.kinds]
    floor = INCIDENT_GRADES.index(node.grade_min)

    def run(env: Env) -> Num:
        x = env.cols.incidents
        hit = np.isin(x.kind, kinds) & (x.grade >= floor) & _inside(env, node.window, x.day)
        return _count_num(env, _count(env, x.row, hit), env.cols.has_incidents)

    return run


def _revocations(node: CountRevocations) -> ExprFn:
    codes = [TIERS.index(t) for t in node.tiers]

    def run(env: Env) -> Num:
        r = env.cols.recognitions
        hit = np.isin(r.tier, codes) & (r.revoked != NO_END) & _inside(env, node.window, r.revoked)
        return _count_num(env, _count(env, r.row, hit), env.cols.has_recognitions)

    return run


def held(env: Env, tiers: Sequence[str]) -> BoolArr:
    """Holds a recognition of any of these tiers on as_of (issued ≤ day ≤ expires, not revoked on/before)."""
    r = env.cols.recognitions
    codes = [TIERS.index(t) for t in tiers]
    valid = np.isin(r.tier, codes) & (r.issued <= env.day) & (env.day <= r.expires) & (r.revoked > env.day)
    return _count(env, r.row, valid) > 0


def _held(node: Held) -> ExprFn:
    def run(env: Env) -> Num:
        truth = held(env, node.tiers)
        v = np.where(env.cols.has_recognitions, truth.astype(np.float64), np.nan)
        return Num(v, np.zeros(env.n), lambda rows: [bool(truth[r]) for r in rows])

    return run


def _institution(node: InstitutionAtLeast) -> ExprFn:
    floor = RD_INSTITUTION_ORDER.index("ministerial" if node.level == "ministerial" else node.level)

    def run(env: Env) -> Num:
        index = env.institution_index()
        truth = index >= floor
        v = np.where(index == -2, np.nan, truth.astype(np.float64))
        return Num(v, np.zeros(env.n), lambda rows: [bool(truth[r]) for r in rows])

    return run


def _threshold_band(node: ThresholdBand) -> ExprFn:
    by = _numeric(node.by)
    choices = [t for _, t in node.bands] + [node.otherwise]

    def run(env: Env) -> Num:
        basis = by(env)
        chosen = np.full(env.n, len(node.bands), dtype=np.int64)
        done = np.zeros(env.n, dtype=bool)
        for i, (limit, _) in enumerate(node.bands):
            hit = ~done & _compare(basis, "<=", _const(env.n, limit))
            chosen[hit] = i
            done |= hit
        table = np.array([float(c) for c in choices])
        v = np.where(np.isnan(basis.v), np.nan, table[chosen])
        return Num(v, _leaf_err(v), lambda rows: [choices[int(chosen[r])] for r in rows])

    return run


def _const_expr(node: Const) -> ExprFn:
    value = Decimal(str(node.value)) if isinstance(node.value, (int, float)) else node.value
    if not isinstance(value, Decimal):
        raise RuleError(f"批量评估：常量 {value!r} 不是数字")
    return lambda env: _const(env.n, value)


def _param(node: Param) -> ExprFn:
    return lambda env: env.param(node.name)


_EXPRS: dict[type, Callable[[Any], ExprFn]] = {
    Const: _const_expr,
    Param: _param,
    Fact: _fact,
    Year: _year,
    Sum: _sum,
    Avg: _avg,
    Percent: _percent,
    Growth: _growth,
    YearsSince: _years_since,
    DaysSince: _days_since,
    CountAwards: _awards,
    CountRevocations: _revocations,
    CountIncidents: _incidents,
    Held: _held,
    InstitutionAtLeast: _institution,
    ThresholdBand: _threshold_band,
}


# ---------------------------------------------------------------------------------------------------------- conditions


def compile_cond(cond: Cond) -> CondFn:
    compiler = _CONDS.get(type(cond))
    if compiler is None:
        raise RuleError(f"批量评估：条件 {type(cond).__name__} 没有向量化实现")
    return compiler(cond)


def _full(env: Env, code: int) -> Int8Arr:
    return np.full(env.n, code, dtype=np.int8)


def _unknown_code(unknown_is: Outcome) -> int:
    return MANUAL if unknown_is is Outcome.manual else UNKNOWN


def _cmp(node: Cmp) -> CondFn:
    lhs, rhs = _numeric(node.lhs), _numeric(node.rhs)
    missing = _unknown_code(node.unknown_is)

    def run(env: Env) -> Int8Arr:
        a, b = lhs(env), rhs(env)
        known = ~np.isnan(a.v) & ~np.isnan(b.v)
        out = np.where(_compare(a, node.op, b), PASS, FAIL).astype(np.int8)
        out[~known] = missing
        return out

    return run


def _is(node: Is) -> CondFn:
    expr = compile_expr(node.expr)
    missing = _unknown_code(node.unknown_is)

    def run(env: Env) -> Int8Arr:
        v = expr(env)
        known = ~np.isnan(v.v)
        out = np.where(_truthy(v) == node.expected, PASS, FAIL).astype(np.int8)
        out[~known] = missing
        return out

    return run


def combine_all(outcomes: Sequence[Int8Arr]) -> Int8Arr:
    return np.asarray(np.maximum.reduce(outcomes), dtype=np.int8)


def combine_any(outcomes: Sequence[Int8Arr]) -> Int8Arr:
    best = np.maximum.reduce([_ANY_RANK[o + 1] for o in outcomes])
    return np.asarray(_CODE_OF_ANY_RANK[best + 1], dtype=np.int8)


def _all(node: All) -> CondFn:
    items = [compile_cond(c) for c in node.items]
    return lambda env: combine_all([f(env) for f in items])


def _any(node: Any_) -> CondFn:
    items = [compile_cond(c) for c in node.items]
    return lambda env: combine_any([f(env) for f in items])


def _not(node: Not) -> CondFn:
    item = compile_cond(node.item)

    def run(env: Env) -> Int8Arr:
        o = item(env)
        return np.where(o == PASS, FAIL, np.where(o == FAIL, PASS, o)).astype(np.int8)

    return run


def _first_known(node: FirstKnown) -> CondFn:
    items = [compile_cond(c) for c in node.items]

    def run(env: Env) -> Int8Arr:
        out = _full(env, UNKNOWN)
        open_ = np.ones(env.n, dtype=bool)
        for f in items:
            if not open_.any():
                break
            o = f(env)
            take = open_ & (o != UNKNOWN)
            out[take] = o[take]
            open_ &= ~take
        return out

    return run


def _switch(node: Switch) -> CondFn:
    cases = [(compile_cond(w), compile_cond(t)) for w, t in node.cases]
    otherwise = compile_cond(node.otherwise) if node.otherwise is not None else None

    def run(env: Env) -> Int8Arr:
        out = otherwise(env).copy() if otherwise is not None else _full(env, NA)
        open_ = np.ones(env.n, dtype=bool)
        for when, then in cases:
            w = when(env)
            hit = open_ & (w == PASS)
            if hit.any():
                out[hit] = then(env)[hit]
            # A `when` that is neither pass nor fail leaves the branch unknown.
            unsure = open_ & (w != PASS) & (w != FAIL)
            out[unsure] = UNKNOWN
            open_ &= w == FAIL
        return out

    return run


def _manual(node: Manual) -> CondFn:
    return lambda env: _full(env, MANUAL)


# ---------------------------------------------------------------------------------------------------------- scores


def _decimals(scorer: Scorer | Component | Score) -> list[Decimal]:
    if isinstance(scorer, Score):
        return [scorer.minimum, *_decimals(scorer.root)]
    if isinstance(scorer, Component):
        found = [scorer.minimum] if scorer.minimum is not None else []
        if scorer.scorer is not None:
            found += _decimals(scorer.scorer)
        for part in scorer.parts:
            found += _decimals(part)
        return found
    if isinstance(scorer, Band):
        return [p for _, p in scorer.bins] + [scorer.otherwise]
    if isinstance(scorer, Cases):
        return [p for _, p in scorer.cases] + [scorer.otherwise]
    if isinstance(scorer, BestOf):
        return [d for s in scorer.options.values() for d in _decimals(s)]
    raise RuleError(f"批量评估：评分 {type(scorer).__name__} 没有向量化实现")


def _scale_of(score: Score) -> int:
    places = max((max(-int(d.as_tuple().exponent), 0) for d in _decimals(score)), default=0)
    return int(10**places)


def _points(value: Decimal, scale: int) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():  # pragma: no cover - _scale_of covers every decimal
        raise RuleError(f"批量评估：分值 {value} 无法按 1/{scale} 计")
    return int(scaled)


def compile_scorer(scorer: Scorer, scale: int) -> ScoreFn:
    if isinstance(scorer, Band):
        return _band(scorer, scale)
    if isinstance(scorer, Cases):
        return _cases(scorer, scale)
    if isinstance(scorer, BestOf):
        return _best_of(scorer, scale)
    raise RuleError(f"批量评估：评分 {type(scorer).__name__} 没有向量化实现")


def _band(node: Band, scale: int) -> ScoreFn:
    value = _numeric(node.value)
    bins = [(t, _points(p, scale)) for t, p in node.bins]
    otherwise = _points(node.otherwise, scale)
    every = [p for _, p in bins] + [otherwise]
    op = "<=" if node.lower_is_better else ">="

    def run(env: Env) -> tuple[IntArr, IntArr]:
        v = value(env)
        got = np.full(env.n, otherwise, dtype=np.int64)
        open_ = np.ones(env.n, dtype=bool)
        for threshold, pts in bins:
            hit = open_ & _compare(v, op, _const(env.n, threshold))
            got[hit] = pts
            open_ &= ~hit
        known = ~np.isnan(v.v)
        return np.where(known, got, min(every)), np.where(known, got, max(every))

    return run


def _cases(node: Cases, scale: int) -> ScoreFn:
    cases = [(compile_cond(c), _points(p, scale)) for c, p in node.cases]
    otherwise = _points(node.otherwise, scale)

    def run(env: Env) -> tuple[IntArr, IntArr]:
        low = np.full(env.n, otherwise, dtype=np.int64)
        high = low.copy()
        open_ = np.ones(env.n, dtype=bool)
        for i, (when, pts) in enumerate(cases):
            if not open_.any():
                break
            o = when(env)
            hit = open_ & (o == PASS)
            low[hit] = high[hit] = pts
            # Undecided (unknown, needs review): the bounds of what the remaining cases could give.
            rest = [p for _, p in cases[i:]] + [otherwise]
            unsure = open_ & (o != PASS) & (o != FAIL)
            low[unsure], high[unsure] = min(rest), max(rest)
            open_ &= o == FAIL
        return low, high

    return run


def _best_of(node: BestOf, scale: int) -> ScoreFn:
    options = {name: compile_scorer(s, scale) for name, s in node.options.items()}

    def run(env: Env) -> tuple[IntArr, IntArr]:
        scored = {name: f(env) for name, f in options.items()}
        names = list(scored)
        best_low, best_high = scored[names[0]]
        top = best_high.copy()
        for name in names[1:]:
            low, high = scored[name]
            # max() keeps the first of equals: replace only when strictly better on (low, high).
            better = (low > best_low) | ((low == best_low) & (high > best_high))
            best_low, best_high = np.where(better, low, best_low), np.where(better, high, best_high)
            top = np.maximum(top, high)
        out_low, out_high = best_low, top
        # The firm's own choice of measure (only a choice fact can name an option).
        if node.choice is not None and node.choice in env.cols.choices:
            chosen = env.cols.choices[node.choice]
            for name in names:
                pick = chosen == name
                out_low = np.where(pick, scored[name][0], out_low)
                out_high = np.where(pick, scored[name][1], out_high)
        return out_low, out_high

    return run


Block = tuple[int, IntArr, IntArr]  # (scaled minimum, low, high)
ComponentFn = Callable[[Env], tuple[IntArr, IntArr, list[Block]]]


def _component(comp: Component, scale: int) -> ComponentFn:
    if comp.scorer is not None:
        scorer = compile_scorer(comp.scorer, scale)

        def leaf(env: Env) -> tuple[IntArr, IntArr, list[Block]]:
            low, high = scorer(env)
            return low, high, []

        return leaf
    parts = [(p, _component(p, scale)) for p in comp.parts]

    def run(env: Env) -> tuple[IntArr, IntArr, list[Block]]:
        low = np.zeros(env.n, dtype=np.int64)
        high = low.copy()
        blocks: list[Block] = []
        for part, f in parts:
            p_low, p_high, sub = f(env)
            blocks.extend(sub)
            if part.minimum is not None:
                blocks.append((_points(part.minimum, scale), p_low, p_high))
            low, high = low + p_low, high + p_high
        return low, high, blocks

    return run


@dataclass
class CompiledScore:
    scale: int
    root: ComponentFn
    minimum: int

    def __call__(self, env: Env) -> Int8Arr:
        low, high, blocks = self.root(env)
        fail = high < self.minimum
        unsure = low < self.minimum
        for minimum, b_low, b_high in blocks:
            fail |= b_high < minimum
            unsure |= b_low < minimum
        return np.where(fail, FAIL, np.where(unsure, UNKNOWN, PASS)).astype(np.int8)

    def points(self, env: Env) -> tuple[IntArr, IntArr]:
        low, high, _ = self.root(env)
        return low, high


def _score(node: Score) -> CompiledScore:
    scale = _scale_of(node)
    return CompiledScore(scale, _component(node.root, scale), _points(node.minimum, scale))


_CONDS: dict[type, Callable[[Any], CondFn]] = {
    Cmp: _cmp,
    Is: _is,
    All: _all,
    Any_: _any,
    Not: _not,
    FirstKnown: _first_known,
    Switch: _switch,
    Manual: _manual,
    Score: _score,
}


# ---------------------------------------------------------------------------------------------------------- rule sets


@dataclass
class CompiledRuleSet:
    ruleset: RuleSet
    criteria: list[tuple[str, tuple[str, ...], CondFn]]
    scores: dict[str, CompiledScore]  # criteria whose test is a Score, in order


_COMPILED: dict[int, tuple[RuleSet, CompiledRuleSet]] = {}


def compile_ruleset(ruleset: RuleSet) -> CompiledRuleSet:
    """Compiled once per rule set object (the rule book is loaded once per process)."""
    cached = _COMPILED.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    criteria = []
    scores: dict[str, CompiledScore] = {}
    for c in ruleset.criteria:
        fn = compile_cond(c.test)
        criteria.append((c.id, c.modes, fn))
        if isinstance(fn, CompiledScore):
            scores[c.id] = fn
    compiled = CompiledRuleSet(ruleset, criteria, scores)
    _COMPILED[id(ruleset)] = (ruleset, compiled)
    return compiled


def _tree(node: Any, outcomes: dict[str, Int8Arr]) -> Int8Arr:
    if isinstance(node, str):
        return outcomes[node]
    key = next(iter(node))
    children = [_tree(child, outcomes) for child in node[key]]
    return combine_all(children) if key == "all" else combine_any(children)


def _relevant(node: Any, outcomes: dict[str, Int8Arr], mask: BoolArr, into: dict[str, BoolArr]) -> None:
    """engine._relevant per firm: under an `any` that passes, no criterion's gap matters."""
    if isinstance(node, str):
        into[node] = into[node] | mask if node in into else mask
        return
    key = next(iter(node))
    if key == "any":
        mask = mask & (_tree(node, outcomes) != PASS)
    for child in node[key]:
        _relevant(child, outcomes, mask, into)


@dataclass
class TierColumns:
    """One tier's decisions for every firm."""

    status: Int8Arr  # index in STATUSES
    holds: BoolArr
    score: IntArr  # scaled points (score_scale) where score_known
    score_scale: IntArr
    score_known: BoolArr
    fails: IntArr
    unknowns: IntArr
    ruleset: IntArr  # index in `rulesets`, −1 when none applies
    rulesets: list[str]
    # With evaluate_all(..., criteria=True): rule set id → criterion id → outcome code of every firm.
    criteria: dict[str, dict[str, Int8Arr]] = field(default_factory=dict)

    @property
    def distance(self) -> FloatArr:
        """Failing relevant criteria count 1, unknown ½ (for ranking the prospect pool)."""
        return np.asarray(self.fails + self.unknowns / 2, dtype=np.float64)

    def score_at(self, row: int) -> Decimal | None:
        if not self.score_known[row]:
            return None
        return Decimal(int(self.score[row])) / Decimal(int(self.score_scale[row]))


def _evaluate_ruleset(
    compiled: CompiledRuleSet, env: Env, mode: str, outcomes: dict[str, Int8Arr]
) -> tuple[Int8Arr, IntArr, IntArr, BoolArr, IntArr, IntArr]:
    """(overall outcome, score, score scale, score known, relevant fails, relevant unknowns); fills `outcomes`."""
    score = np.zeros(env.n, dtype=np.int64)
    scale = np.ones(env.n, dtype=np.int64)
    known = np.zeros(env.n, dtype=bool)
    for cid, modes, fn in compiled.criteria:
        if mode not in modes:
            outcomes[cid] = _full(env, NA)
            continue
        outcomes[cid] = fn(env)
        if isinstance(fn, CompiledScore) and not known.all():
            # engine: the first Score criterion whose points are known gives the tier's score.
            low, high = fn.points(env)
            take = ~known & (low == high)
            score[take], scale[take] = low[take], fn.scale
            known |= take
    overall = _tree(compiled.ruleset.decision, outcomes)
    relevant: dict[str, BoolArr] = {}
    _relevant(compiled.ruleset.decision, outcomes, overall != PASS, relevant)
    fails = np.zeros(env.n, dtype=np.int64)
    unknowns = np.zeros(env.n, dtype=np.int64)
    for cid, mask in relevant.items():
        fails += mask & (outcomes[cid] == FAIL)
        unknowns += mask & (outcomes[cid] == UNKNOWN)
    return overall, score, scale, known, fails, unknowns


def evaluate_all(
    cols: Columns,
    as_of: date,
    book: RuleBook,
    params: ParamTable,
    *,
    mode: str = "new",
    tiers: Sequence[str] = TIERS,
    criteria: bool = False,
) -> dict[str, TierColumns]:
    """Every firm's decision for every tier on as_of — the batch twin of engine.evaluate."""
    env = Env(cols, as_of, params)
    out: dict[str, TierColumns] = {}
    for tier in tiers:
        holds = held(env, [tier]) & cols.has_recognitions
        status = np.full(cols.n, STATUSES.index("insufficient_data"), dtype=np.int8)
        score = np.zeros(cols.n, dtype=np.int64)
        scale = np.ones(cols.n, dtype=np.int64)
        known = np.zeros(cols.n, dtype=bool)
        fails = np.zeros(cols.n, dtype=np.int64)
        # No rule set in force: one unknown (the missing rule version), as the engine reports it.
        unknowns = np.ones(cols.n, dtype=np.int64)
        which = np.full(cols.n, -1, dtype=np.int64)
        chosen: list[RuleSet] = []
        for d, district in enumerate(cols.districts):
            rs = book.select(tier, as_of, mode, district)
            if rs is None:
                continue
            if not any(rs is c for c in chosen):
                chosen.append(rs)
            which[cols.district == d] = next(i for i, c in enumerate(chosen) if c is rs)
        kept: dict[str, dict[str, Int8Arr]] = {}
        for i, rs in enumerate(chosen):
            rows = which == i
            outcomes: dict[str, Int8Arr] = {}
            overall, s, sc, k, f, u = _evaluate_ruleset(compile_ruleset(rs), env, mode, outcomes)
            if criteria:
                kept[rs.id] = outcomes
            status[rows] = _STATUS_OF_CODE[overall[rows] + 1]
            score[rows], scale[rows], known[rows] = s[rows], sc[rows], k[rows]
            fails[rows], unknowns[rows] = f[rows], u[rows]
        out[tier] = TierColumns(
            status=status,
            holds=holds,
            score=score,
            score_scale=scale,
            score_known=known,
            fails=fails,
            unknowns=unknowns,
            ruleset=which,
            rulesets=[rs.id for rs in chosen],
            criteria=kept,
        )
    return out
