"""Facts of many firms at once, limited to what one policy reads (its `Needs`), with a match's risk flags.

The same assembly as app/rules/firm_facts.facts_for_firm (source precedence 专员核实 > 部门数据 >
企业填报, newest first), done with a few set-based queries per chunk of firms so that a grant run over
100k firms stays fast.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.firms.models import Firm, Membership
from app.indicators.facts import FACTS, effective_facts, effective_year
from app.indicators.models import Award, FactObservation, FirmYear, Incident, Source
from app.policies.rules import CompiledPolicy, Needs, PolicyDecision, evaluate_policy
from app.recognitions.models import Recognition
from app.rules.facts import YEAR_FIELD_INFO, AwardFact, Facts, IncidentFact, RecognitionFact
from app.rules.firm_facts import merge_years, rules_value
from app.rules.service import param_table

CHUNK = 2000


@dataclass
class FirmInputs:
    facts: Facts
    joined_on: date | None
    recognition_ids: dict[tuple[str, date, str | None], int] = field(default_factory=dict)
    certificate_missing: set[int] = field(default_factory=set)
    unverified: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@dataclass
class _Obs:
    id: int
    key: str
    value: Any
    valid_from: date
    source: Source
    recorded_at: datetime


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def load_inputs(
    session: Session, firm_ids: Sequence[int], as_of: date, needs: Needs
) -> dict[int, FirmInputs]:
    """Per firm: the facts the policy reads on `as_of`, where it sat, and which inputs are unverified."""
    out: dict[int, FirmInputs] = {}
    for chunk in _chunks(list(firm_ids)):
        out.update(_load_chunk(session, chunk, as_of, needs))
    return out


def _load_chunk(session: Session, ids: Sequence[int], as_of: date, needs: Needs) -> dict[int, FirmInputs]:
    firms = session.execute(
        select(Firm.id, Firm.founded_on, Firm.district_code).where(Firm.id.in_(ids))
    ).all()
    members = session.execute(
        select(Membership.firm_id, Membership.park_code, Membership.valid_from, Membership.valid_to).where(
            Membership.firm_id.in_(ids), Membership.valid_from <= as_of
        )
    ).all()
    by_firm_members: dict[int, list[Any]] = defaultdict(list)
    for m in members:
        by_firm_members[m.firm_id].append(m)

    recs: dict[int, list[Any]] = defaultdict(list)
    if needs.recognitions:
        for r in session.execute(
            select(
                Recognition.id,
                Recognition.firm_id,
                Recognition.tier,
                Recognition.kind,
                Recognition.issued_on,
                Recognition.expires_on,
                Recognition.revoked_on,
                Recognition.certificate_no,
            ).where(Recognition.firm_id.in_(ids), Recognition.issued_on <= as_of)
        ):
            recs[r.firm_id].append(r)
    years: dict[int, list[Any]] = defaultdict(list)
    if needs.year_fields:
        cols = [getattr(FirmYear, f) for f in sorted(needs.year_fields)]
        for y in session.execute(
            select(FirmYear.firm_id, FirmYear.year, FirmYear.source, *cols).where(
                FirmYear.firm_id.in_(ids), FirmYear.year < as_of.year
            )
        ):
            years[y.firm_id].append(y)
    observations: dict[int, list[_Obs]] = defaultdict(list)
    if needs.keys:
        for o in session.execute(
            select(
                FactObservation.id,
                FactObservation.firm_id,
                FactObservation.key,
                FactObservation.value,
                FactObservation.valid_from,
                FactObservation.source,
                FactObservation.recorded_at,
            ).where(
                FactObservation.firm_id.in_(ids),
                FactObservation.key.in_(sorted(needs.keys)),
                FactObservation.valid_from <= as_of,
            )
        ):
            observations[o.firm_id].append(
                _Obs(o.id, o.key, o.value, o.valid_from, Source(o.source), o.recorded_at)
            )
    awards: dict[int, list[Any]] = defaultdict(list)
    if needs.awards:
        for a in session.execute(
            select(Award.firm_id, Award.level, Award.awarded_on, Award.rank).where(
                Award.firm_id.in_(ids), Award.awarded_on <= as_of
            )
        ):
            awards[a.firm_id].append(a)
    incidents: dict[int, list[Any]] = defaultdict(list)
    if needs.incidents:
        for i in session.execute(
            select(Incident.firm_id, Incident.kind, Incident.grade, Incident.occurred_on).where(
                Incident.firm_id.in_(ids), Incident.occurred_on <= as_of
            )
        ):
            incidents[i.firm_id].append(i)

    result: dict[int, FirmInputs] = {}
    for firm in firms:
        fid = firm.id
        current = next(
            (m for m in by_firm_members[fid] if m.valid_to is None or m.valid_to >= as_of),
            None,
        )
        park = current.park_code if current else None
        joined = (
            min(m.valid_from for m in by_firm_members[fid] if m.park_code == park)
            if current is not None
            else None
        )
        effective = effective_facts(observations[fid], as_of)
        scalars: dict[str, Any] = {}
        unverified: list[str] = []
        conflicts: list[str] = []
        for key, eff in effective.items():
            scalars[key] = rules_value(key, eff.value)
            label = FACTS[key].label if key in FACTS else key
            if eff.conflict:
                conflicts.append(f"{label}：各来源不一致")
            elif Source(eff.chosen.source) is Source.firm_reported:
                unverified.append(f"{label}（仅企业填报）")
        scalars["founded_on"] = firm.founded_on
        year_rows = years[fid]
        last = as_of.year - 1
        last_rows = [r for r in year_rows if r.year == last]
        if last_rows:
            for name, eff_year in effective_year(last_rows, sorted(needs.year_fields)).items():
                label = YEAR_FIELD_INFO[name][0]
                if eff_year.conflict:
                    conflicts.append(f"{last} 年{label}：各来源不一致")
                elif eff_year.source is Source.firm_reported:
                    unverified.append(f"{last} 年{label}（仅企业填报）")
        rec_rows = recs[fid]
        inputs = FirmInputs(
            facts=Facts(
                scalars=scalars,
                years=merge_years(year_rows, needs.year_fields),
                recognitions=[
                    RecognitionFact(r.tier, r.issued_on, r.expires_on, r.revoked_on, r.kind, r.certificate_no)
                    for r in rec_rows
                ]
                if needs.recognitions
                else None,
                awards=[AwardFact(a.level, a.awarded_on, a.rank) for a in awards[fid]]
                if needs.awards
                else None,
                incidents=[IncidentFact(i.kind, i.grade, i.occurred_on) for i in incidents[fid]]
                if needs.incidents
                else None,
                district=firm.district_code,
                park=park,
            ),
            joined_on=joined,
            recognition_ids={(r.tier, r.issued_on, r.certificate_no): r.id for r in rec_rows},
            certificate_missing={r.id for r in rec_rows if not r.certificate_no},
            unverified=unverified,
            conflicts=conflicts,
        )
        result[fid] = inputs
    return result


def firms_in_scope_sql(
    *, districts: Sequence[str], parks: Sequence[str], as_of: date, park_scope: Sequence[str] | None
) -> Any:
    """SQL: ids of active (存续) firms registered in `districts` and sitting in `parks` on `as_of`."""
    stmt = select(Firm.id).where(Firm.status == "active")
    if districts:
        stmt = stmt.where(Firm.district_code.in_(list(districts)))
    if parks or park_scope is not None:
        wanted = set(parks) if parks else None
        if park_scope is not None:
            wanted = set(park_scope) if wanted is None else wanted & set(park_scope)
        member = select(Membership.firm_id).where(
            Membership.park_code.in_(sorted(wanted or [])),
            Membership.valid_from <= as_of,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= as_of),
        )
        stmt = stmt.where(Firm.id.in_(member))
    return stmt


def decisions_in_scope(
    session: Session,
    cp: CompiledPolicy,
    *,
    as_of: date,
    period_start: date,
    park_scope: Sequence[str] | None,
) -> list[tuple[int, FirmInputs, PolicyDecision]]:
    """The policy's decision for every firm it could reach on `as_of` (its districts and parks, within
    `park_scope`; with a trigger, only firms holding a recognition that could be the event), with the inputs
    read for it. Shared by grant runs, the what-if and 申报 pushes."""
    stmt = firms_in_scope_sql(districts=cp.districts, parks=cp.parks, as_of=as_of, park_scope=park_scope)
    if cp.trigger is not None:
        stmt = stmt.where(
            Firm.id.in_(
                select(Recognition.firm_id).where(
                    Recognition.tier.in_(cp.trigger.tiers),
                    Recognition.kind.in_(cp.trigger.kinds),
                    Recognition.issued_on <= as_of,
                    (Recognition.kind == "moved_in") | (Recognition.issued_on >= period_start),
                )
            )
        )
    firm_ids = list(session.scalars(stmt))
    inputs = load_inputs(session, firm_ids, as_of, cp.needs)
    params = param_table(session)
    out: list[tuple[int, FirmInputs, PolicyDecision]] = []
    for firm_id in firm_ids:
        fi = inputs.get(firm_id)
        if fi is None:
            continue
        decision = evaluate_policy(
            cp,
            fi.facts,
            as_of,
            params,
            period_start=period_start,
            joined_on=fi.joined_on,
            recognition_ids=fi.recognition_ids,
        )
        out.append((firm_id, fi, decision))
    return out
