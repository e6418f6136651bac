"""A policy item's eligibility in the tiers' rule vocabulary, plus tier events, its amount and scope.

The criteria of a policy are the same YAML/JSON nodes as the tier rule files (app/rules/sets/*.yaml),
parsed by the same whitelisting Parser; one head is added for policies: `events` — how many
recognitions of these tiers and kinds fall in the policy period (首次认定 / 重新认定 / 复核 / 带证迁入),
criteria.md §9.5. A moved-in recognition's event date is the day the firm joined its park (the
certificate itself predates the move).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import yaml

from app.rules.engine import STATUS_OF, CriterionResult, _relevant, _tree_outcome
from app.rules.facts import YEAR_FIELD_INFO, Facts, RecognitionFact
from app.rules.loader import TIERS, Criterion, ParamTable, Parser, _parse_criterion, rulebook
from app.rules.vocabulary import TIER_LABELS_SHORT, Ctx, Expr, Outcome, RuleError, Val

EVENT_KINDS = ("first", "renewal", "review", "moved_in")
EVENT_KIND_LABELS = {"first": "首次认定", "renewal": "重新认定", "review": "复核", "moved_in": "带证迁入"}
TRIGGER_ID = "trigger_event"


@dataclass
class PolicyCtx(Ctx):
    period_start: date = date.min
    joined_on: date | None = None


@dataclass(frozen=True)
class Event:
    """A recognition event that triggers a policy; `key` identifies it across runs (never paid twice)."""

    key: str
    on: date
    label: str


def event_date(r: RecognitionFact, joined_on: date | None) -> date | None:
    if r.kind == "moved_in":
        return joined_on
    return r.issued_on


@dataclass
class TierEvents(Expr):
    """Recognitions of `tiers` of one of `kinds` whose event date falls in [period start, as_of]."""

    tiers: list[str]
    kinds: list[str]
    unit: str = "次"

    def describe(self, ctx: Ctx) -> str:
        tiers = "或".join(TIER_LABELS_SHORT[t] for t in self.tiers)
        kinds = "或".join(EVENT_KIND_LABELS[k] for k in self.kinds)
        start = getattr(ctx, "period_start", date.min)
        return f"{start.isoformat()} 至 {ctx.as_of.isoformat()} {tiers}{kinds}"

    def matches(self, ctx: Ctx) -> list[tuple[RecognitionFact, date]] | None:
        recognitions = ctx.facts.recognitions
        if recognitions is None:
            return None
        start = getattr(ctx, "period_start", date.min)
        joined = getattr(ctx, "joined_on", None)
        hits = []
        for r in recognitions:
            if r.tier not in self.tiers or (r.kind or "first") not in self.kinds:
                continue
            on = event_date(r, joined)
            if on is None or not (start <= on <= ctx.as_of):
                continue
            if r.revoked_on is not None and r.revoked_on <= ctx.as_of:
                continue  # a revoked recognition triggers nothing
            if r.kind == "moved_in" and not r.held_on(on):
                continue  # 带证迁入 only with a certificate valid on the day of the move
            hits.append((r, on))
        return hits

    def eval(self, ctx: Ctx) -> Val:
        hits = self.matches(ctx)
        if hits is None:
            return Val(None, f"{self.describe(ctx)}：认定情况未知", ["认定记录"])
        listed = "；".join(
            f"{on.isoformat()} {EVENT_KIND_LABELS.get(r.kind or 'first')}"
            + (f" {r.certificate_no}" if r.certificate_no else "")
            for r, on in hits
        )
        return Val(
            Decimal(len(hits)), f"{self.describe(ctx)} {len(hits)} 次" + (f"（{listed}）" if hits else "")
        )


class PolicyParser(Parser):
    EXPR_HEADS = Parser.EXPR_HEADS | {"events"}

    def expr(self, data: Any) -> Expr:
        if isinstance(data, dict) and "events" in data:
            if set(data) != {"events"}:
                raise self.err(f"未知或不唯一的条目 {sorted(data)}")
            body = data["events"]
            if not isinstance(body, dict) or not set(body) <= {"tiers", "kinds"} or "tiers" not in body:
                raise self.err("events 应为 {tiers: [...], kinds: [...]}")
            tiers = [body["tiers"]] if isinstance(body["tiers"], str) else list(body["tiers"])
            kinds = list(body.get("kinds") or EVENT_KINDS)
            if not tiers or not set(tiers) <= set(TIERS):
                raise self.err(f"未知梯度 {tiers}")
            if not kinds or not set(kinds) <= set(EVENT_KINDS):
                raise self.err(f"未知认定类型 {kinds}")
            return TierEvents(tiers, kinds)
        return super().expr(data)


def trigger_criterion(tier: str, kinds: list[str]) -> dict[str, Any]:
    kinds_text = "或".join(EVENT_KIND_LABELS[k] for k in kinds)
    return {
        "id": TRIGGER_ID,
        "label": f"兑现期内{TIER_LABELS_SHORT[tier]}{kinds_text}",
        "citation": "政策条目触发事件",
        "test": {"cmp": [{"events": {"tiers": [tier], "kinds": list(kinds)}}, ">=", 1]},
    }


@dataclass
class CompiledPolicy:
    """What the engine needs of a policy row, parsed and checked."""

    code: str
    criteria: list[Criterion]
    trigger: TierEvents | None
    districts: tuple[str, ...]
    parks: tuple[str, ...]
    amount_kind: str
    amount_fixed: Decimal | None
    amount_rate_pct: Decimal | None
    amount_base: str | None
    amount_cap: Decimal | None
    needs: Needs = field(default_factory=lambda: Needs())


@dataclass
class Needs:
    """Which inputs the criteria and amount read: only these are loaded for a whole run."""

    keys: set[str] = field(default_factory=set)
    year_fields: set[str] = field(default_factory=set)
    recognitions: bool = False
    awards: bool = False
    incidents: bool = False
    founded_on: bool = False


def parse_criteria_text(text: str) -> list[dict[str, Any]]:
    """The criteria as an officer types them (YAML list); a Chinese RuleError names what is wrong."""
    if not text.strip():
        return []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"条件格式有误（YAML）：{str(exc).splitlines()[0]}") from None
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise RuleError("条件应为列表，每项含 id、label、citation、test")
    return data


def criteria_text(criteria: list[dict[str, Any]]) -> str:
    if not criteria:
        return ""
    return yaml.safe_dump(criteria, allow_unicode=True, sort_keys=False, default_flow_style=None)


def compile_policy(
    code: str,
    *,
    criteria: list[dict[str, Any]],
    event_tier: str | None,
    event_kinds: list[str],
    districts: list[str],
    parks: list[str],
    amount_kind: str,
    amount_fixed: Decimal | None,
    amount_rate_pct: Decimal | None,
    amount_base: str | None,
    amount_cap: Decimal | None,
) -> CompiledPolicy:
    """Parse and check a policy's eligibility and amount; RuleError (Chinese) on anything refused."""
    parser = PolicyParser(rulebook().params, f"政策条目 {code}")
    raw = list(criteria)
    if event_tier:
        if event_tier not in TIERS:
            raise RuleError(f"未知触发梯度 {event_tier}")
        if not event_kinds:
            raise RuleError("请至少选择一种触发认定类型")
        raw.insert(0, trigger_criterion(event_tier, event_kinds))
    parsed: list[Criterion] = []
    seen: set[str] = set()
    for item in raw:
        c = _parse_criterion(parser, item)
        if c.id in seen:
            raise RuleError(f"条件编号重复：{c.id}")
        seen.add(c.id)
        parsed.append(c)
    if amount_kind == "fixed" and (amount_fixed is None or amount_fixed <= 0):
        raise RuleError("固定金额须大于 0 万元")
    if amount_kind == "rate":
        if amount_rate_pct is None or not (0 < amount_rate_pct <= 100):
            raise RuleError("比例须在 0 到 100 之间")
        if amount_base not in YEAR_FIELD_INFO:
            raise RuleError("请选择计算基数（上年度指标）")
    trigger = None
    if event_tier:
        test = parsed[0].test
        trigger = test.lhs if hasattr(test, "lhs") and isinstance(test.lhs, TierEvents) else None
    policy = CompiledPolicy(
        code,
        parsed,
        trigger,
        tuple(districts),
        tuple(parks),
        amount_kind,
        amount_fixed,
        amount_rate_pct,
        amount_base,
        amount_cap,
    )
    policy.needs = _needs(policy)
    return policy


