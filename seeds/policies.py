"""The seeded policy catalogue and service packages (seeds/reference/policies.yaml), insert-only by code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind, act_as, current_actor
from app.audit.models import Channel
from app.policies.models import Policy, PolicyBudget, PolicyExclusion, ServicePackage
from app.policies.rules import compile_policy

FILE = Path(__file__).parent / "reference" / "policies.yaml"
SEED_ACTOR = Actor(kind=ActorKind.system, label="政策条目初始化", channel=Channel.system)
NON_COLUMNS = {"budget", "excludes", "apply_month_day"}


@cache
def _read() -> dict[str, Any]:
    with FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def policy_rows() -> list[dict[str, Any]]:
    return [dict(row) for row in _read()["policies"]]


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def load_policies(session: Session, today: date) -> list[str]:
    """Insert the seeded items not there yet (budgets for this year and last); returns their codes."""
    if current_actor(session) is None:
        act_as(session, SEED_ACTOR)
    existing = set(session.scalars(select(Policy.code)))
    created: list[str] = []
    for row in policy_rows():
        if row["code"] in existing:
            continue
        values = {k: v for k, v in row.items() if k not in NON_COLUMNS}
        for key in ("amount_fixed", "amount_rate_pct", "amount_cap", "firm_annual_cap"):
            values[key] = _dec(values.get(key))
        values.setdefault("districts", [])
        values.setdefault("parks", [])
        values.setdefault("event_kinds", [])
        values.setdefault("criteria", [])
        if "apply_month_day" in row:
            month, day = (int(x) for x in str(row["apply_month_day"]).split("-"))
            deadline = date(today.year, month, day)
            values["apply_deadline"] = deadline if deadline >= today else date(today.year + 1, month, day)
        # The same checks as an admin's edit: a bad seed stops here, not at a run.
        compile_policy(
            values["code"],
            criteria=values["criteria"],
            event_tier=values.get("event_tier"),
            event_kinds=values["event_kinds"],
            districts=values["districts"],
            parks=values["parks"],
            amount_kind=values.get("amount_kind", "none"),
            amount_fixed=values.get("amount_fixed"),
            amount_rate_pct=values.get("amount_rate_pct"),
            amount_base=values.get("amount_base"),
            amount_cap=values.get("amount_cap"),
        )
        policy = Policy(**values)
        session.add(policy)
        session.flush()
        if row.get("budget") is not None:
            for year in (today.year - 1, today.year):
                session.add(PolicyBudget(policy_id=policy.id, year=year, total=_dec(row["budget"])))
        created.append(policy.code)
    session.flush()
    ids = {code: pid for pid, code in session.execute(select(Policy.id, Policy.code))}
    pairs = set(session.execute(select(PolicyExclusion.policy_id, PolicyExclusion.other_id)).tuples())
    for row in policy_rows():
        for other in row.get("excludes", []):
            pair = (ids[row["code"]], ids[other])
            if pair not in pairs and pair[::-1] not in pairs:
                session.add(PolicyExclusion(policy_id=pair[0], other_id=pair[1]))
                pairs.add(pair)
    packages = set(session.scalars(select(ServicePackage.code)))
    for row in _read()["service_packages"]:
        if row["code"] not in packages:
            session.add(
                ServicePackage(
                    code=row["code"],
                    name=row["name"],
                    tiers=row.get("tiers", []),
                    tags=row.get("tags", []),
                    services=row["services"],
                )
            )
    session.flush()
    return created
