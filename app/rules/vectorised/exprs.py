"""Expressions (vocabulary.Expr) compiled to functions of the batch `Env` returning `Num` columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from app.rules.columns import NO_DAY, NO_END, BoolArr, IntArr, day_number
from app.rules.facts import AWARD_LEVELS, FACT_INFO, INCIDENT_GRADES, RD_INSTITUTION_ORDER
from app.rules.loader import INCIDENT_KINDS, TIERS
from app.rules.vectorised.values import (
    Env,
    ExprFn,
    Num,
    add_c,
    compare,
    const,
    leaf_err,
    mul_c,
    quot,
    rounding,
    scalar_shift_years,
    sqrt_approx,
    sub,
    truthy,
    years_between_days,
    ymd,
)
from app.rules.vocabulary import (
    Avg,
    Const,
    CountAwards,
    CountIncidents,
    CountRevocations,
    DaysSince,
    Expr,
    Fact,
    Growth,
    GrowthKind,
    Held,
    InstitutionAtLeast,
    Param,
    Percent,
    RuleError,
    Sum,
    ThresholdBand,
    Window,
    Year,
    YearsSince,
)

# -------------------------------------------------------------------------------------------------- compiling


def _kind(expr: Expr) -> str:
    """'number' for what can be compared with a number, 'other' for dates and choices (only `is` reads them)."""
    if isinstance(expr, Fact) and FACT_INFO[expr.path][1] in ("date", "choice"):
        return "other"
    return "number"


def numeric(expr: Expr) -> ExprFn:
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
            return Num(
                np.where(known, truth, np.nan), np.zeros(env.n), lambda rows: [values[r] for r in rows]
            )
        v = cols.numbers[path]
        if kind == "bool":
            return Num(v, np.zeros(env.n), lambda rows: [bool(v[r]) for r in rows])
        return Num(v, leaf_err(v), lambda rows: [cols.exact_value(path, int(r), -1, v[r]) for r in rows])

    return run


def _year_num(env: Env, name: str, year: int) -> Num:
    cols = env.cols
    v = cols.year_column(name, year)
    return Num(v, leaf_err(v), lambda rows: [cols.exact_value(name, int(r), year, v[r]) for r in rows])


def _year(node: Year) -> ExprFn:
    return lambda env: _year_num(env, node.name, env.as_of.year - node.ago)


def _sum_num(env: Env, name: str, years: int, since_founding: bool) -> Num:
    window = [env.as_of.year - ago for ago in range(years, 0, -1)]
    start = np.full(env.n, window[0], dtype=np.int64)
    if since_founding:
        founded = env.cols.dates["founded_on"]
        known = founded != NO_DAY
        founded_year = ymd(np.where(known, founded, 0))[0]
        # Only the years since founding; the last year alone when founded after it (vocabulary._years_window).
        start = np.where(known, np.minimum(np.maximum(founded_year, window[0]), window[-1]), start)
    parts = [_year_num(env, name, y) for y in window]
    total = np.zeros(env.n)
    err = np.zeros(env.n)
    for y, part in zip(window, parts, strict=True):
        inside = start <= y
        total = total + np.where(inside, part.v, 0.0)
        err = err + np.where(inside, part.err + rounding(total), 0.0)

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
            inner.err / node.years + rounding(v),
            lambda rows: [x / node.years for x in inner.exact(rows)],
        )

    return run


def _div(a: Num, b: Num, scale: float) -> Num:
    """a × scale / b, unknown where b is (exactly) zero."""
    zero = ~np.isnan(b.v) & ~truthy(b)
    v, err = quot(mul_c((a.v, a.err), scale), (np.where(zero, 1.0, b.v), b.err))
    factor = int(scale)

    def exact(rows: IntArr) -> list[Any]:
        return [x * factor / y for x, y in zip(a.exact(rows), b.exact(rows), strict=True)]

    return Num(np.where(zero, np.nan, v), np.where(zero, 0.0, err), exact)


def _percent(node: Percent) -> ExprFn:
    num, den = numeric(node.num), numeric(node.den)
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
            v, err = quot(mul_c(sub(y1, y2), 100.0), y2)

            def exact(rows: IntArr) -> list[Any]:
                return [(a - b) * 100 / b for a, b in zip(ex1(rows), ex2(rows), strict=True)]

        elif node.kind is GrowthKind.average_2y:
            y3, ex3 = (vals[2].v, vals[2].err), vals[2].exact
            r1, r2 = add_c(quot(y1, y2), -1.0), add_c(quot(y2, y3), -1.0)
            v, err = mul_c((r1[0] + r2[0], r1[1] + r2[1] + rounding(r1[0] + r2[0])), 50.0)

            def exact(rows: IntArr) -> list[Any]:
                return [
                    ((a / b - 1) + (b / c - 1)) * 50
                    for a, b, c in zip(ex1(rows), ex2(rows), ex3(rows), strict=True)
                ]

        else:
            y3, ex3 = (vals[2].v, vals[2].err), vals[2].exact
            ratio = quot(y1, y3)
            with np.errstate(invalid="ignore"):
                known &= ~(ratio[0] < 0)  # the sign of a quotient of exact non-zero values is exact
            v, err = mul_c(add_c(sqrt_approx((np.where(known, ratio[0], 0.0), ratio[1])), -1.0), 100.0)

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
        whole, days, span, negative = years_between_days(np.where(known, start, ends), ends)
        v = np.where(negative, -1.0, 1.0) * (whole + days / span)
        v = np.where(known, v, np.nan)

        def exact(rows: IntArr) -> list[Any]:
            out = []
            for r in rows:
                value = Decimal(int(whole[r])) + Decimal(int(days[r])) / Decimal(int(span[r]))
                out.append(-value if negative[r] else value)
            return out

        return Num(v, 4 * rounding(v), exact)

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
    return scalar_shift_years(env.as_of, -window.years)


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
    by = numeric(node.by)
    choices = [t for _, t in node.bands] + [node.otherwise]

    def run(env: Env) -> Num:
        basis = by(env)
        chosen = np.full(env.n, len(node.bands), dtype=np.int64)
        done = np.zeros(env.n, dtype=bool)
        for i, (limit, _) in enumerate(node.bands):
            hit = ~done & compare(basis, "<=", const(env.n, limit))
            chosen[hit] = i
            done |= hit
        table = np.array([float(c) for c in choices])
        v = np.where(np.isnan(basis.v), np.nan, table[chosen])
        return Num(v, leaf_err(v), lambda rows: [choices[int(chosen[r])] for r in rows])

    return run


def _const_expr(node: Const) -> ExprFn:
    value = Decimal(str(node.value)) if isinstance(node.value, (int, float)) else node.value
    if not isinstance(value, Decimal):
        raise RuleError(f"批量评估：常量 {value!r} 不是数字")
    return lambda env: const(env.n, value)


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
