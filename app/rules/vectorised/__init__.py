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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from app.rules.columns import BoolArr, Columns, FloatArr, IntArr
from app.rules.loader import TIERS, ParamTable, RuleBook, RuleSet
from app.rules.vectorised.conds import (
    CompiledScore,
    combine_all,
    combine_any,
    compile_cond,
    full,
)
from app.rules.vectorised.exprs import (
    held,
)
from app.rules.vectorised.values import (
    FAIL,
    NA,
    OUTCOME_OF,
    PASS,
    STATUS_OF_CODE,
    STATUSES,
    UNKNOWN,
    CondFn,
    Env,
    Int8Arr,
)

__all__ = ["OUTCOME_OF", "STATUSES", "TierColumns", "compile_ruleset", "evaluate_all"]


# -------------------------------------------------------------------------------------------------- rule sets


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
            outcomes[cid] = full(env, NA)
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
            status[rows] = STATUS_OF_CODE[overall[rows] + 1]
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
