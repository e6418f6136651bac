"""The engine: facts + rule book + parameters + as_of in, one decision per tier out. Pure — no database, no clock.

Statuses follow docs/domain/eligibility-api.md, decided in this order: ineligible (a required criterion fails and no
alternative path passes) → insufficient_data (nothing fails, a required input is unknown) → needs_review (a
criterion needs a person's judgement) → eligible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.rules.facts import Facts
from app.rules.loader import TIERS, ParamTable, RuleBook, RuleSet
from app.rules.vocabulary import Ctx, Outcome, Res, Score, combine_all, combine_any

STATUS_OF = {
    Outcome.fail: "ineligible",
    Outcome.unknown: "insufficient_data",
    Outcome.manual: "needs_review",
    Outcome.pass_: "eligible",
    Outcome.not_applicable: "eligible",
}
STATUS_LABELS = {
    "eligible": "符合",
    "needs_review": "待人工评审",
    "insufficient_data": "数据不足",
    "ineligible": "不符合",
}
OUTCOME_LABELS = {
    "pass": "满足",
    "fail": "不满足",
    "unknown": "数据不足",
    "manual": "需人工评审",
    "not_applicable": "不适用",
}


@dataclass
class CriterionResult:
    id: str
    label: str
    outcome: Outcome
    detail: str
    citation: str
    gaps: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_contract(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "citation": self.citation,
        }


@dataclass
class TierDecision:
    tier: str
    status: str
    holds: bool
    ruleset: str | None
    ruleset_label: str
    mode: str
    score: Decimal | None
    criteria: list[CriterionResult]
    gaps: list[str]
    effective_from: date | None = None
    effective_to: date | None = None

    # Failing and unknown criteria among those that matter (_relevant); the batch stores the same counts.
    fails: int = 0
    unknowns: int = 0

    @property
    def distance(self) -> Decimal:
        """How far from the tier: failing criteria count 1, unknown ½ (for ranking the prospect pool)."""
        return Decimal(self.fails) + Decimal(self.unknowns) / 2

    def to_contract(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "holds": self.holds,
            "ruleset": self.ruleset,
            "score": None if self.score is None else _json_number(self.score),
            "criteria": [c.to_contract() for c in self.criteria],
            "gaps": self.gaps,
            "ruleset_label": self.ruleset_label,
            "assess_as": self.mode,
        }


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _tree_outcome(node: Any, results: dict[str, CriterionResult]) -> Outcome:
    if isinstance(node, str):
        return results[node].outcome
    key = next(iter(node))
    outcomes = [_tree_outcome(child, results) for child in node[key]]
    return combine_all(outcomes) if key == "all" else combine_any(outcomes)


def _relevant(node: Any, results: dict[str, CriterionResult]) -> list[str]:
    """Criteria whose gaps matter: under `any`, a passing alternative makes its siblings irrelevant."""
    if isinstance(node, str):
        return [node]
    key = next(iter(node))
    children = node[key]
    if key == "any" and _tree_outcome(node, results) is Outcome.pass_:
        return []
    return [cid for child in children for cid in _relevant(child, results)]


def evaluate_tier(
    ruleset: RuleSet | None, tier: str, facts: Facts, as_of: date, params: ParamTable, mode: str
) -> TierDecision:
    holds = bool(facts.holds(tier, as_of))
    if ruleset is None:
        crit = CriterionResult(
            "ruleset",
            "适用的规则版本",
            Outcome.unknown,
            f"{as_of.isoformat()} 没有适用于“{'复核' if mode == 'review' else '新申请'}”的规则版本",
            "—",
        )
        return TierDecision(
            tier, "insufficient_data", holds, None, "", mode, None, [crit], [crit.detail], unknowns=1
        )
    ctx = Ctx(facts=facts, as_of=as_of, params=params, mode=mode)
    results: dict[str, CriterionResult] = {}
    score: Decimal | None = None
    for c in ruleset.criteria:
        if mode not in c.modes:
            results[c.id] = CriterionResult(
                c.id, c.label, Outcome.not_applicable, "本申请类型不适用", c.citation
            )
            continue
        r: Res = c.test.eval(ctx)
        results[c.id] = CriterionResult(c.id, c.label, r.outcome, r.detail, c.citation, r.gaps, r.missing)
        if score is None and isinstance(c.test, Score):
            pts = c.test.points(ctx)
            score = pts.low if pts.known else None
    outcome = _tree_outcome(ruleset.decision, results)
    gaps: list[str] = []
    relevant: dict[str, None] = {}
    if outcome is not Outcome.pass_:
        relevant = dict.fromkeys(_relevant(ruleset.decision, results))
        for cid in relevant:
            res = results[cid]
            if res.outcome in (Outcome.fail, Outcome.unknown):
                for g in res.gaps:
                    if g not in gaps:
                        gaps.append(g)
    return TierDecision(
        tier=tier,
        status=STATUS_OF[outcome],
        holds=holds,
        ruleset=ruleset.id,
        ruleset_label=ruleset.label,
        mode=mode,
        score=score,
        criteria=list(results.values()),
        gaps=gaps,
        effective_from=ruleset.effective_from,
        effective_to=ruleset.effective_to,
        fails=sum(1 for cid in relevant if results[cid].outcome is Outcome.fail),
        unknowns=sum(1 for cid in relevant if results[cid].outcome is Outcome.unknown),
    )


def evaluate(
    facts: Facts,
    as_of: date,
    book: RuleBook,
    params: ParamTable,
    assess_as: dict[str, str] | None = None,
    tiers: tuple[str, ...] = TIERS,
) -> dict[str, TierDecision]:
    """Every tier's decision for one firm on `as_of` (mode per tier: `new` unless `assess_as` says `review`)."""
    modes = assess_as or {}
    out: dict[str, TierDecision] = {}
    for tier in tiers:
        mode = modes.get(tier, "new")
        ruleset = book.select(tier, as_of, mode, facts.district)
        out[tier] = evaluate_tier(ruleset, tier, facts, as_of, params, mode)
    return out
