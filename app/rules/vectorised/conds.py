"""Conditions (vocabulary.Cond) compiled to int8 outcome columns, and scores to scaled (low, high) points."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from app.rules.columns import IntArr
from app.rules.vectorised.exprs import (
    compile_expr,
    numeric,
)
from app.rules.vectorised.values import (
    FAIL,
    MANUAL,
    NA,
    PASS,
    UNKNOWN,
    CondFn,
    Env,
    Int8Arr,
    ScoreFn,
    compare,
    const,
    truthy,
)
from app.rules.vocabulary import (
    All,
    Any_,
    Band,
    BestOf,
    Cases,
    Cmp,
    Component,
    Cond,
    FirstKnown,
    Is,
    Manual,
    Not,
    Outcome,
    RuleError,
    Score,
    Scorer,
    Switch,
)

# ------------------------------------------------------------------------------------------------- conditions

# `any` takes the best: code → rank (index code + 1) and back (index rank + 1).
_ANY_RANK = np.array([-1, 3, 2, 1, 0], dtype=np.int8)
_CODE_OF_ANY_RANK = np.array([NA, FAIL, UNKNOWN, MANUAL, PASS], dtype=np.int8)


def compile_cond(cond: Cond) -> CondFn:
    compiler = _CONDS.get(type(cond))
    if compiler is None:
        raise RuleError(f"批量评估：条件 {type(cond).__name__} 没有向量化实现")
    return compiler(cond)


def full(env: Env, code: int) -> Int8Arr:
    return np.full(env.n, code, dtype=np.int8)


def _unknown_code(unknown_is: Outcome) -> int:
    return MANUAL if unknown_is is Outcome.manual else UNKNOWN


def _cmp(node: Cmp) -> CondFn:
    lhs, rhs = numeric(node.lhs), numeric(node.rhs)
    missing = _unknown_code(node.unknown_is)

    def run(env: Env) -> Int8Arr:
        a, b = lhs(env), rhs(env)
        known = ~np.isnan(a.v) & ~np.isnan(b.v)
        out = np.where(compare(a, node.op, b), PASS, FAIL).astype(np.int8)
        out[~known] = missing
        return out

    return run


def _is(node: Is) -> CondFn:
    expr = compile_expr(node.expr)
    missing = _unknown_code(node.unknown_is)

    def run(env: Env) -> Int8Arr:
        v = expr(env)
        known = ~np.isnan(v.v)
        out = np.where(truthy(v) == node.expected, PASS, FAIL).astype(np.int8)
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
        out = full(env, UNKNOWN)
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
        out = otherwise(env).copy() if otherwise is not None else full(env, NA)
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
    return lambda env: full(env, MANUAL)


# ----------------------------------------------------------------------------------------------------- scores


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
    value = numeric(node.value)
    bins = [(t, _points(p, scale)) for t, p in node.bins]
    otherwise = _points(node.otherwise, scale)
    every = [p for _, p in bins] + [otherwise]
    op = "<=" if node.lower_is_better else ">="

    def run(env: Env) -> tuple[IntArr, IntArr]:
        v = value(env)
        got = np.full(env.n, otherwise, dtype=np.int64)
        open_ = np.ones(env.n, dtype=bool)
        for threshold, pts in bins:
            hit = open_ & compare(v, op, const(env.n, threshold))
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