def _needs(policy: CompiledPolicy) -> Needs:
    from app.rules.batch_load import walk
    from app.rules.vocabulary import (
        Avg,
        CountAwards,
        CountIncidents,
        CountRevocations,
        DaysSince,
        Fact,
        Growth,
        Held,
        InstitutionAtLeast,
        Sum,
        Year,
        YearsSince,
    )

    needs = Needs()
    for node in walk([c.test for c in policy.criteria]):
        if isinstance(node, Fact):
            needs.keys.add(node.path)
        elif isinstance(node, (Year, Sum, Avg, Growth)):
            needs.year_fields.add(node.name)
        elif isinstance(node, (Held, CountRevocations, TierEvents)):
            needs.recognitions = True
        elif isinstance(node, CountAwards):
            needs.awards = True
        elif isinstance(node, CountIncidents):
            needs.incidents = True
        elif isinstance(node, InstitutionAtLeast):
            needs.keys.add("rd_institution")
        elif isinstance(node, (YearsSince, DaysSince)):
            if node.path == "founded_on":  # type: ignore[attr-defined]
                needs.founded_on = True
            else:
                needs.keys.add(node.path)  # type: ignore[attr-defined]
    if policy.amount_kind == "rate" and policy.amount_base:
        needs.year_fields.add(policy.amount_base)
    return needs


# ------------------------------------------------------------------------------------------------ evaluation


@dataclass
class PolicyDecision:
    status: str  # eligible / needs_review / insufficient_data / ineligible / out_of_scope
    criteria: list[CriterionResult]
    gaps: list[str]
    events: list[Event]
    amount: Decimal | None
    amount_text: str


def applies_to(policy: CompiledPolicy, district: str | None, park: str | None) -> bool:
    """A 静安区 item never reaches a 虹口 firm: the firm's registered district and park must be in scope."""
    if policy.districts and district not in policy.districts:
        return False
    return not (policy.parks and park not in policy.parks)


def period_bounds(period: str) -> tuple[int, date, date]:
    """ "2026" or a batch "2026-1": the year, and its first and last day."""
    year_text = period.split("-", 1)[0]
    year = int(year_text)
    return year, date(year, 1, 1), date(year, 12, 31)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def compute_amount(policy: CompiledPolicy, facts: Facts, as_of: date) -> tuple[Decimal | None, str]:
    """The amount in 万元 and how it was reached; None when an input is unknown."""
    if policy.amount_kind == "fixed" and policy.amount_fixed is not None:
        return _money(policy.amount_fixed), f"固定金额 {policy.amount_fixed.normalize():f} 万元"
    if policy.amount_kind == "rate" and policy.amount_base and policy.amount_rate_pct is not None:
        year = as_of.year - 1
        label = YEAR_FIELD_INFO[policy.amount_base][0]
        base = facts.year_value(year, policy.amount_base)
        if base is None:
            return None, f"{year} 年{label}未知，无法计算金额"
        raw = _money(base * policy.amount_rate_pct / 100)
        rate = policy.amount_rate_pct.normalize()
        text = f"{year} 年{label} {base.normalize():f} 万元 × {rate:f}% = {raw.normalize():f} 万元"
        if policy.amount_cap is not None and raw > policy.amount_cap:
            return _money(policy.amount_cap), text + f"，按上限 {policy.amount_cap.normalize():f} 万元"
        return raw, text
    return Decimal(0), "不涉及资金"


def evaluate_policy(
    policy: CompiledPolicy,
    facts: Facts,
    as_of: date,
    params: ParamTable,
    *,
    period_start: date,
    joined_on: date | None = None,
    recognition_ids: dict[tuple[str, date, str | None], int] | None = None,
) -> PolicyDecision:
    """Pure: the policy's decision for one firm on `as_of`, for events from `period_start`."""
    if not applies_to(policy, facts.district, facts.park):
        return PolicyDecision("out_of_scope", [], [], [], None, "")
    ctx = PolicyCtx(
        facts=facts, as_of=as_of, params=params, mode="new", period_start=period_start, joined_on=joined_on
    )
    results: dict[str, CriterionResult] = {}
    for c in policy.criteria:
        r = c.test.eval(ctx)
        results[c.id] = CriterionResult(c.id, c.label, r.outcome, r.detail, c.citation, r.gaps, r.missing)
    decision = {"all": [c.id for c in policy.criteria]}
    outcome = _tree_outcome(decision, results) if policy.criteria else Outcome.pass_
    gaps: list[str] = []
    if outcome is not Outcome.pass_:
        for cid in _relevant(decision, results):
            res = results[cid]
            if res.outcome in (Outcome.fail, Outcome.unknown, Outcome.manual):
                for g in res.gaps or ([f"需人工审核：{res.label}"] if res.outcome is Outcome.manual else []):
                    if g not in gaps:
                        gaps.append(g)
    events: list[Event] = []
    if policy.trigger is not None:
        for r, on in policy.trigger.matches(ctx) or []:
            rid = (recognition_ids or {}).get((r.tier, r.issued_on, r.certificate_no))
            key = f"recognition:{rid}" if rid is not None else f"{r.tier}:{r.kind}:{r.issued_on.isoformat()}"
            text = f"{on.isoformat()} {TIER_LABELS_SHORT[r.tier]}{EVENT_KIND_LABELS.get(r.kind or 'first')}"
            if r.certificate_no:
                text += f"（证书 {r.certificate_no}）"
            events.append(Event(key, on, text))
    amount, amount_text = compute_amount(policy, facts, as_of)
    status = STATUS_OF[outcome] if policy.criteria else "eligible"
    if status == "eligible" and amount is None:
        status = "insufficient_data"
        gaps.append(amount_text)
    return PolicyDecision(status, list(results.values()), gaps, events, amount, amount_text)
